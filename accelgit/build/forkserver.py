"""The fork server: one process with accelgit's job runner already imported
forks a child per job, so a job costs a fork, not an interpreter start.
Started by ``launcher.Launcher`` (the client, which explains the protocol).

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

from accelgit.build import tmpfolders
from accelgit.build.faults import pause

SCRATCH_PREFIX = "accelgit-warm-"


def serve() -> None:
    server = _Server()
    try:
        server.loop()
    finally:
        tmpfolders.remove(server.scratch, server.scratch_lock)


def _end_group(server_group: int) -> None:
    """The job is over: kill what it left running (a method's background
    child would write into the finished job).  This process leaves its
    group for the server's first, so the kill spares only it."""
    own = os.getpid()
    if server_group == own:
        return
    try:
        os.setpgid(0, server_group)
        os.killpg(own, signal.SIGKILL)
    except OSError:           # nothing left in the group (ESRCH): the usual case
        pass


def scratch_parent() -> str | None:
    """Where the warm-up's folder goes: $TMPDIR when set, else /dev/shm (memory:
    a warm-up there costs a third of one on a disk), else the system's temp folder."""
    if not os.environ.get("TMPDIR") and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK | os.X_OK):
        return "/dev/shm"
    return None


def make_scratch(warmup) -> tuple[str, int] | None:
    """The warm-up's folder with its trivial job, and the fd of its lock
    (tmpfolders.py), in ``scratch_parent()``, else in the system's temp folder
    (``/dev/shm`` full, say); None when neither can be written: jobs then run
    without warm-ups, which only makes them slower."""
    for parent in dict.fromkeys((scratch_parent(), None)):
        made = None
        try:
            made = tmpfolders.make(SCRATCH_PREFIX, parent)
            warmup.make_warm_up(made[0])
            return made
        except OSError:
            if made is not None:
                tmpfolders.remove(*made)
    return None


class _Child:
    """A forked child: a spare waiting for its job (``cold``, ``warming``,
    ``warm``), then a job (``running``, ``done`` once it said so)."""
    __slots__ = ("pid", "job_w", "status_r", "state", "tok")

    def __init__(self, pid: int, job_w: int, status_r: int, warm: bool):
        self.pid, self.job_w, self.status_r = pid, job_w, status_r
        self.state = "warming" if warm else "cold"
        self.tok: str | None = None


