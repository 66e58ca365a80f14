"""The client of the fork server (forkserver.py): one process with accelgit's
job runner already imported forks a child per job, so a job costs a fork, not
an interpreter start.

Protocol (lines on the server's stdin/stdout):  ``RUN <token> <json>`` (the job
folder and what ``runner.run_job`` would else read from its ``.run.json``) →
``START <token> <pid>``, ``DONE <token> <exit code>`` (written by the job
process itself as its last act, so the build goes on while the kernel tears
the process down), and ``EXIT <token> <exit code>`` when the server reaps it
(the result for a job killed before its DONE).  Each job runs in its own
process group so that it and its slice processes can be killed together.

``Launcher`` is the client used by the build; with ACCELGIT_FORKSERVER=0 it
starts ``python -m accelgit.build.runner JOBDIR`` per job instead.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from accelgit.core.errors import EXIT_FAILED, AccelgitError


class WorkerLost(AccelgitError):
    """Raised by a launcher's ``run`` when the machine running the job died
    before the job's end: its folder may be half written, so the job runs
    again in a fresh folder (prepare.run_prepared)."""
    exit_code = EXIT_FAILED


class Launcher:
    """Runs job directories to completion; thread-safe; ``run`` blocks."""

    kind = "local"          # job.json's ``executor``

    def __init__(self, env: dict | None = None):
        self.env = dict(os.environ if env is None else env)
        import accelgit
        pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(accelgit.__file__)))     # the folder above accelgit/
        self.env["PYTHONPATH"] = pkg_parent + (os.pathsep + self.env["PYTHONPATH"] if self.env.get("PYTHONPATH") else "")
        self.use_server = self.env.get("ACCELGIT_FORKSERVER", "1") != "0" and hasattr(os, "fork")
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._waiting: dict[str, list] = {}     # token -> [event, exit code]
        self._pids: dict[str, int] = {}          # token -> pid of each job process not yet reaped
        self._tokens: dict[str, str] = {}        # job folder -> token, while it runs
        self._next = 0
        self.started = False                     # the fork server was started (by start or run)

    def start(self) -> None:
        """Start the fork server now, so that it boots (an interpreter, its imports,
        its warm-up) while the build goes on; a no-op once started."""
        if self.use_server:
            with self._lock:
                if self._proc is None:
                    self._start()

    def _start(self) -> None:
        self.started = True
        self._proc = subprocess.Popen([sys.executable, "-c", "from accelgit.build.forkserver import serve; serve()"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self.env,
                                      start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._proc.stdout:
            kind, tok, val = line.decode().split()
            with self._lock:
                if kind == "START":
                    self._pids[tok] = int(val)
                elif kind == "EXIT":          # reaped: its pid may be reused from now on
                    self._pids.pop(tok, None)
                slot = self._waiting.get(tok)
                if slot is None or kind == "START" or slot[1] is not None:
                    continue
                slot[1] = int(val)            # the first of DONE (said by the job) and EXIT
                slot[0].set()
        with self._lock:        # server gone: fail whatever still waits
            for slot in self._waiting.values():
                if slot[1] is None:
                    slot[1] = 3
                    slot[0].set()

    def check_workdir(self, path: str) -> None:
        """Jobs of the workdir at ``path`` can run: here, nothing to check."""

    def slots(self) -> int | None:
        """Jobs that can run at once when -j is not given: None (the number of cores)."""
        return None

    def run(self, jobdir: str, tick=None, run: dict | None = None, resources: dict | None = None) -> int:
        """Run one job to its end; ``tick()`` is called about 5 times a second meanwhile.
        ``run``: what the job process needs besides job.json (see ``runner.run_job``);
        None when the job folder has it in ``.run.json``.  ``resources``: what the
        method declares for a cluster's workers; nothing to this machine."""
        if not self.use_server:
            return self._run_exec(jobdir, tick, run)
        import json
        payload = json.dumps({"dir": jobdir, "run": run}, ensure_ascii=True)      # one line, any path
        ev = threading.Event()
        with self._lock:
            if self._proc is None:
                self._start()
            self._next += 1
            tok = str(self._next)
            self._waiting[tok] = [ev, None]
            self._tokens[jobdir] = tok
            self._proc.stdin.write(f"RUN {tok} {payload}\n".encode("ascii"))
            self._proc.stdin.flush()
        while not ev.wait(0.2 if tick else None):
            tick()
        with self._lock:
            self._tokens.pop(jobdir, None)
            return self._waiting.pop(tok)[1]

    def _run_exec(self, jobdir: str, tick, run: dict | None) -> int:
        """ACCELGIT_FORKSERVER=0: a fresh interpreter for the job."""
        run_file = None
        if run is not None:
            import json

            from accelgit.store.layout import RUN_FILE
            run_file = os.path.join(jobdir, RUN_FILE)
            with open(run_file, "w", encoding="utf-8") as f:
                json.dump(run, f)
        try:
            proc = subprocess.Popen([sys.executable, "-m", "accelgit.build.runner", jobdir], env=self.env, cwd=jobdir,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            with self._lock:
                self._pids[str(proc.pid)] = proc.pid
                self._tokens[jobdir] = str(proc.pid)
            # Wait for the exit without reaping: until the reap, the job's pid (its
            # group's id) cannot go to another process, so the kill below hits
            # only what the job left running (a background child would write
            # into the finished job).
            while True:
                try:
                    if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | (os.WNOHANG if tick else 0)):
                        break
                except ChildProcessError:
                    break
                tick()
                time.sleep(0.05)
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            code = proc.wait()
            with self._lock:
                self._pids.pop(str(proc.pid), None)
                self._tokens.pop(jobdir, None)
            return code
        finally:
            if run_file is not None:
                try:
                    os.remove(run_file)
                except OSError:
                    pass

    def placement(self, jobdir: str) -> dict | None:
        """What job.json records of where the job in ``jobdir`` ran, when it is
        not this machine's (``executor`` and ``host`` are written when it is prepared)."""
        return None

    def kill_all(self) -> None:
        """Kill every running job with its process group (Ctrl-C, errors)."""
        with self._lock:
            pids = list(self._pids.values())
        _kill_groups(pids)

    def kill(self, jobdirs) -> int:
        """Kill the running jobs of these folders with their process groups; how many."""
        with self._lock:
            pids = [self._pids[t] for t in (self._tokens.get(d) for d in jobdirs) if t in self._pids]
        return _kill_groups(pids)

    def close(self) -> None:
        if self._proc is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            self._proc = None


def _kill_groups(pids) -> int:
    killed = 0
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
            killed += 1
        except (ProcessLookupError, PermissionError):
            pass
    return killed
