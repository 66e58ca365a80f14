"""``accelerator.subjobs``: a running job building jobs."""
from __future__ import annotations

from accelgit.api.compat.errors import NotSupported

__all__ = ["build"]


def build(method, options=None, datasets=None, jobs=None, name=None, caption=None, **kw):
    raise NotSupported("accelgit does not run subjobs yet (accelerator.subjobs.build)", name="accelerator.subjobs")
