"""``accelerator.status``: the Accelerator's status messages (what ``^T``
shows); accelgit keeps no status tree, so a no-op context manager."""
from __future__ import annotations

import contextlib


@contextlib.contextmanager
def status(msg):
    yield lambda *a, **kw: None         # the Accelerator yields an update function


dummy_status = status
