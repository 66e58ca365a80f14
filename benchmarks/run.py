#!/usr/bin/env python3
"""accelgit benchmarks: synthetic pipelines, wall time as a user sees it.

    python benchmarks/run.py            # full: chain and fan, N = 10 .. 10000
    python benchmarks/run.py --quick    # under a minute: N up to 1000, fewer repeats
    python benchmarks/run.py --sizes 10,100 --shapes chain --repeats 5 --json out.json

Every figure is the median over several runs of ``accelgit ...`` as a real
subprocess (so it includes interpreter start), in a fresh git repository in
a temp folder.  Shapes:

* chain: ``step`` job i takes job i-1 as its input (``jobs = ("prev",)``);
* fan:   one ``src`` job feeds N-1 ``leaf`` jobs (``jobs = ("src",)``);
* mchain, mfan: the same, but every step is its own method file
  (``methods/a_sNNNN.py``, ``methods/a_lNNNN.py``), so method analysis is paid
  per job; their middle edit is a comment appended to the middle method.

Methods are trivial (``synthesis`` returns an option), so a build measures
accelgit's own cost per job.  The "middle edit" is an option change: the
build script gives the middle job (index N//2) an option ``edit=EDIT`` and the
benchmark rewrites ``EDIT = k`` (a new k for every repeat, so every rebuild
has work).  In a chain that invalidates the middle job and everything after
it (N - N//2 jobs); in a fan only the one middle leaf.  An option edit is used
rather than a method edit because all steps share one method; a method edit
would invalidate every job of that method.

Columns ``plan`` and ``hook`` run ``accelgit plan`` and ``accelgit hook run
pre-commit`` and show ``n/a`` when that command does not exist in this
checkout.  Only the standard library and accelgit itself are used.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

STEP = '''\
options = {"i": 0, "edit": 0}
jobs = ("prev",)


def synthesis(options):
    return options.i
'''
SRC = '''\
def synthesis():
    return 0
'''
LEAF = '''\
options = {"i": 0, "edit": 0}
jobs = ("src",)


def synthesis(options):
    return options.i
'''
CHAIN_SCRIPT = '''\
EDIT = {edit}
N = {n}
MID = N // 2


def main(urd):
    prev = None
    for i in range(N):
        prev = urd.build("step", i=i, edit=EDIT if i == MID else 0, prev=prev)
'''
FAN_SCRIPT = '''\
EDIT = {edit}
N = {n}
MID = N // 2


def main(urd):
    src = urd.build("src")
    for i in range(1, N):
        urd.build("leaf", i=i, edit=EDIT if i == MID else 0, src=src)
'''
# Many methods: every step its own method file (methods/a_sNNNN.py), as doit,
# Snakemake and DVC pipelines are usually compared and as real repositories
# with many small methods look.  The "middle edit" is an edit of the middle
# method's file (a comment appended): its job, and in a chain every job after it.
M_FIRST = '''\
def synthesis():
    return 0
'''
M_STEP = '''\
description = "step {i}"     # every method file its own content, as in a real repository
jobs = ("prev",)


def synthesis(jobs):
    return 1
'''
M_LEAF = '''\
description = "leaf {i}"
jobs = ("src",)


def synthesis(jobs):
    return 1
'''
M_CHAIN_SCRIPT = '''\
N = {n}


def main(urd):
    prev = urd.build("s0000")
    for i in range(1, N):
        prev = urd.build(f"s{{i:04d}}", prev=prev)
'''
M_FAN_SCRIPT = '''\
N = {n}


def main(urd):
    src = urd.build("src")
    for i in range(1, N):
        urd.build(f"l{{i:04d}}", src=src)
'''
MANY = ("mchain", "mfan")         # the shapes with one method per step

READER = '''\
files = ("data/tracked.bin", "data/untracked.bin")


def synthesis(files):
    return 0
'''
READER_SCRIPT = '''\
def main(urd):
    urd.build("reader")
'''

# What an installed hook script runs (hooks/hook.sh), without the shell around it.
HOOK_SCRIPT = "import sys\nfrom accelgit.cli.main import main\nsys.exit(main(['hook', 'run'] + sys.argv[1:]))"

# Measures WorktreeView.blob() in a fresh process: seconds and bytes read.
HASH_PROBE = r'''
import json, sys, time
from accelgit.git.repo import find_repo
from accelgit.git.views import WorktreeView

def rchar():
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("rchar:"):
                return int(line.split()[1])
    return -1

repo = find_repo(sys.argv[1])
view = WorktreeView(repo)
r0, t0 = rchar(), time.perf_counter()
sha = view.blob(sys.argv[2])
t1, r1 = time.perf_counter(), rchar()
view.close()
print(json.dumps({"seconds": t1 - t0, "read": r1 - r0, "sha": sha}))
'''


# ----------------------------------------------------------------- helpers

def env_for(home: str) -> dict:
    # PYTHONDONTWRITEBYTECODE would make every run compile accelgit from source
    # (~30 ms): a user's installed package has its bytecode cached.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GIT_") and k not in ("ACCELGIT_DEBUG", "PYTHONDONTWRITEBYTECODE")}
    env.update({"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
                "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com",
                "GIT_CONFIG_NOSYSTEM": "1", "HOME": home, "GIT_CONFIG_GLOBAL": os.path.join(home, ".gitconfig")})
    return env


def accelgit_cmd() -> list[str]:
    """The installed ``accelgit`` beside this Python, as a user runs it
    (``$ACCELGIT_BENCH_CMD`` overrides, e.g. "python -m accelgit")."""
    if os.environ.get("ACCELGIT_BENCH_CMD"):
        import shlex
        return shlex.split(os.environ["ACCELGIT_BENCH_CMD"])
    exe = os.path.join(os.path.dirname(sys.executable), "accelgit")
    if os.path.isfile(exe) and os.access(exe, os.X_OK):
        return [exe]
    return [sys.executable, "-m", "accelgit"]


class Result:
    def __init__(self, wall: float, rc: int, maxrss_kb: int, out: str, err: str, cpu: float = 0.0):
        self.wall, self.rc, self.maxrss_kb, self.out, self.err = wall, rc, maxrss_kb, out, err
        self.cpu = cpu      # user + system seconds of the child and everything it waited for


# Runs one command and reports its wall time, exit code, peak RSS and CPU.  It
# sits between the benchmark and the command because Linux counts in a child's
# peak RSS the memory of the process it was forked from (the peak is carried
# over exec): a small wrapper keeps the benchmark's own growth out of the figure.
WRAPPER = r"""
import json, os, subprocess, sys, time
t = time.perf_counter()
p = subprocess.Popen(json.loads(sys.argv[1]), stdin=subprocess.DEVNULL)
_, status, ru = os.wait4(p.pid, 0)
wall = time.perf_counter() - t
with open(sys.argv[2], "w") as f:
    json.dump([wall, os.waitstatus_to_exitcode(status), ru.ru_maxrss, ru.ru_utime + ru.ru_stime], f)