class _Server:
    """Single-threaded (fork-safe).  Keeps children forked ahead ("spares"), so
    a job never waits for a fork: two while a core is idle, else one.  A spare
    forked while cores are idle (fewer jobs than cores ran at each of the last
    8 starts: a chain) is told ``WARM``: it runs a trivial job
    meanwhile, because a forked child's first run copies the memory pages it
    shares with the server (reference counts are writes), which a job then no
    longer pays for (docs/benchmarks.md).  A job is given a warm spare, else a cold one, else the oldest
    one still warming up, else a fresh fork.  Each child tells the server on
    its status pipe when it is warm (``W``) and when its job is done (``D``, just
    before its DONE to the client): a job still exiting keeps no core busy."""

    def __init__(self):
        # what a job needs, imported once here rather than in every job process
        import gc
        import json  # noqa: F401
        import pickle  # noqa: F401
        import resource  # noqa: F401
        import traceback  # noqa: F401

        from accelgit.build import runner, warmup
        self.runner, self.warmup = runner, warmup
        self.group = os.getpgrp()         # a job's process leaves its own group for this one at its end
        # a job that loads an input checks the input's signature (store/signing.py):
        # the signature library and the trusted keys, read once here (your key made
        # now if this is your first build: the jobs of this build are signed by it)
        import nacl.signing  # noqa: F401

        from accelgit.store import keys
        try:
            keys.own_key()
            keys.trusted()
        except Exception:  # noqa: BLE001 - a bad trust file: each job then says so itself
            pass
        # the warm-up's job folder; removed when the server ends (after its last child)
        self.scratch, self.scratch_lock = make_scratch(warmup) or (None, None)
        if self.scratch is not None:
            # Once here, before any fork: what a job's first run in a process makes
            # lazily is then made once and shared.  Above all compile(): its first call
            # creates CPython's AST node types, which every job process made again
            # (docs/benchmarks.md has the measurement).
            warmup.warm_up(self.scratch)
        self.warm = self.scratch is not None and os.environ.get("ACCELGIT_WARMUP", "1") != "0"
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
        self.children: dict[int, _Child] = {}   # pid -> every child not yet reaped
        self.spares: list[_Child] = []          # oldest first
        import collections
        self.recent = collections.deque(maxlen=8)   # jobs running just after each of the last starts
        self.eof = False
        gc.collect()
        gc.freeze()           # children never walk (so never copy) the server's objects in a collection

    def say(self, line: str) -> None:
        try:
            os.write(1, line.encode())    # (not sys.stdout: its buffer would be one more page to copy a fork)
        except OSError:       # the client died: keep reaping quietly
            pass

    def spawn(self, warm: bool) -> _Child:
        job_r, job_w = os.pipe()
        status_r, status_w = os.pipe()
        # a child holds no other child's pipes: each sees its pipe close when the server does
        others = [fd for c in self.children.values() for fd in (c.job_w, c.status_r) if fd is not None]
        pid = os.fork()
        if pid == 0:
            self._child(job_r, status_w, [job_w, status_r] + others)
        os.close(job_r)
        os.close(status_w)
        try:
            os.setpgid(pid, pid)      # also here, so a kill right after the fork reaches it
        except OSError:
            pass
        if warm:
            os.write(job_w, b"WARM\n")
        self.sel.register(status_r, selectors.EVENT_READ, pid)
        child = self.children[pid] = _Child(pid, job_w, status_r, warm)
        return child

    def _child(self, job_r: int, status_w: int, server_fds: list) -> None:
        code = 3
        try:
            server_group = self.group
            os.setpgid(0, 0)
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            self.sel.close()
            lock = [self.scratch_lock] if self.scratch_lock is not None else []    # the server's to hold
            for fd in [self.sig_r, self.sig_w] + lock + server_fds:
                os.close(fd)
            fd = os.open(os.devnull, os.O_RDWR)
            done = os.dup(1)              # the protocol pipe: for this job's DONE line only
            os.dup2(fd, 0)                # not the server's stdin
            os.dup2(fd, 1)                # never write into the protocol pipe otherwise
            os.close(fd)
            with os.fdopen(job_r, "rb") as f:
                line = f.readline()
                if line == b"WARM\n":
                    pause("ACCELGIT_TEST_PAUSE_WARM_UP")       # tests: a spare still warming up
                    self.warmup.warm_up(self.scratch)
                    os.write(status_w, b"W")
                    line = f.readline()
            if not line.endswith(b"\n"):  # no job came (the build ended): nothing to do
                code = 0
            else:
                tok, payload = line[:-1].decode("utf-8").split(" ", 1)
                job = json.loads(payload)
                code = self.runner.child_main(job["dir"], job["run"])
                _end_group(server_group)
                # Said before exiting: the job's files are complete and closed, and the
                # build goes on while the kernel tears this process down.
                os.write(status_w, b"D")
                os.write(done, f"DONE {tok} {code}\n".encode())
        finally:
            os._exit(code)

    def _status(self, pid: int) -> None:
        c = self.children.get(pid)
        if c is None or c.status_r is None:
            return
        try:
            data = os.read(c.status_r, 64)
        except OSError:
            data = b""
        if not data:                              # exited (or exiting): the reap says how
            self._close_status(c)
        if b"W" in data and c.state == "warming":
            c.state = "warm"
        if b"D" in data:
            c.state = "done"

    def _close_status(self, c: _Child) -> None:
        if c.status_r is not None:
            self.sel.unregister(c.status_r)
            os.close(c.status_r)
            c.status_r = None

    def _close_job_pipe(self, c: _Child) -> None:
        if c.job_w is not None:
            os.close(c.job_w)                     # a spare child sees EOF and exits
            c.job_w = None

    def run(self, tok: str, payload: str) -> None:
        # warm, else cold, else the oldest still warming (it started a cycle ago or more:
        # the rest of its warm-up costs less than a fork and a cold start), else a fork
        c = next((x for x in self.spares if x.state == "warm"), None) or \
            next((x for x in self.spares if x.state == "cold"), None) or \
            (self.spares[0] if self.spares else None)
        if c is not None:
            self.spares.remove(c)
        else:
            c = self.spawn(warm=False)
        try:
            os.write(c.job_w, f"{tok} {payload}\n".encode("utf-8"))
        except OSError:       # the spare died: the reap reports it
            pass
        self._close_job_pipe(c)
        c.state, c.tok = "running", tok
        self.recent.append(self.running())
        self.say(f"START {tok} {c.pid}\n")

    def running(self) -> int:
        return sum(1 for c in self.children.values() if c.state == "running")

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            c = self.children.pop(pid, None)
            if c is None:
                continue
            if c in self.spares:                  # died waiting (killed): forget it
                self.spares.remove(c)
            self._close_job_pipe(c)
            self._close_status(c)
            if c.tok is not None:     # after the child's own DONE, or instead of it when it was killed
                self.say(f"EXIT {c.tok} {os.waitstatus_to_exitcode(status)}\n")

    def jobs(self) -> list[_Child]:
        return [c for c in self.children.values() if c.tok is not None]

    def client_gone(self) -> None:
        self.eof = True
        self.sel.unregister(self.stdin)
        for c in self.spares:     # a spare may be warming up in the scratch folder: stop it
            self._close_job_pipe(c)
            try:
                os.killpg(c.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.spares.clear()
        for c in self.jobs():     # the client is gone (killed, interrupted): so are its jobs
            try:
                os.killpg(c.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def loop(self) -> None:
        buf = b""
        self.spares.append(self.spawn(warm=self.warm))
        if self.scratch is not None:
            tmpfolders.sweep(os.path.dirname(self.scratch), (SCRATCH_PREFIX,), self.scratch)  # while a spare warms up
        while not (self.eof and not self.children):     # every child reaped: none uses the scratch
            # the children's status before the client's lines: a chain's next RUN comes after
            # its input's D (the job said D before DONE), and must not count that job as running
            for key, _ in sorted(self.sel.select(timeout=1.0), key=lambda e: e[0].data == "in"):
                if key.data == "sig":
                    try:
                        os.read(self.sig_r, 4096)
                    except BlockingIOError:
                        pass
                elif key.data != "in":
                    self._status(key.data)
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
            # Warm up only while jobs have been leaving cores idle (a chain): where as many
            # jobs run as there are cores (a fan), a warm-up takes a core from a job.
            idle = self.running() < self.cpus and max(self.recent, default=0) < self.cpus
            while not self.eof and len(self.spares) < (2 if idle else 1):
                self.spares.append(self.spawn(warm=idle and self.warm))
