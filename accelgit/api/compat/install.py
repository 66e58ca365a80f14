"""Makes ``import accelerator`` (and its submodules) resolve to accelgit's
compatibility layer in this process: called before a build script or a
method runs.  Cheap: a finder is added, and the layer is imported only when
code imports ``accelerator``.  A submodule accelgit does not provide raises
the one error (errors.py)."""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

# accelerator.<name> -> this package's module of that name
_MODULES = ("job", "extras", "subjobs", "colourwrapper", "statmsg", "blob")


class _Accelerator(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != "accelerator" and not fullname.startswith("accelerator."):
            return None
        tail = fullname[len("accelerator."):]
        if fullname != "accelerator" and tail not in _MODULES and tail != "colour":
            from accelgit.api.compat.errors import unsupported
            raise unsupported(tail)
        return importlib.machinery.ModuleSpec(fullname, self, is_package=fullname == "accelerator")

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        # the import system returns what sys.modules holds after this: accelgit's module itself
        import importlib
        name = module.__spec__.name
        compat = importlib.import_module("accelgit.api.compat")
        if name == "accelerator":
            sys.modules[name] = compat
        elif name == "accelerator.colour":          # the Accelerator's "from accelerator.colour import bold"
            sys.modules[name] = compat.colour
        else:
            sys.modules[name] = importlib.import_module(f"accelgit.api.compat.{name[len('accelerator.'):]}")


_FINDER = _Accelerator()


def install() -> None:
    """``accelerator`` is accelgit.api.compat from now on in this process."""
    if _FINDER not in sys.meta_path:
        for name in [n for n in sys.modules if n == "accelerator" or n.startswith("accelerator.")]:
            del sys.modules[name]            # the real package, if something imported it: not in here
        sys.meta_path.insert(0, _FINDER)
