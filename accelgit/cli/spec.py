"""Every command and option of ``accelgit``, declared once.

Three things are made from this table and nothing else: the Typer app
(``app.py``: parsing, help, shell completion), the fast parser (``fast.py``:
the simple command lines of ``build``, ``plan`` and ``hook run``, which run
on every edit and every commit, parsed without importing Typer), and the
help text.  ``main.dispatch`` runs a command's ``target``.

Only the standard library: the fast path imports this module.
"""
from __future__ import annotations


class Opt:
    """An option: ``flags`` (``("-j", "--jobs")``), ``dest`` (the keyword the
    command function gets), ``kind`` ("flag" | "str" | "int" (>= 1) | "strs":
    repeatable).  (Plain classes, not dataclasses: this module is imported by
    every command, and a dataclass costs a compile at import.)"""
    __slots__ = ("flags", "dest", "kind", "metavar", "help", "default", "required", "minimum")

    def __init__(self, flags: tuple[str, ...], dest: str, kind: str, metavar: str = "", help: str = "",
                 default: object = None, required: bool = False, minimum: int = 1):
        self.flags, self.dest, self.kind, self.metavar = flags, dest, kind, metavar
        self.help, self.default, self.required, self.minimum = help, default, required, minimum

    @property
    def spelling(self) -> str:
        return ", ".join(self.flags) + (f" {self.metavar}" if self.metavar else "")


class Arg:
    """A positional argument; ``many``: zero or more; ``rest``: everything after
    it is passed on as is (hook run's git arguments)."""
    __slots__ = ("dest", "metavar", "help", "many", "required", "rest")

    def __init__(self, dest: str, metavar: str, help: str, many: bool = False, required: bool = False,
                 rest: bool = False):
        self.dest, self.metavar, self.help = dest, metavar, help
        self.many, self.required, self.rest = many, required, rest


class Cmd:
    """A command: ``name`` ("build", "hooks install", "hook run"), ``target``
    ("module:function", called as function(repo, config, as_json=, cwd=,
    **options)); ``fast``: simple command lines are parsed by fast.py; ``repo``
    False: the function gets directory= instead of repo and config."""
    __slots__ = ("name", "summary", "params", "target", "fast", "repo")

    def __init__(self, name: str, summary: str, params: tuple, target: str, fast: bool = False,
                 repo: bool = True):
        self.name, self.summary, self.params, self.target = name, summary, params, target
        self.fast, self.repo = fast, repo

    @property
    def words(self) -> list[str]:
        return self.name.split()


DIRECTORY = Opt(("-C",), "directory", "str", "DIR", "run as if started in DIR (as git -C)")
JSON = Opt(("--json",), "as_json", "flag", help="machine-readable JSON on stdout")
COMMON = (DIRECTORY, JSON)

SCRIPTS = Arg("scripts", "SCRIPT", "build scripts (default: the configured globs)", many=True)
HOOK_NAMES = Opt(("--hook",), "hook", "strs", "NAME",
                 "pre-commit, post-merge or post-checkout (repeatable; default: all three)")

