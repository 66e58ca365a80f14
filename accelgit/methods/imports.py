"""Static discovery of the repo-local modules a method imports, transitively.

Only the AST is read: nothing is executed.  A module is repo-local when it
resolves, in the view, against the search roots (the method's folder first,
then the repo root), the same order the job process uses on ``sys.path``.
Imports anywhere in a file count (inside functions, ``try`` blocks, ``if``),
since any of them may run.  Names that do not resolve locally are taken to be
installed packages and ignored.
"""
from __future__ import annotations

import ast
import posixpath
from typing import Callable, Iterable

from accelgit.core.errors import MethodError
from accelgit.core.identity import git_blob_sha1

# (level, module or None, [imported names]) per import statement
ImportRef = tuple[int, "str | None", list[str]]


def parse_source(data: bytes, path: str) -> ast.Module:
    try:
        return ast.parse(data, filename=path)
    except SyntaxError as e:
        raise MethodError(f"{path}:{e.lineno}: syntax error: {e.msg}") from None
    except ValueError as e:   # e.g. NUL bytes
        raise MethodError(f"{path}: cannot be parsed: {e}") from None


def import_refs(tree: ast.AST) -> list[ImportRef]:
    refs: list[ImportRef] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                refs.append((0, alias.name, []))
        elif isinstance(node, ast.ImportFrom):
            refs.append((node.level, node.module, [a.name for a in node.names if a.name != "*"]))
    return refs


class ImportResolver:
    """Resolves dotted module names to repo paths in one view.

    ``exists(path)`` tells whether a repo path is a file in the view, and
    ``read(path)`` gives its bytes.  Import lists are kept by ``key(path)``
    (the blob sha): a file is parsed once per run, and with a ``cache``
    (methods/cache.py) once at all.
    """

    def __init__(self, exists: Callable[[str], bool], read: Callable[[str], bytes],
                 key: Callable[[str], str | None], cache=None):
        self.exists = exists
        self.read = read
        self.key = key
        self.cache = cache
        self._refs: dict[str | None, list[ImportRef]] = {}

    def known(self, blob: str | None, refs: list[ImportRef]) -> None:
        """The import list of the file with blob ``blob``, found by its caller."""
        if blob:
            self._refs[blob] = refs

    def refs_of(self, path: str) -> list[ImportRef]:
        k = self.key(path)
        refs = self._refs.get(k) if k else None
        if refs is None and self.cache is not None:
            cached = self.cache.get(k, "refs")
            try:
                refs = self._refs[k] = [(level, module, names) for level, module, names in cached or ()] \
                    if cached is not None else None
            except (TypeError, ValueError):         # a damaged entry: parse instead
                refs = None
        if refs is None:
            data = self.read(path)
            refs = import_refs(parse_source(data, path))
            if k:
                self._refs[k] = refs
                if self.cache is not None and git_blob_sha1(data) == k:     # not edited meanwhile
                    self.cache.put(k, refs=refs)
        return refs

    def _find(self, root: str, dotted: str) -> tuple[list[str], bool] | None:
        """Files making up ``dotted`` under ``root``: package ``__init__``s
        along the way plus the module; and whether it is a package."""
        files: list[str] = []
        base = root
        parts = dotted.split(".")
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            pkg = posixpath.join(base, part)
            init = posixpath.join(pkg, "__init__.py")
            if self.exists(init):
                files.append(init)
                base = pkg
                if last:
                    return files, True
                continue
            if last:
                mod = pkg + ".py"
                if self.exists(mod):
                    files.append(mod)
                    return files, False
                return None
            base = pkg   # maybe a namespace package: keep walking
        return None

    def resolve(self, roots: Iterable[str], dotted: str) -> tuple[str, list[str], bool] | None:
        for root in roots:
            found = self._find(root, dotted)
            if found:
                return root, found[0], found[1]
        return None

    def closure(self, start: str, roots: list[str], module: str | None = None) -> list[str]:
        """``start`` plus every repo-local module it imports, transitively, sorted.
        ``start`` is taken as a top-level module of ``roots[0]``, or, with
        ``module`` (a dotted name from the repo root: methods/packages.py),
        as that module, so its relative imports resolve in its package."""
        first = ("", module) if module else (roots[0], _modname(roots[0], start))
        seen: dict[str, tuple[str, str]] = {start: first}  # path -> (root, module)
        todo = [start]
        while todo:
            path = todo.pop()
            root, modname = seen[path]
            for level, module, names in self.refs_of(path):
                if level:
                    # the package this file is in, then up level-1 more
                    pkg = modname.split(".") if path.endswith("__init__.py") else modname.split(".")[:-1]
                    if level - 1 >= len(pkg):
                        continue     # relative import beyond the top: fails at run time anyway
                    base = pkg[:len(pkg) - (level - 1)]
                    dotted = ".".join(base + ([module] if module else []))
                    search = [root]
                else:
                    dotted = module or ""
                    search = roots
                for target in [dotted] + [f"{dotted}.{n}" for n in names]:
                    hit = self.resolve(search, target)
                    if not hit:
                        continue
                    hroot, files, _ = hit
                    for f in files:
                        if f not in seen:
                            seen[f] = (hroot, _modname(hroot, f))
                            todo.append(f)
        return sorted(seen)


def _modname(root: str, path: str) -> str:
    if not root:
        rel = path
    elif path.startswith(root + "/"):
        rel = path[len(root) + 1:]
    else:
        rel = posixpath.relpath(path, root)
    rel = rel[:-3] if rel.endswith(".py") else rel
    parts = rel.split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)
