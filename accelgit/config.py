"""Configuration: ``accelgit.toml`` at the repo root, or ``[tool.accelgit]`` in
pyproject.toml (SPEC §2).  No file means the defaults."""
from __future__ import annotations

import os
import sys
from typing import Any

from accelgit.core.errors import ConfigError

DEFAULT_SCRIPTS = ("build.py", "build_*.py", "methods/build_*.py")

GC_KEEP = ("branches", "all-commits")
EXECUTORS = ("local", "dask")
DASK_SCHEDULER_ENV = "ACCELGIT_DASK_SCHEDULER"     # overrides [executor] address
HOOK_POLICIES = {
    "pre_commit": ("warn", "block", "off"),
    "post_merge": ("warn", "build", "off"),
    "post_checkout": ("warn", "off"),
}


class Config:
    """A repo's accelgit.toml, defaults filled in.  (A plain class, not a
    dataclass: every command imports this module, and ``dataclasses`` brings
    ``inspect`` with it, ~3 ms of a start; docs/benchmarks.md.)"""

    def __init__(self, root: str, source: str | None = None):
        self.root = root
        self.source = source                # file the config came from, or None for defaults
        self.methods: list[str] = ["methods"]
        self.scripts: list[str] = list(DEFAULT_SCRIPTS)
        self.target_workdir = "local"
        self.workdirs: dict[str, str] = {"local": ".accelgit/work"}
        self.slices = 4
        self.trusted_keys: list[str] = []   # public keys whose jobs may be loaded (store/keys.py)
        self.hooks: dict[str, str] = {k: v[0] for k, v in HOOK_POLICIES.items()}
        self.gc_keep = "branches"           # [gc] keep: "branches" (local branch tips, HEAD, tags) | "all-commits"
        self.gc_grace_days: float = 14      # [gc] grace_days: jobs built more recently are kept
        self.executor = "local"             # [executor] kind: "local" (fork server) | "dask"
        self.executor_address = ""          # [executor] address: the Dask scheduler, "tcp://host:8786"
        self.executor_timeout: float = 10   # [executor] timeout: seconds to reach the scheduler and a worker
        self.urd: str | None = None         # the urd lists' file (a path from the repo root); None: in the target workdir

    def __repr__(self) -> str:
        return f"Config(root={self.root!r}, source={self.source!r})"

    def workdir_path(self, name: str) -> str:
        path = os.path.expanduser(self.workdirs[name])
        return path if os.path.isabs(path) else os.path.join(self.root, path)


def _toml_loads(text: str, where: str) -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{where}: not valid TOML: {e}") from None


def _expect(where: str, key: str, value: Any, kind: type | tuple, what: str) -> Any:
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: '{key}' must be {what}, not {type(value).__name__}")
    return value


def _choice(where: str, key: str, value: Any, choices: tuple) -> Any:
    if value not in choices:
        raise ConfigError(f"{where}: '{key}' must be one of {', '.join(repr(c) for c in choices)}, not {value!r}")
    return value


def _number(where: str, key: str, value: Any, unit: str, zero: bool) -> float:
    """A number of ``unit``: 0 or more (``zero``), else more than 0."""
    _expect(where, key, value, (int, float), f"a number of {unit}")
    if isinstance(value, bool) or value < 0 or (value == 0 and not zero):
        raise ConfigError(f"{where}: '{key}' must be a number of {unit}, {'0 or more' if zero else 'more than 0'}")
    return value


def _str_list(where: str, key: str, value: Any) -> list[str]:
    _expect(where, key, value, list, "a list of strings")
    for v in value:
        _expect(where, key, v, str, "a list of strings")
    return list(value)


