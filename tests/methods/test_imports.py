"""Static import discovery (accelgit/methods/imports.py): which repo files a method's
identity includes.  Pure unit tests over an in-memory file tree."""
from __future__ import annotations

import textwrap

import pytest

from accelgit.core.errors import MethodError
from accelgit.core.identity import git_blob_sha1
from accelgit.methods.imports import ImportResolver, import_refs, parse_source

ROOTS = ["methods", ""]      # the method folder first, then the repo root (as on sys.path)


def closure(files: dict[str, str], start: str = "methods/m.py", roots=ROOTS, module=None) -> list[str]:
    data = {p: textwrap.dedent(t).encode() for p, t in files.items()}
    reads: list[str] = []

    def read(p):
        reads.append(p)
        return data[p]

    r = ImportResolver(lambda p: p in data, read, lambda p: git_blob_sha1(data[p]) if p in data else None)
    out = r.closure(start, roots, module)
    assert len(reads) == len(set(reads)), "a file was parsed twice"
    return out


def test_plain_import_and_from_import():
    assert closure({
        "methods/m.py": "import _a\nfrom _b import thing\n",
        "methods/_a.py": "",
        "methods/_b.py": "thing = 1\n",
        "methods/_unused.py": "",
    }) == ["methods/_a.py", "methods/_b.py", "methods/m.py"]


def test_transitive():
    assert closure({
        "methods/m.py": "import _a\n",
        "methods/_a.py": "import _b\n",
        "methods/_b.py": "import lib.deep\n",
        "lib/__init__.py": "",
        "lib/deep.py": "from . import deeper\n",
        "lib/deeper.py": "",
    }) == ["lib/__init__.py", "lib/deep.py", "lib/deeper.py", "methods/_a.py", "methods/_b.py", "methods/m.py"]


def test_from_package_import_submodule():
    # "y" is a submodule of package x: both x/__init__.py and x/y.py count;
    # "name" is just an attribute of x and resolves to nothing more
    assert closure({
        "methods/m.py": "from x import y, name\n",
        "x/__init__.py": "name = 1\n",
        "x/y.py": "",
        "x/z.py": "",
    }) == ["methods/m.py", "x/__init__.py", "x/y.py"]


def test_dotted_import_includes_every_package_init():
    assert closure({
        "methods/m.py": "import a.b.c as abc\n",
        "a/__init__.py": "", "a/b/__init__.py": "", "a/b/c.py": "", "a/b/d.py": "",
    }) == ["a/__init__.py", "a/b/__init__.py", "a/b/c.py", "methods/m.py"]


def test_relative_imports_inside_a_package():
    assert closure({
        "methods/m.py": "from pkg.sub import mod\n",
        "pkg/__init__.py": "from .util import helper\n",
        "pkg/util.py": "def helper(): pass\n",
        "pkg/sub/__init__.py": "from . import sibling\n",
        "pkg/sub/mod.py": "from .. import other\nfrom ..util import helper\n",
        "pkg/sub/sibling.py": "",
        "pkg/other.py": "",
        "pkg/unused.py": "",
    }) == ["methods/m.py", "pkg/__init__.py", "pkg/other.py", "pkg/sub/__init__.py", "pkg/sub/mod.py",
           "pkg/sub/sibling.py", "pkg/util.py"]


def test_relative_import_beyond_top_is_ignored():
    # fails when run anyway; must not crash discovery or pick a random file
    assert closure({
        "methods/m.py": "from . import _a\nfrom .. import up\n",
        "methods/_a.py": "", "up.py": "",
    }) == ["methods/m.py"]


