#!/usr/bin/env python3
"""Before/after: the key commands of two (or more) accelgit checkouts, timed
interleaved on the same pipelines, medians printed as a table.

    python benchmarks/compare.py before=/tmp/old after=. [after-nowarm=.,ACCELGIT_WARMUP=0]
        [--n 1000] [--repeats 5] [--shapes chain,fan] [--only first,noop,plan,hook,log]

A side is ``LABEL=DIR`` (a checkout: its ``accelgit`` package is run with
``python -m accelgit`` and PYTHONPATH=DIR), optionally followed by
``,VAR=VALUE`` environment settings.  Each repeat runs every command once per
side, the sides in turn (the order flipped every repeat), so a machine that
slows down slows every side alike.  Rows:

* first:  ``build`` of a fresh copy of the pipeline (N trivial jobs);
* noop:   ``build`` with nothing to build;
* plan:   ``plan`` after an option edit of the middle job (the chain: half the
  jobs to build);
* hook:   ``hook run pre-commit`` with that edit staged;
* log:    ``log -n 5`` (a command parsed by Typer: start-up).

The pipelines are benchmarks/run.py's (one method shared by every job).
Only the standard library; figures in wall seconds, then the same runs' CPU
seconds (user + system of the command and its children: steadier than wall
time on a machine others use).
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402 - the pipelines of run.py

ROWS = ("first", "noop", "plan", "hook", "log")


def parse_side(text: str) -> tuple[str, str, dict]:
    label, _, rest = text.partition("=")
    parts = rest.split(",")
    env = dict(p.split("=", 1) for p in parts[1:])
    return label, os.path.abspath(parts[0]), env


CPU: dict[tuple, list[float]] = {}      # (shape, row, label) -> CPU seconds of each run


def timed(cmd, cwd, env, key=None) -> float:
    """Wall seconds of ``cmd``; its CPU seconds (user + system, its children
    included: git, the fork server) go to ``CPU[key]``."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
    took = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed in {cwd} ({proc.returncode}):\n{proc.stderr.decode()[-2000:]}")
    if key is not None:
        CPU.setdefault(key, []).append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sides", nargs="+", help="LABEL=DIR[,VAR=VALUE...]")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--shapes", default="chain,fan")
    ap.add_argument("--only", default=",".join(ROWS))
    ap.add_argument("--tmp", help="make the repositories here")
    args = ap.parse_args()
    sides = [parse_side(s) for s in args.sides]
    rows = [r for r in args.only.split(",") if r in ROWS]
    base = tempfile.mkdtemp(prefix="accelgit-compare-", dir=args.tmp)
    home = os.path.join(base, "home")
    os.makedirs(home)
    genv = bench.env_for(home)
    results: dict[tuple, list[float]] = {}
    try:
        for shape in args.shapes.split(","):
            template = bench.make_pipeline(base, shape, args.n, genv)
            repos = {}
            for label, root, extra in sides:
                env = dict(genv, PYTHONPATH=root, **extra)
                path = os.path.join(base, f"{shape}-{label}")
                shutil.copytree(template, path, symlinks=True)
                subprocess.run([sys.executable, "-m", "accelgit", "build"], cwd=path, env=env, check=True,
                               capture_output=True)
                # one fresh copy per repeat for first builds, made now (no deletions before a build)
                fresh = []
                for k in range(args.repeats if "first" in rows else 0):
                    p = os.path.join(base, f"{shape}-{label}-fresh{k}")
                    shutil.copytree(template, p, symlinks=True)
                    fresh.append(p)
                repos[label] = (path, env, fresh)
            cmd = [sys.executable, "-m", "accelgit"]
            for k in range(args.repeats):
                order = sides if k % 2 == 0 else sides[::-1]
                for label, _, _ in order:
                    path, env, fresh = repos[label]
                    if "first" in rows:
                        results.setdefault((shape, "first", label), []).append(
                            timed(cmd + ["build"], fresh[k], env, (shape, "first", label)))
                    if "noop" in rows:
                        results.setdefault((shape, "noop", label), []).append(
                            timed(cmd + ["build"], path, env, (shape, "noop", label)))
                    if "plan" in rows or "hook" in rows:
                        bench.set_edit(path, shape, args.n, 1000 + k)
                        if "plan" in rows:
                            results.setdefault((shape, "plan", label), []).append(
                                timed(cmd + ["plan"], path, env, (shape, "plan", label)))
                        if "hook" in rows:
                            subprocess.run(["git", "add", "-A"], cwd=path, env=env, check=True)
                            results.setdefault((shape, "hook", label), []).append(
                                timed(cmd + ["hook", "run", "pre-commit"], path, env, (shape, "hook", label)))
                            subprocess.run(["git", "reset", "-q"], cwd=path, env=env, check=True)
                        bench.set_edit(path, shape, args.n, 0)
                    if "log" in rows:
                        results.setdefault((shape, "log", label), []).append(
                            timed(cmd + ["log", "-n", "5"], path, env, (shape, "log", label)))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    labels = [s[0] for s in sides]
    for what, table in (("wall seconds", results), ("CPU seconds (user + system, children included)", CPU)):
        print(f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"N = {args.n}, median of {args.repeats} interleaved runs, {what}")
        print_table(table, labels, args.shapes.split(","), rows)
        print()


def print_table(table: dict, labels: list, shapes: list, rows: list) -> None:
    head = "| shape | command | " + " | ".join(labels) + (" | " + " / ".join(labels[1:]) + " vs " + labels[0]
                                                         if len(labels) > 1 else "") + " |"
    print(head)
    print("|" + "---|" * (2 + len(labels) + (1 if len(labels) > 1 else 0)))
    for shape in shapes:
        for row in rows:
            meds = [statistics.median(table[(shape, row, label)]) for label in labels]
            ratio = " / ".join(f"{m / meds[0]:.2f}" for m in meds[1:]) if len(meds) > 1 else ""
            print(f"| {shape} | {row} | " + " | ".join(f"{m:.3f}" for m in meds) + (f" | {ratio}" if ratio else "") + " |")


if __name__ == "__main__":
    main()
