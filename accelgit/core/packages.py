"""Method folders as Python packages, as the Accelerator imports them: a
build script ``F/build_x.py`` runs as module ``F.build_x`` and a method
``F/a_m.py`` as ``F.a_m``, so ``from .printer import prt`` and ``from .
import helper`` work.  The package name is the folder's path from the repo
root, dotted (``src/methods`` -> ``src.methods``)."""
from __future__ import annotations

import functools
import keyword
import posixpath
import sys

# names a repo package must not take: Python's own modules, and the names
# accelgit itself lives under or provides (accelerator: api/compat)
_TAKEN = frozenset(getattr(sys, "stdlib_module_names", ())) | {"accelgit", "accelerator"}


@functools.lru_cache(maxsize=256)       # a pure function of a few folders, asked per method
def package_of(folder: str) -> str | None:
    """The package a repo folder is imported as, or None (the repo root, a
    path that is no dotted name, or a name Python already uses)."""
    folder = folder.strip("/")
    if folder in ("", "."):
        return None
    parts = folder.split("/")
    if not all(p.isidentifier() and not keyword.iskeyword(p) for p in parts) or parts[0] in _TAKEN:
        return None
    return ".".join(parts)


def module_of(path: str) -> tuple[str | None, str]:
    """``(package, module name)`` a repo file is run as: ``methods/a_m.py`` ->
    ``("methods", "methods.a_m")``; a file outside any package keeps its stem."""
    folder, base = posixpath.split(path)
    stem = base[:-3] if base.endswith(".py") else base
    pkg = package_of(folder)
    return pkg, f"{pkg}.{stem}" if pkg else stem