"""


def run(cmd: list[str], cwd: str, env: dict, check: bool = True) -> Result:
    """Run ``cmd``: wall seconds (from its start to its end), exit code, peak RSS
    and user+system CPU of it and everything it waited for."""
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe, \
            tempfile.NamedTemporaryFile("r", suffix=".json") as res:
        subprocess.run([sys.executable, "-S", "-c", WRAPPER, json.dumps(cmd), res.name], cwd=cwd, env=env,
                       stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, check=True)
        wall, rc, maxrss, cpu = json.load(res)
        fo.seek(0)
        fe.seek(0)
        out, err = fo.read().decode("utf-8", "replace"), fe.read().decode("utf-8", "replace")
    if check and rc != 0:
        raise SystemExit(f"benchmark: {' '.join(cmd)} exited {rc} in {cwd}:\n{err[-3000:]}")
    return Result(wall, rc, maxrss, out, err, cpu)


def git(args: list[str], cwd: str, env: dict) -> None:
    run(["git", *args], cwd, env)


def has_module(name: str) -> bool:
    """Whether this checkout has module (or package) ``name`` of accelgit (a dotted name)."""
    base = os.path.join(ROOT, "accelgit", *name.split("."))
    return os.path.isfile(base + ".py") or os.path.isdir(base)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ----------------------------------------------------------------- pipelines

def make_pipeline(base: str, shape: str, n: int, env: dict) -> str:
    path = os.path.join(base, f"{shape}-{n}")
    os.makedirs(os.path.join(path, "methods"))
    files = {".gitignore": ".accelgit/\n"}
    if shape == "chain":
        files["methods/step.py"] = STEP
    elif shape == "fan":
        files["methods/src.py"] = SRC
        files["methods/leaf.py"] = LEAF
    elif shape == "mchain":
        files["methods/a_s0000.py"] = M_FIRST
        files.update({f"methods/a_s{i:04d}.py": M_STEP.format(i=i) for i in range(1, n)})
    else:
        files["methods/a_src.py"] = M_FIRST
        files.update({f"methods/a_l{i:04d}.py": M_LEAF.format(i=i) for i in range(1, n)})
    files["build.py"] = script_text(shape, n, 0)
    for rel, text in files.items():
        with open(os.path.join(path, rel), "w", encoding="utf-8") as f:
            f.write(text)
    git(["init", "-q", "-b", "main"], path, env)
    git(["add", "-A"], path, env)
    git(["commit", "-q", "-m", "pipeline"], path, env)
    return path


def script_text(shape: str, n: int, edit: int) -> str:
    script = {"chain": CHAIN_SCRIPT, "fan": FAN_SCRIPT, "mchain": M_CHAIN_SCRIPT, "mfan": M_FAN_SCRIPT}[shape]
    return script.format(n=n, edit=edit)


def set_edit(path: str, shape: str, n: int, edit: int) -> None:
    """The middle edit number ``edit`` (0: none): an option in the build script, or,
    for the many-method shapes, a comment at the end of the middle method's file."""
    if shape in MANY:
        rel = f"methods/a_{'s' if shape == 'mchain' else 'l'}{n // 2:04d}.py"
        text = (M_STEP if shape == "mchain" else M_LEAF).format(i=n // 2)
        with open(os.path.join(path, rel), "w", encoding="utf-8") as f:
            f.write(text + (f"# edit {edit}\n" if edit else ""))
        return
    with open(os.path.join(path, "build.py"), "w", encoding="utf-8") as f:
        f.write(script_text(shape, n, edit))


def job_walls(path: str) -> tuple[float | None, float | None]:
    """Mean wall seconds the jobs' processes recorded (profile.json): the whole
    job process (loading the method, running it, writing the result), and the
    method's own phases (prepare, analysis, synthesis): "the job's own work"."""
    work = os.path.join(path, ".accelgit", "work")
    walls, methods = [], []
    for name in os.listdir(work):
        try:
            with open(os.path.join(work, name, "profile.json"), encoding="utf-8") as f:
                prof = json.load(f)
            walls.append(prof["wall"])
            methods.append(sum(ph["wall"] for k, ph in prof["phases"].items() if k != "setup"))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    if not walls:
        return None, None
    return sum(walls) / len(walls), sum(methods) / len(methods)


def wipe_work(path: str, trash: str | None = None) -> None:
    """Remove the workdir; with ``trash``, move it there instead (deleted at
    the end of the benchmark): on ext4, creating files right after deleting
    thousands is much slower than a user's first build ever is."""
    work = os.path.join(path, ".accelgit")
    if trash and os.path.exists(work):
        os.makedirs(trash, exist_ok=True)
        os.rename(work, os.path.join(trash, f"w{len(os.listdir(trash))}"))
    else:
        shutil.rmtree(work, ignore_errors=True)


def bench_pipeline(base: str, shape: str, n: int, repeats: int, build_repeats: int, env: dict,
                   ag: list[str], log) -> dict:
    path = make_pipeline(base, shape, n, env)
    trash = os.path.join(base, "trash")
    row = {"shape": shape, "n": n}
    # first build (fresh workdir each repeat)
    firsts, cpus = [], []
    for k in range(build_repeats):
        wipe_work(path, trash)
        r = run(ag + ["build"], path, env)
        firsts.append(r.wall)
        cpus.append(r.cpu)
        log(f"  {shape} N={n} first build #{k + 1}: {r.wall:.3f}s (cpu {r.cpu:.2f}s)")
    own, method_own = job_walls(path)
    noop_runs = [run(ag + ["build"], path, env) for _ in range(repeats)]
    noops = [r.wall for r in noop_runs]
    log(f"  {shape} N={n} no-op build: {median(noops):.3f}s")
    row["first_build"], row["noop_build"] = median(firsts), median(noops)
    # per job: wall beyond a no-op build; "own" is the runner's wall inside the
    # job process (profile.json); CPU counts every process of the build
    row["per_job_ms"] = (row["first_build"] - row["noop_build"]) / n * 1000
    row["job_own_ms"] = own * 1000 if own is not None else None
    row["method_ms"] = method_own * 1000 if method_own is not None else None
    # the target's "overhead beyond the job's own work": wall per job minus the method's phases
    row["overhead_ms"] = row["per_job_ms"] - row["method_ms"] if method_own is not None else None
    row["cpu_per_job_ms"] = (median(cpus) - median([r.cpu for r in noop_runs])) / n * 1000
    # plan after the middle edit, then the rebuild; a new edit value each time
    plans, plans_json, rebuilds, rss = [], [], [], []
    rebuilt = None
    have_plan = has_module("plan")
    for k in range(max(repeats if have_plan else 0, build_repeats)):
        set_edit(path, shape, n, k + 1)
        if have_plan:
            r = run(ag + ["plan"], path, env, check=False)
            if r.rc in (0, 1):
                plans.append(r.wall)
                rss.append(r.maxrss_kb)
                r = run(ag + ["plan", "--json"], path, env, check=False)
                plans_json.append(r.wall)
            else:
                log(f"  plan failed ({r.rc}): {r.err.strip().splitlines()[-1:] }")
        if k < build_repeats:
            r = run(ag + ["build", "--json"], path, env)
            rebuilds.append(r.wall)
            try:
                rebuilt = sum(1 for j in json.loads(r.out)["jobs"] if j["action"] == "built")
            except (ValueError, KeyError):
                rebuilt = None
    row["plan"] = median(plans)
    row["plan_json"] = median(plans_json)
    row["plan_rss_kb"] = median(rss)
    row["rebuild"] = median(rebuilds)
    row["rebuilt_jobs"] = rebuilt
    log(f"  {shape} N={n} plan: {_fmt(row['plan'])} s, rebuild ({rebuilt} jobs): {row['rebuild']:.3f}s")
    # pre-commit hook with a staged edit that would invalidate jobs
    # (CLI: ``accelgit hook run``; installed: what the installed hook script runs)
    hooks, hooks_direct = [], []
    if has_module("commands.hooks"):
        set_edit(path, shape, n, 10_000)
        git(["add", "-A"], path, env)
        direct = [sys.executable, "-c", HOOK_SCRIPT, "pre-commit"]
        for _ in range(repeats):
            r = run(ag + ["hook", "run", "pre-commit"], path, env, check=False)
            if r.rc not in (0, 1):
                log(f"  hook failed ({r.rc}): {r.err.strip().splitlines()[-1:]}")
                break
            hooks.append(r.wall)
            if direct:
                r = run(direct, path, env, check=False)
                if r.rc in (0, 1):
                    hooks_direct.append(r.wall)
    row["hook"] = median(hooks)
    row["hook_installed"] = median(hooks_direct)
    log(f"  {shape} N={n} pre-commit hook: {_fmt(row['hook'])} s (installed hook: {_fmt(row['hook_installed'])} s)")
    # Not deleted now: on ext4, creating files within ~30 s of deleting thousands
    # scans past the "recently deleted" inodes (a next first build measured up to
    # twice as slow).  The whole temp folder is deleted at the end.
    os.makedirs(trash, exist_ok=True)
    os.rename(path, os.path.join(trash, "repo"))
    os.rename(trash, os.path.join(base, f"done-{shape}-{n}"))
    return row


# ----------------------------------------------------------------- data-file hashing

def bench_hashing(base: str, size_mb: int, repeats: int, env: dict, log) -> list[dict]:
    path = os.path.join(base, "hashing")
    os.makedirs(os.path.join(path, "methods"))
    os.makedirs(os.path.join(path, "data"))
    for rel, text in {".gitignore": ".accelgit/\ndata/untracked.bin\n", "methods/reader.py": READER,
                      "build.py": READER_SCRIPT}.items():
        with open(os.path.join(path, rel), "w", encoding="utf-8") as f:
            f.write(text)
    block = os.urandom(1 << 20)
    for name in ("tracked.bin", "untracked.bin"):
        with open(os.path.join(path, "data", name), "wb") as f:
            for i in range(size_mb):
                f.write(block[i % 7:] + block[:i % 7])
    # Data files are older than the racy-git window (2 s), as real data files are.
    old = time.time() - 3600
    for name in ("tracked.bin", "untracked.bin"):
        os.utime(os.path.join(path, "data", name), (old, old))
    git(["init", "-q", "-b", "main"], path, env)
    git(["add", "-A"], path, env)
    git(["commit", "-q", "-m", "data"], path, env)
    size = size_mb * (1 << 20)
    probe_env = dict(env)
    probe_env["PYTHONPATH"] = (env["PYTHONPATH"] + os.pathsep if env.get("PYTHONPATH") else "") + ROOT

    def probe(rel: str) -> dict:
        r = run([sys.executable, "-c", HASH_PROBE, path, rel], path, probe_env)
        return json.loads(r.out)

    def cache_reset():
        gd = os.path.join(path, ".git")
        for name in os.listdir(gd):
            if name.startswith("accelgit"):
                p = os.path.join(gd, name)
                shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)
        wipe_work(path)

    rows = []

    def case(label: str, rel: str, prepare):
        firsts, reruns = [], []
        for _ in range(repeats):
            prepare()
            firsts.append(probe(rel))
            reruns.append(probe(rel))
        for when, samples in (("first", firsts), ("unchanged re-run", reruns)):
            secs = median([s["seconds"] for s in samples])
            read = median([s["read"] for s in samples])
            rows.append({"file": label, "when": when, "size_mb": size_mb, "seconds": secs,
                         "read_mb": read / (1 << 20), "mb_per_s": size / (1 << 20) / secs if read >= size else None})
            log(f"  hashing {label}, {when}: {secs:.4f}s, read {read / (1 << 20):.1f} MB")

    case("untracked", "data/untracked.bin", cache_reset)
    case("tracked, clean", "data/tracked.bin", cache_reset)

    def touch():
        cache_reset()
        t = time.time() - 600 - len(rows)        # stat differs from git's index, content does not
        os.utime(os.path.join(path, "data", "tracked.bin"), (t, t))
    case("tracked, touched", "data/tracked.bin", touch)
    shutil.rmtree(path, ignore_errors=True)
    return rows


