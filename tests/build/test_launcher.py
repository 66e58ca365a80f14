"""How jobs are launched (build/launcher.py and build/forkserver.py,
build/prepare.py's prepare_job/run_prepared, the scheduler's preparing ahead): children forked ahead and warmed up, the
job's DONE said before its process exits, jobs prepared before their inputs
are done, index rows written in batches.  Each test does the real thing:
real builds, real processes, and checks what is left behind."""
from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Repo

# Job i of a chain of N; with $T_FAIL = i it raises.  Each job writes what its
# process looks like: pid, parent (the fork server), cwd, the import path, the
# modules a warm-up could have left behind.
STEP = """
    import os, sys
    options = {"i": 0}
    jobs = ("prev",)

    def synthesis(options, job):
        if os.environ.get("T_FAIL") == str(options.i):
            raise RuntimeError(f"step {options.i} fails")
        seen = {
            "pid": os.getpid(), "ppid": os.getppid(), "cwd": os.getcwd(),
            "path0": sys.path[0], "in_path": [p for p in sys.path if "accelgit-warm" in p],
            "warm_modules": sorted(m for m in sys.modules if "warm" in m and not m.startswith("accelgit.")),
            "dont_write_bytecode": sys.dont_write_bytecode,
            "stdin": os.read(0, 10).decode(),
        }
        job.json_save(seen, "seen.json")
        return options.i
"""


def chain(repo: Repo, n: int) -> Repo:
    repo.write("methods/step.py", STEP)
    repo.write("build.py", f"""
        def main(urd):
            prev = None
            for i in range({n}):
                prev = urd.build("step", i=i, prev=prev)
    """)
    repo.commit("chain")
    return repo


def seen(repo: Repo, path: str) -> dict:
    return json.loads((Path(path) / "output" / "seen.json").read_text())


def session_members(sid: int) -> list[int]:
    """Pids of the live (not zombie) processes of session ``sid``."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[3]) == sid:
            out.append(int(name))
    return out


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_no_process_and_no_scratch_outlive_the_build(repo: Repo, tmp_path: Path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    r = chain(repo, 12)
    proc = r.run("build", "--json", env={"TMPDIR": str(tmpdir)})
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [j["action"] for j in out["jobs"]] == ["built"] * 12
    servers = {seen(r, j["path"])["ppid"] for j in out["jobs"]}
    assert len(servers) == 1                          # every job forked by one fork server
    server = servers.pop()
    # the server started its own session: when it is gone, so must be every spare it forked
    deadline = time.time() + 10
    while session_members(server) and time.time() < deadline:
        time.sleep(0.05)
    assert session_members(server) == []
    assert os.listdir(tmpdir) == []                   # the warm-up's scratch folder is removed


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_a_spare_warming_up_at_the_end_is_stopped_and_its_folder_removed(repo: Repo, tmp_path: Path):
    """The build ends while the fork server's spare still warms up in the
    scratch folder: the server stops it (it would write there after the
    folder was removed) instead of waiting for it, then removes the folder."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    r = chain(repo, 3)
    log = tmp_path / "pauses.log"
    proc = r.run("build", "--json", env={"TMPDIR": str(tmpdir), "ACCELGIT_TEST_PAUSE_WARM_UP": "2",
                                         "ACCELGIT_TEST_PAUSE_LOG": str(log)})
    assert proc.returncode == 0, proc.stderr
    assert [j["action"] for j in json.loads(proc.stdout)["jobs"]] == ["built"] * 3
    server = seen(r, json.loads(proc.stdout)["jobs"][0]["path"])["ppid"]
    assert session_members(server) == []              # the warming spare did not outlive the build
    assert os.listdir(tmpdir) == []
    # the jobs waited for the first spares' warm-ups; the end waited for none: a spare
    # still in its warm-up was stopped there (had the end waited, every pause would have ended)
    events = [line.split() for line in log.read_text().splitlines()]
    begun = {pid for _, pid, what in events if what == "begin"}
    ended = {pid for _, pid, what in events if what == "end"}
    assert ended and begun - ended, events


