"""Subjobs: a running job building jobs (the Accelerator's
``accelerator.subjobs.build``).  The build listens on a Unix socket in a
private temp folder; a job process sends one JSON line (the call), the
build computes the job as ``urd.build`` would (the parent's build script
names it), reuses it or builds it right there (not through the worker pool,
which the waiting parent may fill; shown in the build's progress), and
answers one JSON line: the job, or the error.  What a job built is recorded
in its job.json (``subjobs``)."""
from __future__ import annotations

import json
import os
import socket
import threading

from accelgit.api.job import Job
from accelgit.api.urd import Urd
from accelgit.build import tmpfolders
from accelgit.build.prepare import prepare_job, run_prepared
from accelgit.core.errors import AccelgitError
from accelgit.core.identity import decode_value

PREFIX = "accelgit-sj-"          # short: a Unix socket's path has ~100 bytes
OLD_PREFIX = "accelgit-subjobs-"  # an older accelgit's (no lock file: removed once a day old)


class SubjobServer:
    def __init__(self, session):
        self.session = session
        self.made: dict[str, dict] = {}          # parent id -> {subjob folder name: {id, method, name}}
        self._lock = threading.Lock()
        self.folder = self.address = self._sock = self._hold = None
        self.problem: str | None = None          # why there is no socket: a job's subjob call says it
        try:
            self._listen()
        except OSError as e:
            self.close()
            self.problem = f"this build could not make its socket for subjobs ({e.strerror or e})"
            return
        except BaseException:       # Ctrl-C meanwhile: nothing is left behind
            self.close()
            raise
        threading.Thread(target=self._accept, daemon=True).start()

    def _listen(self) -> None:
        for parent in (None, "/tmp"):            # $TMPDIR, unless its path is too long for a socket
            self.folder, self._hold = tmpfolders.make(PREFIX, parent)
            if len(os.fsencode(self.folder)) < 96 or parent is not None:
                break
            tmpfolders.remove(self.folder, self._hold)
            self.folder = self._hold = None
        tmpfolders.sweep(os.path.dirname(self.folder), (PREFIX, OLD_PREFIX), self.folder)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address = os.path.join(self.folder, "s")
        self._sock.bind(address)
        self._sock.listen(16)
        self.address = address

    def run_fields(self) -> dict:
        """What a job process is told of this server (runner.run_job)."""
        return {"subjobs": self.address, "subjobs_problem": self.problem}

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:             # closed: the build is over
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as f:
            try:
                reply = self._build(json.loads(f.readline()))
            except AccelgitError as e:
                reply = {"error": str(e)}
            except Exception as e:  # noqa: BLE001 - the job says it; the build goes on
                reply = {"error": f"{type(e).__name__}: {e}"}
            f.write(json.dumps(reply).encode() + b"\n")
            f.flush()

    def _build(self, req: dict) -> dict:
        def job(v):
            return [Job(p) for p in v] if isinstance(v, list) else None if v is None else Job(v)
        urd = Urd(self.session, req["script"] or "(subjob)")
        kw = {k: decode_value(v) for k, v in req["kw_options"].items()}
        kw.update({k: job(v) for k, v in req["kw_jobs"].items()})
        spec = urd.make_spec(req["method"], decode_value(req["options"]), {k: job(v) for k, v in req["jobs"].items()},
                             name=req["name"], caption=req["caption"], **kw)
        path, built = self._build_now(spec)
        with self._lock:
            made = self.made.setdefault(req["parent"], {})
            old = made.get(os.path.basename(path))
            made[os.path.basename(path)] = {"id": spec.id, "method": spec.method.name, "name": spec.name,
                                            "built": built or bool(old and old["built"])}
        return {"path": path, "id": spec.id, "method": spec.method.name, "name": spec.name}

    def _build_now(self, spec) -> tuple[str, bool]:
        """The subjob reused, or built in this thread; its path, and whether built."""
        s = self.session
        if not spec.force:
            hit = s.store.find(spec.method.name, [spec.id] + spec.equivalent_ids, first=spec.workdir)
            if hit:
                return hit[0], False
        if s.progress:
            s.progress.event("queued", spec.dirname)
            s.progress.event("start", spec.dirname)
        try:
            path, action, _ = run_prepared(prepare_job(spec, s.ctx), s.ctx)
        except BaseException:
            if s.progress:
                s.progress.event("failed", spec.dirname)
            raise
        if s.progress:
            s.progress.event(action, spec.dirname)
        return path, action == "built"

    def made_by(self, parent_id: str) -> dict | None:
        """The subjobs the job ``parent_id`` built (taken: asked once, when it is stored)."""
        with self._lock:
            return self.made.pop(parent_id, None)

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)     # wakes accept() on Linux (not needed elsewhere)
            except OSError:
                pass
            self._sock.close()
        tmpfolders.remove(self.folder, self._hold)
        self._hold = None

