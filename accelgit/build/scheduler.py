"""``accelgit build``'s session: each ``urd.build`` call's job is reused when
it exists, else scheduled: built in parallel (``-j``) with the jobs it does
not depend on, after its inputs, by the fork server (launcher.py); jobs
waiting for their inputs are prepared ahead.  At the end each script's run
is recorded (store/runs.py)."""
from __future__ import annotations

import collections
import os
import sys
import threading
import time
from typing import TYPE_CHECKING

from accelgit.api.job import Job, flat_inputs
from accelgit.api.spec import JobSpec
from accelgit.api.urd import Urd
from accelgit.build.faults import pause
from accelgit.build.prepare import BuildContext, JobFailed, load_build_modules, prepare_job, run_prepared
from accelgit.build.scripts import Session, find_scripts
from accelgit.core.errors import AccelgitError, BuildFailed, PlanStopped
from accelgit.store import runs

if TYPE_CHECKING:
    from concurrent.futures import Future


class BuildSession(Session):
    """Reuses what exists, builds what is missing with ``jobs_n`` in parallel."""

    def __init__(self, repo, config, view, *, jobs_n: int | None = None, progress=None, live=None,
                 needed: set | None = None, force: tuple = (), executor: str | None = None,
                 scheduler: str | None = None):
        """``needed``: with ``--target``, the ids of the jobs to build (the targets and
        what they need); any other job is reused if it exists and skipped if not.
        ``force``: names or methods of jobs rebuilt even if they exist.  ``executor``,
        ``scheduler``: where jobs run (executor.py; default: the config's ``[executor]``)."""
        super().__init__(repo, config, view)
        self.needed, self.force = needed, tuple(force)
        if needed is not None:
            self.passthrough = (PlanStopped,)       # a script reading a skipped job stops there
        from accelgit.build.executor import make_launcher
        # after the store: it hands the config's trusted keys down in the environment a launcher copies
        self.launcher = launcher = make_launcher(config, executor, scheduler)
        self.ctx = BuildContext(repo, config, self.store, view, self.launcher, live=live)
        self._workers = workers = max(1, jobs_n or launcher.slots() or os.cpu_count() or 1)
        self.pool = self._prep_pool = None     # _first_build: a no-op build needs no concurrent.futures
        self.progress = progress
        self._futures: dict[str, Future] = {}
        self._jobs: dict[str, Job] = {}
        self.failures: list[JobFailed] = []
        # Jobs waiting for their inputs are prepared ahead (temp folder, job.json,
        # source copies) by one thread, at most ``workers`` at a time: in a chain the
        # next job's folder is ready when its input is done.
        self._to_prep: collections.deque = collections.deque()
        self._prep_slots = workers
        self._preps: dict[str, Future] = {}
        self._started: set[str] = set()     # jobs whose build began: never prepared ahead again
        self._tls = threading.local()
        self._stopping = False

    def submit(self, spec: JobSpec) -> Job:
        with self._lock:
            known = self._jobs.get(spec.id)
        if known is not None:
            return known
        if self.force and (spec.name in self.force or spec.method.name in self.force):
            spec.force = True
        if self.needed is not None and spec.id not in self.needed and \
                not any(e in self.needed for e in spec.equivalent_ids):
            return self._outside_target(spec)
        if not spec.force:
            hit = self.store.find(spec.method.name, [spec.id] + spec.equivalent_ids, first=spec.workdir)
            if hit:
                job = Job.stored(hit[0], hit[1], spec.method.name, spec.name)
                self._record(spec, job, "reused", 0.0)
                if self.progress:
                    self.progress.event("reused", spec.dirname)
                return job
            for line in self.store.not_reused(spec.method.name, [spec.id] + spec.equivalent_ids, spec.workdir):
                print(f"accelgit: {line}", file=sys.stderr)
        load_build_modules()          # here, in the script's thread: never in the pool's
        from concurrent.futures import Future
        self._first_build()
        self.launcher.start()         # boots while this job is prepared (git metadata and all)
        if self.ctx.subjobs is None:
            from accelgit.build.subjobs import SubjobServer
            self.ctx.subjobs = SubjobServer(self)
        fut: Future = Future()
        path = spec.workdir.job_path(spec.method.name, spec.id)
        job = Job(path, id=spec.id, method=spec.method.name, name=spec.name,
                  waiter=lambda: self._wait(fut))
        rec = self._record(spec, job, "pending", None)
        if self.progress:
            self.progress.event("queued", spec.dirname)
        with self._lock:
            self._futures[spec.id] = fut
            self._jobs[spec.id] = job
            deps = [self._futures[j.id] for j in [*flat_inputs(spec.inputs), *spec.option_jobs] if j.id in self._futures]
        remaining = [len(deps)]
        lock = threading.Lock()

        def start():
            bad = [d for d in deps if d.exception() is not None]
            if bad:
                self._drop_prep(spec.id)
                fut.set_exception(InputFailed(spec, bad[0].exception()))
                rec["action"] = "failed"
                return
            follow = getattr(self._tls, "follow", None)
            if follow is not None and not follow:
                follow.append((spec, fut, rec))      # built next by the worker whose job it waited for
                return
            try:
                self.pool.submit(self._build, spec, fut, rec)
            except RuntimeError as e:        # the pool was shut down (Ctrl-C): not built
                self._drop_prep(spec.id)
                fut.set_exception(InputFailed(spec, e))
                rec["action"] = "failed"

        if deps:
            with self._lock:
                self._to_prep.append(spec)
            self._feed_prep()

        def one_done(_):
            with lock:
                remaining[0] -= 1
                ready = remaining[0] == 0
            if ready:
                start()

        if not deps:
            start()
        for d in deps:
            d.add_done_callback(one_done)
        return job

    def known_job(self, jid: str) -> Job | None:
        with self._lock:
            return self._jobs.get(jid)

    def _outside_target(self, spec: JobSpec) -> Job:
        """A job ``--target`` does not need: reused if it exists, else not built;
        a script that reads its result stops there."""
        hit = self.store.find(spec.method.name, [spec.id] + spec.equivalent_ids, first=spec.workdir)
        if hit:
            job = Job.stored(hit[0], hit[1], spec.method.name, spec.name)
            self._record(spec, job, "reused", 0.0)
            return job
        job = Job(spec.workdir.job_path(spec.method.name, spec.id), id=spec.id, method=spec.method.name,
                  name=spec.name)
        filename = self.script_filename(spec.script) if spec.script else None

        def stop():
            f, where = sys._getframe(1), spec.script
            while f is not None:                    # the line of the script that reads it
                if f.f_code.co_filename == filename:
                    where = f"{spec.script}:{f.f_lineno}"
                    break
                f = f.f_back
            raise PlanStopped(job, where)
        job._waiter = stop
        return job

    def _record(self, spec: JobSpec, job: Job, action: str, seconds) -> dict:
        rec = {"id": job.id, "method": spec.method.name, "name": spec.name, "action": action,
               "path": job.path, "seconds": seconds}
        with self._lock:
            self._jobs.setdefault(spec.id, job)
            self.records.append(rec)
        return rec

    def _first_build(self) -> None:
        """Once a job is to be built: your signing key, read (or made) before any job runs
        (a bad one is one line), and the threads (no-op builds import no concurrent.futures)."""
        if self.pool is None:
            from concurrent.futures import ThreadPoolExecutor

            from accelgit.store import keys
            keys.own_key()
            self._prep_pool = ThreadPoolExecutor(max_workers=1)
            self.pool = ThreadPoolExecutor(max_workers=self._workers)

    def _feed_prep(self) -> None:
        """Hand waiting jobs to the preparing thread while it has free slots."""
        with self._lock:
            while self._prep_slots > 0 and self._to_prep:
                spec = self._to_prep.popleft()
                if spec.id in self._preps or spec.id in self._started:
                    continue            # being prepared, or its build began (and prepares it itself)
                self._prep_slots -= 1
                try:
                    self._preps[spec.id] = self._prep_pool.submit(prepare_job, spec, self.ctx)
                except RuntimeError:        # shut down (Ctrl-C)
                    self._prep_slots += 1
                    return

    def _drop_prep(self, jid: str) -> None:
        """The job will not be built (input failed, Ctrl-C): its prepared folder and lock go."""
        prep = self._claim_prep(jid)
        if prep is not None:
            prep.discard()

    def _claim_prep(self, jid: str):
        """Take the job from the preparing thread: from here on it leaves the job
        alone (two preparations of one job would wait for each other's lock
        forever).  Its Prepared, if one was made, else None."""
        with self._lock:
            self._started.add(jid)
            pf = self._preps.pop(jid, None)
        if pf is None:
            return None
        prep = None
        if not pf.cancel():
            try:
                prep = pf.result()
            except BaseException:  # noqa: BLE001 - nothing was kept; a build prepares it again
                prep = None
        with self._lock:
            self._prep_slots += 1
        self._feed_prep()
        return prep

    def _build(self, spec: JobSpec, fut: Future, rec: dict) -> None:
        """Build the job; then, if finishing it made a job ready, build that one too in this
        worker (one job per finished job: a chain runs in one thread, without hand-overs)."""
        while True:
            self._tls.follow = []
            try:
                self._build_one(spec, fut, rec)
            finally:
                follow, self._tls.follow = self._tls.follow, None
            if not follow:
                return
            spec, fut, rec = follow[0]
            if self._stopping:               # Ctrl-C: what the pool would have cancelled
                self._drop_prep(spec.id)
                fut.set_exception(InputFailed(spec, RuntimeError("interrupted")))
                rec["action"] = "failed"
                return

    def _build_one(self, spec: JobSpec, fut: Future, rec: dict) -> None:
        if self.progress:
            self.progress.event("start", spec.dirname)
        try:
            prep = self._claim_prep(spec.id)      # None: prepare it now (a failed preparation fails again)
            if prep is None:
                pause("ACCELGIT_TEST_PAUSE_INLINE_PREPARE")
                prep = prepare_job(spec, self.ctx)
            path, action, secs = run_prepared(prep, self.ctx)
        except BaseException as e:  # noqa: BLE001 - handed to whoever waits for the job
            rec["action"] = "failed"
            if isinstance(e, AccelgitError) and not isinstance(e, JobFailed):
                e = JobFailed(spec, str(e), None)
            elif not isinstance(e, JobFailed):
                what = "could not write the job" if isinstance(e, OSError) else f"internal error: {type(e).__name__}"
                e = JobFailed(spec, f"{what}: {e}", None)
            with self._lock:
                self.failures.append(e)
            if self.progress:
                self.progress.event("failed", spec.dirname)
            fut.set_exception(e)
            return
        rec.update(action=action, path=path, seconds=round(secs, 4))
        if self.progress:
            self.progress.event(action, spec.dirname)
        fut.set_result(path)

    def _wait(self, fut: Future) -> None:
        self.stop_forked_child("a build script")     # in a forked child no thread would ever finish fut
        fut.result()

    def finish(self) -> None:
        """Wait for every scheduled job; raise BuildFailed if any failed."""
        for fut in list(self._futures.values()):
            try:
                fut.result()
            except KeyboardInterrupt:
                raise
            except BaseException:  # noqa: BLE001 - collected below
                pass
        if self.pool is not None:
            self.pool.shutdown(wait=True)
        self._close_prep()
        self._close_subjobs()
        self.store.flush_index()
        self.launcher.close()
        if self.progress:
            self.progress.done()
        errors = list(self.failures)
        if errors:
            skipped = sum(1 for r in self.records if r["action"] == "failed") - len(errors)
            notes = [f"{len(errors) - 1} more failed"] if len(errors) > 1 else []
            if skipped > 0:
                notes.append(f"{skipped} not built because an input failed")
            failed = BuildFailed(str(errors[0]) + (f" ({'; '.join(notes)})" if notes else ""), errors)
            failed.records = self.records
            raise failed

    def abort(self) -> None:
        """Ctrl-C: kill running jobs and drop the queue.  A killed job never becomes a
        job: its folder is kept under .failed/ for its logs until `accelgit gc`."""
        self._stopping = True
        if self.progress:
            self.progress.interrupted()
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.launcher.kill_all()
        self._close_prep()
        self._close_subjobs()
        self.store.flush_index()
        self.launcher.close()
        if self.progress:
            self.progress.done()

    def _close_subjobs(self) -> None:
        if self.ctx.subjobs is not None:
            self.ctx.subjobs.close()

    def _close_prep(self) -> None:
        """No prepared folder or lock outlives the build."""
        with self._lock:
            self._to_prep.clear()
            jids = list(self._preps)
        for jid in jids:
            self._drop_prep(jid)
        if self._prep_pool is not None:
            self._prep_pool.shutdown(wait=True)

    def record_run(self, script: str, urd: Urd) -> None:
        """Remember this script's jobs, in call order: ``plan`` compares with it."""
        runs.write(self.store.target.path, script,
                   {"commit": self.repo.head(), "view": self.view.label, "finished_at": time.time()},
                   ({"id": j.id, "method": j.method, "name": j.name} for j in urd.joblist_all))


