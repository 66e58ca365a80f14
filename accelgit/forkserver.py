"""A warm job launcher: one process with accelgit's runner already imported
forks a fresh child per job, so a job costs a fork, not an interpreter start.

Protocol (lines on stdin/stdout):  ``RUN <token> <jobdir>`` →
``START <token> <pid>`` then ``DONE <token> <exit code>``.  The server is
single-threaded (fork-safe); children exits arrive through SIGCHLD and
``signal.set_wakeup_fd``.  Each job runs in its own process group so that it
and its slice processes can be killed together.

``Launcher`` is the client used by the build; with ACCELGIT_FORKSERVER=0 it
starts ``python -m accelgit.runner JOBDIR`` per job instead.
"""
from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import threading


def serve() -> None:
    from . import runner  # noqa: F401 - pre-import everything a job needs
    import json, pickle, inspect, importlib.util, traceback, resource  # noqa: F401,E401
    rfd, wfd = os.pipe()
    os.set_blocking(wfd, False)
    os.set_blocking(rfd, False)
    signal.set_wakeup_fd(wfd)
    signal.signal(signal.SIGCHLD, lambda *a: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # the client decides what to kill
    sel = selectors.DefaultSelector()
    stdin = sys.stdin.buffer
    os.set_blocking(stdin.fileno(), False)
    sel.register(stdin.fileno(), selectors.EVENT_READ, "in")
    sel.register(rfd, selectors.EVENT_READ, "sig")
    out = sys.stdout
    tokens: dict[int, str] = {}
    buf = b""
    eof = False

    def say(line: str) -> None:
        try:
            out.write(line)
            out.flush()
        except OSError:       # the client died: keep reaping quietly
            pass

    def reap():
        while tokens:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            tok = tokens.pop(pid, None)
            if tok is not None:
                say(f"DONE {tok} {os.waitstatus_to_exitcode(status)}\n")

    while not (eof and not tokens):
        for key, _ in sel.select(timeout=1.0):
            if key.data == "sig":
                try:
                    os.read(rfd, 4096)
                except BlockingIOError:
                    pass
                continue
            try:
                chunk = os.read(stdin.fileno(), 65536)
            except BlockingIOError:
                continue
            if not chunk:
                eof = True
                sel.unregister(stdin.fileno())
                for pid in tokens:    # the client is gone (killed, interrupted): so are its jobs
                    try:
                        os.killpg(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                continue
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                cmd, tok, jobdir = line.decode("utf-8", "surrogateescape").split(" ", 2)
                if cmd != "RUN":
                    continue
                pid = os.fork()
                if pid == 0:
                    code = 3
                    try:
                        os.setpgid(0, 0)
                        signal.set_wakeup_fd(-1)
                        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                        signal.signal(signal.SIGINT, signal.SIG_DFL)
                        sel.close()
                        os.close(rfd)
                        os.close(wfd)
                        fd = os.open(os.devnull, os.O_WRONLY)
                        os.dup2(fd, 1)        # never write into the protocol pipe
                        os.close(fd)
                        code = runner.child_main(jobdir)
                    finally:
                        os._exit(code)
                try:
                    os.setpgid(pid, pid)      # also here, so a kill right after the fork reaches it
                except OSError:
                    pass
                tokens[pid] = tok
                say(f"START {tok} {pid}\n")
        reap()


class Launcher:
    """Runs job directories to completion; thread-safe; ``run`` blocks."""

    def __init__(self, env: dict | None = None):
        self.env = dict(os.environ if env is None else env)
        pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.env["PYTHONPATH"] = pkg_parent + (os.pathsep + self.env["PYTHONPATH"] if self.env.get("PYTHONPATH") else "")
        self.use_server = self.env.get("ACCELGIT_FORKSERVER", "1") != "0" and hasattr(os, "fork")
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._waiting: dict[str, list] = {}     # token -> [event, pid, code]
        self._pids: set[int] = set()
        self._next = 0

    def _start(self) -> None:
        self._proc = subprocess.Popen([sys.executable, "-c", "from accelgit.forkserver import serve; serve()"],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=self.env,
                                      start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self._proc.stdout:
            kind, tok, val = line.decode().split()
            with self._lock:
                slot = self._waiting.get(tok)
                if slot is None:
                    continue
                if kind == "START":
                    slot[1] = int(val)
                    self._pids.add(int(val))
                else:
                    slot[2] = int(val)
                    self._pids.discard(slot[1])
                    slot[0].set()
        with self._lock:        # server gone: fail whatever still waits
            for slot in self._waiting.values():
                if slot[2] is None:
                    slot[2] = 3
                    slot[0].set()

    def run(self, jobdir: str, tick=None) -> int:
        """Run one job to its end; ``tick()`` is called about 5 times a second meanwhile."""
        if not self.use_server:
            proc = subprocess.Popen([sys.executable, "-m", "accelgit.runner", jobdir], env=self.env, cwd=jobdir,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
            with self._lock:
                self._pids.add(proc.pid)
            while True:
                try:
                    code = proc.wait(timeout=0.2 if tick else None)
                    break
                except subprocess.TimeoutExpired:
                    tick()
            with self._lock:
                self._pids.discard(proc.pid)
            return code
        ev = threading.Event()
        with self._lock:
            if self._proc is None:
                self._start()
            self._next += 1
            tok = str(self._next)
            self._waiting[tok] = [ev, None, None]
            self._proc.stdin.write(f"RUN {tok} {jobdir}\n".encode("utf-8", "surrogateescape"))
            self._proc.stdin.flush()
        while not ev.wait(0.2 if tick else None):
            tick()
        with self._lock:
            return self._waiting.pop(tok)[2]

    def kill_all(self) -> None:
        """Kill every running job with its process group (Ctrl-C, errors)."""
        with self._lock:
            pids = list(self._pids)
        for pid in pids:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

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
