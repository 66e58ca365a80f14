"""``accelgit hooks install | uninstall | status``: git hook scripts.

An installed hook is the template ``hooks/hook.sh`` (shipped in the wheel as
``accelgit/_hooks/hook.sh``) with the hook's name and this Python filled in.
Its second line is the marker that tells it is ours.  A hook that was there
before is renamed ``<hook>.accelgit-orig`` (a rename: bytes, mode and links
are kept as they are), runs first from our script, and is renamed back by
``uninstall``.  The hooks folder is git's own (``git rev-parse --git-path
hooks``): ``core.hooksPath`` if set, else the common git dir's ``hooks/``,
shared by linked worktrees; a submodule's is under the superproject's
``.git/modules/``.
"""
from __future__ import annotations

import os
import shlex
import sys

from accelgit.core.errors import UsageError

HOOKS = ("pre-commit", "post-merge", "post-checkout")

MARKER = "# accelgit-hook:"

ORIG = ".accelgit-orig"

TEMPLATE = "hook.sh"


def template_path() -> str:
    """The hook template: package data in an installed accelgit, else the
    top-level ``hooks/`` folder of a source checkout (editable install)."""
    import accelgit
    here = os.path.dirname(os.path.abspath(accelgit.__file__))
    for cand in (os.path.join(here, "_hooks", TEMPLATE), os.path.join(os.path.dirname(here), "hooks", TEMPLATE)):
        if os.path.isfile(cand):
            return cand
    raise UsageError(f"accelgit's hook template is missing: looked for _hooks/{TEMPLATE} in {here} "
                     f"and hooks/{TEMPLATE} beside it (reinstall accelgit)")


def render(hook: str, python: str | None = None) -> str:
    with open(template_path(), encoding="utf-8") as f:
        text = f.read()
    return text.replace("@HOOK@", hook).replace("@PYTHON@", shlex.quote(python or sys.executable))


def hooks_dir(repo) -> str:
    """Where git looks for this repo's hooks (core.hooksPath honoured)."""
    out = repo.git(["rev-parse", "--git-path", "hooks"]).stdout.decode("utf-8", "surrogateescape").strip()
    return os.path.normpath(os.path.join(repo.root, os.path.expanduser(out)))


def hooks_path_config(repo) -> str | None:
    proc = repo.git(["config", "--get", "core.hooksPath"], check=False)
    return proc.stdout.decode("utf-8", "surrogateescape").strip() or None if proc.returncode == 0 else None


def is_ours(path: str) -> bool:
    """Whether ``path`` is a hook script accelgit installed (marker line)."""
    if os.path.islink(path) or not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError:
        return False
    return any(line.startswith(MARKER.encode()) for line in head.splitlines()[:3])


def installed_python(path: str) -> str | None:
    """The Python an installed hook of ours calls."""
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("python="):
                    parts = shlex.split(line[len("python="):])
                    return parts[0] if parts else None
    except (OSError, ValueError):
        pass
    return None


def _check_names(names: list[str]) -> list[str]:
    for n in names:
        if n not in HOOKS:
            raise UsageError(f"unknown hook '{n}' (accelgit has: {', '.join(HOOKS)})")
    return list(dict.fromkeys(names)) or list(HOOKS)


def _write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.accelgit-tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)


def install(repo, names: list[str], python: str | None = None) -> dict:
    """Install (or refresh) our hooks; keep and chain any other hook."""
    names = _check_names(names)
    folder = hooks_dir(repo)
    os.makedirs(folder, exist_ok=True)
    # Check everything before changing anything.
    for n in names:
        path, orig = os.path.join(folder, n), os.path.join(folder, n + ORIG)
        present = os.path.lexists(path)
        if present and not is_ours(path) and os.path.lexists(orig):
            raise UsageError(f"cannot install the {n} hook: {path} is not accelgit's and {orig} exists too; "
                             f"move one of them away first")
        if os.path.isdir(path) and not os.path.islink(path):
            raise UsageError(f"cannot install the {n} hook: {path} is a folder")
    out = []
    for n in names:
        path, orig = os.path.join(folder, n), os.path.join(folder, n + ORIG)
        text = render(n, python)
        if is_ours(path):
            with open(path, encoding="utf-8", errors="replace") as f:
                same = f.read() == text and os.access(path, os.X_OK)
            action = "unchanged" if same else "updated"
        else:
            action = "installed"
            if os.path.lexists(path):
                os.rename(path, orig)
        if action != "unchanged":
            _write_atomic(path, text)
        out.append({"name": n, "path": path, "action": action,
                    "chained": orig if os.path.lexists(orig) else None})
    return {"hooks_dir": folder, "hooks": out}


def uninstall(repo, names: list[str]) -> dict:
    """Remove our hooks; put back, byte for byte, any hook they replaced."""
    names = _check_names(names)
    folder = hooks_dir(repo)
    out = []
    for n in names:
        path, orig = os.path.join(folder, n), os.path.join(folder, n + ORIG)
        restored = None
        if is_ours(path):
            os.remove(path)
            action = "removed"
        elif os.path.lexists(path):
            out.append({"name": n, "path": path, "action": "not accelgit's: left alone", "restored": None})
            continue
        else:
            action = "not installed"
        if os.path.lexists(orig):
            os.rename(orig, path)
            restored = path
        out.append({"name": n, "path": path, "action": action, "restored": restored})
    return {"hooks_dir": folder, "hooks": out}


def status(repo, config) -> dict:
    folder = hooks_dir(repo)
    out = []
    for n in HOOKS:
        path, orig = os.path.join(folder, n), os.path.join(folder, n + ORIG)
        python = None
        current = True
        if is_ours(path):
            state = "installed"
            python = installed_python(path)
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    current = f.read() == render(n, python)
            except (OSError, UsageError):
                current = False
        elif os.path.lexists(path):
            state = "other"
        else:
            state = "absent"
        out.append({"name": n, "state": state, "path": path,
                    "chained": orig if os.path.lexists(orig) else None,
                    "python": python, "python_ok": bool(python) and os.access(python, os.X_OK),
                    "current": current,
                    "policy": config.hooks[n.replace("-", "_")]})
    return {"hooks_dir": folder, "core_hooks_path": hooks_path_config(repo), "hooks": out}
