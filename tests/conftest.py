"""Shared fixtures: real git repositories in temp folders, and accelgit run
as a real subprocess (``python -m accelgit``), exactly as a user runs it."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# One signing key for the whole test session (store/keys.py), in a folder of
# its own: every test's accelgit processes and this process (which loads jobs
# in some tests) trust the jobs the tests build.  Tests of trust between users
# give a process another XDG_CONFIG_HOME.
import atexit  # noqa: E402
import tempfile  # noqa: E402

KEY_HOME = tempfile.mkdtemp(prefix="accelgit-test-keys-")
atexit.register(shutil.rmtree, KEY_HOME, True)
os.environ["XDG_CONFIG_HOME"] = KEY_HOME
os.environ.pop("ACCELGIT_KEY_FILE", None)
os.environ.pop("ACCELGIT_TRUSTED_KEYS", None)


def git_env(home: Path | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k != "ACCELGIT_DEBUG"}
    env.update({
        "GIT_AUTHOR_NAME": "Test Author", "GIT_AUTHOR_EMAIL": "author@example.com",
        "GIT_COMMITTER_NAME": "Test Author", "GIT_COMMITTER_EMAIL": "author@example.com",
        "GIT_CONFIG_NOSYSTEM": "1", "PYTHONDONTWRITEBYTECODE": "1",
    })
    if home is not None:
        env["HOME"] = str(home)
        env["GIT_CONFIG_GLOBAL"] = str(home / ".gitconfig")
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class Repo:
    """A real git repository in a temp folder, with helpers to edit, commit
    and run accelgit in it."""

    def __init__(self, path: Path, home: Path):
        self.path = path
        self.home = home
        self.env = git_env(home)

    # -- files
    def write(self, rel: str, text: str, dedent: bool = True) -> Path:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text) if dedent else text, encoding="utf-8")
        return p

    def read(self, rel: str) -> str:
        return (self.path / rel).read_text(encoding="utf-8")

    def remove(self, rel: str) -> None:
        (self.path / rel).unlink()

    # -- git
    def git(self, *args: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
        proc = subprocess.run(["git", *args], cwd=self.path, env=self.env, capture_output=True, text=True, **kw)
        if check and proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def commit(self, message: str = "commit", *paths: str) -> str:
        self.git("add", "-A", *paths)
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").stdout.strip()

    # -- accelgit
    def run(self, *args: str, check: bool | None = None, input: str | None = None,
            env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
        """``accelgit ARGS`` as a subprocess; ``check=True`` asserts exit 0."""
        e = dict(self.env)
        if env:
            e.update(env)
        proc = subprocess.run([sys.executable, "-m", "accelgit", *args], cwd=cwd or self.path, env=e,
                              capture_output=True, text=True, input=input, timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"accelgit {' '.join(args)} exited {proc.returncode}:\n"
                                 f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}")
        return proc

    def json(self, *args: str, **kw) -> dict:
        proc = self.run(*args, "--json", **kw)
        try:
            return json.loads(proc.stdout)
        except ValueError:
            raise AssertionError(f"accelgit {' '.join(args)} --json gave no JSON (exit {proc.returncode}):\n"
                                 f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}") from None

    def build(self, *args: str) -> dict:
        """``accelgit build --json``, asserting success; returns the JSON."""
        proc = self.run("build", *args, "--json")
        assert proc.returncode == 0, f"build failed ({proc.returncode}):\n{proc.stderr}"
        return json.loads(proc.stdout)

    @property
    def workdir(self) -> Path:
        return self.path / ".accelgit" / "work"

    def record_path(self, script: str = "build.py") -> Path:
        """The run record of ``script`` (JSON Lines: accelgit/store/runs.py)."""
        return self.workdir / ".runs" / (script.replace("/", "__") + ".jsonl")

    def job_dirs(self) -> list[str]:
        if not self.workdir.exists():
            return []
        return sorted(p.name for p in self.workdir.iterdir() if not p.name.startswith(".") and p.is_dir())


def read_record(path: Path) -> tuple[dict, list[dict]]:
    """A run record's header and its job lines."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def write_record(path: Path, header: dict, jobs: list[dict]) -> None:
    path.write_text("".join(json.dumps(x) + "\n" for x in [header, *jobs]), encoding="utf-8")


