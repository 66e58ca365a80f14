"""The Dask executor against the local fork server (docs/benchmarks.md,
"Dask executor").  Starts its own ``dask scheduler`` and ``dask worker``
processes on 127.0.0.1 (one thread each, no nanny) and stops them by pid.

    python benchmarks/bench_dask.py [N_TRIVIAL] [N_CPU] [CPU_SECONDS]

1. Dispatch: N_TRIVIAL (default 200) trivial jobs, one at a time (-j 1),
   locally and through one Dask worker (one thread), and through that worker
   with -j 4 (tasks queue on the worker: the round trips overlap).  A job's
   cost is (build - the same build with every job reused) / N: the process
   start, the scripts and the connection to the scheduler are paid once and
   left out.  The floor: one bare Dask task's round trip.
2. Scale-out: a fan of N_CPU (default 16) jobs of CPU_SECONDS (default 1) of
   CPU each: local -j 1 and -j 2, and Dask with two workers at -j 1 (one task
   in flight: one worker busy) and -j 2 (both), in interleaved rounds so that
   every configuration sees the same load of a shared machine.  Speed-up is
   against local -j 1; efficiency is the speed-up per busy worker (or per -j).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPEAT = 3


def sh(args, cwd, env):
    p = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{p.stdout}\n{p.stderr}")
    return p


def make_repo(base: str, env: dict, n_trivial: int, n_cpu: int, secs: float) -> str:
    repo = os.path.join(base, "repo")
    os.makedirs(os.path.join(repo, "methods"))
    files = {
        "methods/trivial.py": "options = {'i': 0}\n\ndef synthesis(options):\n    return options.i\n",
        "methods/burn.py": ("import time\noptions = {'i': 0, 'secs': 1.0}\n\n\ndef synthesis(options):\n"
                            "    t = time.process_time()\n    n = 0\n"
                            "    while time.process_time() - t < options.secs:\n        n += 1\n    return n\n"),
        "build_trivial.py": f"def main(urd):\n    for i in range({n_trivial}):\n        urd.build('trivial', i=i)\n",
        "build_cpu.py": f"def main(urd):\n    for i in range({n_cpu}):\n        urd.build('burn', i=i, secs={secs})\n",
        ".gitignore": ".accelgit/\n",
    }
    for rel, text in files.items():
        with open(os.path.join(repo, rel), "w") as f:
            f.write(text)
    sh(["git", "init", "-q", "-b", "main"], repo, env)
    sh(["git", "add", "-A"], repo, env)
    sh(["git", "commit", "-qm", "init"], repo, env)
    return repo


def build(repo: str, env: dict, script: str, *args: str) -> tuple[float, list]:
    t = time.perf_counter()
    p = sh([sys.executable, "-m", "accelgit", "build", script, "--json", *args], repo, env)
    return time.perf_counter() - t, json.loads(p.stdout)["jobs"]


def fresh(repo: str) -> None:
    shutil.rmtree(os.path.join(repo, ".accelgit"), ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_workers(address: str, n: int) -> None:
    import distributed
    with distributed.Client(address, timeout=30) as c:
        c.wait_for_workers(n, timeout=60)


def round_trip(address: str, n: int = 100) -> float:
    """Seconds from submitting a task that adds two numbers to having its result."""
    import operator

    import distributed
    with distributed.Client(address, timeout=30) as c:
        for i in range(10):
            c.submit(operator.add, 1, i, pure=False).result()
        t = time.perf_counter()
        for i in range(n):
            c.submit(operator.add, 1, i, pure=False).result()
        return (time.perf_counter() - t) / n


def main():
    n_trivial = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    n_cpu = int(sys.argv[2]) if len(sys.argv) > 2 else 16
    secs = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
    base = tempfile.mkdtemp(prefix="accelgit-bench-dask-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x",
               GIT_CONFIG_NOSYSTEM="1", HOME=base, PYTHONPATH=ROOT)
    repo = make_repo(base, env, n_trivial, n_cpu, secs)
    address = f"tcp://127.0.0.1:{free_port()}"
    procs = []

    def spawn(args, name):
        with open(os.path.join(base, f"{name}.log"), "ab") as log:
            procs.append(subprocess.Popen([sys.executable, "-m", *args], cwd=base, env=env, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))

    def worker(name):
        spawn(["distributed.cli.dask_worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
               "--host", "127.0.0.1", "--name", name, "--local-directory", os.path.join(base, name)], name)

    try:
        spawn(["distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
               "--no-dashboard"], "scheduler")
        worker("w1")
        wait_workers(address, 1)
        dask = ("--scheduler", address)

        print(f"1. dispatch: {n_trivial} trivial jobs (best of {REPEAT})")
        print(f"   {'a bare Dask task':27} {round_trip(address) * 1000:6.1f} ms  (submit to result, one at a time: "
              f"the floor)")
        for label, extra in (("local fork server, -j 1", ("-j", "1")), ("Dask, 1 worker, -j 1", ("-j", "1", *dask)),
                             ("Dask, 1 worker, -j 4", ("-j", "4", *dask))):
            build(repo, env, "build_trivial.py", *extra)        # warm: caches, the worker's fork server
            per_job = []
            for _ in range(REPEAT):
                fresh(repo)
                built, jobs = build(repo, env, "build_trivial.py", *extra)
                reused, again = build(repo, env, "build_trivial.py", *extra)
                assert all(j["action"] == "built" for j in jobs) and all(j["action"] == "reused" for j in again)
                per_job.append((built - reused) / n_trivial)
            print(f"   {label:27} {min(per_job) * 1000:6.1f} ms/job  (runs: "
                  f"{', '.join(f'{x * 1000:.1f}' for x in per_job)})")
        fresh(repo)

        print(f"2. scale-out: {n_cpu} jobs x {secs:g} s of CPU (median of {REPEAT} rounds, interleaved)")
        worker("w2")
        wait_workers(address, 2)
        configs = (("local -j 1", 1, ()), ("local -j 2", 2, ()), ("Dask, 1 worker busy (-j 1)", 1, dask),
                   ("Dask, 2 workers (-j 2)", 2, dask))
        walls: dict[str, list] = {label: [] for label, _, _ in configs}
        for _ in range(REPEAT):       # each round runs every configuration: all of them see the same load
            for label, n, extra in configs:
                fresh(repo)
                wall, jobs = build(repo, env, "build_cpu.py", "-j", str(n), *extra)
                assert all(j["action"] == "built" for j in jobs)
                walls[label].append(wall)
        serial = statistics.median(walls["local -j 1"])
        print(f"   {'':27} {'wall s':>7} {'speed-up':>9} {'efficiency':>11}  runs")
        for label, n, _ in configs:
            wall = statistics.median(walls[label])
            print(f"   {label:27} {wall:7.2f} {serial / wall:9.2f} {serial / wall / n:11.2f}  "
                  f"{', '.join(f'{w:.1f}' for w in walls[label])}")
    finally:
        for p in reversed(procs):
            try:
                os.kill(p.pid, signal.SIGTERM)
                p.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                p.kill()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