class InputFailed(AccelgitError):
    exit_code = 1

    def __init__(self, spec: JobSpec, cause: BaseException):
        super().__init__(f"job {spec.dirname} was not built: an input job failed ({cause})")


def run_build(repo, config, scripts: list[str] | None, *, jobs_n=None, progress=None, live=None,
              cwd: str | None = None, needed=None, force: list[str] = (), executor: str | None = None,
              scheduler: str | None = None) -> BuildSession:
    """Run the build scripts; with ``needed(view)`` (``--target``: the ids of the
    jobs to build), build only those (no run record is written: the scripts did
    not all run to their end).  ``executor``, ``scheduler``: where jobs run
    (executor.py; default: the config's ``[executor]``)."""
    from accelgit.git.views import WorktreeView
    view = WorktreeView(repo)
    needed = needed(view) if needed is not None else None
    session = BuildSession(repo, config, view, jobs_n=jobs_n, progress=progress, live=live, needed=needed,
                           force=tuple(force), executor=executor, scheduler=scheduler)
    from accelgit.store.locks import session_lock
    hold = session_lock(session.store.target.path)    # gc removes no job while a build runs
    try:
        try:
            session.launcher.check_workdir(session.store.target.path)    # a cluster's workers see it
            paths = find_scripts(view, config, scripts, cwd)
            done = []
            for script in paths:
                try:
                    urd = session.run_script(script)
                except PlanStopped as e:            # --target: the script read a job it does not build
                    print(f"accelgit: note: {script} stopped at {e.where}: it reads the result of "
                          f"{e.job.method} ({e.job.id[:12]}), which --target does not build", file=sys.stderr)
                    continue
                if needed is None:
                    done.append((script, urd))
            if progress:
                progress.scripts_done()
            session.finish()
        except KeyboardInterrupt:
            session.abort()
            raise
        except BaseException as e:
            try:
                session.finish()
            except BuildFailed as failed:
                if isinstance(e, AccelgitError):     # the script stopped (on a failed job, say): the jobs say why
                    failed.script_error = str(e)
                    raise failed from None
            except KeyboardInterrupt:
                session.abort()
                raise
            raise
        finally:
            view.close()
            session.ctx.close()
        for script, urd in done:
            session.record_run(script, urd)
    finally:
        if hold is not None:
            os.close(hold)
    return session
