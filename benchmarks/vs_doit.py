#!/usr/bin/env python3
"""accelgit next to doit on the same many-method pipelines, in one run.

    pip install -e '.[bench]'            # doit
    python benchmarks/vs_doit.py [--n 1000] [--repeats 3] [--shapes mchain,mfan]
        [--doit inproc,fork,exec] [--tmp /dev/shm]

The pipelines are benchmarks/run.py's ``mchain`` and ``mfan``: every step is
its own method file (``methods/a_sNNNN.py``), a trivial ``synthesis``.  For
doit each step is a task whose ``file_dep`` are its method file and its
input's output, whose ``targets`` is its own output, and whose action runs the
method file (``runpy``) and writes the result as JSON: the same work, in
doit's model.  The action runs the step in one of three ways (``--doit``):

* ``inproc``: in doit's own process (a Python action): no isolation at all;
* ``fork``: in a child forked from doit's process, waited for (a Python
  action): a process per task, as accelgit runs a job (SPEC: "a job runs in a
  new process"), at the cheapest a plain doit can have it;
* ``exec``: ``python step.py ...`` (a command action), as doit users usually
  write a task that runs a script, and as Snakemake's ``script:`` runs one.

Rows, each the median of ``--repeats`` runs, interleaved (accelgit, then each
doit, then the other way round ...), wall seconds:

* first build: from a fresh copy of the repository;
* no-op build: nothing changed;
* dry run after a mid edit: the middle method file gets a comment appended;
  accelgit ``plan``, doit ``list --status`` (what each would run);
* rebuild after the edit: ``build``, ``doit``.

Exits with a message when doit is not installed.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as bench  # noqa: E402 - the pipelines of run.py

DODO = '''\
import json
import os
import runpy
import sys

SHAPE, N, ACTION = {shape!r}, {n}, {action!r}
STEPS = ["s0000"] + [f"s{{i:04d}}" for i in range(1, N)] if SHAPE == "mchain" else \\
    ["src"] + [f"l{{i:04d}}" for i in range(1, N)]
DOIT_CONFIG = {{"verbosity": 0, "dep_file": ".doit.db"}}


def run_step(name, method, inputs, out):
    ns = runpy.run_path(method)
    jobs = {{"prev" if SHAPE == "mchain" else "src": json.load(open(p)) for p in inputs}}
    result = ns["synthesis"](jobs) if inputs else ns["synthesis"]()
    with open(out, "w") as f:
        json.dump(result, f)


def fork_step(name, method, inputs, out):
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            run_step(name, method, inputs, out)
            code = 0
        finally:
            os._exit(code)
    return os.waitpid(pid, 0)[1] == 0


def task_step():
    os.makedirs("out", exist_ok=True)
    for i, name in enumerate(STEPS):
        method = f"methods/a_{{name}}.py"
        if i == 0:
            inputs = []
        else:
            inputs = [f"out/{{STEPS[i - 1] if SHAPE == 'mchain' else STEPS[0]}}.json"]
        out = f"out/{{name}}.json"
        if ACTION == "exec":
            action = [sys.executable, "step.py", SHAPE, method, out] + inputs
        else:
            action = (run_step if ACTION == "inproc" else fork_step, [name, method, inputs, out])
        yield {{"name": name, "actions": [action], "file_dep": [method] + inputs, "targets": [out]}}
'''

# the exec action's script: one step in a fresh interpreter
STEP = '''\
import json
import runpy
import sys

shape, method, out, inputs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
ns = runpy.run_path(method)
jobs = {"prev" if shape == "mchain" else "src": json.load(open(p)) for p in inputs}
result = ns["synthesis"](jobs) if inputs else ns["synthesis"]()
with open(out, "w") as f:
    json.dump(result, f)
'''

ACTIONS = {"inproc": "doit in process", "fork": "doit, fork per task", "exec": "doit, python per task"}


def timed(cmd, cwd, env) -> tuple[float, str]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd)} failed in {cwd} ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return took, proc.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--shapes", default="mchain,mfan")
    ap.add_argument("--doit", default="inproc,fork,exec", help="how doit's actions run the steps: inproc,fork,exec")
    ap.add_argument("--tmp", help="make the repositories here")
    args = ap.parse_args()
    actions = args.doit.split(",")
    if not actions or any(a not in ACTIONS for a in actions):
        sys.exit(f"vs_doit: --doit takes some of {','.join(ACTIONS)}, not {args.doit!r}")
    try:
        import doit
    except ImportError:
        sys.exit("vs_doit: doit is not installed (pip install -e '.[bench]')")
    base = tempfile.mkdtemp(prefix="accelgit-vs-doit-", dir=args.tmp)
    home = os.path.join(base, "home")
    os.makedirs(home)
    env = bench.env_for(home)
    ag = bench.accelgit_cmd()
    dt = [sys.executable, "-m", "doit"]
    results: dict[tuple, list[float]] = {}
    counts: dict[tuple, str] = {}
    tools = ["accelgit"] + actions
    try:
        for shape in args.shapes.split(","):
            template = bench.make_pipeline(base, shape, args.n, env)
            with open(os.path.join(template, "step.py"), "w", encoding="utf-8") as f:
                f.write(STEP)
            for k in range(args.repeats):
                for tool in (tools if k % 2 == 0 else tools[::-1]):
                    path = os.path.join(base, f"{shape}-{tool}-{k}")
                    shutil.copytree(template, path, symlinks=True)
                    if tool == "accelgit":
                        build, dry = ag + ["build"], ag + ["plan"]
                    else:
                        with open(os.path.join(path, "dodo.py"), "w", encoding="utf-8") as f:
                            f.write(DODO.format(shape=shape, n=args.n, action=tool))
                        build, dry = dt, dt + ["list", "--status"]
                    for row, cmd in (("first build", build), ("no-op build", build)):
                        results.setdefault((shape, row, tool), []).append(timed(cmd, path, env)[0])
                    bench.set_edit(path, shape, args.n, k + 1)
                    took, out = timed(dry, path, env)
                    results.setdefault((shape, "dry run after a mid edit", tool), []).append(took)
                    if tool != "accelgit":
                        counts[(shape, tool)] = f"{sum(1 for ln in out.splitlines() if ln.startswith('R '))} to run"
                    else:
                        counts[(shape, tool)] = out.strip().splitlines()[-1] if out.strip() else ""
                    results.setdefault((shape, "rebuild after the edit", tool), []).append(timed(build, path, env)[0])
                    # (deleted at the end, not here: on ext4 a first build soon after deleting
                    # thousands of files pays for it, see docs/benchmarks.md)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"# {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, doit "
          f"{doit.__version__}, N = {args.n}, median of {args.repeats} interleaved runs, wall seconds")
    print("| shape | step | accelgit | " + " | ".join(ACTIONS[a] for a in actions) + " | "
          + " | ".join(f"accelgit / ({ACTIONS[a]})" for a in actions) + " |")
    print("|---|---|" + "---:|" * (1 + 2 * len(actions)))
    for shape in args.shapes.split(","):
        for row in ("first build", "no-op build", "dry run after a mid edit", "rebuild after the edit"):
            a = statistics.median(results[(shape, row, "accelgit")])
            ds = [statistics.median(results[(shape, row, t)]) for t in actions]
            print(f"| {shape} | {row} | {a:.3f} | " + " | ".join(f"{d:.3f}" for d in ds) + " | "
                  + " | ".join(f"{a / d:.2f}" for d in ds) + " |")
        print(f"| {shape} | (dry run says) | {counts[(shape, 'accelgit')]} | "
              + " | ".join(counts[(shape, t)] for t in actions) + " |" + " |" * len(actions))


if __name__ == "__main__":
    main()
