"""``accelgit init``: a starting point in an existing git repository."""
from __future__ import annotations

import os

CONFIG = '''# accelgit configuration: see docs/configuration.md
methods = ["methods"]
scripts = ["build.py", "build_*.py", "methods/build_*.py"]
target_workdir = "local"

[workdirs]
local = ".accelgit/work"

[hooks]
pre_commit = "warn"
post_merge = "warn"
post_checkout = "warn"
'''

METHOD = '''description = "Say hello: an example method. Edit it and run 'accelgit plan'."

options = {"greeting": "hello", "times": 1}


def synthesis(options, job):
    text = " ".join([options.greeting] * options.times)
    with job.open("greeting.txt", "w") as f:
        f.write(text + "\\n")
    return text
'''

BUILD = '''def main(urd):
    hello = urd.build("hello", times=2)
    print("result:", hello.load())
'''


def init_repo(root: str) -> list[str]:
    """Create what is missing; never overwrite.  Returns the paths written."""
    written = []

    def write(rel: str, text: str) -> None:
        p = os.path.join(root, rel)
        if os.path.exists(p):
            return
        os.makedirs(os.path.dirname(p) or root, exist_ok=True)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
        written.append(rel)

    if os.path.exists(os.path.join(root, "accelgit.toml")):
        return written              # set up already: an example the user removed stays removed
    write("accelgit.toml", CONFIG)
    write("methods/hello.py", METHOD)
    write("build.py", BUILD)
    gi = os.path.join(root, ".gitignore")
    existing = open(gi, encoding="utf-8").read() if os.path.exists(gi) else ""
    if ".accelgit/" not in existing.split():
        with open(gi, "a", encoding="utf-8") as f:
            f.write(("" if not existing or existing.endswith("\n") else "\n") + ".accelgit/\n")
        written.append(".gitignore")
    return written


def init_command(repo, config, *, cwd: str, as_json: bool) -> None:
    from accelgit.commands.output import emit
    written = init_repo(repo.root)
    if as_json:
        emit({"root": repo.root, "written": written})
        return
    for w in written:
        print(f"wrote {w}")
    if not written:
        print("nothing to do: accelgit is already set up here")
