"""The build-script API (SPEC §4): ``urd.build(...)`` turns a call into a job
id without running anything, then hands it to the session, which reuses the
job or schedules its build."""
from __future__ import annotations

import sys
from typing import Any

from accelgit.api.accelerator_name import DATASET_METHODS, DATASETS
from accelgit.api.job import Job, JobWithFile
from accelgit.api.joblist import JobList, UrdJob
from accelgit.api.spec import JobSpec
from accelgit.api.urdlists import UrdLists
from accelgit.core.errors import MethodError, UsageError
from accelgit.core.identity import encode_value, job_id
from accelgit.methods.options import coerce_options


class Urd(UrdLists):
    def __init__(self, session, script: str):
        self.session = session
        self.script = script          # repo path of the build script
        # the jobs returned so far; a plan keeps them compact (engine.PlanJobList)
        self.joblist_all = getattr(session, "new_joblist", JobList)()
        self._filename = session.script_filename(script)     # how the script's frames are named

    def _where(self) -> tuple[str, int | None]:
        f = sys._getframe(2)
        while f is not None:
            if f.f_code.co_filename == self._filename:
                return f"{self.script}:{f.f_lineno}", f.f_lineno
            f = f.f_back
        return self.script, None

    def build(self, method: str, options: dict | None = None, jobs: dict | None = None, *,
              name: str | None = None, caption: str | None = None, workdir: str | None = None,
              force_build: bool = False, **kw) -> Job:
        spec = self.make_spec(method, options, jobs, name=name, caption=caption, workdir=workdir,
                              force_build=force_build, **kw)
        job = self.session.submit(spec)
        self.joblist_all.append(job)
        if self._session_jobs is not None:
            self._session_jobs.append(job)
        return job

    def make_spec(self, method: str, options: dict | None = None, jobs: dict | None = None, *,
                  name: str | None = None, caption: str | None = None, workdir: str | None = None,
                  force_build: bool = False, **kw) -> JobSpec:
        """The job a ``build`` call asks for, computed, not submitted (a subjob's
        call is built by build/subjobs.py)."""
        where, lineno = self._where()
        self.session.stop_forked_child(where)
        try:
            spec = self._spec(method, options, jobs, name, caption, workdir, force_build, kw, where)
        except MethodError as e:
            msg = str(e)
            raise MethodError(msg if msg.startswith(self.script) else f"{where}: {msg}") from None
        spec.script, spec.lineno = self.script, lineno
        return spec

    def _spec(self, method, options, jobs, name, caption, workdir, force_build, kw, where) -> JobSpec:
        s = self.session
        if kw.get("datasets") or method in DATASET_METHODS and not s.methods.exists(method):
            raise UsageError(f"{where}: {DATASETS}")
        kw.pop("datasets", None)
        m = s.methods.get(method)
        given_opts = dict(options or {})
        given_jobs = dict(jobs or {})
        for k, v in kw.items():
            if k in m.options:
                target = given_opts
            elif k in m.jobs:
                target = given_jobs
            else:
                raise UsageError(f"{where}: method '{m.name}' has no option or input job named '{k}'"
                                 f" (options: {', '.join(m.options) or 'none'}; jobs: {', '.join(m.jobs) or 'none'})")
            if k in target:
                raise UsageError(f"{where}: '{k}' is given twice")
            target[k] = v
        option_jobs = _job_with_files(m, given_opts, where) if m.job_with_files else []
        opts = coerce_options(m, given_opts, where)
        try:
            enc_opts = encode_value(opts)
        except (TypeError, ValueError) as e:
            raise UsageError(f"{where}: {e}") from None
        for k, v in given_jobs.items():     # a job of an urd item: the job itself
            given_jobs[k] = [x.job if isinstance(x, UrdJob) else x for x in v] if isinstance(v, (list, tuple)) \
                else v.job if isinstance(v, UrdJob) else v
        inputs, job_ids = {}, {}
        for k in given_jobs:
            if k not in m.jobs:
                raise UsageError(f"{where}: method '{m.name}' has no input job '{k}' (jobs: {', '.join(m.jobs) or 'none'})")
        for k, is_list in m.jobs.items():
            v = given_jobs.get(k)
            if v is None:
                inputs[k] = job_ids[k] = None
            elif is_list:
                if isinstance(v, Job) or not isinstance(v, (list, tuple)):
                    raise UsageError(f"{where}: input '{k}' of '{m.name}' is a list of jobs; give a list")
                for j in v:
                    _check_job(j, k, where)
                inputs[k] = list(v)
                job_ids[k] = [j.id for j in v]
            else:
                _check_job(v, k, where)
                inputs[k] = v
                job_ids[k] = v.id
        files = {}
        for p in m.files:
            sm = s.view.submodule_of(p)
            if sm is not None:
                raise UsageError(f"{where}: data file '{p}' declared by {m.path} is inside git submodule '{sm}'; "
                                 f"accelgit reads data files from this repository only")
            blob = s.view.blob(p)
            if blob is None:
                raise UsageError(f"{where}: data file '{p}' declared by {m.path} does not exist ({s.view.label})")
            if s.view.is_link(p):
                raise UsageError(f"{where}: data file '{p}' declared by {m.path} is a symbolic link; git hashes "
                                 f"the link, not its content, so a change of the target would go unseen")
            files[p] = blob
        jid = job_id(m.name, m.digest, enc_opts, job_ids, files)
        equivalent = [job_id(m.name, d, enc_opts, job_ids, files) for d in m.equivalent]
        for what, value in (("name", name), ("caption", caption)):
            if value is None:
                continue
            if not isinstance(value, str):
                raise UsageError(f"{where}: {what}= must be a string, not {type(value).__name__} {value!r:.40}")
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise UsageError(f"{where}: {what}= {value!r:.40} is not valid unicode text "
                                 f"(it holds a lone surrogate)") from None
        if name == "":
            raise UsageError(f"{where}: name= must not be empty")
        return JobSpec(id=jid, method=m, name=name or m.name, caption=caption, options=enc_opts,
                       jobs=job_ids, files=files, inputs=inputs, equivalent_ids=equivalent,
                       workdir=s.store.workdir(workdir), force=bool(force_build), option_jobs=option_jobs)


def _job_with_files(m, given: dict, where: str) -> list[Job]:
    """Options typed ``JobWithFile`` given as ``job.withfile(name)``: in the
    options as ``[job id, name, sliced, extra]`` (the id joins the identity),
    and their jobs returned (the job waits for them)."""
    jobs: list[Job] = []

    def one(k, v):
        if not isinstance(v, (tuple, list)) or not 2 <= len(v) <= 4 or not isinstance(v[0], Job):
            raise UsageError(f"{where}: option '{k}' of method '{m.name}' expects job.withfile(name) "
                             f"(a JobWithFile), not {type(v).__name__} {v!r:.40}")
        jobs.append(v[0])
        return [v[0].id, *v[1:]]
    for k, kind in m.job_with_files.items():
        v = given.get(k)
        if v is not None:
            given[k] = [one(k, x) for x in v] if kind.startswith("[") and isinstance(v, (list, tuple)) \
                and not isinstance(v, JobWithFile) else one(k, v)
    return jobs


def _check_job(v: Any, k: str, where: str) -> None:
    if isinstance(v, (list, tuple)):
        raise UsageError(f"{where}: input job '{k}' takes one job, not a {type(v).__name__} "
                         f"(a method declares a list of jobs as \"[{k}]\" in jobs)")
    if not isinstance(v, Job):
        raise UsageError(f"{where}: input job '{k}' must be a Job returned by urd.build, not {type(v).__name__} {v!r:.40}")
