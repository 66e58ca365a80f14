"""Methods: finding them, reading their declarations, coercing options, and
collecting the sources that make up their identity (SPEC §1, §3, §5).

Declarations (``options``, ``jobs``, ``files``, ``depend_extra``,
``equivalent_hashes``, ``description``) are read from the AST as literals, so
a method is never imported to plan or to compute an id, and the same code
works for the work tree, the index and any commit.
"""
from __future__ import annotations

import ast
import datetime
import posixpath
from dataclasses import dataclass, field
from typing import Any

from .errors import MethodError, UsageError
from .identity import encode_value, git_blob_sha1, source_digest
from .imports import ImportResolver, parse_source

DECLARED = ("description", "options", "jobs", "files", "depend_extra", "equivalent_hashes")
FUNCTIONS = ("prepare", "analysis", "synthesis")


@dataclass
class Method:
    name: str
    path: str                       # repo path of the method file
    folder: str                     # its method folder
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    jobs: dict[str, bool] = field(default_factory=dict)     # input name -> is a list
    files: tuple[str, ...] = ()
    depend_extra: tuple[str, ...] = ()
    equivalent_hashes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    functions: tuple[str, ...] = ()
    sources: dict[str, str] = field(default_factory=dict)   # path -> blob sha1
    digest: str = ""
    equivalent: tuple[str, ...] = ()                         # older digests that stand for this one


# ---------------------------------------------------------------- literals

_DATE_CALLS = {"date": datetime.date, "datetime": datetime.datetime}


def literal(node: ast.AST, where: str) -> Any:
    """Evaluate a declaration: Python literals plus date/datetime(...) calls."""
    if isinstance(node, ast.Call):
        fn = node.func
        name = fn.attr if isinstance(fn, ast.Attribute) and isinstance(fn.value, ast.Name) and fn.value.id == "datetime" \
            else fn.id if isinstance(fn, ast.Name) else None
        if name in _DATE_CALLS and not node.keywords:
            args = [literal(a, where) for a in node.args]
            try:
                return _DATE_CALLS[name](*args)
            except (TypeError, ValueError) as e:
                raise MethodError(f"{where}: bad {name}(...): {e}") from None
    elif isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise MethodError(f"{where}: '**' is not allowed in a declaration")
        return {literal(k, where): literal(v, where) for k, v in zip(node.keys, node.values)}
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [literal(e, where) for e in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError):
        raise MethodError(f"{where}: must be a literal value (strings, numbers, lists, dicts, dates), "
                          f"found {type(node).__name__}") from None


def _names(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise MethodError(f"{where}: must be a tuple of strings")
    return tuple(value)


def _repo_path(p: str, where: str, what: str) -> str:
    norm = posixpath.normpath(p.replace("\\", "/"))
    if posixpath.isabs(norm) or norm == ".." or norm.startswith("../") or norm in ("", "."):
        raise MethodError(f"{where}: {what} '{p}' is outside the repository")
    return norm


def parse_declarations(m: Method, data: bytes) -> ast.Module:
    """Fill ``m`` from the method file's source; return its AST."""
    tree = parse_source(data, m.path)
    funcs = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in FUNCTIONS:
            funcs.append(node.name)
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) and node.value else []
        for t in targets:
            if isinstance(t, ast.Name) and t.id in DECLARED:
                where = f"{m.path}:{node.lineno}: {t.id}"
                value = literal(node.value, where)
                _apply(m, t.id, value, where)
    m.functions = tuple(funcs)
    if not funcs:
        raise MethodError(f"{m.path}: method '{m.name}' defines none of prepare(), analysis(), synthesis()")
    return tree


def _apply(m: Method, key: str, value: Any, where: str) -> None:
    if key == "description":
        if not isinstance(value, str):
            raise MethodError(f"{where}: must be a string")
        m.description = value
    elif key == "options":
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise MethodError(f"{where}: must be a dict of option name -> default value")
        for k, v in value.items():
            try:
                encode_value(v, f"option '{k}'")
            except (TypeError, ValueError) as e:
                raise MethodError(f"{where}: {e}") from None
        m.options = dict(value)
    elif key == "jobs":
        m.jobs = {}
        for j in _names(value, where):
            is_list = j.startswith("[") and j.endswith("]")
            name = j[1:-1] if is_list else j
            if not name.isidentifier():
                raise MethodError(f"{where}: '{j}' is not a valid input job name")
            m.jobs[name] = is_list
    elif key == "files":
        m.files = tuple(_repo_path(p, where, "data file") for p in _names(value, where))
    elif key == "depend_extra":
        m.depend_extra = tuple(p.replace("\\", "/") for p in _names(value, where))
    elif key == "equivalent_hashes":
        if not isinstance(value, dict):
            raise MethodError(f"{where}: must be a dict {{verifier: (old digests...)}}")
        m.equivalent_hashes = {str(k): _names(v, where) for k, v in value.items()}


def _cut_equivalent_hashes(data: bytes, tree: ast.Module) -> bytes | None:
    """The method source with its top-level ``equivalent_hashes = ...``
    statement removed (whole lines, first to last), or None if it has none."""
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "equivalent_hashes" for t in targets):
                lines = data.splitlines(keepends=True)
                return b"".join(lines[:node.lineno - 1] + lines[node.end_lineno:])
    return None


# ---------------------------------------------------------------- registry