# ----------------------------------------------------------------- report

def _fmt(x, spec=".3f") -> str:
    return "n/a" if x is None else format(x, spec)


def machine() -> dict:
    git_v = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    try:
        sys.path.insert(0, ROOT)
        from accelgit import __version__ as av
    except Exception:  # noqa: BLE001
        av = "?"
    return {"cores": os.cpu_count(), "python": platform.python_version(), "git": git_v.replace("git version ", ""),
            "platform": platform.platform(), "accelgit": av, "load_avg_start": [round(x, 2) for x in os.getloadavg()]}


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [headers] + rows) for i in range(len(headers))]
    line = lambda r: "| " + " | ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |"  # noqa: E731
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [line(r) for r in rows])


def report(m: dict, rows: list[dict], hashing: list[dict], repeats: int) -> str:
    base = {}
    for r in rows:
        base.setdefault(r["shape"], r)
    out = [f"machine: {m['cores']} cores, Python {m['python']}, git {m['git']}, {m['platform']}, "
           f"accelgit {m['accelgit']}; load average at start {m['load_avg_start']}",
           f"temp folder: {m.get('fs', '?')}, creating a small file there takes {_fmt(m.get('create_us'), '.0f')} us",
           f"medians of {repeats} runs (first build and rebuild: fewer at large N); seconds of wall time "
           f"including interpreter start", ""]
    t = []
    for r in rows:
        t.append([r["shape"], r["n"], _fmt(r["first_build"]), _fmt(r["per_job_ms"], ".2f"), _fmt(r["job_own_ms"], ".2f"),
                  _fmt(r.get("method_ms"), ".2f"), _fmt(r.get("overhead_ms"), ".2f"),
                  _fmt(r["cpu_per_job_ms"], ".2f"), _fmt(r["noop_build"]), f"{_fmt(r['rebuild'])} ({r['rebuilt_jobs']})"])
    out.append(table(t, ["shape", "N", "first build", "ms/job", "job process ms", "method ms", "overhead ms/job",
                         "CPU ms/job", "no-op build", "rebuild after edit (jobs)"]))
    out.append("")
    t = []
    for r in rows:
        b = base[r["shape"]]
        per_kb = None
        if r is not b and r["plan_rss_kb"] and b["plan_rss_kb"]:
            per_kb = (r["plan_rss_kb"] - b["plan_rss_kb"]) / (r["n"] - b["n"])
        t.append([r["shape"], r["n"], _fmt(r["plan"]), _fmt(r.get("plan_json")), _fmt(r["hook"]),
                  _fmt(r.get("hook_installed")), _fmt(r["plan_rss_kb"] and r["plan_rss_kb"] / 1024, ".1f"),
                  _fmt(per_kb, ".2f") if r is not b else "-"])
    out.append(table(t, ["shape", "N", "plan", "plan --json", "hook run pre-commit", "installed hook",
                         "plan peak MB", "plan KB/job"]))
    if hashing:
        out.append("")
        out.append(table([[h["file"], h["when"], h["size_mb"], f"{h['seconds']:.4f}", f"{h['read_mb']:.1f}",
                           _fmt(h["mb_per_s"], ".0f") if h["mb_per_s"] else "not read"] for h in hashing],
                         ["data file", "run", "MB", "seconds", "MB read", "MB/s"]))
    return "\n".join(out)