def test_relative_imports_of_a_method_in_its_package():
    # as the Accelerator runs it: methods/m.py is module methods.m (issue 16)
    files = {
        "methods/m.py": "from . import _a\nfrom .printer import prt\nfrom .. import up\n",
        "methods/_a.py": "", "methods/printer.py": "from .colours import c\n", "methods/colours.py": "",
        "methods/__init__.py": "", "up.py": "",
    }
    assert closure(files, module="methods.m") == [
        "methods/__init__.py", "methods/_a.py", "methods/colours.py", "methods/m.py", "methods/printer.py"]
    assert closure({**files, "src/methods/m.py": files["methods/m.py"], "src/methods/_a.py": "",
                    "src/methods/printer.py": ""}, start="src/methods/m.py", roots=["src/methods", ""],
                   module="src.methods.m") == ["src/methods/_a.py", "src/methods/m.py", "src/methods/printer.py"]


def test_namespace_package():
    # no __init__.py anywhere: the module itself is found through the folders
    assert closure({
        "methods/m.py": "import ns.inner.mod\nfrom ns import other\n",
        "ns/inner/mod.py": "", "ns/other.py": "", "ns/unused.py": "",
    }) == ["methods/m.py", "ns/inner/mod.py", "ns/other.py"]


def test_method_folder_shadows_repo_root():
    # same search order as the job's sys.path: the method folder first
    assert closure({
        "methods/m.py": "import util\n",
        "methods/util.py": "", "util.py": "",
    }) == ["methods/m.py", "methods/util.py"]
    assert closure({"methods/m.py": "import util\n", "util.py": ""}) == ["methods/m.py", "util.py"]


def test_local_file_shadowing_a_stdlib_name_is_included():
    # conservative: a repo file named like a stdlib module is hashed (it may
    # be the one imported); an extra source can only cause a rebuild, never a wrong reuse
    assert closure({
        "methods/m.py": "import json, statistics\n",
        "methods/statistics.py": "",
    }) == ["methods/m.py", "methods/statistics.py"]


def test_conditional_and_function_level_imports_count():
    assert closure({
        "methods/m.py": """
            try:
                import _fast as impl
            except ImportError:
                import _slow as impl
            if False:
                import _never
            def synthesis():
                import _late
                from _later import x
            class C:
                import _in_class
        """,
        "methods/_fast.py": "", "methods/_slow.py": "", "methods/_never.py": "",
        "methods/_late.py": "", "methods/_later.py": "", "methods/_in_class.py": "",
    }) == ["methods/_fast.py", "methods/_in_class.py", "methods/_late.py", "methods/_later.py",
           "methods/_never.py", "methods/_slow.py", "methods/m.py"]


def test_unresolved_names_are_ignored():
    assert closure({
        "methods/m.py": "import numpy, os.path\nfrom nowhere.at.all import x\nfrom _a import *\nimport _a.missing\n",
        "methods/_a.py": "",
    }) == ["methods/_a.py", "methods/m.py"]


def test_cycles_terminate():
    assert closure({
        "methods/m.py": "import _a\n",
        "methods/_a.py": "import _b\n",
        "methods/_b.py": "import _a\nimport m\n",
    }) == ["methods/_a.py", "methods/_b.py", "methods/m.py"]


def test_package_cycle_through_init():
    assert closure({
        "methods/m.py": "import p\n",
        "p/__init__.py": "from . import q\n",
        "p/q.py": "from p import r\nimport p\n",
        "p/r.py": "from .q import x\n",
    }) == ["methods/m.py", "p/__init__.py", "p/q.py", "p/r.py"]


def test_method_at_repo_root():
    assert closure({"m.py": "import h\n", "h.py": "", "methods/h.py": ""}, start="m.py", roots=[""]) == ["h.py", "m.py"]


def test_import_refs_shapes():
    tree = parse_source(b"import a.b as c, d\nfrom ..e import f\nfrom . import g\nfrom h import *\n", "x.py")
    assert sorted(import_refs(tree), key=repr) == sorted([
        (0, "a.b", []), (0, "d", []), (2, "e", ["f"]), (1, None, ["g"]), (0, "h", [])], key=repr)


def test_syntax_error_in_imported_helper_names_file_and_line():
    with pytest.raises(MethodError) as ei:
        closure({"methods/m.py": "import _bad\n", "methods/_bad.py": "x = 1\ndef (:\n"})
    assert str(ei.value).startswith("methods/_bad.py:2: syntax error")
