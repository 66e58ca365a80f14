"""The Typer app, made from ``spec.COMMANDS``: parsing, shell completion, and
help (git's layout, from spec.py).  Each command only hands its keyword
arguments to ``main.dispatch``; argument errors are one ``accelgit:`` line.
"""
from __future__ import annotations

import inspect
import sys
from typing import Annotated, List, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from accelgit import __version__
from accelgit.cli import spec
from accelgit.cli.dispatch import dispatch, exit_code_of, handle_error


class _Command(TyperCommand):
    """Help as spec.py writes it (no type labels, git's usage line)."""
    accelgit_cmd: spec.Cmd

    def format_help(self, ctx, formatter) -> None:
        formatter.write(spec.command_help(self.accelgit_cmd))


class _Group(TyperGroup):
    accelgit_group: str | None = None

    def format_help(self, ctx, formatter) -> None:
        group = ctx.info_name if ctx.parent is not None else None
        formatter.write(spec.group_help(group) if group in spec.GROUPS else spec.main_help())


HELP = {"help_option_names": ["-h", "--help"]}


def _parameter(p) -> inspect.Parameter:
    if isinstance(p, spec.Arg):
        typ = Optional[List[str]] if p.many else str if p.required else Optional[str]
        info = typer.Argument(metavar=p.metavar, help=p.help, show_default=False)
        default = inspect.Parameter.empty if p.required else None
    else:
        typ = {"flag": bool, "str": Optional[str], "int": Optional[int], "strs": Optional[List[str]]}[p.kind]
        kw = {"help": p.help, "show_default": False}
        if p.metavar:
            kw["metavar"] = p.metavar
        if p.kind == "int":
            kw["min"] = p.minimum
        info = typer.Option(*p.flags, **kw)
        default = inspect.Parameter.empty if p.required else False if p.kind == "flag" else p.default
    return inspect.Parameter(p.dest, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[typ, info])


def _function(cmd: spec.Cmd):
    def command(**kw):
        for p in cmd.params + spec.COMMON:
            if isinstance(p, spec.Arg) and p.many or isinstance(p, spec.Opt) and p.kind == "strs":
                kw[p.dest] = list(kw.get(p.dest) or [])
        raise typer.Exit(dispatch(cmd, kw))
    params = [_parameter(p) for p in cmd.params + spec.COMMON]
    command.__signature__ = inspect.Signature(params)
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__doc__ = cmd.summary
    command.__name__ = cmd.words[-1].replace("-", "_")
    return command


def _version(value: bool) -> None:
    if value:
        print(f"accelgit {__version__}")
        raise typer.Exit(0)


def build_app() -> typer.Typer:
    app = typer.Typer(cls=_Group, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                      help=spec.SUMMARY, context_settings=HELP)

    @app.callback()
    def _top(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                   help="print accelgit's version")] = False,
             directory: Annotated[Optional[str], typer.Option("-C", metavar="DIR", help=spec.DIRECTORY.help)] = None,
             as_json: Annotated[bool, typer.Option("--json", help=spec.JSON.help)] = False):
        """-C and --json before the command are moved behind it (fast.hoist_global_options)
        before parsing; declared here too, so that help and completion show them."""

    groups = {}
    for group, text in spec.GROUPS.items():
        groups[group] = typer.Typer(cls=_Group, no_args_is_help=True, rich_markup_mode=None, help=text,
                                    context_settings=HELP)
        app.add_typer(groups[group], name=group)
    for cmd in spec.COMMANDS:
        owner = groups[cmd.words[0]] if len(cmd.words) == 2 else app
        command_cls = type(f"_Command_{cmd.words[-1]}", (_Command,), {"accelgit_cmd": cmd})
        settings = dict(HELP, ignore_unknown_options=True) if any(a.rest for a in spec.arguments(cmd)) else HELP
        owner.command(cmd.words[-1], cls=command_cls, context_settings=settings, help=cmd.summary)(_function(cmd))
    return app


def _is_click_error(e: BaseException) -> bool:
    """Click's (Typer's vendored click's) usage errors, without naming click."""
    return callable(getattr(e, "format_message", None)) and isinstance(getattr(e, "exit_code", None), int)


def run(args: list[str]) -> int:
    """Parse ``args`` with Typer and run the command (main.main sends here what
    the fast parser leaves)."""
    try:
        command = typer.main.get_command(build_app())
        return exit_code_of(command.main(args=args, prog_name="accelgit", standalone_mode=False))
    except typer.Exit as e:
        return e.exit_code
    except typer.Abort:
        return handle_error(KeyboardInterrupt())
    except Exception as e:  # noqa: BLE001 - a usage error if click says so, else handle_error's
        if _is_click_error(e) and type(e).__name__ == "NoArgsIsHelpError":
            print(e.format_message().rstrip("\n"))        # a group called alone: its help, as git does
            return e.exit_code
        if _is_click_error(e):
            ctx = getattr(e, "ctx", None)
            where = f"{ctx.command_path.replace('accelgit', '', 1).strip()}: " if ctx is not None and ctx.parent else ""
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            message = " ".join(e.format_message().split()).rstrip(".")
            print(f"accelgit: {where}{message[0].lower() + message[1:] if message else 'usage error'}{hint}",
                  file=sys.stderr)
            return e.exit_code
        return handle_error(e)
