"""The Dask executor (build/executor.py, daskexec.py, daskjob.py) against a
real cluster: a ``dask scheduler`` and two ``dask worker`` processes on
127.0.0.1, started once for this module and stopped by their pids."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import distributed
import pytest
from conftest import Repo, make_repo, wait_for, write_files

ANCESTORS = """
    import os


    def ancestors():
        \"\"\"The pids above this process, its parent first.\"\"\"
        pid, out = os.getpid(), []
        while pid > 1:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
            out.append(pid)
        return out
"""

FAN_AND_CHAIN = {
    "methods/_ps.py": ANCESTORS,
    "methods/a.py": """
        import _ps
        options = {"i": 0}

        def synthesis(options):
            return {"i": options.i, "ancestors": _ps.ancestors()}
    """,
    "methods/b.py": """
        import _ps
        jobs = ("src",)

        def analysis(sliceno, jobs):
            return jobs.src.load()["i"] + sliceno

        def synthesis(analysis_res):
            return {"sum": sum(analysis_res), "ancestors": _ps.ancestors()}
    """,
    "build.py": """
        def main(urd):
            for i in range(3):                  # a fan of three chains a -> b
                urd.build("b", src=urd.build("a", i=i))
    """,
}

# a job that says it started (its pid, in a file in the folder ``note``) and then sleeps
SLOW = {
    "methods/slow.py": """
        import os
        import time
        options = {"i": 0, "note": "", "secs": 2.0}

        def synthesis(options):
            with open(os.path.join(options.note, str(os.getpid())), "w") as f:
                f.write(str(options.i))
            time.sleep(options.secs)
            return options.i
    """,
}


def slow_repo(base: Path, note: Path, secs: float) -> Repo:
    r = make_repo(base)
    note.mkdir()
    write_files(r, {**SLOW, "build.py": f"""
        def main(urd):
            for i in range(2):
                urd.build("slow", i=i, note={str(note)!r}, secs={secs})
    """})
    r.commit("slow")
    return r


def started(note: Path) -> list[int]:
    return [int(p.name) for p in note.iterdir()]


def ancestors(pid: int) -> list[int]:
    out = []
    while pid > 1:
        with open(f"/proc/{pid}/stat") as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
        out.append(pid)
    return out


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A scheduler and its workers, each a real process of Dask's own CLI."""

    def __init__(self, base: Path):
        self.base = base
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.procs: list[subprocess.Popen] = []
        self.workers: dict[int, str] = {}          # pid -> its address
        self.names: dict[str, int] = {}            # name -> pid
        dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
        self.procs.append(self._spawn([*dask, "--host", "127.0.0.1", "--port", self.address.rsplit(":", 1)[1],
                                       "--no-dashboard"], "scheduler"))

    def _spawn(self, cmd: list[str], name: str, prefix: tuple = ()) -> subprocess.Popen:
        # the workers' user config is not the builds' (no shared home): their own signing key,
        # so a job that loads an input trusts it only by the keys its build hands down
        env = dict(os.environ, XDG_CONFIG_HOME=str(self.base / "worker-config"))
        with open(self.base / f"{name}.log", "ab") as log:
            return subprocess.Popen([*prefix, *cmd], cwd=self.base, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)

    def add_worker(self, name: str, *extra: str, prefix: tuple = ()) -> int:
        """Start ``dask worker`` (no nanny: the pid is the worker's) and wait until it registered."""
        cmd = [sys.executable, "-m", "distributed.cli.dask_worker", self.address, "--nthreads", "1", "--no-nanny",
               "--no-dashboard", "--host", "127.0.0.1", "--name", name,
               "--local-directory", str(self.base / name), *extra]
        proc = self._spawn(cmd, name, prefix)
        self.procs.append(proc)
        with distributed.Client(self.address, timeout=30) as client:
            def registered():
                for addr, w in client.scheduler_info()["workers"].items():
                    if w.get("name") == name and addr not in self.workers.values():
                        return addr
            self.workers[proc.pid] = wait_for(registered, f"worker {name}", timeout=60)
        self.names[name] = proc.pid
        return proc.pid

    def stop(self, proc: subprocess.Popen) -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.workers.pop(proc.pid, None)

    def kill_worker(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        proc = next(p for p in self.procs if p.pid == pid)
        proc.wait(timeout=10)
        self.workers.pop(pid, None)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        c.add_worker("w1")
        c.add_worker("w2", "--resources", "GPU=1")
        yield c
    finally:
        for proc in reversed(c.procs):
            c.stop(proc)


def fan_repo(base: Path, name: str = "repo") -> Repo:
    r = make_repo(base, name)
    write_files(r, FAN_AND_CHAIN)
    r.commit("fan")
    return r


def results(r: Repo) -> dict[str, dict]:
    return {d: json.loads((r.workdir / d / "result.json").read_text()) for d in r.job_dirs()}


def test_a_fan_and_chains_build_on_the_workers_with_the_ids_of_a_local_build(cluster: Cluster, tmp_path: Path):
    here, there = fan_repo(tmp_path, "local"), fan_repo(tmp_path, "dask")
    local = here.build()
    remote = there.build("--executor", "dask", "--scheduler", cluster.address)
    assert [j["action"] for j in remote["jobs"]] == ["built"] * 6
    assert sorted(j["id"] for j in remote["jobs"]) == sorted(j["id"] for j in local["jobs"])
    # each job process was a child of a worker process, and job.json says which worker, on which host
    for d, res in results(there).items():
        (worker,) = [p for p in res["ancestors"] if p in cluster.workers]     # a job process is under a worker
        params = json.loads((there.workdir / d / "job.json").read_text())
        assert params["executor"] == cluster.workers[worker]
        assert params["host"] == socket.gethostname()
        assert not [n for n in os.listdir(there.workdir / d) if n.startswith(".")]     # no attempt or run file
    assert {json.loads((here.workdir / d / "job.json").read_text())["executor"] for d in here.job_dirs()} == {"local"}
    assert results(there)[next(d for d in there.job_dirs() if d.startswith("b-"))]["sum"] in (6, 10, 14)
    # the config and the environment choose the executor too; nothing is built twice
    there.write("accelgit.toml", '[executor]\nkind = "dask"\naddress = "tcp://127.0.0.1:1"\n')
    again = there.run("build", "--json", env={"ACCELGIT_DASK_SCHEDULER": cluster.address}, check=True)
    assert [j["action"] for j in json.loads(again.stdout)["jobs"]] == ["reused"] * 6
    assert there.run("verify", "--all").returncode == 0


def test_a_method_s_resources_pick_the_worker_that_has_them(cluster: Cluster, tmp_path: Path):
    r = make_repo(tmp_path)
    write_files(r, {
        "methods/_ps.py": ANCESTORS,
        "methods/gpu.py": """
            import _ps
            resources = {"GPU": 1}

            def synthesis():
                return _ps.ancestors()
        """,
        "methods/tpu.py": """
            resources = {"TPU": 1}

            def synthesis():
                return 0
        """,
        "build.py": """
            def main(urd):
                urd.build("gpu")
        """,
        "build_tpu.py": """
            def main(urd):
                urd.build("tpu")
        """,
    })
    r.commit("resources")
    r.build("build.py", "--scheduler", cluster.address)
    (job,) = r.job_dirs()
    assert cluster.names["w2"] in json.loads((r.workdir / job / "result.json").read_text())     # the GPU worker
    proc = r.run("build", "build_tpu.py", "--scheduler", cluster.address)
    assert proc.returncode == 1
    assert "no Dask worker" in proc.stderr and "'TPU': 1" in proc.stderr and "GPU" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_worker_killed_mid_job_leaves_no_half_built_job(cluster: Cluster, tmp_path: Path):
    note = tmp_path / "started"
    r = slow_repo(tmp_path, note, 2.0)
    build = subprocess.Popen([sys.executable, "-m", "accelgit", "build", "--json", "--scheduler", cluster.address],
                             cwd=r.path, env=r.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        job_pid = wait_for(lambda: started(note), "a job to start")[0]
        victim = next(p for p in ancestors(job_pid) if p in cluster.workers)
        cluster.kill_worker(victim)
        # the job process dies with its worker (it would sleep on for two seconds)
        wait_for(lambda: gone(job_pid), "the killed worker's job process to die", timeout=1)
        out, err = build.communicate(timeout=120)
    finally:
        if build.poll() is None:
            build.kill()
            build.communicate()
        cluster.add_worker("w1-again")
    assert build.returncode == 0, err
    assert "died while running it; running it again" in err, err
    jobs = json.loads(out)["jobs"]
    assert sorted(j["action"] for j in jobs) == ["built", "built"] and len({j["id"] for j in jobs}) == 2
    for d in r.job_dirs():          # every job folder is a whole job, built by a living worker
        assert (r.workdir / d / "manifest.json").is_file()
        assert json.loads((r.workdir / d / "job.json").read_text())["executor"] in cluster.workers.values()
    assert len(r.job_dirs()) == 2
    assert len(os.listdir(r.workdir / ".failed")) == 1          # the lost attempt, for its logs
    assert r.run("verify", "--all").returncode == 0


def test_ctrl_c_cancels_the_tasks_and_kills_their_job_processes(cluster: Cluster, tmp_path: Path):
    note = tmp_path / "started"
    r = slow_repo(tmp_path, note, 30.0)
    build = subprocess.Popen([sys.executable, "-m", "accelgit", "build", "--scheduler", cluster.address], cwd=r.path,
                             env=r.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        pids = wait_for(lambda: len(started(note)) == 2 and started(note), "a job on each worker")
        os.killpg(build.pid, signal.SIGINT)            # Ctrl-C in the build's terminal
        out, err = build.communicate(timeout=30)
    finally:
        if build.poll() is None:
            build.kill()
            build.communicate()
    assert build.returncode == 130, err
    assert err.strip().splitlines()[-1] == "accelgit: interrupted", err
    wait_for(lambda: all(gone(p) for p in pids), "the job processes to end", timeout=5)
    assert r.job_dirs() == []
    with distributed.Client(cluster.address, timeout=10) as client:       # no task of the build is left
        wait_for(lambda: not any(client.processing().values()), "idle workers", timeout=10)


def test_no_scheduler_is_one_line(tmp_path: Path):
    r = fan_repo(tmp_path)
    r.write("accelgit.toml", "[executor]\ntimeout = 0.5\n")
    proc = r.run("build", "--scheduler", f"tcp://127.0.0.1:{free_port()}")
    assert proc.returncode == 1
    assert proc.stderr.startswith("accelgit: cannot reach the Dask scheduler at tcp://127.0.0.1:")
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert r.job_dirs() == []
    proc = r.run("build", "--scheduler", "tcp://127.0.0.1:port")
    assert proc.returncode == 2 and proc.stderr == ("accelgit: bad Dask scheduler address 'tcp://127.0.0.1:port' "
                                                    "(invalid literal for int() with base 10: 'port'): expected "
                                                    "tcp://HOST:PORT\n"), proc.stderr
    # a configured cluster that is down: --executor local builds here all the same
    r.write("accelgit.toml", f'[executor]\nkind = "dask"\naddress = "tcp://127.0.0.1:{free_port()}"\ntimeout = 0.5\n')
    assert r.run("build").stderr.startswith("accelgit: cannot reach the Dask scheduler")
    assert [j["action"] for j in r.build("--executor", "local")["jobs"]] == ["built"] * 6


def test_without_distributed_the_dask_executor_says_how_to_install_it(tmp_path: Path):
    r = fan_repo(tmp_path)
    # a folder first on the path whose 'distributed' cannot be imported, as when it is not installed
    shadow = tmp_path / "shadow" / "distributed"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named distributed')\n")
    env = {"PYTHONPATH": f"{shadow.parent}{os.pathsep}{r.env['PYTHONPATH']}"}
    proc = r.run("build", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1", env=env)
    assert proc.returncode == 2
    assert proc.stderr == ("accelgit: --executor dask needs the 'distributed' package: "
                           "pip install 'accelgit[dask]'\n")
    assert r.run("build", "--executor", "slurm").stderr == "accelgit: --executor slurm: must be one of local, dask\n"
    assert r.job_dirs() == []


@pytest.mark.skipif(shutil.which("unshare") is None or os.geteuid() != 0, reason="needs unshare and root")
def test_a_worker_that_does_not_see_the_workdir_stops_the_build(cluster: Cluster, tmp_path: Path):
    r = fan_repo(tmp_path)
    (r.workdir / ".tmp").mkdir(parents=True)
    # this worker sees an empty folder of its own at the workdir's path (a mount namespace of its own)
    blind = cluster.add_worker("blind", prefix=("unshare", "-m", "--propagation", "private", "sh", "-c",
                                                f'mount -t tmpfs none "{r.workdir}" && exec "$0" "$@"'))
    try:
        proc = r.run("build", "--scheduler", cluster.address)
    finally:
        cluster.stop(next(p for p in cluster.procs if p.pid == blind))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"accelgit: the Dask worker {'tcp://127.0.0.1:'}"), proc.stderr
    assert str(r.workdir / ".tmp") in proc.stderr and "shared" in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert r.job_dirs() == []


@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0, reason="needs setpriv and root")
def test_a_worker_running_as_another_user_stops_the_build(cluster: Cluster):
    base = Path(tempfile.mkdtemp(prefix="accelgit-dask-uid-"))      # pytest's folders are closed to other users
    try:
        os.chmod(base, 0o755)
        r = fan_repo(base)
        (r.workdir / ".tmp").mkdir(parents=True)
        os.chmod(r.workdir / ".tmp", 0o1777)        # it could write a probe there, not into a job's 0700 folder
        local = base / "scratch"
        local.mkdir(mode=0o777)
        os.chmod(local, 0o777)
        other = cluster.add_worker("nobody", "--local-directory", str(local),
                                   prefix=("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"))
        try:
            proc = r.run("build", "--scheduler", cluster.address)
        finally:
            cluster.stop(next(p for p in cluster.procs if p.pid == other))
        assert proc.returncode == 1
        assert proc.stderr.startswith("accelgit: the Dask worker tcp://127.0.0.1:"), proc.stderr
        assert "as another user (uid 65534, this build: uid 0)" in proc.stderr, proc.stderr
        assert proc.stderr.count("\n") == 1, proc.stderr
        assert r.job_dirs() == []
    finally:
        shutil.rmtree(base, ignore_errors=True)