COMMANDS: tuple[Cmd, ...] = (
    Cmd("init", "write accelgit.toml, methods/, an example build.py and a .gitignore entry", (),
        "accelgit.commands.init:init_command"),
    Cmd("build", "run build scripts: build what is missing, reuse the rest", (
        SCRIPTS,
        Opt(("-j", "--jobs"), "jobs", "int", "N", "jobs in parallel (default: the number of cores; with Dask, the "
                                                 "threads of the workers)"),
        Opt(("--target",), "target", "strs", "NAME", "build only this job (a job name or method) and what it "
                                                      "needs, nothing downstream (repeatable)"),
        Opt(("--force",), "force", "strs", "NAME", "rebuild this job (a name or method) even if it exists, as "
                                                    "force_build=True (repeatable)"),
        Opt(("-q", "--quiet"), "quiet", "flag", help="print only errors: no progress, no summary"),
        Opt(("-v", "--verbose"), "verbose", "flag", help="show each job's output as it runs, and every job built"),
        Opt(("--executor",), "executor", "str", "KIND", "where jobs run: local (this machine) or dask "
                                                        "(a Dask cluster; default: [executor] kind)"),
        Opt(("--scheduler",), "scheduler", "str", "ADDR", "the Dask scheduler, tcp://HOST:PORT (implies "
                                                          "--executor dask; default: $ACCELGIT_DASK_SCHEDULER, "
                                                          "[executor] address)"),
    ), "accelgit.commands.build:build_command", fast=True),
    Cmd("plan", "dry run: every job the scripts would use, reuse or build, and why", (
        SCRIPTS,
        Opt(("--staged",), "staged", "flag", help="plan the index: exactly what a commit would hold"),
        Opt(("--at",), "at", "str", "REV", "plan any commit, branch or tag, without a checkout"),
        Opt(("--exit-code",), "exit_code", "flag", help="exit 1 when anything would be built"),
        Opt(("-v", "--verbose"), "verbose", "flag", help="list every job, also where a script has more than 20"),
    ), "accelgit.commands.plan:plan_command", fast=True),
    Cmd("verify", "check stored jobs: integrity, identity, currency, provenance, reproducibility", (
        Arg("jobs", "JOB", "jobs: id, unique prefix, directory name or path (default: the jobs the "
                           "current build scripts use)", many=True),
        Opt(("--all",), "all_jobs", "flag", help="every job in every workdir: integrity and identity, and whether "
                                                 "the current scripts use it"),
        Opt(("--script",), "scripts", "strs", "SCRIPT", "the jobs a build script uses (repeatable)"),
        Opt(("--at",), "at", "str", "REV", "check currency against this commit"),
        Opt(("--rerun",), "rerun", "flag", help="rebuild each job in a scratch folder and compare"),
        Opt(("--strict",), "strict", "flag", help="jobs built from uncommitted content fail"),
        Opt(("-v", "--verbose"), "verbose", "flag", help="list every check of every job, not only the failures"),
    ), "accelgit.commands.verify.command:verify_command"),
    Cmd("report", "code-review report of which jobs a change invalidates, and why", (
        Opt(("--base",), "base", "str", "REV", "the revision the change starts from", required=True),
        Opt(("--head",), "head", "str", "REV", "the changed revision (default: HEAD)"),
        Opt(("--staged",), "staged", "flag", help="compare with the index instead of a commit"),
        Opt(("--format",), "fmt", "str", "FORMAT", "markdown, json or html (default: markdown)", "markdown"),
        Opt(("-o", "--output"), "output", "str", "FILE", "write here instead of stdout"),
    ), "accelgit.commands.report.command:report_command"),
    Cmd("dag", "the whole pipeline as a graph: every job the scripts use, built, missing, damaged or untrusted", (
        SCRIPTS,
        Opt(("--format",), "fmt", "str", "FORMAT", "mermaid, dot or html (default: mermaid)", "mermaid"),
        Opt(("-o", "--output"), "output", "str", "FILE", "write here instead of stdout"),
    ), "accelgit.commands.dag:dag_command"),
    Cmd("show", "show one job: parameters, inputs, sources, git metadata, result, files", (
        Arg("job", "JOB", "job id, unique prefix, directory name or path", required=True),
    ), "accelgit.commands.inspect:show_command"),
    Cmd("log", "list built jobs, newest first", (
        Opt(("--method",), "method", "str", "NAME", "only jobs of this method"),
        Opt(("-n", "--limit"), "limit", "int", "N", "at most this many (default: 50; 0: all)", 50, minimum=0),
    ), "accelgit.commands.inspect:log_command"),
    Cmd("which", "which job made FILE", (
        Arg("file", "FILE", "a file inside a job directory", required=True),
    ), "accelgit.commands.inspect:which_command"),
    Cmd("gc", "remove failed builds, leftover temp folders, and jobs no build script uses", (
        Opt(("-n", "--dry-run"), "dry_run", "flag", help="only say what would be removed, and why each job is kept"),
        Opt(("--all-commits",), "all_commits", "flag", help="keep what any commit in history uses ([gc] keep)"),
        Opt(("--no-keep-branch-tips",), "no_branch_tips", "flag",
            help="keep what HEAD uses, not every branch tip and tag"),
        Opt(("--workdir",), "workdir", "str", "NAME", "clean this configured workdir (default: the target)"),
    ), "accelgit.commands.gc:gc_command"),
    Cmd("urd list", "the urd lists build scripts keep, or the items of one", (
        Arg("name", "LIST", "a list: its items (default: every list)"),
    ), "accelgit.commands.urd:list_command"),
    Cmd("urd show", "one urd item: its jobs, what it read of other lists, the commit it was made from", (
        Arg("name", "LIST", "the list", required=True),
        Arg("timestamp", "TIMESTAMP", "the item's timestamp (default: the latest)"),
    ), "accelgit.commands.urd:show_command"),
    Cmd("hooks install", "install accelgit's git hooks (a hook you already have is kept and still runs)",
        (HOOK_NAMES,), "accelgit.commands.hooks.command:install_command"),
    Cmd("hooks uninstall", "remove accelgit's git hooks and put back any hook they replaced",
        (HOOK_NAMES,), "accelgit.commands.hooks.command:uninstall_command"),
    Cmd("hooks status", "which accelgit hooks are installed, where, and their policies", (),
        "accelgit.commands.hooks.command:status_command"),
    Cmd("trust show", "your signing key, and the keys whose jobs you trust", (),
        "accelgit.commands.trust:show_command", repo=False),
    Cmd("trust add", "trust the jobs signed by KEY (a teammate's or CI's public key)", (
        Arg("key", "KEY", "a public key, ed25519:BASE64 (accelgit trust show prints yours)", required=True),
    ), "accelgit.commands.trust:add_command", repo=False),
    Cmd("trust remove", "stop trusting KEY", (
        Arg("key", "KEY", "a public key or its key id", required=True),
    ), "accelgit.commands.trust:remove_command", repo=False),
    Cmd("trust sign", "sign jobs with your key: a workdir's unsigned jobs, or the JOBs named (you vouch for them)", (
        Arg("jobs", "JOB", "jobs: id, unique prefix, directory name or path (default: every unsigned job)",
            many=True),
        Opt(("--workdir",), "workdir", "str", "NAME", "the unsigned jobs of this configured workdir "
                                                      "(default: the target)"),
    ), "accelgit.commands.trust:sign_command"),
    Cmd("hook run", "run one hook now (what the installed hook scripts call)", (
        Arg("name", "NAME", "pre-commit, post-merge or post-checkout", required=True),
        Arg("args", "ARG", "the hook's arguments from git", many=True, rest=True),
    ), "accelgit.commands.hooks.run:hook_run_command", fast=True, repo=False),
)

