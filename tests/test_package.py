"""The package's shape (docs/design.md): one-way layers (import-linter's
contract in pyproject.toml), no import cycle, no private name imported from
another module, small modules, every declared dependency used, and a job
process that loads only what running a job needs."""
from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "accelgit"
MODULES = sorted(p for p in PKG.rglob("*.py") if "_hooks" not in p.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path):
    """``(module imported, names, line)`` of every accelgit import in ``path``,
    at any depth, except those under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skip |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("accelgit"):
            assert node.level == 0, f"{path}:{node.lineno}: relative import"
            yield node.module, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("accelgit"):
                    yield a.name, [], node.lineno


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(ROOT)): n for p in MODULES if (n := len(p.read_text().splitlines())) > 400}
    assert not long


def test_no_private_name_is_imported_from_another_module():
    found = [f"{p.relative_to(ROOT)}:{line}: {mod}.{name}" for p in MODULES for mod, names, line in imports_of(p)
             for name in names if name.startswith("_") and name != "__version__"]
    assert not found


def test_no_import_cycle():
    names = {module_name(p) for p in MODULES}
    graph = {}
    for p in MODULES:
        deps = set()
        for mod, imported, _ in imports_of(p):
            for target in [f"{mod}.{n}" for n in imported] + [mod]:
                if target in names:
                    deps.add(target)
                    break
        graph[module_name(p)] = deps - {module_name(p), "accelgit"}
    state: dict[str, int] = {}

    def visit(m, path):
        state[m] = 1
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(d):] + [d]))
            if d not in state:
                visit(d, path + [d])
        state[m] = 2
    for m in sorted(graph):
        if m not in state:
            visit(m, [m])


def test_the_layers_contract_holds():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 1 kept, 0 broken." in proc.stdout
    for layer in ("cli", "commands", "plan", "build", "api", "store", "methods", "git", "config", "core"):
        assert (PKG / layer).is_dir() or (PKG / f"{layer}.py").is_file(), layer
        assert f'"accelgit.{layer}"' in (ROOT / "pyproject.toml").read_text()


def test_every_declared_dependency_is_imported():
    text = (ROOT / "pyproject.toml").read_text()
    deps = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M).group(1)
    names = [re.match(r"[A-Za-z0-9_.-]+", d).group(0).lower() for d in re.findall(r'"([^"]+)"', deps)]
    imported = set()
    for p in MODULES:
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    import_name = {"pynacl": "nacl"}           # distributions imported under another name
    assert names and all(import_name.get(n, n) in imported for n in names), (names, sorted(imported))
    assert "gitpython" not in names and "git" not in imported - {"accelgit"}


def test_a_job_process_loads_no_sqlite_and_nothing_of_the_layers_above_it(repo):
    repo.write("methods/probe.py", """\
        import sys


        def synthesis():
            return {"modules": sorted(m for m in sys.modules if m == "sqlite3" or m.startswith("accelgit")),
                    "path": sys.path}
    """)
    repo.write("build.py", """\
        def main(urd):
            urd.build("probe")
    """)
    repo.commit("probe")
    for env in ({}, {"ACCELGIT_FORKSERVER": "0"}):
        proc = repo.run("build", "--json", env=env, check=True)
        job = json.loads(proc.stdout)["jobs"][0]
        seen = json.loads((Path(job["path"]) / "result.json").read_text())
        # accelgit's own folder is not on the method's path (its sub-packages would shadow a
        # method's `import git` or `import core`); the folder above it is
        assert str(PKG) not in seen["path"] and str(ROOT) in seen["path"], seen["path"]
        loaded = seen["modules"]
        assert "sqlite3" not in loaded
        assert {m.split(".")[1] for m in loaded if m.count(".")} <= {"core", "git", "store", "api", "build"}, loaded
        assert [m for m in loaded if m.startswith("accelgit.git.")] == ["accelgit.git.filehash"], loaded
        assert not [m for m in loaded if m.startswith(("accelgit.store.index", "accelgit.store.workdir"))], loaded
        shutil.rmtree(job["path"])
