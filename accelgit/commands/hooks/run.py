"""``accelgit hook run NAME [ARGS...]``: what an installed git hook does.

* pre-commit: plan the staged tree (the index git is about to commit, which
  for ``git commit -a`` / ``git commit PATHS`` is a temporary index named by
  GIT_INDEX_FILE) and compare it with the plan of HEAD's tree: the jobs of
  the staged plan that HEAD's plan does not have are what the commit
  invalidates.  Policy ``block`` fails the hook when some of them are not
  built yet.
* post-merge: the same between ORIG_HEAD and HEAD (a squash merge: HEAD and
  the index); policy ``build`` builds what is missing right away.
* post-checkout (branch switches only): how many of the checked-out commit's
  jobs are built already, and which are missing.

A hook never costs the user a commit through a bug of ours: any error prints
one line and exits 0, unless the policy is ``block``.  Output goes to stdout,
which git sends on to stderr.
"""
from __future__ import annotations

import os
import sys

from accelgit.config import config_of_view
from accelgit.core.errors import EXIT_INTERNAL, AccelgitError, UsageError

HOOKS = ("pre-commit", "post-merge", "post-checkout")

SHOW = 10          # jobs listed by name; the rest are counted


class Outcome:
    def __init__(self):
        self.lines: list[str] = []
        self.exit = 0
        self.data: dict = {}

# --------------------------------------------------------------- planning


def _plan(repo, view, explain=True, baseline=None):
    """The plan of ``view`` (a compact ``plan.Plan``, read like the ``plan --json``
    document; its reasons against ``baseline``), or None when the view has no build script."""
    from accelgit.build.scripts import find_scripts
    from accelgit.plan.document import run_plan
    config = config_of_view(repo.root, view)
    try:
        find_scripts(view, config, None)
    except UsageError:
        return None
    return run_plan(repo, config, view, scripts=None, cwd=repo.root, explain=explain, baseline=baseline,
                    capture=True)


def _ids(plan) -> set:
    return {j["id"] for j in plan["jobs"]} if plan else set()


def _reason_text(job: dict) -> str:
    if job["action"] == "reuse":
        return "built already"
    parts = []
    for r in job.get("reasons") or []:
        detail = r.get("detail")
        parts.append(f"{r['kind']}: {detail}" if detail else r["kind"])
    return "; ".join(parts) or "not built yet"


def _job_lines(jobs: list[dict], more_hint: str) -> list[str]:
    width = max((len(j["name"]) for j in jobs[:SHOW]), default=0)
    out = [f"  {j['action']:<5}  {j['name']:<{width}}  {_reason_text(j)}" for j in jobs[:SHOW]]
    if len(jobs) > SHOW:
        out.append(f"  ... and {len(jobs) - SHOW} more ({more_hint})")
    return out


def _headline(changed: list[dict], unbuilt: list[dict], what: str, where: str, more_hint: str) -> list[str]:
    """"N jobs invalidated by this commit ...", then the jobs (just their
    names when all are built already)."""
    head = f"accelgit: {_plural(len(changed), 'job')} invalidated by this {what}"
    if not unbuilt:
        names = ", ".join(j["name"] for j in changed[:SHOW]) + (", ..." if len(changed) > SHOW else "")
        return [f"{head}, all built already: {names}"]
    return [f"{head} ({len(unbuilt)} not built yet{where}):"] + _job_lines(changed, more_hint)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _public(job: dict) -> dict:
    return {k: job.get(k) for k in ("id", "method", "name", "action", "reasons")}


def _compare(repo, old_commit: str | None, new_view, label: str) -> tuple[dict | None, list[dict]]:
    """(new plan, its jobs that the plan of ``old_commit`` does not have); the
    reasons compare with ``old_commit`` too (``label`` names it: "HEAD")."""
    from accelgit.plan.baseline import Baseline
    base = Baseline(repo, old_commit, label)
    new = _plan(repo, new_view, baseline=base)
    if new is None:
        return None, []
    base.plan()                 # planned already if a reason needed it; scripts broken there: all is new
    return new, [j for j in new["jobs"] if j["id"] not in base.ids]


def _changed(a, b) -> set:
    """Paths whose blob differs between two tree views (added and removed too)."""
    x = {p: e[1] for p, e in a.entries.items()}
    y = {p: e[1] for p, e in b.entries.items()}
    return {p for p in x.keys() | y.keys() if x.get(p) != y.get(p)}