GROUPS = {"hooks": "install, remove or inspect accelgit's git hooks",
          "trust": "your signing key and the keys whose jobs you trust", "hook": "what an installed git hook calls",
          "urd": "the urd lists of build sessions (the Accelerator's Urd)"}
SUMMARY = "Build jobs the Accelerator's way, tied to git: build, plan, verify, report."


def find(words: list[str]) -> Cmd | None:
    """The command named by the first one or two of ``words``."""
    for cmd in COMMANDS:
        if words[:len(cmd.words)] == cmd.words:
            return cmd
    return None


def options(cmd: Cmd) -> tuple[Opt, ...]:
    return tuple(p for p in cmd.params if isinstance(p, Opt)) + COMMON


def arguments(cmd: Cmd) -> tuple[Arg, ...]:
    return tuple(p for p in cmd.params if isinstance(p, Arg))


def defaults(cmd: Cmd) -> dict:
    """The keyword arguments of a command line that gives nothing."""
    out = {}
    for p in cmd.params + COMMON:
        if isinstance(p, Arg):
            out[p.dest] = [] if p.many else None
        else:
            out[p.dest] = False if p.kind == "flag" else [] if p.kind == "strs" else p.default
    return out


# ------------------------------------------------------------------ help text, git's way

def usage(cmd: Cmd) -> str:
    parts = [f"usage: accelgit {cmd.name}"]
    for o in options(cmd):
        if o.required:
            parts.append(f"{o.flags[0]} {o.metavar}")
        else:
            parts.append(f"[{o.flags[0]}{' ' + o.metavar if o.metavar else ''}]")
    for a in arguments(cmd):
        text = a.metavar + ("..." if a.many else "")
        parts.append(text if a.required else f"[{text}]")
    return " ".join(parts)


def _rows(rows: list[tuple[str, str]]) -> list[str]:
    width = min(max((len(a) for a, _ in rows), default=0), 24)
    out = []
    for a, b in rows:
        out.append(f"    {a:<{width}}  {b}" if len(a) <= width else f"    {a}\n    {'':<{width}}  {b}")
    return out


def command_help(cmd: Cmd) -> str:
    lines = [usage(cmd), "", cmd.summary[0].upper() + cmd.summary[1:] + ".", ""]
    rows = [(a.metavar + ("..." if a.many else ""), a.help) for a in arguments(cmd)]
    rows += [(o.spelling, o.help) for o in options(cmd)] + [("-h, --help", "show this help")]
    return "\n".join(lines + _rows(rows)) + "\n"


def group_help(group: str) -> str:
    cmds = [c for c in COMMANDS if c.words[0] == group and len(c.words) == 2]
    lines = [f"usage: accelgit {group} ({'|'.join(c.words[1] for c in cmds)}) [OPTIONS]", "",
             GROUPS[group][0].upper() + GROUPS[group][1:] + ".", ""]
    lines += _rows([(c.words[1], c.summary) for c in cmds])
    return "\n".join(lines) + f"\n\nSee 'accelgit {group} COMMAND --help' for one command.\n"


def main_help() -> str:
    lines = ["usage: accelgit [--version] [-C DIR] [--json] COMMAND [ARGS]", "", SUMMARY, "", "commands:"]
    seen, rows = set(), []
    for c in COMMANDS:
        if len(c.words) == 1:
            rows.append((c.name, c.summary))
        elif c.words[0] not in seen:
            seen.add(c.words[0])
            rows.append((c.words[0], GROUPS[c.words[0]] + f" ({', '.join(x.words[1] for x in COMMANDS if x.words[0] == c.words[0])})"))
    lines += _rows(rows)
    lines += ["", "options (before or after the command):"]
    lines += _rows([(DIRECTORY.spelling, DIRECTORY.help), (JSON.spelling, JSON.help),
                    ("--version", "print accelgit's version"), ("-h, --help", "show this help")])
    return "\n".join(lines) + "\n\nSee 'accelgit COMMAND --help' for one command.\n"
