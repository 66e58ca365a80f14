"""A method's declarations (SPEC §3): ``options``, ``jobs``, ``files``,
``depend_extra``, ``equivalent_hashes``, ``description``, ``resources``, read from the AST
as literals, so a method is never imported to plan or to compute an id, and
the same code works for the work tree, the index and any commit."""
from __future__ import annotations

import ast
import datetime
import posixpath
from typing import Any

from accelgit.core.errors import DATASETS, MethodError
from accelgit.methods import optspec
from accelgit.methods.imports import parse_source

DECLARED = ("description", "options", "jobs", "files", "depend_extra", "equivalent_hashes", "resources")

FUNCTIONS = ("prepare", "analysis", "synthesis")


class Method:
    """A method: its file, its declarations, and (set by the registry) its
    sources and digest.  (A plain class, not a dataclass: see config.Config.)"""

    def __init__(self, name: str, path: str, folder: str, *, options: dict[str, Any] | None = None):
        self.name = name
        self.path = path                # repo path of the method file
        self.folder = folder            # its method folder
        self.description = ""
        self.options: dict[str, Any] = options if options is not None else {}
        self.jobs: dict[str, bool] = {}                 # input name -> is a list
        self.files: tuple[str, ...] = ()
        self.depend_extra: tuple[str, ...] = ()
        self.depend_modules: tuple[tuple[int, str], ...] = ()   # (relative level, dotted name) named in depend_extra
        self.equivalent_hashes: dict[str, tuple[str, ...]] = {}
        self.functions: tuple[str, ...] = ()
        self.sources: dict[str, str] = {}               # path -> blob sha1
        self.digest = ""
        self.equivalent: tuple[str, ...] = ()           # older digests that stand for this one
        self.resources: dict[str, Any] = {}             # asked of an executor's workers; not in the id

    def __repr__(self) -> str:
        return f"Method({self.name!r}, {self.path!r})"

    # Asked of every urd.build call; computed once a method (a 1,000-job chain of one
    # method asks 1,000 times).
    # (properties that keep their value in the instance: functools.cached_property takes
    # a lock on every first read, ~10 % of a 1,000-method hook's method loading)
    @property
    def typed(self) -> frozenset[str]:
        """The options typed the Accelerator's way (a marker in their default)."""
        t = self.__dict__.get("_typed")
        if t is None:
            t = self._typed = frozenset(k for k, v in self.options.items() if optspec.has_markers(v)) \
                if self.options else frozenset()
        return t

    @property
    def job_with_files(self) -> dict[str, str]:
        """``{option: "JobWithFile" | "[JobWithFile]"}`` (optspec.job_with_file_options)."""
        j = self.__dict__.get("_job_with_files")
        if j is None:
            j = self._job_with_files = optspec.job_with_file_options(self.options) if self.typed else {}
        return j

# ---------------------------------------------------------------- literals


_DATE_CALLS = {"date": datetime.date, "datetime": datetime.datetime}

_SPEC_CALLS = {"OptionEnum": optspec.Enum, "RequiredOption": optspec.Required, "OptionDefault": optspec.Default,
               "OptionString": optspec.String}


def _dotted(node: ast.AST) -> str | None:
    """``x`` or ``module.x`` (``datetime.date``, ``accelerator.OptionEnum``): the last name."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, (ast.Name, ast.Attribute)):
        return node.attr
    return None


def literal(node: ast.AST, where: str) -> Any:
    """Evaluate a declaration: Python literals, date/datetime(...) calls,
    ``dict(...)``, and the Accelerator's typed options (methods/optspec.py)."""
    name = _dotted(node)
    if name is not None and not (isinstance(node, ast.Name) and name in ("None", "True", "False")):
        if name in optspec.TYPES:
            return optspec.Type(name)
        if name == "OptionString":
            return optspec.String()
        raise MethodError(f"{where}: '{name}' is not a value accelgit can read from the source (a literal, "
                          f"a type such as int or date, or the Accelerator's option markers)")
    if isinstance(node, ast.Call):
        fn = node.func
        name = _dotted(fn)
        if name in _DATE_CALLS and not node.keywords:
            args = [literal(a, where) for a in node.args]
            try:
                return _DATE_CALLS[name](*args)
            except (TypeError, ValueError) as e:
                raise MethodError(f"{where}: bad {name}(...): {e}") from None
        if name in _SPEC_CALLS or name in ("dict", "list"):
            args = [literal(a, where) for a in node.args]
            if any(k.arg is None for k in node.keywords):
                raise MethodError(f"{where}: '**' is not allowed in a declaration")
            kw = {k.arg: literal(k.value, where) for k in node.keywords}
            try:
                if name == "dict":
                    return dict(*args, **kw)
                if name == "list":
                    return list(*args, **kw)
                return _SPEC_CALLS[name](*args, **kw)
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


def repo_path(p: str, where: str, what: str) -> str:
    norm = posixpath.normpath(p.replace("\\", "/"))
    if posixpath.isabs(norm) or norm == ".." or norm.startswith("../") or norm in ("", "."):
        raise MethodError(f"{where}: {what} '{p}' is outside the repository")
    return norm


def parse_declarations(m: Method, data: bytes) -> ast.Module:
    """Fill ``m`` from the method file's source; return its AST."""
    tree = parse_source(data, m.path)
    declarations_from_tree(m, tree)
    return tree


