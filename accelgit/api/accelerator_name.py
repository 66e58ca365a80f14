"""The ``accelerator`` import name inside build scripts and job processes
(issue 16): ``install()`` makes ``import accelerator`` (and its submodules)
resolve to accelgit's compatibility layer (the ``compat`` package, imported
only when code imports ``accelerator``), and what that layer does not provide
is one clear error (``unsupported``), datasets above all."""
from __future__ import annotations

import importlib.machinery
import sys

from accelgit.core.errors import DATASETS

# the Accelerator's dataset API: names and modules (datasets are out of scope)
DATASET_NAMES = frozenset({
    "Dataset", "DatasetWriter", "DatasetList", "SkipSlice", "SkipDataset", "DatasetError", "NoSuchDatasetError",
    "DatasetUsageError", "dataset", "dsutil", "sourcedata", "standard_methods", "_dsutil", "dataset_type",
})


# the Accelerator's standard methods, all of them about datasets
DATASET_METHODS = frozenset({
    "csvexport", "csvimport", "csvimport_zip", "dataset_checksum", "dataset_checksum_chain", "dataset_concat",
    "dataset_fanout", "dataset_fanout_collect", "dataset_filter_columns", "dataset_hashpart", "dataset_merge",
    "dataset_rename_columns", "dataset_sort", "dataset_type", "dataset_unroundrobin",
})


class NotSupported(ImportError):
    """``import accelerator.X`` / ``from accelerator import X`` of something
    accelgit does not implement."""


def unsupported(name: str) -> NotSupported:
    """The error for ``accelerator.<name>`` (a dotted tail for a module)."""
    if name.split(".")[0] in DATASET_NAMES:
        return NotSupported(DATASETS, name=f"accelerator.{name}")
    return NotSupported(f"accelgit does not provide accelerator.{name} (see accelgit's docs/accelerator.md for "
                        f"what it runs of the Accelerator's API)", name=f"accelerator.{name}")


# accelerator.<name> -> this package's module of that name
_MODULES = ("job", "extras", "subjobs", "colourwrapper", "statmsg", "blob")


class _Accelerator:
    """A meta path finder and its loader (the protocol only: importing
    importlib.abc for its base classes cost ~6 ms of every command's start)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "accelerator" and not fullname.startswith("accelerator."):
            return None
        tail = fullname[len("accelerator."):]
        if fullname != "accelerator" and tail not in _MODULES and tail != "colour":
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