def _declared_paths(view, config) -> set:
    """The data files (``files``) and ``depend_extra`` files every method of
    ``view`` declares, read from the method files' declarations only."""
    import posixpath

    from accelgit.core.errors import MethodError
    from accelgit.methods.declarations import Method, parse_declarations
    folders = [posixpath.normpath(f.replace("\\", "/")).strip("/") or "." for f in config.methods]
    out = set()
    for p in view.paths():
        folder, base = posixpath.split(p)
        if (folder or ".") not in folders or not base.endswith(".py") or base.startswith("_"):
            continue
        m = Method(name=base[:-3], path=p, folder=folder or ".")
        try:
            parse_declarations(m, view.read(p))
        except (MethodError, SyntaxError, ValueError):
            pass                # not a method (a build script), or broken on both sides alike
        for f in (*m.files, *m.depend_extra):
            out.add(posixpath.normpath(f))
            out.add(posixpath.normpath(posixpath.join(folder, f)))
    return out


def _could_matter(repo, changed: set, view) -> bool:
    """Whether a change of ``changed`` paths can change any job id.  Only
    Python files, the config, and files a method declares enter an identity;
    with no Python file changed, the declarations are the same on both sides."""
    if not changed:
        return False
    if any(p.endswith(".py") or p in ("accelgit.toml", "pyproject.toml") for p in changed):
        return True
    return bool(changed & _declared_paths(view, config_of_view(repo.root, view)))


def _stopped(plan: dict) -> list[str]:
    if plan.get("complete", True):
        return []
    msgs = [st.get("message") or st.get("where") for st in plan.get("stopped") or []] or ["a build script stopped"]
    return [f"accelgit: the plan is incomplete ({m}); more jobs may follow" for m in msgs]

# --------------------------------------------------------------- the hooks


def pre_commit(repo, config, args, policy, index_file) -> Outcome:
    from accelgit.git.views import CommitView, IndexView
    out = Outcome()
    staged = IndexView(repo, index_file=index_file)
    head = repo.head()
    base = CommitView(repo, head) if head else None
    try:
        if base is not None and not _could_matter(repo, _changed(base, staged), staged):
            return out
        plan, changed = _compare(repo, head, staged, "HEAD")
    finally:
        staged.close()
        if base is not None:
            base.close()
    unbuilt = _invalidated(out, plan, changed, "commit", " for the staged content", "accelgit plan --staged")
    if unbuilt is None:
        return out
    if unbuilt and policy == "block":
        out.lines.append("accelgit: commit blocked (hooks.pre_commit = \"block\"): run 'accelgit build' "
                         "first, or commit with --no-verify")
        out.exit = 1
    elif unbuilt:
        out.lines.append("accelgit: 'accelgit build' builds them")
    return out


def _invalidated(out: Outcome, plan, changed, what: str, suffix: str, hint: str):
    """Fill ``out`` with the jobs a change invalidated; the unbuilt ones, or None
    when there is nothing to say."""
    if plan is None:
        return None
    unbuilt = [j for j in changed if j["action"] == "build"]
    out.data = {"invalidated": lambda: [_public(j) for j in changed], "unbuilt": [j["id"] for j in unbuilt],
                "complete": plan["complete"]}
    if not changed:
        return None
    out.lines += _headline(changed, unbuilt, what, suffix, hint)
    out.lines += _stopped(plan)
    return unbuilt


def post_merge(repo, config, args, policy, index_file) -> Outcome:
    from accelgit.git.views import CommitView, IndexView
    out = Outcome()
    squash = (args[:1] or [os.environ.get("PRE_COMMIT_IS_SQUASH_MERGE", "0")])[0] == "1"
    head = repo.head()
    if head is None:
        return out
    if squash:              # the merge is staged, not committed
        old, new = CommitView(repo, head), IndexView(repo)
    else:
        if repo.git(["rev-parse", "-q", "--verify", "ORIG_HEAD"], check=False).returncode != 0:
            return out
        old, new = CommitView(repo, "ORIG_HEAD"), CommitView(repo, head)
    try:
        if not _could_matter(repo, _changed(old, new), new):
            return out
        plan, changed = _compare(repo, old.commit, new, "HEAD" if squash else "ORIG_HEAD")
    finally:
        old.close()
        new.close()
    unbuilt = _invalidated(out, plan, changed, "merge", "", f"accelgit report --base {old.label[:12]}")
    if unbuilt is None:
        return out
    if not unbuilt and plan["complete"]:
        return out
    if policy != "build":
        out.lines.append("accelgit: 'accelgit build' builds them")
        return out
    _flush(out)
    print("accelgit: building (hooks.post_merge = \"build\")", flush=True)
    from accelgit.build.scheduler import run_build
    from accelgit.core.errors import BuildFailed
    try:
        session = run_build(repo, config, None, cwd=repo.root)
    except BuildFailed as e:
        out.lines.append(f"accelgit: the build failed: {e}")
        out.exit = 1
        return out
    built = sum(1 for r in session.records if r["action"] == "built")
    reused = sum(1 for r in session.records if r["action"] == "reused")
    out.data["built"] = built
    out.lines.append(f"accelgit: {built} built, {reused} reused ({_plural(len(session.records), 'job')})")
    return out


