"""The urd lists in a build script (the Accelerator's ``urd.begin``,
``finish``, ``truncate``, ``latest``, ``get``, ``first``, ``peek``,
``peek_latest``, ``peek_first``, ``since``, ``list``; store/urddb.py keeps
them).  An item records the jobs built between ``begin`` and ``finish``, the
items ``get``/``latest``/``first`` read meanwhile (``deps``), and the git
commit the build ran from.  Lists are named as given (no user prefix)."""
from __future__ import annotations

import datetime
import os

from accelgit.api.joblist import JobList, UrdJob
from accelgit.core.errors import UsageError


def timestamp(ts, where: str) -> str:
    """A timestamp as the lists keep it: an int, or a date/datetime in ISO form."""
    if isinstance(ts, bool) or ts is None or ts == "":
        raise UsageError(f"{where}: give a timestamp (an int, a date, a datetime or such a string), not {ts!r}")
    if isinstance(ts, int):
        if ts < 0:
            raise UsageError(f"{where}: timestamp {ts} is negative")
        return str(ts)
    if isinstance(ts, (datetime.date, datetime.datetime)):
        return ts.isoformat()
    if isinstance(ts, str):
        if ts[0] in "<>":
            raise UsageError(f"{where}: timestamp comparisons ({ts!r}) are not supported by accelgit's urd")
        return ts
    raise UsageError(f"{where}: give a timestamp (an int, a date, a datetime or such a string), not {ts!r}")


class Response(dict):
    """An urd item: a dict with attribute access; an empty one is falsy."""

    def __getattr__(self, k):
        if k.startswith("_") or k not in self:
            raise AttributeError(k)
        return self[k]

    def __bool__(self):
        return bool(self.get("timestamp") not in (None, "0"))


