"""A job's logs as the build reads them: what a running job prints, shown as
it comes (``tailer``), and the tracebacks of a failed one (``log_text``)."""
from __future__ import annotations

import os

from accelgit.store.layout import LOG


def log_text(jobdir: str, rel: str | None) -> str:
    """The last 4000 characters of each log under ``rel`` (a file or a folder)
    that holds a traceback or an accelgit message."""
    if not rel:
        return ""
    p = os.path.join(jobdir, rel)
    paths = [os.path.join(p, n) for n in sorted(os.listdir(p))] if os.path.isdir(p) else [p]
    out = []
    for q in paths:
        try:
            with open(q, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        if "Traceback" in text or "accelgit:" in text:
            out.append(text[-4000:])
    return "".join(out)


def tailer(tmp: str, dirname: str, show):
    """A callable that shows new log output of a running job."""
    offsets: dict[str, int] = {}
    logdir = os.path.join(tmp, LOG)

    def tick():
        try:
            names = sorted(os.listdir(logdir))
        except FileNotFoundError:
            return
        for n in names:
            p = os.path.join(logdir, n)
            try:
                with open(p, "rb") as f:
                    f.seek(offsets.get(n, 0))
                    data = f.read()
            except OSError:
                continue
            if data:
                offsets[n] = offsets.get(n, 0) + len(data)
                show(dirname, data.decode("utf-8", "replace"))
    return tick
