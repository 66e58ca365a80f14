"""The SQLite index of a workdir: a cache of its job directories.

It speeds up lookups and ``accelgit log``; it is never the truth.  Missing,
truncated or damaged, it is rebuilt from the job directories; locked by
another process for too long, commands go on without it.  Besides each
job's job.json fields it keeps the job's checked files and their stat data
as they last matched the manifest (jobcheck.py): rows made from the
directories (a rebuild, a sync) have none, and their job is checked against
its manifest when it is first reused.
"""
from __future__ import annotations

import os
import sqlite3

from accelgit.store.jobdir import read_complete_job, scan_jobs
from accelgit.store.layout import DAMAGED_INDEX, INDEX

SCHEMA_VERSION = 3                  # 3: the checked files' stat data (jobcheck.py)

_COLUMNS = ("id", "dirname", "method", "name", "source", "caption", "build_script",
            "git_commit", "git_branch", "dirty", "built_at", "signer")
_CHECK = ("checked", "stat")        # the checked files ("\n"-joined) and their packed stat data
_INSERT = f"INSERT OR REPLACE INTO jobs VALUES ({', '.join('?' * (len(_COLUMNS) + len(_CHECK)))})"


# SQLite errors that say nothing is wrong with the file (another process holds it, the
# disk is full): the index is used without this time, never moved aside as damaged
_NOT_DAMAGE = ("locked", "busy", "full", "disk I/O", "unable to open")


def _transaction(db: sqlite3.Connection, fn) -> None:
    """``fn()`` in one transaction.  On a full disk SQLite has rolled back
    already: a ROLLBACK of ours would fail ("no transaction is active") and
    hide the "disk is full" that says the file is fine (it was moved aside as
    damaged)."""
    db.execute("BEGIN")
    try:
        fn()
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            try:
                db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        raise


def row_of(params: dict, dirname: str, signer: str | None = None, check: tuple | None = None) -> tuple:
    """``signer``: the key id whose signature this process verified (or made);
    None (not checked yet) for rows read from the folders by a sync.
    ``check``: ``(names, stat key)`` of the job's checked files (jobcheck.py)."""
    g = params.get("git") or {}
    names, key = check if check is not None and check[1] is not None else (None, None)
    return tuple(_text(v) for v in (
        params["id"], dirname, params.get("method"), params.get("name"), params.get("source"),
        params.get("caption"), params.get("build_script"), g.get("commit"), g.get("branch"),
        int(bool(g.get("dirty"))), params.get("built_at"), signer)) + ("\n".join(names) if names else None, key)


def _text(v):
    """A value SQLite can store: a string that is not UTF-8 text (a lone
    surrogate from a job.json written by hand or by an older accelgit) is
    stored escaped, never refused (the index is only a cache)."""
    if type(v) is str:
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            return v.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")
    return v