def parse_config(data: dict, root: str, where: str) -> Config:
    cfg = Config(root=root, source=where)
    known = {"methods", "scripts", "target_workdir", "workdirs", "hooks", "slices", "gc", "trusted_keys", "executor",
             "urd"}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown key '{key}' (known: {', '.join(sorted(known))})")
        if key == "methods":
            cfg.methods = _str_list(where, key, value)
            if not cfg.methods:
                raise ConfigError(f"{where}: 'methods' must name at least one folder")
            for m in cfg.methods:
                if os.path.isabs(m) or ".." in m.replace("\\", "/").split("/"):
                    raise ConfigError(f"{where}: 'methods' entry '{m}' must be a folder inside the repo")
        elif key == "scripts":
            cfg.scripts = _str_list(where, key, value)
        elif key == "urd":
            cfg.urd = _expect(where, key, value, str, "a path string")
        elif key == "target_workdir":
            cfg.target_workdir = _expect(where, key, value, str, "a string")
        elif key == "trusted_keys":
            cfg.trusted_keys = _str_list(where, key, value)
        elif key == "slices":
            cfg.slices = _expect(where, key, value, int, "an integer")
            if not 1 <= cfg.slices <= 256:
                raise ConfigError(f"{where}: 'slices' must be between 1 and 256")
        elif key == "workdirs":
            _expect(where, key, value, dict, "a table of name = path")
            cfg.workdirs = {}
            for name, path in value.items():
                cfg.workdirs[name] = _expect(where, f"workdirs.{name}", path, str, "a path string")
        elif key == "gc":
            _expect(where, key, value, dict, "a table")
            for gk, gv in value.items():
                if gk == "keep":
                    cfg.gc_keep = _choice(where, "gc.keep", gv, GC_KEEP)
                elif gk == "grace_days":
                    cfg.gc_grace_days = _number(where, "gc.grace_days", gv, "days", zero=True)
                else:
                    raise ConfigError(f"{where}: unknown key 'gc.{gk}' (known: grace_days, keep)")
        elif key == "executor":
            _executor(cfg, value, where)
        elif key == "hooks":
            _expect(where, key, value, dict, "a table")
            for hk, hv in value.items():
                if hk not in HOOK_POLICIES:
                    raise ConfigError(f"{where}: unknown key 'hooks.{hk}' (known: {', '.join(HOOK_POLICIES)})")
                _expect(where, f"hooks.{hk}", hv, str, "a string")
                if hv not in HOOK_POLICIES[hk]:
                    raise ConfigError(f"{where}: 'hooks.{hk}' must be one of {', '.join(repr(p) for p in HOOK_POLICIES[hk])}, not {hv!r}")
                cfg.hooks[hk] = hv
    if cfg.target_workdir not in cfg.workdirs:
        raise ConfigError(f"{where}: target_workdir '{cfg.target_workdir}' is not one of the [workdirs] ({', '.join(cfg.workdirs) or 'none'})")
    return cfg


def _executor(cfg: Config, value: Any, where: str) -> None:
    _expect(where, "executor", value, dict, "a table")
    for k, v in value.items():
        if k == "kind":
            cfg.executor = _choice(where, "executor.kind", v, EXECUTORS)
        elif k == "address":
            cfg.executor_address = _expect(where, "executor.address", v, str, "a string (tcp://host:port)")
        elif k == "timeout":
            cfg.executor_timeout = _number(where, "executor.timeout", v, "seconds", zero=False)
        else:
            raise ConfigError(f"{where}: unknown key 'executor.{k}' (known: address, kind, timeout)")


def load_config(root: str, text_of=None) -> Config:
    """The config of the repo at ``root``.  ``text_of(relpath) -> str | None``
    reads a file from another view (index, commit); default: the work tree."""
    if text_of is None:
        def text_of(rel: str) -> str | None:
            try:
                with open(os.path.join(root, rel), encoding="utf-8") as f:
                    return f.read()
            except FileNotFoundError:
                return None
            except UnicodeDecodeError as e:
                raise ConfigError(f"{rel}: not UTF-8 text (byte {e.start}: {e.reason})") from None
            except IsADirectoryError:
                raise ConfigError(f"{rel}: is a folder, not a file") from None
            except OSError as e:
                raise ConfigError(f"{rel}: cannot be read: {e.strerror or e}") from None
    text = text_of("accelgit.toml")
    if text is not None:
        return parse_config(_toml_loads(text, "accelgit.toml"), root, "accelgit.toml")
    text = text_of("pyproject.toml")
    if text is not None and "accelgit" in text:
        data = _toml_loads(text, "pyproject.toml").get("tool", {}).get("accelgit")
        if data is not None:
            if not isinstance(data, dict):
                raise ConfigError("pyproject.toml: [tool.accelgit] must be a table")
            return parse_config(data, root, "pyproject.toml [tool.accelgit]")
    return Config(root=root)


def config_of_view(root: str, view) -> Config:
    """The config as ``view`` (an index or a commit) holds it: its own accelgit.toml."""
    def text_of(rel: str):
        if not view.exists(rel):
            return None
        try:
            return view.read(rel).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(f"{rel} ({view.label}): not UTF-8 text (byte {e.start}: {e.reason})") from None
    return load_config(root, text_of)
