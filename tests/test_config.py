"""Configuration (SPEC §2): accelgit.toml, [tool.accelgit] in pyproject.toml,
defaults, and one clear error per mistake."""
from __future__ import annotations

import json
import os

import pytest

from accelgit.config import DEFAULT_SCRIPTS, load_config
from accelgit.core.errors import ConfigError


def cfg_of(tmp_path, text: str, name: str = "accelgit.toml"):
    (tmp_path / name).write_text(text, encoding="utf-8")
    return load_config(str(tmp_path))


def test_defaults_without_a_file(tmp_path):
    c = load_config(str(tmp_path))
    assert c.source is None
    assert c.methods == ["methods"]
    assert c.scripts == list(DEFAULT_SCRIPTS) == ["build.py", "build_*.py", "methods/build_*.py"]
    assert c.target_workdir == "local"
    assert c.workdirs == {"local": ".accelgit/work"}
    assert c.workdir_path("local") == os.path.join(str(tmp_path), ".accelgit/work")
    assert c.hooks == {"pre_commit": "warn", "post_merge": "warn", "post_checkout": "warn"}


def test_full_file(tmp_path):
    c = cfg_of(tmp_path, """
methods = ["m1", "m2"]
scripts = ["pipelines/*.py"]
target_workdir = "mine"
[workdirs]
mine = "work"
shared = "/srv/shared/work"
[hooks]
pre_commit = "block"
post_merge = "build"
post_checkout = "off"
""")
    assert c.source == "accelgit.toml"
    assert c.methods == ["m1", "m2"] and c.scripts == ["pipelines/*.py"]
    assert c.workdir_path("mine") == os.path.join(str(tmp_path), "work")
    assert c.workdir_path("shared") == "/srv/shared/work"
    assert c.hooks == {"pre_commit": "block", "post_merge": "build", "post_checkout": "off"}


def test_partial_hooks_keep_other_defaults(tmp_path):
    c = cfg_of(tmp_path, '[hooks]\npre_commit = "off"\n')
    assert c.hooks == {"pre_commit": "off", "post_merge": "warn", "post_checkout": "warn"}


def test_pyproject_table(tmp_path):
    c = cfg_of(tmp_path, '[project]\nname = "x"\n[tool.accelgit]\nmethods = ["src/methods"]\n', "pyproject.toml")
    assert c.methods == ["src/methods"]
    assert c.source == "pyproject.toml [tool.accelgit]"


def test_pyproject_without_table_is_defaults(tmp_path):
    c = cfg_of(tmp_path, '[project]\nname = "accelgit-user"\n', "pyproject.toml")
    assert c.source is None and c.methods == ["methods"]


def test_accelgit_toml_wins_over_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.accelgit]\nmethods = ["other"]\n')
    c = cfg_of(tmp_path, 'methods = ["mine"]\n')
    assert c.methods == ["mine"]


@pytest.mark.parametrize("text,message", [
    ("methods = [", "accelgit.toml: not valid TOML"),
    ("bogus = 1\n", "accelgit.toml: unknown key 'bogus'"),
    ('methods = "methods"\n', "accelgit.toml: 'methods' must be a list of strings, not str"),
    ("methods = [1]\n", "accelgit.toml: 'methods' must be a list of strings, not int"),
    ("methods = []\n", "'methods' must name at least one folder"),
    ('methods = ["../outside"]\n', "'methods' entry '../outside' must be a folder inside the repo"),
    ('methods = ["/abs"]\n', "'methods' entry '/abs' must be a folder inside the repo"),
    ("scripts = 3\n", "'scripts' must be a list of strings, not int"),
    ("target_workdir = 1\n", "'target_workdir' must be a string, not int"),
    ('target_workdir = "nope"\n', "target_workdir 'nope' is not one of the [workdirs] (local)"),
    ('workdirs = "x"\n', "'workdirs' must be a table"),
    ("[workdirs]\nlocal = 3\n", "'workdirs.local' must be a path string, not int"),
    ('[hooks]\npre_push = "warn"\n', "unknown key 'hooks.pre_push'"),
    ('[hooks]\npre_commit = "build"\n', "'hooks.pre_commit' must be one of 'warn', 'block', 'off', not 'build'"),
    ("[hooks]\npre_commit = true\n", "'hooks.pre_commit' must be a string, not bool"),
    ("slices = true\n", "'slices' must be an integer, not bool"),
    ("slices = 0\n", "'slices' must be between 1 and 256"),
    ('[executor]\nkind = "slurm"\n', "'executor.kind' must be one of 'local', 'dask', not 'slurm'"),
    ("[executor]\naddress = 8786\n", "'executor.address' must be a string (tcp://host:port), not int"),
    ("[executor]\ntimeout = 0\n", "'executor.timeout' must be a number of seconds, more than 0"),
    ('[executor]\nhost = "x"\n', "unknown key 'executor.host' (known: address, kind, timeout)"),
])
def test_config_errors(tmp_path, text, message):
    with pytest.raises(ConfigError) as ei:
        cfg_of(tmp_path, text)
    assert message in str(ei.value)
    assert "\n" not in str(ei.value)


def test_executor_table(tmp_path):
    c = cfg_of(tmp_path, '[executor]\nkind = "dask"\naddress = "tcp://10.0.0.1:8786"\ntimeout = 2.5\n')
    assert (c.executor, c.executor_address, c.executor_timeout) == ("dask", "tcp://10.0.0.1:8786", 2.5)
    assert load_config(str(tmp_path / "none")).executor == "local"


def test_pyproject_errors_name_the_table(tmp_path):
    with pytest.raises(ConfigError) as ei:
        cfg_of(tmp_path, "[tool.accelgit]\nwat = 1\n", "pyproject.toml")
    assert str(ei.value).startswith("pyproject.toml [tool.accelgit]: unknown key 'wat'")


# ------------------------------------------------------------------ through the CLI

@pytest.mark.parametrize("text,message", [
    ("methods = [\n", "accelgit: accelgit.toml: not valid TOML"),
    ("wat = 1\n", "accelgit: accelgit.toml: unknown key 'wat'"),
])
def test_cli_config_error_is_one_line_exit_2(chain_repo, text, message):
    chain_repo.write("accelgit.toml", text)
    proc = chain_repo.run("build")
    assert proc.returncode == 2
    assert proc.stderr.startswith(message)
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert chain_repo.job_dirs() == []


def test_cli_uses_configured_folders(repo):
    repo.write("accelgit.toml", 'methods = ["src/m"]\nscripts = ["pipe/*.py"]\n[workdirs]\nlocal = "out/w"\n')
    repo.write("src/m/one.py", "def synthesis():\n    return 1\n")
    repo.write("pipe/p.py", "def main(urd):\n    urd.build('one')\n")
    repo.write(".gitignore", "out/\n")
    repo.commit()
    out = repo.build()
    assert [j["method"] for j in out["jobs"]] == ["one"]
    assert out["jobs"][0]["path"].startswith(str(repo.path / "out" / "w") + os.sep)


def test_methods_at_the_repo_root(repo):
    repo.write("accelgit.toml", 'methods = ["."]\n')
    repo.write("_h.py", "X = 2\n")
    repo.write("top.py", "import _h\n\ndef synthesis():\n    return _h.X\n")
    repo.write("build.py", "def main(urd):\n    assert urd.build('top').load() == 2\n")
    out = repo.build()
    params = json.loads((repo.path / out["jobs"][0]["path"] / "job.json").read_text())
    assert sorted(params["sources"]) == ["_h.py", "top.py"]
