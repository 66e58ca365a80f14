"""``accelgit report``: plan both sides from git (base and head, or the
index), compare them (compare.py) and write the report as markdown, JSON or
HTML, to stdout or a file."""
from __future__ import annotations

import json

from accelgit.commands.report.compare import FORMATS, build_report
from accelgit.core.errors import AccelgitError, GitError, UsageError

# ---------------------------------------------------------------- command


def _view(repo, rev: str, option: str):
    from accelgit.git.views import CommitView
    try:
        return CommitView(repo, rev)
    except GitError as e:
        raise GitError(f"{option}: {e}") from None


def _collect(repo, config, view, rev: str, option: str, cwd):
    """One side; its errors say which side.  A side without build scripts
    (say, a base from before accelgit was set up) has no jobs."""
    from accelgit.build.scripts import find_scripts
    from accelgit.commands.report.collect import Side, collect
    try:
        find_scripts(view, config, None, cwd)
    except UsageError:
        return Side(label=view.label, rev=rev, view=view)
    try:
        return collect(repo, config, view, rev, cwd=cwd)
    except AccelgitError as e:
        try:
            err = type(e)(f"{option} {rev}: {e}")
        except TypeError:
            raise e from None
        raise err from None


def report_command(repo, config, *, cwd: str, as_json: bool, base: str, head: str | None, staged: bool, fmt: str,
                   output: str | None) -> int:
    fmt = "json" if as_json else fmt
    from accelgit.git.views import IndexView
    if fmt not in FORMATS:
        raise UsageError(f"unknown --format '{fmt}': use markdown, json or html")
    if staged and head:
        raise UsageError("--head and --staged cannot be used together")
    base_view = _view(repo, base, "--base")
    head_view = IndexView(repo) if staged else _view(repo, head or "HEAD", "--head")
    try:
        base_side = _collect(repo, config, base_view, base, "--base", cwd)
        head_side = _collect(repo, config, head_view, "index" if staged else head or "HEAD",
                             "--staged" if staged else "--head", cwd)
        doc = build_report(repo, base_side, head_side)
    finally:
        base_view.close()
        head_view.close()
    from accelgit.commands.output import write_document
    write_document(render(doc, fmt), output, cwd, "report")
    return 0


def render(doc: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    if fmt == "html":
        from accelgit.commands.report.html import render_html
        return render_html(doc)
    from accelgit.commands.report.markdown import render_markdown
    return render_markdown(doc)
