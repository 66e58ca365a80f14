"""Cosmetic source changes, and the ``equivalent_hashes`` line that keeps old
jobs valid across them (SPEC §5).

A change is cosmetic when the two versions of every changed Python source of
a method parse to the same AST once docstrings (and the method's own
``equivalent_hashes`` declaration) are left out: comments, blank lines,
formatting and docstrings differ, nothing the interpreter runs does.
"""
from __future__ import annotations

import ast

from accelgit.core.identity import git_blob_sha1, source_digest


def _strip_body(body: list) -> list:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:]
    return body or [ast.Pass()]


class _Strip(ast.NodeTransformer):
    def _doc(self, node):
        self.generic_visit(node)
        node.body = _strip_body(node.body)
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _doc


def _is_equivalent_hashes(node: ast.AST) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
    return any(isinstance(t, ast.Name) and t.id == "equivalent_hashes" for t in targets)


def normalized(data: bytes, *, method_file: bool = False) -> str | None:
    """A dump of the AST without docstrings (and, for a method file, without
    its ``equivalent_hashes``); None when the source does not parse."""
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return None
    tree = _Strip().visit(tree)
    body = [n for n in tree.body if not (method_file and _is_equivalent_hashes(n))]
    tree.body = _strip_body(body) if body else []
    return ast.dump(tree, annotate_fields=True, include_attributes=False)


def is_cosmetic(old: bytes, new: bytes, *, method_file: bool = False) -> bool:
    """True when ``old`` and ``new`` differ only in comments, whitespace or docstrings."""
    a = normalized(old, method_file=method_file)
    return a is not None and a == normalized(new, method_file=method_file)


def method_is_cosmetic(old_method, new_method, read_old, read_new) -> tuple[bool, list[str]]:
    """Whether a method's source change is cosmetic, and the changed paths.

    ``old_method``/``new_method`` are ``methods.Method`` of the two sides;
    ``read_old``/``read_new`` read a repo path's bytes on each side.  The set of
    source files must be the same, and every changed one a Python file whose
    AST is unchanged.
    """
    old, new = old_method.sources, new_method.sources
    changed = sorted(p for p in set(old) | set(new) if old.get(p) != new.get(p))
    if not changed or set(old) != set(new) or old_method.path != new_method.path:
        return False, changed
    for p in changed:
        if not p.endswith(".py"):
            return False, changed
        if not is_cosmetic(read_old(p), read_new(p), method_file=p == new_method.path):
            return False, changed
    return True, changed


def verifier(method, data: bytes) -> str:
    """The VERIFIER of ``method`` (SPEC §5): its SOURCE_DIGEST with the
    ``equivalent_hashes`` assignment cut out of the method file (``data``).
    Without such an assignment, pasting one in and cutting it out again gives
    the file back, so the verifier is the current digest."""
    from accelgit.methods.declarations import cut_equivalent_hashes
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError):
        return method.digest
    cut = cut_equivalent_hashes(data, tree)
    if cut is None:
        return source_digest(method.sources)
    return source_digest({**method.sources, method.path: git_blob_sha1(cut)})


def suggestion(old_method, new_method, new_data: bytes) -> dict:
    """What to paste into the new method file to keep the old jobs valid.

    The old digests are the base side's digest and the digests it already
    declared equivalent (its old jobs may have been built from any of them),
    plus the ones the new file already lists."""
    ver = verifier(new_method, new_data)
    digests: list[str] = []
    for d in (*new_method.equivalent_hashes.get(ver, ()), old_method.digest, *old_method.equivalent):
        if d != new_method.digest and d not in digests:
            digests.append(d)
    items = "".join(f'"{d}", ' for d in digests).rstrip(" ")
    line = f'equivalent_hashes = {{"{ver}": ({items})}}'
    return {"verifier": ver, "digests": digests, "line": line,
            "replaces_existing": bool(new_method.equivalent_hashes)}
