"""Faults that really happen: builds killed (in a job, in a build script,
during the rename), racing builders, a damaged or locked index, Ctrl-C, a
full disk.  Every test runs accelgit as a real process and does the fault."""
from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CHAIN, Repo, read_record, wait_for, write_record

# A job that says it started (its pid, in the file named by $T_PIDFILE), then
# sleeps $T_SLEEP seconds.  The environment does not enter a job's identity.
SLOW = """
    import os, time
    jobs = ("a",)

    def synthesis():
        pidfile = os.environ.get("T_PIDFILE")
        if pidfile:
            with open(pidfile + ".tmp", "w") as f:
                f.write(str(os.getpid()))
            os.replace(pidfile + ".tmp", pidfile)
        time.sleep(float(os.environ.get("T_SLEEP", "0")))
        return "slow done"
"""

# A method that counts its builds by appending a line to $T_COUNT.
COUNTED = """
    import os, time
    jobs = ({jobs})
    options = {{"tag": "{name}"}}

    def synthesis(options):
        time.sleep(0.2)             # long enough for racing builders to overlap
        with open(os.environ["T_COUNT"], "a") as f:
            f.write(options.tag + "\\n")
        return options.tag
"""


def _as_from_a_terminal() -> None:
    """A process started from a terminal has Ctrl-C's default action: reset it,
    as the test suite itself may run with SIGINT ignored (nohup, a background
    job), which its children would inherit (Python then never raises
    KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(repo: Repo, *args: str, env: dict | None = None, **kw) -> subprocess.Popen:
    """``accelgit ARGS`` in its own process group (as a terminal runs it)."""
    e = dict(repo.env)
    e.update(env or {})
    return subprocess.Popen([sys.executable, "-m", "accelgit", *args], cwd=repo.path, env=e,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_as_from_a_terminal, **kw)


def pid_gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"      # a zombie is dead
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


def read_pid(path: Path):
    try:
        return int(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def log_ids(repo: Repo) -> list[str]:
    data = repo.json("log")
    return sorted(j["dirname"] for j in data["jobs"])


def tmp_entries(repo: Repo) -> list[str]:
    d = repo.workdir / ".tmp"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


@pytest.fixture
def slow_repo(repo: Repo) -> Repo:
    repo.write("methods/a.py", """
        def synthesis():
            return 1
    """)
    repo.write("methods/slow.py", SLOW)
    repo.write("build.py", """
        def main(urd):
            a = urd.build("a")
            urd.build("slow", a=a)
    """)
    repo.commit("slow")
    return repo


def kill_group(proc: subprocess.Popen, sig: int) -> tuple[str, str]:
    os.killpg(proc.pid, sig)
    out, err = proc.communicate(timeout=60)
    return out, err


def assert_no_half_job(repo: Repo, method: str) -> None:
    """No ``method`` folder in the workdir, and ``log`` does not list one."""
    assert not [d for d in repo.job_dirs() if d.startswith(method + "-")]
    assert not [d for d in log_ids(repo) if d.startswith(method + "-")]


def gc_removes_temp(repo: Repo) -> None:
    leftovers = tmp_entries(repo)
    assert leftovers, "the killed build should have left its temp folder"
    plan = repo.json("gc", "--dry-run")
    assert sorted(i["path"] for i in plan["removed"] if i["kind"] == "temp") == [f".tmp/{n}" for n in leftovers]
    assert tmp_entries(repo) == leftovers             # --dry-run removes nothing
    done = repo.json("gc")
    assert done["counts"]["temp"] == len(leftovers)
    assert done["counts"]["job"] == 0
    assert tmp_entries(repo) == []


# ------------------------------------------------------------------ SIGKILL

def test_sigkill_in_a_job_leaves_no_job_and_gc_cleans(slow_repo: Repo, tmp_path: Path):
    pidfile = tmp_path / "slow.pid"
    proc = start(slow_repo, "build", env={"T_PIDFILE": str(pidfile), "T_SLEEP": "60"})
    wait_for(lambda: read_pid(pidfile), "the slow job to start")
    job_pid = read_pid(pidfile)
    kill_group(proc, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    # the fork server sees its client die and kills the job's process group
    wait_for(lambda: pid_gone(job_pid), "the orphaned job process to be killed", timeout=10)
    assert_no_half_job(slow_repo, "slow")
    assert [d for d in slow_repo.job_dirs() if d.startswith("a-")]      # finished jobs stay
    gc_removes_temp(slow_repo)
    out = slow_repo.build()
    assert {j["method"]: j["action"] for j in out["jobs"]} == {"a": "reused", "slow": "built"}
    assert log_ids(slow_repo) == slow_repo.job_dirs()


def test_sigkill_in_a_build_script(slow_repo: Repo, tmp_path: Path):
    marker = tmp_path / "script-paused"
    slow_repo.write("build.py", """
        import os, time

        def main(urd):
            a = urd.build("a")
            a.load()
            if os.environ.get("T_MARK"):
                open(os.environ["T_MARK"], "w").close()
                time.sleep(60)
            urd.build("slow", a=a)
    """)
    slow_repo.commit("pausing script")
    proc = start(slow_repo, "build", env={"T_MARK": str(marker)})
    wait_for(marker.exists, "the build script to pause")
    kill_group(proc, signal.SIGKILL)
    assert_no_half_job(slow_repo, "slow")
    a_dirs = [d for d in slow_repo.job_dirs() if d.startswith("a-")]
    assert len(a_dirs) == 1 and (slow_repo.workdir / a_dirs[0] / "manifest.json").exists()
    assert not (slow_repo.workdir / ".runs").exists() or not list((slow_repo.workdir / ".runs").glob("*.jsonl"))
    gc = slow_repo.json("gc")                   # no run record: gc keeps every job, and says so
    assert gc["counts"]["job"] == 0 and gc["kept"] == 1
    assert any("no run records" in n for n in gc["notes"])
    out = slow_repo.build()
    assert {j["method"]: j["action"] for j in out["jobs"]} == {"a": "reused", "slow": "built"}


def test_sigkill_during_the_rename(slow_repo: Repo):
    proc = start(slow_repo, "build", env={"ACCELGIT_TEST_PAUSE_BEFORE_RENAME": "60"})

    def complete_in_tmp():
        return [n for n in tmp_entries(slow_repo) if (slow_repo.workdir / ".tmp" / n / "manifest.json").exists()]
    held = wait_for(complete_in_tmp, "a job with its manifest, paused before its rename")
    kill_group(proc, signal.SIGKILL)
    assert slow_repo.job_dirs() == []             # manifest written, not renamed: not a job
    assert log_ids(slow_repo) == []
    method = held[0].split("-")[0]
    assert slow_repo.run("show", held[0].split(".")[0]).returncode == 2
    gc_removes_temp(slow_repo)
    out = slow_repo.build()
    assert {j["action"] for j in out["jobs"]} == {"built"}
    assert any(j["method"] == method for j in out["jobs"])


# ------------------------------------------------------------------ racing builders

@pytest.mark.parametrize("n", [2, 4])
def test_racing_builds_build_each_job_once(repo: Repo, tmp_path: Path, n: int):
    repo.write("methods/a.py", COUNTED.format(jobs="", name="a"))
    repo.write("methods/b.py", COUNTED.format(jobs='"a",', name="b"))
    repo.write("methods/c.py", COUNTED.format(jobs='"a", "b"', name="c"))
    repo.write("build.py", """
        def main(urd):
            a = urd.build("a")
            b = urd.build("b", a=a)
            urd.build("c", a=a, b=b)
    """)
    repo.commit("counted")
    count = tmp_path / "count.txt"
    procs = [start(repo, "build", "--json", env={"T_COUNT": str(count)}) for _ in range(n)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    assert sorted(count.read_text().split()) == ["a", "b", "c"]            # each built exactly once
    built = [j["id"] for r in results for j in r["jobs"] if j["action"] == "built"]
    assert len(built) == 3 and len(set(built)) == 3
    ids = [sorted(j["id"] for j in r["jobs"]) for r in results]
    assert all(i == ids[0] for i in ids)                                   # everyone got the same jobs
    assert len(repo.job_dirs()) == 3 and tmp_entries(repo) == []


# ------------------------------------------------------------------ the index

def _lock_index(path: Path) -> subprocess.Popen:
    """A helper process holding an exclusive transaction on the index."""
    code = ("import sqlite3, sys\n"
            f"db = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
            "db.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n"
            "db.execute('ROLLBACK')\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


def _indexed(path: Path) -> list[str]:
    db = sqlite3.connect(str(path))
    try:
        return sorted(r[0] for r in db.execute("SELECT dirname FROM jobs"))
    finally:
        db.close()


@pytest.mark.parametrize("damage", ["deleted", "emptied", "truncated", "garbage", "locked"])
def test_damaged_or_locked_index(chain_repo: Repo, damage: str):
    repo = chain_repo
    repo.build()
    index = repo.workdir / "index.sqlite"
    jobs = repo.job_dirs()
    assert len(jobs) == 3 and _indexed(index) == jobs
    locker = None
    if damage == "deleted":
        index.unlink()
    elif damage == "emptied":
        index.write_bytes(b"")
    elif damage == "truncated":
        data = index.read_bytes()
        index.write_bytes(data[:len(data) // 2 + 100])
    elif damage == "garbage":
        index.write_bytes(os.urandom(3000))
    else:
        locker = _lock_index(index)
    try:
        # a new job (option changed) is built while the index is damaged or locked
        repo.write("build.py", CHAIN["build.py"].replace('urd.build("c", b=b)', 'urd.build("c", b=b, offset=1)'))
        out = repo.build()
        assert sorted(j["action"] for j in out["jobs"]) == ["built", "reused", "reused"]
        jobs = repo.job_dirs()
        assert len(jobs) == 4
        assert log_ids(repo) == jobs
        new = [j for j in out["jobs"] if j["action"] == "built"][0]
        shown = repo.json("show", new["id"][:10])
        assert shown["complete"] is True and shown["job"]["id"] == new["id"]
    finally:
        if locker is not None:
            locker.communicate("\n", timeout=30)
    assert log_ids(repo) == jobs                     # nothing lost once the lock is gone
    assert _indexed(index) == jobs                   # and the index caught up with the directories
    assert [j["action"] for j in repo.build()["jobs"]] == ["reused"] * 3


# ------------------------------------------------------------------ Ctrl-C

def test_ctrl_c_stops_the_build(slow_repo: Repo, tmp_path: Path):
    pidfile = tmp_path / "slow.pid"
    proc = start(slow_repo, "build", env={"T_PIDFILE": str(pidfile), "T_SLEEP": "60"})
    wait_for(lambda: read_pid(pidfile), "the slow job to start")
    job_pid = read_pid(pidfile)
    out, err = kill_group(proc, signal.SIGINT)           # what a terminal sends on Ctrl-C
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "accelgit: interrupted"
    assert "Traceback" not in err
    wait_for(lambda: pid_gone(job_pid), "the job process to be gone", timeout=10)
    assert_no_half_job(slow_repo, "slow")
    assert tmp_entries(slow_repo) == []
    out = slow_repo.build()
    assert {j["method"]: j["action"] for j in out["jobs"]} == {"a": "reused", "slow": "built"}


# ------------------------------------------------------------------ disk full

def test_file_size_limit_fails_the_job_cleanly(repo: Repo):
    repo.write("methods/big.py", """
        def synthesis(job):
            with job.open("big.bin", "wb") as f:
                f.write(b"x" * (4 << 20))
    """)
    repo.write("build.py", """
        def main(urd):
            urd.build("big")
    """)
    repo.commit("big")
    limit = 2 << 20

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    proc = subprocess.run([sys.executable, "-m", "accelgit", "build"], cwd=repo.path, env=repo.env,
                          capture_output=True, text=True, preexec_fn=small_disk, timeout=120)
    assert proc.returncode == 1, proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("accelgit: job big-") and "File too large" in last and "log:" in last
    assert repo.job_dirs() == [] and tmp_entries(repo) == []


def test_disk_full_while_storing_the_job(chain_repo: Repo):
    proc = chain_repo.run("build", env={"ACCELGIT_TEST_FAIL_MANIFEST": "1"})
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("accelgit: job a-") and "could not store the job" in last
    assert "No space left on device" in last and "manifest.json" in last
    assert "Traceback" not in proc.stderr
    assert chain_repo.job_dirs() == [] and tmp_entries(chain_repo) == []
    assert chain_repo.build()["jobs"][0]["action"] == "built"


# ------------------------------------------------------------------ gc

def _flock(path: Path, shared: bool = False) -> int:
    import fcntl
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
    return fd


def _removed(gc: dict, kind: str) -> list[str]:
    return sorted(i["path"] for i in gc["removed"] if i["kind"] == kind)


NO_GRACE = "[gc]\ngrace_days = 0\n"     # jobs built minutes ago may go (the default keeps them 14 days)


def test_gc_removes_jobs_no_script_uses(chain_repo: Repo):
    repo = chain_repo
    repo.write("accelgit.toml", NO_GRACE)
    first = {j["method"]: j for j in repo.build()["jobs"]}
    repo.write("build.py", CHAIN["build.py"].replace('urd.build("c", b=b)', 'urd.build("c", b=b, offset=5)'))
    repo.commit("c with another offset")              # no branch uses the old c now
    second = {j["method"]: j for j in repo.build()["jobs"]}
    old_c = os.path.basename(first["c"]["path"])
    failed = repo.workdir / ".failed" / "c-0123456789ab.20240101-000000.abcd"
    failed.mkdir(parents=True)
    (failed / "job.json").write_text("{}")
    (repo.workdir / "x-0123456789ab").mkdir()                       # no manifest: not a job
    dry = repo.json("gc", "--dry-run")
    assert dry["dry_run"] is True
    assert _removed(dry, "job") == [old_c]
    assert _removed(dry, "failed") == [".failed/" + failed.name]
    assert _removed(dry, "incomplete") == ["x-0123456789ab"]
    assert dry["kept"] == 3 and dry["notes"] == []
    assert len(repo.job_dirs()) == 5 and failed.exists()                  # nothing removed yet
    proc = repo.run("gc")
    assert proc.returncode == 0, proc.stderr
    assert f"removed      job           {old_c}" in proc.stdout
    summary = proc.stdout.strip().splitlines()[-1]
    assert summary.startswith("gc .accelgit/work: removed 1 job, 1 failed build, 1 incomplete folder")
    assert summary.endswith("kept 3 jobs")
    assert repo.job_dirs() == sorted(os.path.basename(j["path"]) for j in second.values())
    assert not failed.exists() and tmp_entries(repo) == []
    assert log_ids(repo) == repo.job_dirs()
    assert [j["action"] for j in repo.build()["jobs"]] == ["reused"] * 3
    again = repo.json("gc")
    assert again["removed"] == [] and again["kept"] == 3


def test_gc_keeps_inputs_of_used_jobs_transitively(chain_repo: Repo):
    repo = chain_repo
    jobs = {j["method"]: j for j in repo.build()["jobs"]}
    repo.write("accelgit.toml", NO_GRACE)
    repo.write("build.py", 'def main(urd):\n    urd.build("a", scale=9)\n')
    repo.commit("HEAD uses none of the built jobs")     # only the (edited) run record keeps them
    record = repo.record_path()
    header, calls = read_record(record)
    write_record(record, header, [j for j in calls if j["method"] == "c"])      # only c is named
    gc = repo.json("gc")
    assert _removed(gc, "job") == [] and gc["kept"] == 3
    write_record(record, header, [{"id": jobs["b"]["id"], "method": "b", "name": "b"}])      # only b: c goes
    gc = repo.json("gc")
    assert _removed(gc, "job") == [os.path.basename(jobs["c"]["path"])] and gc["kept"] == 2


def test_gc_is_conservative(chain_repo: Repo):
    repo = chain_repo
    repo.write("accelgit.toml", NO_GRACE)
    repo.build()
    runs = repo.workdir / ".runs"
    record = repo.record_path()
    header, _ = read_record(record)
    record.unlink()
    gc = repo.json("gc")
    assert gc["removed"] == [] or {i["kind"] for i in gc["removed"]} == {"lock"}
    assert gc["kept"] == 3 and any("no run records" in n for n in gc["notes"])
    (runs / "other.py.jsonl").write_text("{not json\n")                 # unreadable: keep everything
    gc = repo.json("gc")
    assert _removed(gc, "job") == [] and any("unreadable run record" in n for n in gc["notes"])
    (runs / "other.py.jsonl").unlink()
    write_record(record, header, [])                                    # a script that uses nothing
    fd = _flock(repo.workdir / ".session.lock", shared=True)           # ... while a build runs
    try:
        gc = repo.json("gc")
        assert _removed(gc, "job") == [] and any("a build is running" in n for n in gc["notes"])
    finally:
        os.close(fd)
    assert len(_removed(repo.json("gc"), "job")) == 0                   # HEAD's scripts use all three
    repo.write("build.py", 'def main(urd):\n    urd.build("a", scale=9)\n')
    repo.commit("HEAD uses none of them")
    assert len(_removed(repo.json("gc"), "job")) == 3


def test_gc_keeps_temp_folders_of_live_builds(chain_repo: Repo):
    repo = chain_repo
    repo.build()
    tmp = repo.workdir / ".tmp"
    live = tmp / f"q-0123456789ab.{os.getpid()}.abcd1234"        # our pid, and we hold its lock
    unlocked = tmp / f"r-0123456789ab.{os.getpid()}.abcd1234"    # our pid, lock not held: stale
    dead = tmp / "s-0123456789ab.999999999.abcd1234"             # no such pid
    for d in (live, unlocked, dead):
        d.mkdir(parents=True)
    fd = _flock(repo.workdir / ".locks" / "q-0123456789ab.lock")
    try:
        gc = repo.json("gc")
        assert gc["live"] == [f".tmp/{live.name}"]
        assert _removed(gc, "temp") == sorted([f".tmp/{unlocked.name}", f".tmp/{dead.name}"])
        assert ".locks/q-0123456789ab.lock" not in _removed(gc, "lock")
        assert tmp_entries(repo) == [live.name]
    finally:
        os.close(fd)
    gc = repo.json("gc")
    assert _removed(gc, "temp") == [f".tmp/{live.name}"] and tmp_entries(repo) == []
    assert ".locks/q-0123456789ab.lock" in _removed(gc, "lock")


def test_gc_writes_only_the_target_workdir(chain_repo: Repo, tmp_path: Path):
    import shutil
    repo = chain_repo
    jobs = {j["method"]: j for j in repo.build()["jobs"]}
    shared = tmp_path / "shared"
    shared.mkdir()
    shutil.copytree(jobs["a"]["path"], shared / os.path.basename(jobs["a"]["path"]))
    (shared / ".failed" / "zz").mkdir(parents=True)
    (shared / ".tmp" / "zz-0123456789ab.999999999.ab").mkdir(parents=True)
    (shared / "y-0123456789ab").mkdir()
    before = sorted(str(p.relative_to(shared)) for p in shared.rglob("*"))
    repo.write("accelgit.toml", f"""
        target_workdir = "local"
        [workdirs]
        local = ".accelgit/work"
        shared = "{shared}"
        [gc]
        grace_days = 0
    """)
    repo.write("build.py", CHAIN["build.py"].replace('urd.build("c", b=b)', 'urd.build("c", b=b, offset=5)'))
    repo.commit("shared workdir; another c")
    repo.build()
    gc = repo.json("gc")
    assert gc["workdir"] == str(repo.workdir)
    assert _removed(gc, "job") == [os.path.basename(jobs["c"]["path"])]
    assert sorted(str(p.relative_to(shared)) for p in shared.rglob("*")) == before


def test_gc_handles_non_ascii_method_names(repo: Repo):
    repo.write("methods/größe.py", """
        options = {"n": 1}

        def synthesis(options):
            return options.n
    """)
    repo.write("build.py", """
        def main(urd):
            urd.build("größe")
    """)
    repo.write("accelgit.toml", NO_GRACE)
    repo.commit("non-ascii")
    old = repo.build()["jobs"][0]
    repo.write("build.py", """
        def main(urd):
            urd.build("größe", n=2)
    """)
    repo.commit("n = 2")
    new = repo.build()["jobs"][0]
    gc = repo.json("gc")
    assert _removed(gc, "job") == [os.path.basename(old["path"])]
    assert repo.job_dirs() == [os.path.basename(new["path"])]


def test_a_method_that_exits_early_or_leaves_a_fifo_is_not_a_job(repo: Repo):
    """A job is a job only if its process ran to the end of synthesis, and
    holds only regular files and folders (verify must never hang on one)."""
    repo.write("methods/quits.py", """
        import os

        def synthesis(job):
            with job.open("half.txt", "w") as f:
                f.write("x")
            os._exit(0)
    """)
    repo.write("methods/fifo.py", """
        import os

        def synthesis(job):
            os.mkfifo(job.filename("pipe"))
            os.symlink("/dev/zero", job.filename("zero"))
            return 1
    """)
    repo.write("build.py", """
        def main(urd):
            urd.build("quits")
    """)
    repo.commit("early exit")
    proc = repo.run("build")
    assert proc.returncode == 1 and "ended before the end of its synthesis" in proc.stderr.strip().splitlines()[-1]
    assert repo.job_dirs() == []
    repo.write("build.py", """
        def main(urd):
            urd.build("fifo")
    """)
    repo.commit("a fifo")
    proc = repo.run("build")
    last = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode == 1 and "output/pipe is not a regular file" in last, proc.stderr
    assert repo.job_dirs() == []


def test_a_forced_rebuild_is_atomic_for_readers(repo: Repo):
    """Builds that force a job again while other builds load it: a reader sees
    the old job or the new one, whole (never a missing manifest, never one
    job's manifest with the other's files), and nothing is left behind."""
    repo.write("methods/a.py", """
        import time

        def synthesis(job):
            job.save(list(range(2000)), "big.pickle")
            return {"at": time.time(), "xs": list(range(300))}
    """)
    repo.write("accelgit.toml", 'scripts = ["build.py"]\n')
    repo.write("build.py", "def main(urd):\n    urd.build('a')\n")
    repo.write("force.py", "def main(urd):\n    urd.build('a', force_build=True)\n")
    repo.write("read.py", """
        def main(urd):
            a = urd.build("a")
            for _ in range(40):
                assert a.load()["xs"] == list(range(300))
                assert a.load("big.pickle") == list(range(2000))
    """)
    repo.commit("force and read")
    repo.build()
    procs = []
    for i in range(12):
        procs.append(start(repo, "build", "force.py" if i % 3 == 0 else "read.py"))
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert len(repo.job_dirs()) == 1 and tmp_entries(repo) == []
    assert repo.run("verify", check=True).stdout.splitlines()[-1] == "1 job verified: all checks passed"


# ------------------------------------------------------------------ a full disk

@pytest.fixture
def small_disk(tmp_path: Path):
    """A 2 MB file system (tmpfs) for the repository and its workdir."""
    fs = tmp_path / "fs"
    fs.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(fs)], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {proc.stderr.strip()}")
    try:
        yield fs
    finally:
        subprocess.run(["umount", "-l", str(fs)], capture_output=True)


def test_a_full_disk_is_one_clear_line_and_damages_nothing(small_disk: Path, tmp_path: Path):
    from conftest import make_repo
    r = make_repo(small_disk, "repo")
    r.write("methods/a.py", """
        options = {"n": 0}

        def synthesis(options):
            with open("data.bin", "wb") as f:
                f.write(b"x" * 30000)
            return options.n
    """)
    r.write("build.py", "N = 0\n\ndef main(urd):\n    for i in range(3):\n        urd.build('a', n=N * 10 + i)\n")
    r.commit("a")
    r.build()
    fill = small_disk / "fill"
    for n, free in enumerate([120_000, 40_000, 12_000, 4_000, 0], start=1):
        fill.unlink(missing_ok=True)
        st = os.statvfs(small_disk)
        with open(fill, "wb") as f:
            if st.f_bavail * st.f_frsize > free:
                os.posix_fallocate(f.fileno(), 0, st.f_bavail * st.f_frsize - free)
        r.write("build.py", r.read("build.py").replace(f"N = {n - 1}", f"N = {n}"))
        proc = r.run("build")
        assert proc.returncode in (0, 1), (free, proc.stderr)
        if proc.returncode == 1:
            last = proc.stderr.strip().splitlines()[-1]
            assert last.startswith("accelgit: ") and "internal error" not in last, (free, proc.stderr)
            assert "no space left" in proc.stderr.lower(), (free, proc.stderr)
        assert not list((r.workdir / ".runs").glob("*.tmp")), free
        assert not (r.workdir / "index.sqlite.damaged").exists(), free
    fill.unlink()
    v = r.run("verify", "--all", "--json")
    assert json.loads(v.stdout)["ok"] or all(
        c["ok"] for j in json.loads(v.stdout)["jobs"] for c in j["checks"] if c["check"] in ("integrity", "identity")), v.stdout
    assert r.run("build").returncode == 0