class UrdLists:
    """Mixed into ``Urd`` (api/urd.py): needs ``session``, ``script``,
    ``_where()`` and ``joblist_all``."""

    _current: dict | None = None
    _session_jobs: JobList | None = None        # the jobs since the last begin (kept after its finish)
    _latest_joblist: JobList | None = None      # the last get/latest/first's jobs: build_chained's chain

    @property
    def _db(self):
        db = getattr(self.session, "urd_db", None)
        if db is None:
            from accelgit.store.urddb import UrdDB, urd_path
            s = self.session
            db = s.urd_db = UrdDB(urd_path(s.config), writable=not getattr(s.store, "readonly", False))
        return db

    @property
    def joblist(self):
        """The jobs built since the last ``begin`` (every job of the script before one)."""
        return self._session_jobs if self._session_jobs is not None else self.joblist_all

    def begin(self, path: str, timestamp=None, caption: str | None = None, update: bool = False) -> None:
        where = self._where()[0]
        if self._current is not None:
            raise UsageError(f"{where}: urd.begin('{path}') while '{self._current['list']}' is running")
        ts = _ts(timestamp, where) if timestamp is not None else None
        self._session_jobs = JobList()
        self._latest_joblist = None
        self._current = {"list": path, "timestamp": ts, "caption": caption, "update": update, "deps": {},
                         "jobs": self._session_jobs}

    def abort(self) -> None:
        self._current = None

    def finish(self, path: str, timestamp=None, caption: str | None = None) -> Response:
        where = self._where()[0]
        cur = self._current
        if cur is None or cur["list"] != path:
            raise UsageError(f"{where}: urd.finish('{path}') without urd.begin('{path}')")
        if not cur["jobs"]:
            raise UsageError(f"{where}: urd.finish('{path}') without building any jobs")
        ts = _ts(timestamp, where) if timestamp is not None else cur["timestamp"]
        if ts is None:
            raise UsageError(f"{where}: no timestamp for '{path}' in begin or finish")
        self._current = None
        item = {"list": path, "timestamp": ts, "caption": caption or cur["caption"] or "",
                "joblist": [[j.method, str(j), j.name, j.id] for j in cur["jobs"]], "deps": cur["deps"],
                "build_script": self.script, "user": _user(), **self._provenance(),
                "added_at": datetime.datetime.now(datetime.timezone.utc).isoformat()}
        self._db.add(item, cur["update"])
        return self._response(item)

    def truncate(self, path: str, timestamp) -> None:
        self._db.truncate(path, _ts(timestamp, self._where()[0]))

    def get(self, path: str, timestamp) -> Response:
        where = self._where()[0]
        if self._current is None:
            raise UsageError(f"{where}: urd.get/latest/first('{path}') records a dependency, so it needs urd.begin "
                             f"first (urd.peek reads without one)")
        if path in self._current["deps"]:
            raise UsageError(f"{where}: '{path}' is read twice in one urd session")
        res = self.peek(path, timestamp)
        if res:
            self._current["deps"][path] = {"timestamp": res.timestamp, "caption": res.caption,
                                           "joblist": res.joblist.as_tuples}
        self._latest_joblist = res.joblist
        return res

    def build_chained(self, method: str, options: dict | None = None, jobs: dict | None = None, *,
                      name: str | None = None, **kw):
        """The Accelerator's ``urd.build_chained``: ``build`` with ``previous=`` the job
        named ``name`` in the joblist of this urd session's last ``get``/``latest``/
        ``first`` (None the first time), so each session's job chains to the last one's."""
        where = self._where()[0]
        if "previous" in (jobs or {}) or "previous" in kw:
            raise UsageError(f"{where}: build_chained gives 'previous' itself; do not give it")
        if not name:
            raise UsageError(f"{where}: build_chained needs name= (the job to chain from has that name)")
        if self._latest_joblist is None:
            raise UsageError(f"{where}: build_chained needs a list to chain from: urd.get, urd.latest or "
                             f"urd.first in this urd session first")
        return self.build(method, options, jobs, name=name, previous=self._latest_joblist.get(name), **kw)

    def warn(self, line: str = "") -> None:
        """The Accelerator's ``urd.warn``: lines shown at the end of the build."""
        self.session.warnings.extend(x.rstrip() for x in str(line).expandtabs().split("\n"))

    def latest(self, path: str) -> Response:
        return self.get(path, "latest")

    def first(self, path: str) -> Response:
        return self.get(path, "first")

    def peek(self, path: str, timestamp) -> Response:
        ts = timestamp if timestamp in ("latest", "first") else _ts(timestamp, self._where()[0])
        return self._response(self._db.get(path, ts))

    def peek_latest(self, path: str) -> Response:
        return self.peek(path, "latest")

    def peek_first(self, path: str) -> Response:
        return self.peek(path, "first")

    def since(self, path: str, timestamp) -> list[str]:
        return self._db.since(path, _ts(timestamp, self._where()[0]))

    def list(self) -> list[str]:
        return self._db.names()

    # -- helpers
    def _response(self, item: dict | None) -> Response:
        if not item:
            return Response(caption="", timestamp="0", joblist=JobList(), deps={}, build_job=None)
        s = self.session
        jobs = JobList(UrdJob(d, m, n, lambda name, m=m, i=i: s.known_job(i) or _find(s.store, m, i, name))
                       for m, d, n, i in item["joblist"])
        # the Accelerator's keys in its order, then accelgit's (the commit and view it was made from)
        return Response(build=item["list"], build_job=item.get("build_script"), caption=item["caption"],
                        deps=item["deps"], joblist=jobs, timestamp=item["timestamp"], user=item.get("user"),
                        commit=item.get("commit"), view=item.get("view"))

    def _provenance(self) -> dict:
        view = self.session.view
        commit = getattr(view, "commit", None)
        if commit is None:
            from accelgit.git.repo import commit_metadata
            commit = commit_metadata(self.session.repo)["commit"]
        return {"commit": commit, "view": view.kind}


def _ts(ts, where: str) -> str:
    return timestamp(ts, where)


def _find(store, method: str, jid: str, name: str):
    from accelgit.api.job import Job
    hit = store.find(method, [jid])
    if hit is None:
        raise UsageError(f"urd: job {name} is in no workdir any more (gc removed it?)")
    return Job(hit[0], id=hit[1], method=method)


def _user() -> str | None:
    import getpass  # here: only a finished urd item asks
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not an error
        return os.environ.get("USER")