def _leftovers(tmpdir: Path, prefix: str, old_prefix: str | None = None) -> int:
    """Folders as processes of ``prefix`` leave them: one killed (its lock free),
    one running (its lock held: the fd, to close), one being made (no lock yet),
    one killed before its lock a day ago, and an older accelgit's (no lock) a day old."""
    folders = {n: tmpdir / f"{prefix}{n}" for n in ("dead", "alive", "new", "nolock")}
    if old_prefix:
        folders["legacy"] = tmpdir / f"{old_prefix}legacy"
    for f in folders.values():
        f.mkdir()
    (folders["dead"] / "lock").write_text("")
    (folders["alive"] / "lock").write_text("")
    for n in ("nolock", "legacy"):
        if n in folders:
            os.utime(folders[n], (time.time() - 2 * 86400,) * 2)
    held = os.open(folders["alive"] / "lock", os.O_RDWR)
    fcntl.flock(held, fcntl.LOCK_EX)
    return held


@pytest.mark.parametrize("prefix, old_prefix", [("accelgit-warm-", None), ("accelgit-sj-", "accelgit-subjobs-")])
def test_a_killed_process_temp_folder_is_removed_by_the_next_build(repo: Repo, tmp_path: Path, prefix, old_prefix):
    """A fork server (its warm-up folder) or a build (its subjob socket's folder)
    killed with SIGKILL cannot remove its folder; the next build removes the
    folders whose lock nobody holds (the lock goes with its process, in any
    pid namespace) and lock-less ones a day old, and leaves a running
    process's folder (lock held) and one being made (no lock yet) alone."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    held = _leftovers(tmpdir, prefix, old_prefix)
    try:
        r = chain(repo, 2)
        proc = r.run("build", env={"TMPDIR": str(tmpdir)})
        assert proc.returncode == 0, proc.stderr
        assert sorted(os.listdir(tmpdir)) == [f"{prefix}alive", f"{prefix}new"]
    finally:
        os.close(held)


def test_a_build_starting_meanwhile_never_removes_a_live_subjob_folder(tmp_path: Path, monkeypatch):
    """Two builds starting at once: the other's sweep may run at any moment of
    this one's start; its folder's lock file appears already locked, so the
    sweep never finds it free (it removed a live folder when the lock was
    made and then locked)."""
    import fcntl as real_fcntl
    import tempfile

    from accelgit.build import subjobs, tmpfolders
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    flock = real_fcntl.flock

    def racing(fd, op):
        tmpfolders.sweep(str(tmp_path), (subjobs.PREFIX,), "/another/build")     # the other build's, now
        return flock(fd, op)
    monkeypatch.setattr(real_fcntl, "flock", racing)
    for moment in ("before", "after"):
        if moment == "after":                 # and once the lock is in place
            monkeypatch.setattr(real_fcntl, "flock", flock)
        server = subjobs.SubjobServer(None)
        try:
            if moment == "after":
                tmpfolders.sweep(str(tmp_path), (subjobs.PREFIX,), "/another/build")
            assert server.problem is None and os.path.exists(server.address), moment
        finally:
            server.close()
        assert os.listdir(tmp_path) == []


def test_a_subjob_socket_that_cannot_be_made_is_said_by_the_job_that_asks(tmp_path: Path, monkeypatch):
    """A temp folder too deep for a Unix socket falls back to /tmp; where no
    socket can be made at all the build goes on, and only a job that builds a
    subjob fails, saying why (not the build, and not blamed on its script)."""
    import tempfile

    from accelgit.api import running
    from accelgit.api.compat import subjobs as compat
    from accelgit.build import subjobs
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(deep))
    monkeypatch.setattr(tempfile, "tempdir", None)      # read $TMPDIR again
    server = subjobs.SubjobServer(None)
    try:
        assert server.problem is None and server.address.startswith("/tmp/accelgit-sj-")
        assert os.listdir(deep) == []
    finally:
        server.close()
    assert not os.path.exists(server.folder)

    def refuse(self, address):
        raise OSError(98, "Address already in use")
    monkeypatch.setattr(subjobs.socket.socket, "bind", refuse)
    server = subjobs.SubjobServer(None)
    assert server.run_fields() == {"subjobs": None, "subjobs_problem": "this build could not make its socket "
                                                                        "for subjobs (Address already in use)"}
    assert not os.path.exists(server.folder) and server._hold is None
    monkeypatch.setattr(running, "current", object())
    monkeypatch.setattr(running, "subjob_problem", server.problem)
    with pytest.raises(compat.SubjobError, match=r"^subjob m: this build could not make its socket for subjobs"):
        compat.build("m")


def test_the_fork_server_runs_the_warm_up_job_itself_before_forking(repo: Repo, tmp_path: Path):
    """What a job's first run in a process makes lazily (compile()'s AST node
    types above all: ~1.3 ms a job) must be made once, in the server, not in
    every job process.  With children's warm-ups off, only the server's own
    warm-up can have run the trivial job in its scratch folder by the time
    the first job runs."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    repo.write("methods/probe.py", f"""
        import glob, os

        def synthesis():
            return sorted(os.path.relpath(p, {str(tmpdir)!r}).split(os.sep, 1)[1]
                          for p in glob.glob({str(tmpdir)!r} + "/accelgit-warm-*/*"))
    """)
    repo.write("build.py", """
        def main(urd):
            urd.build("probe")
    """)
    repo.commit("probe")
    proc = repo.run("build", "--json", env={"ACCELGIT_WARMUP": "0", "TMPDIR": str(tmpdir)})
    assert proc.returncode == 0, proc.stderr
    path = Path(json.loads(proc.stdout)["jobs"][0]["path"])
    assert "profile.json" in json.loads((path / "result.json").read_text())


START_PROBE = """
import json, sys
from accelgit.commands.context import open_repo
from accelgit.build.scheduler import run_build
repo, config = open_repo(None)
session = run_build(repo, config, None)
print(json.dumps({"started": session.launcher.started,
                  "actions": [r["action"] for r in session.records]}))
