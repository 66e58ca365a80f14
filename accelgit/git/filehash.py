"""Feeding a file into a hash without holding it in memory, and without the
cost of ``f.read(1 << 20)`` on a small file (which allocates, and faults in,
1 MB for every read: most of the time of hashing a job's small files)."""
from __future__ import annotations

import re

CHUNK = 1 << 20
_CR = re.compile(b"\r")           # searches a memoryview in place


def feed(f, h, size: int) -> int:
    """Feed what is left of the unbuffered binary file ``f`` into hash ``h``;
    returns the number of bytes.  ``size`` (the file's size from a stat) picks
    the way: below CHUNK one read of that size, else pieces through one buffer."""
    n = 0
    if size < CHUNK:
        data = f.read(size + 1)          # +1: a file that grew is read on below
        h.update(data)
        n = len(data)
        if n <= size:
            return n
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while True:
        k = f.readinto(buf)
        if not k:
            return n
        h.update(view[:k])
        n += k


class CRSeen:
    """A hash that also notes whether a CR byte went through it (the bytes
    git's line-end conversion would touch)."""
    __slots__ = ("h", "cr")

    def __init__(self, h):
        self.h, self.cr = h, False

    def update(self, data) -> None:
        self.h.update(data)
        if not self.cr:
            self.cr = _CR.search(data) is not None

    def hexdigest(self) -> str:
        return self.h.hexdigest()
