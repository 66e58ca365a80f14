"""The ``accelgit hooks install|uninstall|status`` commands: printing only.

Installing lives in install.py, what a hook does in run.py.
"""
from __future__ import annotations

import os

from accelgit.commands.output import emit


def install_command(repo, config, *, cwd: str, as_json: bool, hook: list[str]) -> int:
    from accelgit.commands.hooks.install import install
    res = install(repo, hook)
    if as_json:
        emit(res)
        return 0
    for h in res["hooks"]:
        chained = f" (runs your earlier hook first: {os.path.basename(h['chained'])})" if h["chained"] else ""
        word = {"installed": "installed", "updated": "updated  ", "unchanged": "unchanged"}[h["action"]]
        print(f"{word}  {h['name']:<13} {h['path']}{chained}")
    print("policies: " + ", ".join(f"{k} = {v!r}" for k, v in config.hooks.items())
          + f"  ({config.source or 'defaults'}, section [hooks])")
    return 0


def uninstall_command(repo, config, *, cwd: str, as_json: bool, hook: list[str]) -> int:
    from accelgit.commands.hooks.install import uninstall
    res = uninstall(repo, hook)
    if as_json:
        emit(res)
        return 0
    for h in res["hooks"]:
        back = "; put back your earlier hook" if h["restored"] else ""
        print(f"{h['action']}  {h['name']:<13} {h['path']}{back}")
    return 0


def status_command(repo, config, *, cwd: str, as_json: bool) -> int:
    from accelgit.commands.hooks.install import status
    res = status(repo, config)
    if as_json:
        emit(res)
        return 0
    where = f" (core.hooksPath = {res['core_hooks_path']})" if res["core_hooks_path"] else ""
    print(f"hooks folder: {res['hooks_dir']}{where}")
    for h in res["hooks"]:
        if h["state"] == "installed":
            state = "installed"
            if h["chained"]:
                state += f", runs {os.path.basename(h['chained'])} first"
            if not h["python_ok"]:
                state += f"; its Python {h['python']} is gone: falls back to accelgit on PATH"
            if not h["current"]:
                state += "; written by another accelgit version: run 'accelgit hooks install'"
        elif h["state"] == "other":
            state = "not installed (another hook is there)"
        else:
            state = "not installed"
        print(f"  {h['name']:<13}  policy {h['policy']:<5}  {state}")
    return 0