"""


def test_the_fork_server_starts_with_the_first_job_to_build_and_never_for_a_no_op_build(repo: Repo):
    """It boots while the first job is prepared (not when that job is run);
    a build that reuses every job starts none (~40 ms of CPU saved)."""
    r = chain(repo, 3)
    first = json.loads(subprocess.run([sys.executable, "-c", START_PROBE], cwd=r.path, env=r.env,
                                      capture_output=True, text=True, check=True).stdout)
    assert first == {"started": True, "actions": ["built"] * 3}
    again = json.loads(subprocess.run([sys.executable, "-c", START_PROBE], cwd=r.path, env=r.env,
                                      capture_output=True, text=True, check=True).stdout)
    assert again == {"started": False, "actions": ["reused"] * 3}


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_the_fork_server_boots_while_the_first_job_is_prepared(repo: Repo):
    """Started when the first job to build is submitted, not when it is run: while
    that job's folder is being prepared (paused here), the server already runs."""
    r = chain(repo, 1)
    proc = subprocess.Popen([sys.executable, "-m", "accelgit", "build"], cwd=r.path,
                            env={**r.env, "ACCELGIT_TEST_PAUSE_INLINE_PREPARE": "2"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 1.5
        servers = []
        while time.time() < deadline and not servers:
            time.sleep(0.05)
            servers = [pid for pid in os.listdir("/proc") if pid.isdigit() and _is_server_of(int(pid), proc.pid)]
        assert servers, "no fork server while the first job was being prepared"
        assert not any((r.workdir).glob("step-*")), "the job was already built"
    finally:
        assert proc.wait(timeout=30) == 0, proc.stderr.read()


def _is_server_of(pid: int, parent: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except (OSError, ValueError, IndexError):
        return False
    return ppid == parent and b"accelgit.build.forkserver" in cmd


def test_the_warm_up_folder_falls_back_to_the_temp_folder_and_then_to_none(tmp_path: Path, monkeypatch):
    """Where the preferred place (/dev/shm) cannot be written, the warm-up's folder
    goes to the system's temp folder; where nothing can be written there is none,
    and the server runs its jobs without warm-ups rather than failing them."""
    import tempfile

    from accelgit.build import forkserver as jobserver
    from accelgit.build import warmup
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(jobserver, "scratch_parent", lambda: str(tmp_path / "missing" / "shm"))
    folder, lock = jobserver.make_scratch(warmup)
    os.close(lock)
    assert os.path.dirname(folder) == str(tmp_path) and os.path.basename(folder).startswith("accelgit-warm-")
    assert sorted(os.listdir(folder)) == ["job.json", "lock", "log", "output", "source"]

    def full(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(warmup, "make_warm_up", full)
    assert jobserver.make_scratch(warmup) is None
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(folder)]     # nothing half-made is left


def test_warm_and_cold_children_run_jobs_alike(repo: Repo):
    """A warmed-up child must look like a fresh one to the job: same cwd, path,
    modules, stdin; and like a job run by a fresh interpreter."""
    r = chain(repo, 10)
    out = r.build()
    views = [seen(r, j["path"]) for j in out["jobs"]]
    for v in views:
        assert v["pid"] != v["ppid"]
        assert os.path.basename(v["cwd"]) == "output"
        assert v["path0"].endswith(os.sep + "source" + os.sep + "methods")
        assert v["in_path"] == [] and v["warm_modules"] == []
        assert v["dont_write_bytecode"] is True
        assert v["stdin"] == ""
    assert len({v["pid"] for v in views}) == 10       # a process per job
    # the same jobs through a fresh interpreter each (no fork server): the same view
    (r.path / ".accelgit").rename(r.path.parent / "old-accelgit")
    proc = r.run("build", "--json", env={"ACCELGIT_FORKSERVER": "0"})
    assert proc.returncode == 0, proc.stderr
    fresh = [seen(r, j["path"]) for j in json.loads(proc.stdout)["jobs"]]
    keys = ("in_path", "warm_modules", "dont_write_bytecode", "stdin")
    assert [{k: v[k] for k in keys} for v in fresh] == [{k: v[k] for k in keys} for v in views]


def test_a_failure_mid_chain_leaves_no_prepared_folder_or_lock(repo: Repo):
    """Jobs after the failing one were prepared ahead (temp folder, lock): all
    of that is undone, and they are reported as not built."""
    r = chain(repo, 12)
    proc = r.run("build", env={"T_FAIL": "5"})
    assert proc.returncode == 1
    last = proc.stderr.rstrip("\n").splitlines()[-1]
    assert "failed: RuntimeError: step 5 fails" in last
    assert last.endswith("(6 not built because an input failed)")
    assert len(r.job_dirs()) == 5
    assert os.listdir(r.workdir / ".tmp") == []
    for lock in (r.workdir / ".locks").iterdir():    # no lock is still held
        fd = os.open(lock, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    # and the next build builds exactly the rest
    out = r.build()
    assert [j["action"] for j in out["jobs"]] == ["reused"] * 5 + ["built"] * 7


def test_a_job_killed_before_its_done_is_reported(repo: Repo):
    """No DONE from the job: the server's EXIT (the kill signal) is the result."""
    repo.write("methods/dies.py", """
        import os, signal

        def synthesis():
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    repo.write("build.py", """
        def main(urd):
            urd.build("dies")
    """)
    repo.commit("dies")
    proc = repo.run("build")
    assert proc.returncode == 1
    assert "the job process died (exit -9)" in proc.stderr.splitlines()[-1]


def test_index_rows_written_in_batches_and_after_a_kill(repo: Repo):
    """More jobs than one batch (256): every one is in the index; a build killed
    before its last batch is written loses nothing either (the next command
    adds what it finds)."""
    r = chain(repo, 300)
    out = r.build()
    log = r.json("log", "-n", "1000")
    assert sorted(j["id"] for j in log["jobs"]) == sorted(j["id"] for j in out["jobs"])
    # a build killed in its last job: the jobs it completed were never written to the index
    r.write("methods/step.py", STEP.replace("def synthesis(options, job):",
                                            "import time\n\n    def synthesis(options, job):\n"
                                            "        if options.i == 7:\n"
                                            "            time.sleep(60)"))
    r.write("build.py", """
        def main(urd):
            prev = None
            for i in range(8):
                prev = urd.build("step", i=i, prev=prev)
    """)
    r.commit("slow last")
    p = subprocess.Popen([sys.executable, "-m", "accelgit", "build"], cwd=r.path, env=r.env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 60
    while time.time() < deadline and len(r.job_dirs()) < 300 + 7:
        time.sleep(0.05)
    time.sleep(0.2)
    os.killpg(p.pid, signal.SIGKILL)
    p.wait(timeout=30)
    dirs = set(r.job_dirs())
    assert len(dirs) == 307
    assert {j["dirname"] for j in r.json("log", "-n", "1000")["jobs"]} == dirs


# ------------------------------------------------------------------ parameters without inspect

def _f1(options, job, slices=3, *args, sliceno, prepare_res=None, **kw):
    pass


def _f2():
    pass


def _f3(a, b=1, /, c=2, *, d):
    pass


class _Callable:
    def __call__(self, options, jobs=None):
        pass


@pytest.mark.parametrize("fn", [_f1, _f2, _f3, lambda job, x=1: None, _Callable(),
                                __import__("functools").partial(_f1, 1)])
def test_parameters_match_inspect(fn):
    """What the job process injects is read from the code object for plain
    functions; it must say exactly what inspect.signature says."""
    import inspect

    from accelgit.build.runner import _parameters
    want = [(n, p.default is not p.empty) for n, p in inspect.signature(fn).parameters.items()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    assert _parameters(fn) == want


@pytest.mark.parametrize("forkserver", ["1", "0"])
def test_odd_characters_in_the_job_folder_path(tmp_path: Path, forkserver: str):
    """The job folder and the input paths travel to the job process as JSON
    (fork server) or in .run.json (a fresh interpreter): spaces, tabs
    and non-ASCII names arrive intact."""
    from conftest import make_repo
    r = make_repo(tmp_path, "odd \t name é")
    chain(r, 3)
    proc = r.run("build", "--json", env={"ACCELGIT_FORKSERVER": forkserver})
    assert proc.returncode == 0, proc.stderr
    jobs = json.loads(proc.stdout)["jobs"]
    assert [j["action"] for j in jobs] == ["built"] * 3
    for j in jobs:
        assert Path(j["path"]).parent == r.workdir
        assert seen(r, j["path"])["cwd"].endswith(os.sep + "output")
        assert not (Path(j["path"]) / ".run.json").exists()


def test_a_line_break_in_the_repo_path_is_one_clear_error(tmp_path: Path):
    from conftest import make_repo
    r = make_repo(tmp_path, "line\nbreak")
    chain(r, 2)
    proc = r.run("build")
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"accelgit: accelgit cannot work in a folder whose path has a line break: {str(r.path)!r}"]


# ------------------------------------------------------------------ manifest walking

def test_walk_files_lists_what_os_walk_lists(tmp_path: Path):
    """walk_files (scandir, for speed) against the os.walk definition, with
    nested and empty folders, dot files and every kind of symbolic link."""
    from accelgit.store.manifest import file_digest, walk_files
    root = tmp_path / "job"
    for rel in ("a.txt", ".hidden", "output/x/y/z.bin", "output/x/w.txt", "log/setup.txt", "é ü/ñ"):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(rel.encode() * 3)
    (root / "empty" / "deeper").mkdir(parents=True)
    os.symlink(root / "a.txt", root / "output" / "to_file")
    os.symlink(root / "output" / "x", root / "output" / "to_dir")
    os.symlink(root / "nowhere", root / "output" / "broken")

    def reference(top):
        out = []
        for dirpath, _dirs, files in os.walk(top):
            rel = os.path.relpath(dirpath, top)
            out += [f if rel == "." else f"{rel}/{f}".replace(os.sep, "/") for f in files]
        return sorted(out)
    assert walk_files(str(root)) == reference(str(root))
    assert "output/to_dir" not in walk_files(str(root)) and "output/broken" in walk_files(str(root))
    big = root / "big.bin"
    big.write_bytes(os.urandom((1 << 20) * 2 + 5))      # more than one 1 MB piece
    import hashlib
    for p in (big, root / "a.txt", root / "empty.txt"):
        if not p.exists():
            p.write_bytes(b"")
        assert file_digest(str(p)) == (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size)



def test_jobs_ready_before_they_were_prepared_ahead_build_once(repo: Repo):
    """Jobs waiting for a slow input hold the slots for preparing ahead; jobs
    waiting for a fast one start first and prepare themselves.  The preparing
    thread, reaching them later in its queue, must leave them alone: two
    preparations of one job would wait for each other's lock forever.  (A pause
    between a job's start and its own preparation widens the window.)"""
    repo.write("methods/slow.py", """
        import time

        def synthesis():
            time.sleep(0.3)
            return 1
    """)
    repo.write("methods/fast.py", """
        def synthesis():
            return 2
    """)
    repo.write("methods/leaf.py", """
        options = {"i": 0}
        jobs = ("src",)

        def synthesis(options):
            return options.i
    """)
    repo.write("build.py", """
        def main(urd):
            slow = urd.build("slow")
            fast = urd.build("fast")
            for i in range(4):
                urd.build("leaf", i=i, src=slow)
            for i in range(4, 8):
                urd.build("leaf", i=i, src=fast)
    """)
    repo.commit("two sources")
    env = dict(repo.env, ACCELGIT_TEST_PAUSE_INLINE_PREPARE="0.4")
    proc = subprocess.run([sys.executable, "-m", "accelgit", "build", "--json", "-j", "2"], cwd=repo.path,
                          env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr
    assert [j["action"] for j in json.loads(proc.stdout)["jobs"]] == ["built"] * 10
    assert os.listdir(repo.workdir / ".tmp") == []


# ------------------------------------------------------------------ the index under threads

HAMMER = r"""
import os, sys, threading, time
from accelgit.store.index import Index
work = sys.argv[1]
idx = Index(work)
stop = time.time() + 1.5
errors = []

def params(i):
    return {"id": "%064x" % i, "method": "m", "name": "m", "source": "s", "git": {}, "built_at": str(i)}

def user(k):
    i = k * 1_000_000
    try:
        while time.time() < stop:
            idx.known_ids()
            idx.add(params(i), "m-%012x" % i)
            i += 1
            if i % 7 == 0:
                idx.flush()
            idx.rows("WHERE method = ?", ("m",))
    except Exception as e:          # an exception is fine to report; a crash is what is tested
        errors.append(repr(e))

def damage():
    while time.time() < stop:
        time.sleep(0.05)
        try:
            with open(os.path.join(work, "index.sqlite"), "r+b") as f:
                f.write(b"garbage" * 20)
        except OSError:
            pass

threads = [threading.Thread(target=user, args=(k,)) for k in range(4)] + [threading.Thread(target=damage)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok", len(errors))
"""


def test_the_index_survives_threads_opening_and_repairing_it_at_once(tmp_path: Path):
    """Build threads record jobs while another opens, rebuilds or repairs the
    index (its file damaged meanwhile): one connection, one thread at a time,
    no crash (two threads repairing it at once used to kill the build with SIGSEGV)."""
    from conftest import ROOT
    work = tmp_path / "work"
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONFAULTHANDLER="1")
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", HAMMER, str(work)], env=env, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert proc.stdout.startswith("ok ")


@pytest.mark.parametrize("forkserver", ["1", "0"])
def test_what_a_job_leaves_running_ends_with_the_job(repo: Repo, forkserver: str):
    """A method's background child (one that even ignores SIGTERM) does not
    outlive its job, so it cannot write into the finished job."""
    import time
    repo.write("methods/bg.py", """
        import subprocess

        def synthesis():
            subprocess.Popen(["sh", "-c", "trap '' TERM HUP; sleep 0.8; echo late > late.txt"])
            return 1
    """)
    repo.write("build.py", "def main(urd):\n    urd.build('bg')\n")
    repo.commit("bg")
    proc = repo.run("build", "--json", env={"ACCELGIT_FORKSERVER": forkserver})
    assert proc.returncode == 0, proc.stderr
    job = Path(json.loads(proc.stdout)["jobs"][0]["path"])
    time.sleep(1.5)
    assert sorted(os.listdir(job / "output")) == []
    assert repo.run("verify", check=True).stdout.splitlines()[-1] == "1 job verified: all checks passed"


def test_a_methods_module_code_does_not_see_the_warm_up_job(repo: Repo):
    """The warm-up job ran in the child before the real one: nothing of it is
    the running job's when the method's module code runs (accelerator.blob
    and subjobs act for ``running.current``)."""
    repo.write("methods/probe.py", """
        from accelgit.api import running

        SEEN = [running.current, running.phase, running.subjob_address]
        jobs = ("prev",)
        options = {"i": 0}

        def synthesis():
            return [None if x is None else str(x) for x in SEEN]
    """)
    repo.write("build.py", "def main(urd):\n    prev = None\n    for i in range(6):\n"
                           "        prev = urd.build('probe', i=i, prev=prev)\n")
    repo.commit("probe")
    out = repo.build()
    assert [json.loads((Path(j["path"]) / "result.json").read_text()) for j in out["jobs"]] == [[None] * 3] * 6
