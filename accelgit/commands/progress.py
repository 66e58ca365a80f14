"""A one-line progress display for terminals; silent otherwise."""
from __future__ import annotations

import sys
import threading
import time


class Progress:
    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.counts = {"built": 0, "reused": 0, "failed": 0}
        self.running: dict[str, float] = {}
        self._lock = threading.Lock()
        self._last = 0.0
        self._shown = False

    def event(self, kind: str, dirname: str) -> None:
        with self._lock:
            if kind == "start":
                self.running[dirname] = time.time()
            else:
                self.running.pop(dirname, None)
                self.counts[kind] = self.counts.get(kind, 0) + 1
            now = time.time()
            if now - self._last > 0.1 or kind == "failed":
                self._last = now
                self._draw()

    def _draw(self) -> None:
        c = self.counts
        running = ", ".join(list(self.running)[:3]) + (" ..." if len(self.running) > 3 else "")
        line = f"[{c['built']} built, {c['reused']} reused" + (f", {c['failed']} failed" if c["failed"] else "") + "]"
        if running:
            line += f" building {running}"
        self.stream.write("\r\x1b[K" + line[:200])
        self.stream.flush()
        self._shown = True

    def show_output(self, dirname: str, text: str) -> None:
        """Job output, printed above the progress line."""
        with self._lock:
            lines = text.splitlines()
            out = "".join(f"[{dirname}] {ln}\n" for ln in lines)
            self.stream.write(("\r\x1b[K" if self._shown else "") + out)
            self._draw()

    def done(self) -> None:
        with self._lock:
            if self._shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._shown = False
