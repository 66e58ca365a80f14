"""The methods of one view: finding a method by name (``NAME.py`` or
``a_NAME.py`` in a method folder), reading its declarations once, and
collecting the sources that make up its identity (SPEC §1, §5): the method
file, its ``depend_extra`` files and the repo-local modules it imports."""
from __future__ import annotations

import posixpath

from accelgit.core.errors import MethodError
from accelgit.core.identity import git_blob_sha1, source_digest
from accelgit.core.packages import module_of
from accelgit.methods.cache import cache_for
from accelgit.methods.declarations import (
    Method,
    cut_equivalent_hashes,
    declarations_from_tree,
    from_cache,
    repo_path,
    to_cache,
)
from accelgit.methods.imports import ImportResolver, import_refs, parse_source

# ---------------------------------------------------------------- registry


class Methods:
    """The methods of one view: found, parsed and hashed once each."""

    def __init__(self, view, folders: list[str]):
        self.view = view
        self.folders = [posixpath.normpath(f.replace("\\", "/")).strip("/") or "." for f in folders]
        self._cache: dict[str, Method] = {}
        self.known = cache_for(view)          # what a source's content says, kept by its blob
        self.resolver = ImportResolver(view.exists, self._read_source, view.blob, self.known)

    def _read_source(self, p: str) -> bytes:
        if self.view.is_link(p):
            raise MethodError(f"source file '{p}' is a symbolic link; git hashes the link, not "
                              f"its content, so sources must be regular files")
        return self.view.read(p)

    def locate(self, name: str) -> tuple[str, str]:
        if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
            raise MethodError(f"'{name}' is not a valid method name")
        hits, candidates = [], []
        for folder in self.folders:
            for fname in (f"{name}.py", f"a_{name}.py"):
                p = fname if folder == "." else f"{folder}/{fname}"
                candidates.append(p)
                if self.view.exists(p):
                    hits.append((p, folder))
        for p in [h for h, _ in hits] or candidates:
            sm = self.view.submodule_of(p)
            if sm is not None:              # found in it (work tree), or a folder of it (git views)
                raise MethodError(f"method '{name}': {p} is inside git submodule '{sm}'; accelgit reads methods "
                                  f"and their sources from this repository only (a submodule holds another "
                                  f"repository's commit): move the method out of '{sm}'")
        if not hits:
            raise MethodError(f"unknown method '{name}': no {name}.py or a_{name}.py in "
                              f"{', '.join(f + '/' for f in self.folders)} ({self.view.label})")
        if len(hits) > 1:
            raise MethodError(f"method '{name}' is ambiguous: {' and '.join(p for p, _ in hits)} both define it")
        return hits[0]

    def exists(self, name: str) -> bool:
        """Is there a method ``name`` (found or not, without an error)?"""
        try:
            self.locate(name)
        except MethodError:
            return False
        return True

    def get(self, name: str) -> Method:
        m = self._cache.get(name)
        if m is None:
            m = self._cache[name] = self._load(name)
        return m

    def _load(self, name: str) -> Method:
        path, folder = self.locate(name)
        m = Method(name=name, path=path, folder=folder)
        blob = self.view.blob(path)
        decl = self.known.get(blob, "decl")
        hit = False
        if decl is not None and not self.view.is_link(path):
            try:
                from_cache(m, decl)
                cut_blob = self.known.get(blob, "cut")
                self.resolver.known(blob, [(lv, mod, names) for lv, mod, names in self.known.get(blob, "refs") or ()])
                hit = True
            except (KeyError, TypeError, ValueError, AttributeError):      # a damaged entry: parse instead
                m = Method(name=name, path=path, folder=folder)
        if not hit:
            data = self._read_source(path)
            tree = parse_source(data, path)                 # one parse: declarations and imports
            declarations_from_tree(m, tree)
            cut = cut_equivalent_hashes(data, tree)
            cut_blob = git_blob_sha1(cut) if cut is not None else None
            refs = import_refs(tree)
            self.resolver.known(blob, refs)
            if blob is not None and git_blob_sha1(data) == blob:    # not edited between hashing and reading
                self.known.put(blob, decl=to_cache(m), refs=refs, cut=cut_blob)
        overlap = set(m.options) & set(m.jobs)
        if overlap:
            raise MethodError(f"{path}: '{sorted(overlap)[0]}' is declared both as an option and as an input job")
        roots = [folder, ""] if folder != "." else [""]
        pkg, modname = module_of(path)          # relative imports resolve in the method's package
        paths = set(self.resolver.closure(path, [r if r != "." else "" for r in roots], modname if pkg else None))
        for extra in m.depend_extra:
            paths.add(self._depend_extra(m, extra))
        for level, dotted in m.depend_modules:
            paths.update(self._depend_module(m, pkg, roots, level, dotted))
        sources = {}
        for p in sorted(paths):
            sm = self.view.submodule_of(p)
            if sm is not None:
                raise MethodError(f"{path}: source file '{p}' is inside git submodule '{sm}'; accelgit reads "
                                  f"sources from this repository only: move it out of '{sm}'")
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
            verifier = source_digest({**sources, path: cut_blob})
            keys = list(m.equivalent_hashes)
            if keys != [verifier]:
                raise MethodError(f"{path}: equivalent_hashes verifier is wrong; it should be '{verifier}'")
            m.equivalent = tuple(d for d in m.equivalent_hashes[verifier] if d != m.digest)
        return m

    def _depend_module(self, m: Method, pkg: str | None, roots: list[str], level: int, dotted: str) -> list[str]:
        """The files of a module named in ``depend_extra`` (as the method imports it)."""
        named = "." * level + dotted
        if level:
            base = (pkg or "").split(".") if pkg else []
            if level - 1 >= len(base):
                raise MethodError(f"{m.path}: depend_extra: relative module '{named}' is outside "
                                  f"the method's package")
            dotted, search = ".".join(base[:len(base) - (level - 1)] + [dotted]), [""]
        else:
            search = [r if r != "." else "" for r in roots]
        for name in (dotted, dotted.rpartition(".")[0]):    # "from a import b": b may be a name in module a
            hit = self.resolver.resolve(search, name) if name else None
            if hit:
                return hit[1]
        raise MethodError(f"{m.path}: depend_extra: module '{named}' is not a module in this "
                          f"repository ({self.view.label}); accelgit hashes the repository's files only")

    def _depend_extra(self, m: Method, extra: str) -> str:
        where = f"{m.path}: depend_extra"
        rel = repo_path(extra, where, "file")
        if self.view.exists(rel):
            return rel
        local = repo_path(posixpath.join(m.folder, extra), where, "file")   # the Accelerator's spelling
        if self.view.exists(local):
            return local
        raise MethodError(f"{where}: '{extra}' does not exist ({self.view.label})")
