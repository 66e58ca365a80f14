"""Makes ``import accelerator`` (and its submodules) resolve to accelgit's
compatibility layer in this process: called before a build script or a
method runs.  A submodule accelgit does not provide raises the one error."""
from __future__ import annotations

import importlib.abc
import sys

# accelerator.<name> -> module of this package
_MODULES = ("job", "extras", "subjobs", "colourwrapper", "statmsg", "blob")


class _Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith("accelerator."):
            from accelgit.api.compat.errors import unsupported
            raise unsupported(fullname[len("accelerator."):])
        return None


_REFUSE = _Refuse()


def install() -> None:
    """``accelerator`` is accelgit.api.compat from now on in this process."""
    if sys.modules.get("accelerator") is not None and getattr(sys.modules["accelerator"], "__name__", "") \
            == "accelgit.api.compat":
        return
    import importlib
    compat = importlib.import_module("accelgit.api.compat")
    for name in list(sys.modules):
        if name == "accelerator" or name.startswith("accelerator."):
            del sys.modules[name]            # the real package, if something imported it: not in here
    sys.modules["accelerator"] = compat
    for name in _MODULES:
        sys.modules[f"accelerator.{name}"] = importlib.import_module(f"accelgit.api.compat.{name}")
    sys.modules["accelerator.colour"] = compat.colour       # the Accelerator's "from accelerator.colour import bold"
    if _REFUSE not in sys.meta_path:
        sys.meta_path.insert(0, _REFUSE)
