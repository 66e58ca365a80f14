"""How much time accelgit's pre-commit hook adds to ``git commit`` on a repo
with N jobs (default 1000), all built.  Prints seconds; asserts nothing.

    python benchmarks/bench_hooks.py [N]

Measures ``git commit`` of a change that touches no method (the common case)
and of one that touches a method (1 of N jobs invalidated), each with and
without the hook installed (ACCELGIT_SKIP_HOOKS=1 is the baseline).
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sh(args, cwd, env, check=True):
    p = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if check and p.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{p.stdout}\n{p.stderr}")
    return p


def timed_commit(repo, env, path, text, skip):
    with open(os.path.join(repo, path), "a") as f:
        f.write(text)
    e = dict(env, ACCELGIT_SKIP_HOOKS="1") if skip else env
    t = time.perf_counter()
    p = sh(["git", "commit", "-q", "-am", "x"], repo, e)
    return time.perf_counter() - t, p.stderr


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    base = tempfile.mkdtemp(prefix="accelgit-bench-hooks-")
    repo = os.path.join(base, "repo")
    os.makedirs(os.path.join(repo, "methods"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x",
               GIT_CONFIG_NOSYSTEM="1", HOME=base, PYTHONPATH=ROOT)
    for i in range(10):
        with open(os.path.join(repo, "methods", f"m{i}.py"), "w") as f:
            f.write("options = {'i': 0}\n\ndef synthesis(options):\n    return options.i\n")
    with open(os.path.join(repo, "build.py"), "w") as f:
        f.write(f"def main(urd):\n    for i in range({n}):\n        urd.build('m%d' % (i % 10), i=i)\n")
    with open(os.path.join(repo, "README.md"), "w") as f:
        f.write("bench\n")
    with open(os.path.join(repo, ".gitignore"), "w") as f:
        f.write(".accelgit/\n")
    sh(["git", "init", "-q", "-b", "main"], repo, env)
    sh(["git", "add", "-A"], repo, env)
    sh(["git", "commit", "-qm", "init"], repo, env)
    accelgit = [sys.executable, "-m", "accelgit"]
    t = time.perf_counter()
    sh([*accelgit, "build"], repo, env)
    print(f"built {n} jobs in {time.perf_counter() - t:.1f}s")
    sh([*accelgit, "hooks", "install", "--hook", "pre-commit"], repo, env)
    for label, path, text in (("README only", "README.md", "x\n"), ("one method", "methods/m0.py", "#\n")):
        rows = []
        for _ in range(3):
            off, _err = timed_commit(repo, env, path, text, skip=True)
            on, err = timed_commit(repo, env, path, text, skip=False)
            rows.append((off, on))
        off = min(r[0] for r in rows)
        on = min(r[1] for r in rows)
        print(f"{label:<12} commit without hook {off:.3f}s, with hook {on:.3f}s: the hook adds {on - off:.3f}s")
        if err.strip():
            print("  hook said: " + err.strip().splitlines()[0])


if __name__ == "__main__":
    main()