def post_checkout(repo, config, args, policy, index_file) -> Outcome:
    from accelgit.git.views import CommitView
    out = Outcome()
    env = os.environ
    prev, new, flag = (list(args) + [None, None, None])[:3] if args else (
        env.get("PRE_COMMIT_FROM_REF"), env.get("PRE_COMMIT_TO_REF"), env.get("PRE_COMMIT_CHECKOUT_TYPE"))
    if flag != "1" or not new or prev == new:
        return out                      # a file checkout, or nothing moved
    view = CommitView(repo, new)
    try:
        if prev and set(prev) != {"0"}:
            try:
                old = CommitView(repo, prev)
            except AccelgitError:
                old = None
            if old is not None:
                try:
                    same = not _could_matter(repo, _changed(old, view), view)
                finally:
                    old.close()         # (its git processes, also when the comparison fails)
                if same:
                    return out
        from accelgit.plan.baseline import Baseline
        old_commit = old.commit if prev and set(prev) != {"0"} and old is not None else None
        plan = _plan(repo, view, baseline=Baseline(repo, old_commit, "the previous HEAD"))
    finally:
        view.close()
    if plan is None or not plan["jobs"]:
        return out
    missing = [j for j in plan["jobs"] if j["action"] == "build"]
    built = len(plan["jobs"]) - len(missing)
    out.data = {"missing": lambda: [_public(j) for j in missing], "built": built, "complete": plan["complete"]}
    total = _plural(len(plan["jobs"]), "job")
    if missing:
        out.lines.append(f"accelgit: {len(missing)} of {total} not built for this commit "
                         f"({built} built already); 'accelgit build' builds them:")
        out.lines += _job_lines(missing, "accelgit plan")
    else:
        out.lines.append(f"accelgit: all {total} of this commit are built already")
    out.lines += _stopped(plan)
    return out


RUN = {"pre-commit": pre_commit, "post-merge": post_merge, "post-checkout": post_checkout}

# --------------------------------------------------------------- entry point


def _flush(out: Outcome) -> None:
    for line in out.lines:
        print(line)
    sys.stdout.flush()
    out.lines = []


def hook_run_command(*, directory: str | None, as_json: bool, name: str, args: list[str]) -> int:
    """``accelgit hook run NAME [ARGS...]``: what an installed hook calls."""
    if name not in HOOKS:
        raise UsageError(f"unknown hook '{name}' (accelgit has: {', '.join(HOOKS)})")
    # Captured before anything else: in pre-commit it may name git's temporary
    # index (git commit -a / git commit PATHS); every other GIT_* variable git
    # set for the hook is cleared by find_repo.
    index_file = os.environ.get("GIT_INDEX_FILE") or None
    if index_file:
        index_file = os.path.abspath(index_file)
    if os.environ.get("ACCELGIT_SKIP_HOOKS") == "1":
        return 0
    key = name.replace("-", "_")
    policy = "warn"
    try:
        from accelgit.config import load_config
        from accelgit.git.repo import find_repo
        repo = find_repo(directory or ".")
        config = load_config(repo.root)
        policy = config.hooks[key]
        if policy == "off":
            out = Outcome()
        else:
            if os.environ.get("ACCELGIT_TEST_HOOK_FAIL") == name:     # fault injection (tests)
                raise RuntimeError("injected failure")
            out = RUN[name](repo, config, args, policy, index_file)
    except KeyboardInterrupt:
        raise
    except Exception as e:  # noqa: BLE001 - never lose a commit to a bug of ours
        if os.environ.get("ACCELGIT_DEBUG") == "1":
            import traceback
            traceback.print_exc()
        internal = not isinstance(e, AccelgitError)
        what = f"internal error: {type(e).__name__}: {e}" if internal else str(e)
        blocks = policy == "block"
        after = ("the commit is blocked (hooks.pre_commit = \"block\"; --no-verify skips the hook)"
                 if blocks else "git goes on")
        print(f"accelgit: {name} hook: {what}; {after}", file=sys.stderr)
        code = 0 if not blocks else EXIT_INTERNAL if internal else max(1, e.exit_code)
        if as_json:
            from accelgit.commands.output import emit
            emit({"hook": name, "policy": policy, "exit": code, "error": what})
        return code
    if as_json:
        from accelgit.commands.output import emit
        emit({"hook": name, "policy": policy, "exit": out.exit,       # (lists of jobs made only here)
              **{k: v() if callable(v) else v for k, v in out.data.items()}})
    else:
        _flush(out)
    return out.exit
