"""Imports a method package's modules from the repository as the Accelerator
would import them (core/packages.py): ``methods.printer`` is
``methods/printer.py``.  A build script's imports are read from the view it
runs in (the work tree, the index or a commit), a job's from its verified
source copies; nothing else under those package names is importable."""
from __future__ import annotations

import importlib.machinery
import sys
from typing import Callable


class RepoImporter:       # a meta path finder and loader by protocol (importlib.abc costs ~6 ms to import)
    """Serves ``packages`` (dotted names), their parents and their modules.
    ``exists(path)``/``read(path)`` see repo paths; ``filename(path)`` is how
    a module's frames name it."""

    def __init__(self, packages, exists: Callable[[str], bool], read: Callable[[str], bytes],
                 filename: Callable[[str], str]):
        self.packages = set(packages)
        self.exists, self.read, self.filename = exists, read, filename

    def _locate(self, fullname: str) -> tuple[str | None, bool] | None:
        """(repo path of the code or None, is a package), or None: not ours."""
        rel = fullname.replace(".", "/")
        if any(p == fullname or p.startswith(fullname + ".") for p in self.packages):
            init = rel + "/__init__.py"
            return (init if self.exists(init) else None), True
        if not any(fullname.startswith(p + ".") for p in self.packages):
            return None
        if self.exists(rel + ".py"):
            return rel + ".py", False
        if self.exists(rel + "/__init__.py"):
            return rel + "/__init__.py", True
        return None

    def find_spec(self, fullname, path=None, target=None):
        hit = self._locate(fullname)
        if hit is None:
            return None
        rel, is_pkg = hit
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=self.filename(rel) if rel else None,
                                              is_package=is_pkg)
        spec.has_location = rel is not None
        spec.loader_state = rel
        if is_pkg:
            spec.submodule_search_locations = []      # every module below comes from here
        return spec

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        rel = module.__spec__.loader_state
        if rel is not None:
            code = compile(self.read(rel), self.filename(rel), "exec", dont_inherit=True)
            exec(code, module.__dict__)

    def __enter__(self):
        sys.meta_path.insert(0, self)
        return self

    def __exit__(self, *exc):
        """Forget the finder and every module it gave: another view may run next."""
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        for name in [n for n, m in sys.modules.items() if getattr(getattr(m, "__spec__", None), "loader", None) is self]:
            del sys.modules[name]
        return False