def declarations_from_tree(m: Method, tree: ast.Module) -> None:
    """Fill ``m`` from the method file's AST."""
    funcs = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in FUNCTIONS:
            funcs.append(node.name)
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) and node.value else []
        for t in targets:
            if isinstance(t, ast.Name) and t.id == "datasets":
                raise MethodError(f"{m.path}:{node.lineno}: {DATASETS}")
            if isinstance(t, ast.Name) and t.id in DECLARED:
                where = f"{m.path}:{node.lineno}: {t.id}"
                if t.id == "depend_extra":
                    node_value = _depend_modules(m, node.value, tree, where)
                else:
                    node_value = node.value
                value = literal(node_value, where)
                _apply(m, t.id, value, where)
    m.functions = tuple(funcs)
    line = _dataset_use(tree)
    if line:
        raise MethodError(f"{m.path}:{line}: {DATASETS}")
    if not funcs:
        raise MethodError(f"{m.path}: method '{m.name}' defines none of prepare(), analysis(), synthesis()")


def _depend_modules(m: Method, node: ast.AST, tree: ast.Module, where: str) -> ast.AST:
    """``depend_extra`` may name a module the method imports, as the
    Accelerator allows (``depend_extra = ('data.txt', mydependency)``): those
    go to ``m.depend_modules``; the paths are returned for ``literal``."""
    m.depend_modules = ()
    if not isinstance(node, (ast.Tuple, ast.List)) or not any(isinstance(e, (ast.Name, ast.Attribute)) for e in node.elts):
        return node
    bound: dict[str, tuple[int, str]] = {}
    for imp in tree.body:
        if isinstance(imp, ast.Import):
            for a in imp.names:
                bound[a.asname or a.name.split(".")[0]] = (0, a.name if a.asname else a.name.split(".")[0])
        elif isinstance(imp, ast.ImportFrom):
            for a in imp.names:
                bound[a.asname or a.name] = (imp.level, ".".join(filter(None, (imp.module, a.name))))
    mods, rest = [], []
    for e in node.elts:
        if isinstance(e, ast.Name):
            if e.id not in bound:
                raise MethodError(f"{where}: '{e.id}' is neither a path nor a module the method imports at its top level")
            mods.append(bound[e.id])
        elif isinstance(e, ast.Attribute):
            raise MethodError(f"{where}: name the module as the method imports it ('from . import x', then x), "
                              f"not as an attribute")
        else:
            rest.append(e)
    m.depend_modules = tuple(mods)
    return ast.Tuple(elts=rest, ctx=ast.Load())


def _dataset_use(tree: ast.Module) -> int | None:
    """The line where a method uses the Accelerator's datasets (``datasets =``,
    ``job.datasetwriter``, ``accelerator.dataset``), or None."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "datasetwriter":
            return node.lineno
        if isinstance(node, ast.ImportFrom) and node.module in ("accelerator.dataset", "accelerator.dsutil"):
            return node.lineno
    return None


def to_cache(m: Method) -> dict:
    """``m``'s declarations as JSON-able data (methods/cache.py keeps them)."""
    return {"description": m.description, "options": optspec.encode_spec(m.options), "jobs": m.jobs,
            "files": list(m.files), "depend_extra": list(m.depend_extra),
            "depend_modules": [list(x) for x in m.depend_modules],
            "equivalent_hashes": {k: list(v) for k, v in m.equivalent_hashes.items()},
            "functions": list(m.functions), "resources": m.resources}


def from_cache(m: Method, d: dict) -> None:
    """Fill ``m`` from what ``to_cache`` gave for the same file."""
    m.description = d["description"]
    m.options = optspec.decode_spec(d["options"])
    m.jobs = dict(d["jobs"])
    m.files, m.depend_extra = tuple(d["files"]), tuple(d["depend_extra"])
    m.depend_modules = tuple((int(level), str(name)) for level, name in d["depend_modules"])
    m.equivalent_hashes = {k: tuple(v) for k, v in d["equivalent_hashes"].items()}
    m.functions = tuple(d["functions"])
    m.resources = dict(d["resources"])


def _apply(m: Method, key: str, value: Any, where: str) -> None:
    if key == "description":
        if not isinstance(value, str):
            raise MethodError(f"{where}: must be a string")
        m.description = value
    elif key == "options":
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise MethodError(f"{where}: must be a dict of option name -> default value")
        try:
            encoded = {k: optspec.encode_spec(v, f"option '{k}'") for k, v in value.items()}
        except (TypeError, ValueError) as e:
            raise MethodError(f"{where}: {e}") from None
        # as the job (and the cache) will have them: a tuple default is a list
        m.options = {k: optspec.decode_spec(v) for k, v in encoded.items()}
    elif key == "jobs":
        m.jobs = {}
        for j in _names(value, where):
            is_list = j.startswith("[") and j.endswith("]")
            name = j[1:-1] if is_list else j
            if not name.isidentifier():
                raise MethodError(f"{where}: '{j}' is not a valid input job name")
            m.jobs[name] = is_list
    elif key == "files":
        m.files = tuple(repo_path(p, where, "data file") for p in _names(value, where))
    elif key == "depend_extra":
        m.depend_extra = tuple(p.replace("\\", "/") for p in _names(value, where))
    elif key == "equivalent_hashes":
        if not isinstance(value, dict):
            raise MethodError(f"{where}: must be a dict {{verifier: (old digests...)}}")
        m.equivalent_hashes = {str(k): _names(v, where) for k, v in value.items()}
    elif key == "resources":
        if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, (int, float, str))
                                                  and not isinstance(v, bool) for k, v in value.items()):
            raise MethodError(f"{where}: must be a dict of resource name -> amount "
                              f"(a number, or a size such as \"8GB\")")
        m.resources = dict(value)


def cut_equivalent_hashes(data: bytes, tree: ast.Module) -> bytes | None:
    """The method source with its top-level ``equivalent_hashes = ...``
    statement removed (whole lines, first to last), or None if it has none."""
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "equivalent_hashes" for t in targets):
                lines = data.splitlines(keepends=True)
                return b"".join(lines[:node.lineno - 1] + lines[node.end_lineno:])
    return None