def file_system(path: str) -> tuple[str, float]:
    """The file system type of ``path`` and the microseconds one small file
    takes to create (a busy or fragmented file system makes every job slower)."""
    fs = "?"
    try:
        best = ""
        with open("/proc/mounts", encoding="utf-8") as f:
            for line in f:
                parts = line.split()
                if len(parts) > 2 and path.startswith(parts[1]) and len(parts[1]) >= len(best):
                    best, fs = parts[1], parts[2]
    except OSError:
        pass
    d = tempfile.mkdtemp(dir=path)
    t = time.perf_counter()
    for i in range(300):
        with open(os.path.join(d, str(i)), "w") as f:
            f.write("x")
    us = (time.perf_counter() - t) / 300 * 1e6
    shutil.rmtree(d, ignore_errors=True)
    return fs, us


def warm_bytecode() -> None:
    """Compile accelgit's bytecode cache once, as an installed package has it."""
    subprocess.run([sys.executable, "-c", "import accelgit, compileall, os\n"
                    "compileall.compile_dir(os.path.dirname(accelgit.__file__), quiet=1)"],
                   env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="N up to 1000, fewer repeats (under a minute)")
    ap.add_argument("--sizes", help="comma-separated N values (default 10,100,1000[,10000])")
    ap.add_argument("--shapes", default="chain,fan")
    ap.add_argument("--repeats", type=int, help="runs per figure (default 5, quick 3)")
    ap.add_argument("--hash-mb", type=int, help="size of each data file (default 256, quick 64)")
    ap.add_argument("--no-hashing", action="store_true")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder")
    ap.add_argument("--tmp", metavar="DIR", help="make the repositories here (default: the system temp folder)")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else \
        ([10, 100, 1000] if args.quick else [10, 100, 1000, 10000])
    repeats = args.repeats or (3 if args.quick else 5)
    hash_mb = args.hash_mb or (64 if args.quick else 256)
    log = (lambda s: None) if args.quiet else (lambda s: print(s, file=sys.stderr, flush=True))
    m = machine()
    ag = accelgit_cmd()
    warm_bytecode()
    base = tempfile.mkdtemp(prefix="accelgit-bench-", dir=args.tmp)
    m["fs"], m["create_us"] = file_system(base)
    home = os.path.join(base, "home")
    os.makedirs(home)
    env = env_for(home)
    rows, hashing = [], []
    try:
        for shape in args.shapes.split(","):
            for n in sizes:
                # first builds and rebuilds of big pipelines are slow: fewer of them
                build_repeats = 1 if n >= 10000 else min(repeats, 1 if args.quick and n >= 1000 else 3)
                rows.append(bench_pipeline(base, shape, n, repeats if n < 10000 else min(repeats, 3),
                                           build_repeats, env, ag, log))
        if not args.no_hashing:
            hashing = bench_hashing(base, hash_mb, repeats, env, log)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            log(f"kept {base}")
    text = report(m, rows, hashing, repeats)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"machine": m, "repeats": repeats, "pipelines": rows, "hashing": hashing}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