def wait_for(pred, what: str, timeout: float = 30.0):
    """``pred()``'s first true value, asked every 20 ms; AssertionError after ``timeout`` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = pred()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def make_repo(base: Path, name: str = "repo") -> Repo:
    path = base / name
    path.mkdir(parents=True)
    home = base / f"{name}-home"
    home.mkdir(exist_ok=True)
    r = Repo(path, home)
    r.git("init", "-q", "-b", "main")
    r.write(".gitignore", ".accelgit/\n")
    return r


def built_template(base: Path, files: dict, message: str) -> Repo:
    """A repo with ``files``, committed and built: made once per test module
    (it is slow) and handed to each test as a ``copy_of`` it."""
    r = make_repo(base)
    write_files(r, files)
    r.commit(message)
    r.build()
    return r


def copy_of(template: Repo, tmp_path: Path) -> Repo:
    """A fresh copy of a built template (repo, workdir, run records), with a home
    of its own, for one test."""
    home = tmp_path / "home"
    home.mkdir()
    r = Repo(tmp_path / "repo", home)
    shutil.copytree(template.path, r.path, symlinks=True)
    r.git("update-index", "-q", "--refresh")      # the copy's stat data is new: not a change
    return r


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return make_repo(tmp_path)


# A small pipeline used by many tests: a -> b -> c, with a helper module,
# a depend_extra file, a data file and options.
CHAIN = {
    "data/input.txt": "one two three\nfour five\n",
    "methods/_helper.py": """
        def double(x):
            return x * 2
    """,
    "methods/notes.txt": "extra dependency\n",
    "methods/a.py": """
        files = ("data/input.txt",)
        options = {"scale": 1}

        def synthesis(files, options):
            with open(files["data/input.txt"]) as f:
                return len(f.read().split()) * options.scale
    """,
    "methods/b.py": """
        import _helper
        jobs = ("a",)
        depend_extra = ("methods/notes.txt",)

        def synthesis(jobs):
            return _helper.double(jobs.a.load())
    """,
    "methods/c.py": """
        jobs = ("b",)
        options = {"offset": 0, "label": "c"}

        def synthesis(jobs, options, job):
            value = jobs.b.load() + options.offset
            with job.open("value.txt", "w") as f:
                f.write(str(value))
            return value
    """,
    "build.py": """
        def main(urd):
            a = urd.build("a")
            b = urd.build("b", a=a)
            urd.build("c", b=b)
    """,
}


# 200 jobs, 5 methods: prep -> 196 x work -> total (a list input) -> stats -> publish.
# EXTRA changes chosen work jobs (by i) without touching the others.
PIPELINE200 = {
    "methods/prep.py": """
        options = {"n": 196}

        def synthesis(options):
            return list(range(options.n))
    """,
    "methods/work.py": """
        jobs = ("prep",)
        options = {"i": 0, "extra": 0}

        def synthesis(jobs, options):
            return jobs.prep.load()[options.i] * 2 + options.extra
    """,
    "methods/total.py": """
        jobs = ("[parts]",)

        def synthesis(jobs):
            return sum(j.load() for j in jobs.parts)
    """,
    "methods/stats.py": """
        jobs = ("total",)

        def synthesis(jobs):
            return {"total": jobs.total.load()}
    """,
    "methods/publish.py": """
        jobs = ("stats",)

        def synthesis(jobs):
            return str(jobs.stats.load())
    """,
    "build.py": """
        EXTRA = {}

        def main(urd):
            prep = urd.build("prep")
            parts = [urd.build("work", prep=prep, i=i, extra=EXTRA.get(i, 0)) for i in range(196)]
            total = urd.build("total", parts=parts)
            stats = urd.build("stats", total=total)
            urd.build("publish", stats=stats)
    """,
}


def write_files(r: Repo, files: dict) -> None:
    for rel, text in files.items():
        r.write(rel, text)


@pytest.fixture
def chain_repo(repo: Repo) -> Repo:
    write_files(repo, CHAIN)
    repo.commit("chain pipeline")
    return repo