class Methods:
    """The methods of one view: found, parsed and hashed once each."""

    def __init__(self, view, folders: list[str]):
        self.view = view
        self.folders = [posixpath.normpath(f.replace("\\", "/")).strip("/") or "." for f in folders]
        self._cache: dict[str, Method] = {}
        self.resolver = ImportResolver(view.exists, self._read_source, view.blob)

    def _read_source(self, p: str) -> bytes:
        if self.view.is_link(p):
            raise MethodError(f"source file '{p}' is a symbolic link; git hashes the link, not "
                              f"its content, so sources must be regular files")
        return self.view.read(p)

    def locate(self, name: str) -> tuple[str, str]:
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise MethodError(f"'{name}' is not a valid method name")
        hits = []
        for folder in self.folders:
            for fname in (f"{name}.py", f"a_{name}.py"):
                p = fname if folder == "." else f"{folder}/{fname}"
                if self.view.exists(p):
                    hits.append((p, folder))
        if not hits:
            raise MethodError(f"unknown method '{name}': no {name}.py or a_{name}.py in "
                              f"{', '.join(f + '/' for f in self.folders)} ({self.view.label})")
        if len(hits) > 1:
            raise MethodError(f"method '{name}' is ambiguous: {' and '.join(p for p, _ in hits)} both define it")
        return hits[0]

    def get(self, name: str) -> Method:
        m = self._cache.get(name)
        if m is None:
            m = self._cache[name] = self._load(name)
        return m

    def _load(self, name: str) -> Method:
        path, folder = self.locate(name)
        m = Method(name=name, path=path, folder=folder)
        data = self._read_source(path)
        tree = parse_declarations(m, data)
        overlap = set(m.options) & set(m.jobs)
        if overlap:
            raise MethodError(f"{path}: '{sorted(overlap)[0]}' is declared both as an option and as an input job")
        roots = [folder, ""] if folder != "." else [""]
        paths = set(self.resolver.closure(path, [r if r != "." else "" for r in roots]))
        for extra in m.depend_extra:
            paths.add(self._depend_extra(m, extra))
        sources = {}
        for p in sorted(paths):
            blob = self.view.blob(p)
            if blob is None:
                raise MethodError(f"{path}: source file '{p}' does not exist ({self.view.label})")
            if self.view.is_link(p):
                raise MethodError(f"{path}: source file '{p}' is a symbolic link; git hashes the link, not "
                                  f"its content, so sources must be regular files")
            sources[p] = blob
        m.sources = sources
        m.digest = source_digest(sources)
        if m.equivalent_hashes:
            cut = _cut_equivalent_hashes(data, tree)
            verifier = source_digest({**sources, path: git_blob_sha1(cut)})
            keys = list(m.equivalent_hashes)
            if keys != [verifier]:
                raise MethodError(f"{path}: equivalent_hashes verifier is wrong; it should be '{verifier}'")
            m.equivalent = tuple(d for d in m.equivalent_hashes[verifier] if d != m.digest)
        return m

    def _depend_extra(self, m: Method, extra: str) -> str:
        where = f"{m.path}: depend_extra"
        rel = _repo_path(extra, where, "file")
        if self.view.exists(rel):
            return rel
        local = _repo_path(posixpath.join(m.folder, extra), where, "file")   # the Accelerator's spelling
        if self.view.exists(local):
            return local
        raise MethodError(f"{where}: '{extra}' does not exist ({self.view.label})")


# ---------------------------------------------------------------- options

_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def coerce_option(name: str, default: Any, value: Any, where: str) -> Any:
    """``value`` converted to ``default``'s type, or a MethodError/UsageError."""
    def bad(why: str = ""):
        return UsageError(f"{where}: option '{name}' expects {type(default).__name__} (default {default!r}), "
                          f"got {value!r}{why}")
    try:
        encode_value(value, f"option '{name}'")
    except (TypeError, ValueError) as e:
        raise UsageError(f"{where}: {e}") from None
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise bad()
    if isinstance(default, int):
        if isinstance(value, bool):
            raise bad()
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise bad() from None
        raise bad()
    if isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                raise bad() from None
        raise bad()
    if isinstance(default, str):
        if isinstance(value, str):
            return value
        raise bad()
    if isinstance(default, datetime.datetime):
        if isinstance(value, datetime.datetime):
            return value
        if isinstance(value, str):
            try:
                return datetime.datetime.fromisoformat(value)
            except ValueError:
                raise bad() from None
        raise bad()
    if isinstance(default, datetime.date):
        if isinstance(value, datetime.datetime):
            raise bad()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                raise bad() from None
        raise bad()
    if isinstance(default, (list, tuple)):
        if isinstance(value, (list, tuple)):
            return list(value)
        raise bad()
    if isinstance(default, dict):
        if isinstance(value, dict):
            return dict(value)
        raise bad()
    return value


def coerce_options(m: Method, given: dict[str, Any], where: str) -> dict[str, Any]:
    """All options of ``m``: given ones coerced, the rest their defaults."""
    out = {}
    for k in given:
        if k not in m.options:
            known = ", ".join(m.options) or "none"
            raise UsageError(f"{where}: method '{m.name}' has no option '{k}' (options: {known})")
    for k, default in m.options.items():
        out[k] = coerce_option(k, default, given[k], where) if k in given else default
    return out
