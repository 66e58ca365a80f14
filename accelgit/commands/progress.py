"""The build's progress on a terminal, one line redrawn in place:

    [ 120/201  60% ] 2 running: work-1a2b3c4d5e6f, work-9f8e7d6c5b4a  ETA 0:14

The total is the number of jobs the build scripts have declared so far (an
``urd.build`` call each); while a script still runs it may declare more, and
the total shows a ``+``.  The ETA is the jobs left to build at the rate jobs
were built so far.  Silent when stderr is not a terminal.
"""
from __future__ import annotations

import shutil
import sys
import threading
import time


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds + 0.5), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    def __init__(self, stream=None, clock=time.monotonic):
        self.stream = stream or sys.stderr
        self.clock = clock
        self.counts = {"built": 0, "reused": 0, "failed": 0, "interrupted": 0}
        self.total = 0                  # jobs declared so far
        self.declaring = True           # a build script still runs
        self.running: dict[str, float] = {}
        self.first_start: float | None = None
        self.stopping = False
        self._lock = threading.Lock()
        self._last = 0.0
        self._shown = False
        self._ticker: threading.Thread | None = None
        self._over = threading.Event()

    def _tick(self) -> None:
        """Redraw a few times a second (what runs, the ETA) between events."""
        while not self._over.wait(0.25):
            with self._lock:
                if not self._over.is_set():
                    self._draw(self.clock())

    # -- what the build tells
    def event(self, kind: str, dirname: str) -> None:
        """``queued`` (declared, to build), ``reused`` (declared and done),
        ``start``, ``built``, ``failed``."""
        with self._lock:
            now = self.clock()
            if kind == "queued":
                self.total += 1
            elif kind == "start":
                self.running[dirname] = now
                if self.first_start is None:
                    self.first_start = now
                    self._ticker = threading.Thread(target=self._tick, daemon=True)
                    self._ticker.start()
            else:
                if kind == "reused":
                    self.total += 1
                self.running.pop(dirname, None)
                if kind == "failed" and self.stopping:
                    kind = "interrupted"
                self.counts[kind] += 1
            if now - self._last > 0.1 or kind in ("failed", "built") and not self.running:
                self._last = now
                self._draw(now)

    def scripts_done(self) -> None:
        with self._lock:
            self.declaring = False

    def interrupted(self) -> None:
        """Ctrl-C: jobs that end from now on were interrupted, not failed."""
        with self._lock:
            self.stopping = True

    # -- the line
    def line(self, now: float) -> str:
        c = self.counts
        done = c["built"] + c["reused"] + c["failed"] + c["interrupted"]
        total = max(self.total, done)
        pct = 100 * done // total if total else 0
        head = f"[ {done:>{len(str(total))}}/{total}{'+' if self.declaring else ''} {pct:3d}% ]"
        parts = [head]
        if c["failed"]:
            parts.append(f"{c['failed']} failed")
        if self.stopping:
            parts.append(f"interrupted: {len(self.running) + c['interrupted']} jobs stopped")
        elif self.running:
            names = sorted(self.running, key=self.running.get)
            parts.append(f"{len(names)} running: " + ", ".join(names[:2]) + (", ..." if len(names) > 2 else ""))
        built = c["built"] + c["failed"]
        left = total - done - len(self.running)
        if built and self.first_start is not None and not self.stopping and (left + len(self.running)) > 0:
            rate = built / max(now - self.first_start, 1e-6)
            parts.append(f"ETA {_clock((left + len(self.running)) / rate)}")
        return "  ".join(parts)

    def _draw(self, now: float) -> None:
        width = shutil.get_terminal_size((100, 24)).columns - 1
        self.stream.write("\r\x1b[K" + self.line(now)[:width])
        self.stream.flush()
        self._shown = True

    def show_output(self, dirname: str, text: str) -> None:
        """Job output (``build -v``), printed above the progress line."""
        with self._lock:
            out = "".join(f"[{dirname}] {ln}\n" for ln in text.splitlines())
            self.stream.write(("\r\x1b[K" if self._shown else "") + out)
            self._draw(self.clock())

    def done(self) -> None:
        """The build is over: the line goes (after Ctrl-C it stays, ended, with
        what was stopped)."""
        self._over.set()
        with self._lock:
            if self.stopping:
                self.stream.write("\r\x1b[K" + self.line(self.clock()) + "\n")
            elif self._shown:
                self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False