class Index:
    def __init__(self, workdir_path: str, readonly: bool = False):
        self.workdir = workdir_path
        self.path = os.path.join(workdir_path, INDEX)
        self._db: sqlite3.Connection | None = None
        self.broken = False
        self.readonly = readonly      # plan: never create, fill, repair or write the file
        self._pending: list[tuple] = []   # rows of jobs built by this process, not yet written
        import threading  # here: the fork server imports this module, never threading
        self._pending_lock = threading.Lock()
        # One connection, used by the build's threads one at a time: Python's sqlite3
        # objects are not safe for concurrent use (two threads opening or repairing the
        # index at once crashed the process).
        self._db_lock = threading.RLock()

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is not None or self.broken:
            return self._db
        if self.readonly:
            return self._connect_readonly()
        try:
            fresh = not os.path.exists(self.path)
            db = sqlite3.connect(self.path, timeout=2.0, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA synchronous=OFF")
            # keep one (emptied) journal file instead of creating and deleting one per
            # insert: a new file costs far more than an insert on a busy file system
            db.execute("PRAGMA journal_mode=TRUNCATE")
            ver = db.execute("PRAGMA user_version").fetchone()[0]
            if fresh or ver != SCHEMA_VERSION:
                db.execute("DROP TABLE IF EXISTS jobs")
                db.execute(f"CREATE TABLE jobs ({', '.join(c + (' PRIMARY KEY' if c == 'id' else '') for c in _COLUMNS + _CHECK)})")
                db.execute("CREATE INDEX IF NOT EXISTS jobs_method ON jobs(method, name)")
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                self._db = db
                self.rebuild()
            else:
                self._sync(db)
            self._db = db
        except sqlite3.OperationalError as e:
            if any(w in str(e) for w in _NOT_DAMAGE):
                self.broken = True        # locked by someone else, or a full disk: without it this time
                return None
            return self._recreate()
        except sqlite3.DatabaseError:
            return self._recreate()
        return self._db

    def _connect_readonly(self) -> sqlite3.Connection | None:
        """Open an existing, current index read-only; anything else: no index."""
        from urllib.parse import quote
        self.broken = True
        if not os.path.isfile(self.path):
            return None
        try:
            db = sqlite3.connect(f"file:{quote(self.path)}?mode=ro", uri=True, timeout=2.0,
                                 check_same_thread=False, isolation_level=None)
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                db.close()
                return None
            db.execute("PRAGMA cache_size=-256")      # 256 KB, not 2 MB: plan reads the table once
        except sqlite3.Error:
            return None
        self.broken = False
        self._db = db
        return db

    def _sync(self, db: sqlite3.Connection) -> None:
        """Catch up with the directories once per process: jobs built while the
        index was locked or unwritable are added, vanished ones dropped."""
        try:
            names = {n for n in os.listdir(self.workdir) if not n.startswith(".")}
        except OSError:
            return
        known = {r[0] for r in db.execute("SELECT dirname FROM jobs")}
        gone = known - names
        new = []
        for name in sorted(names - known):
            params = read_complete_job(os.path.join(self.workdir, name))
            if params is not None:
                new.append(row_of(params, name))
        if gone or new:
            db.executemany("DELETE FROM jobs WHERE dirname = ?", [(g,) for g in gone])
            db.executemany(_INSERT, new)

    def _recreate(self) -> sqlite3.Connection | None:
        """The file is damaged: move it away and start again from the directories."""
        if self.readonly or getattr(self, "_recreating", False):
            self.broken = True
            return None
        self._recreating = True
        try:
            if self._db is not None:
                self._db.close()
        except sqlite3.Error:
            pass
        self._db = None
        try:
            os.replace(self.path, os.path.join(self.workdir, DAMAGED_INDEX))
        except OSError:
            pass
        try:
            return self._connect()
        except sqlite3.Error:
            self.broken = True
            return None
        finally:
            self._recreating = False

    def _run(self, fn):
        with self._db_lock:
            db = self._connect()
            if db is None:
                return None
            try:
                return fn(db)
            except sqlite3.OperationalError as e:
                if any(w in str(e) for w in _NOT_DAMAGE + ("readonly",)):
                    return None         # (a full disk: the index is fine, it just misses rows till later)
                self._recreate()
                return None
            except sqlite3.DatabaseError:
                self._recreate()
                return None

    def known_ids(self, signers) -> KnownIds | None:
        """``{dirname: (job id, check)}`` of every indexed job signed by one of
        ``signers`` (key ids), as a compact ``KnownIds`` (read a row at a time),
        or None without an index."""
        signers = sorted(signers)
        return self._run(lambda db: KnownIds(db.execute(
            f"SELECT dirname, id, checked, stat FROM jobs WHERE signer IN ({', '.join('?' * len(signers))})",
            signers)))

    def add(self, params: dict, dirname: str, signer: str | None = None, check: tuple | None = None) -> None:
        """Queue a job's row (a new job, or a job just checked: ``check``);
        written in batches (``flush``).  Rows lost with a killed process are
        found by the next process's sync."""
        if self.readonly:
            return
        with self._pending_lock:
            self._pending.append(row_of(params, dirname, signer, check))
            full = len(self._pending) >= 256
        if full:
            self.flush()

    def flush(self) -> None:
        """Write the queued rows, in one transaction."""
        with self._pending_lock:
            rows, self._pending = self._pending, []
        if not rows:
            return

        self._run(lambda db: _transaction(db, lambda: db.executemany(_INSERT, rows)))

    def remove(self, dirname: str) -> None:
        self._run(lambda db: db.execute("DELETE FROM jobs WHERE dirname = ?", (dirname,)))

    def rows(self, where: str = "", args: tuple = ()) -> list[dict] | None:
        def q(db):
            cur = db.execute(f"SELECT {', '.join(_COLUMNS)} FROM jobs {where}", args)
            return [dict(zip(_COLUMNS, r)) for r in cur.fetchall()]
        return self._run(q)

    def rebuild(self) -> int:
        """Re-read every complete job directory into the index."""
        rows = []
        for dirname, params in scan_jobs(self.workdir):
            rows.append(row_of(params, dirname))
        def fill(db):
            def both():
                db.execute("DELETE FROM jobs")
                db.executemany(_INSERT, rows)
            _transaction(db, both)
            return len(rows)
        return self._run(fill) or 0

    def close(self) -> None:
        with self._db_lock:
            if self._db is not None:
                self._db.close()
                self._db = None


class KnownIds:
    """``{dirname: (job id, check)}`` of a workdir's indexed jobs, kept small
    (plan and build hold one for every stored job).  ``check`` is ``(names,
    stat key)`` of the job's checked files (jobcheck.py), or None when the row
    has none.  A job in its own folder (``<method>-<first 12 hex of id>``: all
    of them, in practice) is keyed by its id as 32 bytes, its names shared
    with every job that has the same; any other row is kept as it is."""
    __slots__ = ("_ids", "_other", "_names")

    def __init__(self, rows=()):
        """``rows``: ``(dirname, job id, checked names or None, stat key or None)``."""
        self._ids: dict[bytes, tuple | None] = {}
        self._other: dict[str, tuple] = {}
        self._names: dict[str, tuple] = {}
        ids, fromhex, names = self._ids, bytes.fromhex, self._names
        for dirname, jid, checked, key in rows:     # (_own_folder, inlined: a workdir has thousands)
            check = None
            if checked and key is not None:
                n = names.get(checked)
                if n is None:
                    n = names[checked] = tuple(checked.split("\n"))
                check = (n, key)
            if type(jid) is str and len(jid) == 64 and dirname.endswith(jid[:12]) and dirname[-13:-12] == "-":
                try:
                    k = fromhex(jid)
                    if k.hex() == jid:
                        ids[k] = check
                        continue
                except ValueError:
                    pass
            self._other[dirname] = (jid, check)

    def set(self, dirname: str, jid: str, check: tuple | None) -> None:
        key = _own_folder(dirname, jid)
        if check is not None:
            check = (self._names.setdefault("\n".join(check[0]), tuple(check[0])), check[1])
        if key is None:
            self._other[dirname] = (jid, check)
        else:
            self._ids[key] = check
            self._other.pop(dirname, None)

    def entry(self, dirname: str, jid: str) -> tuple | None:
        """``(job id, check)`` of folder ``dirname`` when the index knows it and
        it holds ``jid`` or the folder is not ``jid``'s own, else None.  (A job id
        names its method: the job with id ``jid`` is in ``<its method>-<jid[:12]>``.)"""
        key = _own_folder(dirname, jid)
        if key is not None:
            try:
                return jid, self._ids[key]
            except KeyError:
                pass
        return self._other.get(dirname)

    def get(self, dirname: str, jid: str) -> str | None:
        """The id of the job in folder ``dirname`` when the index knows it (see ``entry``)."""
        e = self.entry(dirname, jid)
        return None if e is None else e[0]


def _own_folder(dirname: str, jid) -> bytes | None:
    """The 32 bytes of ``jid`` when ``dirname`` is (for some method) its own folder."""
    if type(jid) is not str or len(jid) != 64 or not dirname.endswith(jid[:12]) or dirname[-13:-12] != "-":
        return None
    try:
        key = bytes.fromhex(jid)
    except ValueError:
        return None
    return key if key.hex() == jid else None
