"""Feeding a file into a hash without holding it in memory, and without the
cost of ``f.read(1 << 20)`` on a small file (which allocates, and faults in,
1 MB for every read: most of the time of hashing a job's small files)."""
from __future__ import annotations

CHUNK = 1 << 20


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
