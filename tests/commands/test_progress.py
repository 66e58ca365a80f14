"""The build's progress on a terminal (through a real pseudo-terminal): a
total, a percentage, what runs and an ETA; job output only with -v; -q
quiet; a summary per method for many jobs; Ctrl-C ends the line and counts
the stopped jobs as interrupted.  And the line itself (Progress.line)."""
from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

from conftest import Repo

from accelgit.commands.progress import Progress

WORK = """
    import time
    options = {"i": 0, "nap": 0.05}

    def synthesis(options):
        print("working on", options.i)
        time.sleep(options.nap)
        return options.i
"""


def on_a_terminal(repo: Repo, *args: str, interrupt_after: str | None = None) -> tuple[int, str]:
    """``accelgit ARGS`` with a pseudo-terminal as stdin/stdout/stderr: its
    exit code and everything it wrote.  ``interrupt_after``: send Ctrl-C (SIGINT
    to the process group, as a terminal does) once this text appeared."""
    master, slave = pty.openpty()
    env = {**repo.env, "COLUMNS": "200"}
    p = subprocess.Popen([sys.executable, "-m", "accelgit", *args], cwd=repo.path, env=env,
                         stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    out, sent, deadline = b"", False, time.time() + 120
    while time.time() < deadline:
        r, _, _ = select.select([master], [], [], 0.1)
        if r:
            try:
                data = os.read(master, 65536)
            except OSError:           # the terminal's other side closed
                break
            if not data:
                break
            out += data
        if interrupt_after and not sent and interrupt_after.encode() in out:
            os.killpg(p.pid, signal.SIGINT)
            sent = True
        if p.poll() is not None and not r:
            break
    os.close(master)
    return p.wait(timeout=60), out.decode("utf-8", "replace")


def pipeline(repo: Repo, n: int, nap: float = 0.05) -> None:
    repo.write("methods/work.py", WORK)
    repo.write("build.py", f"def main(urd):\n    for i in range({n}):\n        urd.build('work', i=i, nap={nap})\n")
    repo.commit("work")


def test_the_progress_line_has_a_total_a_percentage_what_runs_and_an_eta(repo: Repo):
    pipeline(repo, 24)
    code, out = on_a_terminal(repo, "build", "-j", "2")
    assert code == 0, out
    lines = re.findall(r"\[ *(\d+)/(\d+)\+? +(\d+)% \]([^\r\n]*)", out)
    assert lines, out
    assert any("running: work-" in rest for *_, rest in lines)
    assert any(re.search(r"ETA \d+:\d\d", rest) for *_, rest in lines)
    assert all(int(done) <= int(total) and int(total) <= 24 for done, total, _, _ in lines)
    assert "working on" not in out                         # job output stays in the job's log
    assert "work  " in out and "24 built, 0 reused (24 jobs)" in out     # a summary per method
    assert out.count("built  work-") == 0


def test_verbose_shows_job_output_and_quiet_shows_nothing(repo: Repo):
    pipeline(repo, 3)
    code, out = on_a_terminal(repo, "build", "-v")
    assert code == 0 and "] working on 2" in out and out.count("built  work-") == 3
    repo.write("build.py", repo.read("build.py").replace("range(3)", "range(4)"))
    code, out = on_a_terminal(repo, "build", "-q")
    assert code == 0 and out.strip() == "", out
    proc = repo.run("build", "-q", "-v")
    assert proc.returncode == 2 and proc.stderr == "accelgit: -q and -v cannot be given together\n"


def test_ctrl_c_ends_the_line_and_counts_the_jobs_stopped(repo: Repo):
    pipeline(repo, 6, nap=20)
    code, out = on_a_terminal(repo, "build", "-j", "2", interrupt_after="2 running:")
    assert code == 130, out
    tail = out.replace("^C", "").rstrip("\r\n").split("\n")
    assert tail[-1].strip("\r") == "accelgit: interrupted", out
    last = tail[-2].rstrip("\r").split("\r")[-1].replace("\x1b[K", "")      # the line as it stays
    assert re.fullmatch(r"\[ *\d+/6\+? +\d+% \]  interrupted: 2 jobs stopped", last), repr(tail[-2])
    assert "failed" not in tail[-2]


def test_the_line_itself():
    now = [100.0]
    shown = []

    class Out:
        def write(self, s):
            shown.append(s)

        def flush(self):
            pass
    p = Progress(Out(), clock=lambda: now[0])
    for i in range(10):
        p.event("queued", f"w-{i}")
    p.event("reused", "r-0")
    assert p.line(now[0]) == "[  1/11+   9% ]"
    p.event("start", "w-0")
    p.event("start", "w-1")
    now[0] = 104.0
    p.event("built", "w-0")             # one built in 4 s: 9 left (one running) at that rate
    assert p.line(now[0]) == "[  2/11+  18% ]  1 running: w-1  ETA 0:36"
    p.scripts_done()
    p.event("failed", "w-1")
    assert p.line(now[0]).startswith("[  3/11  27% ]  1 failed")
    p.event("start", "w-2")
    p.interrupted()
    p.event("failed", "w-2")
    assert p.line(now[0]) == "[  4/11  36% ]  1 failed  interrupted: 1 jobs stopped"
