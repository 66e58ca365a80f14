"""The fork server: one process with accelgit's job runner already imported
forks a child per job, so a job costs a fork, not an interpreter start.
Started by ``forkserver.Launcher`` (the client, which explains the protocol).

This module imports neither ``threading`` nor ``subprocess``: with threading
imported, every fork runs its at-fork handler in the child, copying memory
pages a job would not otherwise touch.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import sys


def serve() -> None:
    _Server().loop()


class _Spare:
    """A child forked ahead of its job, waiting on its own pipe for it."""
    __slots__ = ("pid", "job_w", "ready_r", "state")

    def __init__(self, pid: int, job_w: int, ready_r: int | None):
        self.pid, self.job_w, self.ready_r = pid, job_w, ready_r
        self.state = "warming" if ready_r is not None else "cold"


class _Server:
    """Single-threaded (fork-safe).  Keeps children forked ahead ("spares"), so
    a job never waits for a fork: two while a core is idle, else one.  A spare
    forked while a core is idle is told ``WARM``: it runs a trivial job
    meanwhile, because a forked child's first run copies ~500 memory pages it
    shares with the server (reference counts are writes), ~1.5 ms a job then no
    longer pays.  A job is given a warm spare, else one not warming, else a
    fresh fork: it never waits for a warm-up."""

    def __init__(self):
        from . import runner
        import gc, json, pickle, traceback, resource  # noqa: F401,E401 - what a job needs
        import atexit, shutil, tempfile  # noqa: E401
        self.runner = runner
        self.scratch = tempfile.mkdtemp(prefix="accelgit-warm-")
        atexit.register(shutil.rmtree, self.scratch, True)
        runner.make_warm_up(self.scratch)
        self.warm = os.environ.get("ACCELGIT_WARMUP", "1") != "0"
        self.cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        self.sig_r, self.sig_w = os.pipe()
        os.set_blocking(self.sig_w, False)
        os.set_blocking(self.sig_r, False)
        signal.set_wakeup_fd(self.sig_w)
        signal.signal(signal.SIGCHLD, lambda *a: None)
        signal.signal(signal.SIGINT, signal.SIG_IGN)     # the client decides what to kill
        self.sel = selectors.DefaultSelector()
        self.stdin = sys.stdin.buffer.fileno()
        os.set_blocking(self.stdin, False)
        self.sel.register(self.stdin, selectors.EVENT_READ, "in")
        self.sel.register(self.sig_r, selectors.EVENT_READ, "sig")
        self.tokens: dict[int, str] = {}        # pid -> token of each running job
        self.spares: list[_Spare] = []
        self.eof = False
        gc.collect()
        gc.freeze()           # children never walk (so never copy) the server's objects in a collection

    def say(self, line: str) -> None:
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except OSError:       # the client died: keep reaping quietly
            pass

    def spawn(self, warm: bool) -> _Spare:
        job_r, job_w = os.pipe()
        ready_r, ready_w = os.pipe() if warm else (None, None)
        pid = os.fork()
        if pid == 0:
            self._child(job_r, ready_w, [job_w, ready_r] + [fd for sp in self.spares for fd in (sp.job_w, sp.ready_r)])
        os.close(job_r)
        try:
            os.setpgid(pid, pid)      # also here, so a kill right after the fork reaches it
        except OSError:
            pass
        if warm:
            os.close(ready_w)
            os.write(job_w, b"WARM\n")
            self.sel.register(ready_r, selectors.EVENT_READ, pid)
        return _Spare(pid, job_w, ready_r)

    def _child(self, job_r: int, ready_w: int | None, server_fds: list) -> None:
        code = 3
        try:
            os.setpgid(0, 0)
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            self.sel.close()
            for fd in [self.sig_r, self.sig_w] + server_fds:
                if fd is not None:
                    os.close(fd)
            fd = os.open(os.devnull, os.O_RDWR)
            done = os.dup(1)              # the protocol pipe: for this job's DONE line only
            os.dup2(fd, 0)                # not the server's stdin
            os.dup2(fd, 1)                # never write into the protocol pipe otherwise
            os.close(fd)
            with os.fdopen(job_r, "rb") as f:
                line = f.readline()
                if line == b"WARM\n":
                    self.runner.warm_up(self.scratch)
                    os.write(ready_w, b"W")
                    os.close(ready_w)
                    line = f.readline()
            if not line.endswith(b"\n"):  # no job came (the build ended): nothing to do
                code = 0
            else:
                tok, payload = line[:-1].decode("utf-8").split(" ", 1)
                job = json.loads(payload)
                code = self.runner.child_main(job["dir"], job["run"])
                # Said before exiting: the job's files are complete and closed, and the
                # build goes on while the kernel tears this process down.
                os.write(done, f"DONE {tok} {code}\n".encode())
        finally:
            os._exit(code)

    def _forget(self, sp: _Spare) -> None:
        self.spares.remove(sp)
        if sp.ready_r is not None:
            self.sel.unregister(sp.ready_r)
            os.close(sp.ready_r)
            sp.ready_r = None

    def run(self, tok: str, payload: str) -> None:
        sp = next((x for x in self.spares if x.state == "warm"), None) or \
            next((x for x in self.spares if x.state == "cold"), None)
        if sp is not None:
            self._forget(sp)
        else:
            sp = self.spawn(warm=False)
        try:
            os.write(sp.job_w, f"{tok} {payload}\n".encode("utf-8"))
        except OSError:       # the spare died: the reap reports it
            pass
        os.close(sp.job_w)
        self.tokens[sp.pid] = tok
        self.say(f"START {tok} {sp.pid}\n")

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for sp in self.spares:
                if sp.pid == pid:                 # died waiting (killed): forget it
                    self._forget(sp)
                    os.close(sp.job_w)
                    break
            tok = self.tokens.pop(pid, None)
            if tok is not None:       # after the child's own DONE, or instead of it when it was killed
                self.say(f"EXIT {tok} {os.waitstatus_to_exitcode(status)}\n")

    def client_gone(self) -> None:
        self.eof = True
        self.sel.unregister(self.stdin)
        for sp in list(self.spares):
            self._forget(sp)
            os.close(sp.job_w)                    # a spare child sees EOF and exits
        for pid in self.tokens:   # the client is gone (killed, interrupted): so are its jobs
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def loop(self) -> None:
        buf = b""
        self.spares.append(self.spawn(warm=self.warm))
        while not (self.eof and not self.tokens):
            for key, _ in self.sel.select(timeout=1.0):
                if key.data == "sig":
                    try:
                        os.read(self.sig_r, 4096)
                    except BlockingIOError:
                        pass
                elif key.data != "in":            # a spare is warm (or died warming)
                    sp = next((x for x in self.spares if x.pid == key.data), None)
                    if sp is not None:
                        sp.state = "warm"
                        self.sel.unregister(sp.ready_r)
                        os.close(sp.ready_r)
                        sp.ready_r = None
                else:
                    try:
                        chunk = os.read(self.stdin, 65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        self.client_gone()
                        continue
                    buf += chunk
                    while b"\n" in buf:
                        line, buf = buf.split(b"\n", 1)
                        cmd, tok, payload = line.decode("utf-8").split(" ", 2)
                        if cmd == "RUN":
                            self.run(tok, payload)
            self.reap()
            idle = len(self.tokens) < self.cpus
            while not self.eof and len(self.spares) < (2 if idle else 1):
                self.spares.append(self.spawn(warm=idle and self.warm))
