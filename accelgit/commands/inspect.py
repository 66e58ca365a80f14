"""``accelgit show``, ``log`` and ``which``: reading the job store."""
from __future__ import annotations

import json
import os

from accelgit.commands.output import emit
from accelgit.core.table import table
from accelgit.store.layout import JOB_JSON, MANIFEST, OUTPUT, PROFILE, RESULT_JSON, RESULT_PICKLE
from accelgit.store.manifest import walk_files
from accelgit.store.workdir import Store


def list_jobs(repo, config, method: str | None = None, limit: int = 50) -> list[dict]:
    store = Store(config)
    rows = []
    for wd in store.workdirs.values():
        if not os.path.isdir(wd.path):
            continue
        got = wd.index.rows("WHERE method = ?" if method else "", (method,) if method else ())
        if got is None:       # no usable index: read the directories
            from accelgit.store.index import row_of
            got = []
            for dirname, params in wd.jobs():
                if method and params.get("method") != method:
                    continue
                got.append(dict(zip(("id", "dirname", "method", "name", "source", "caption", "build_script",
                                     "git_commit", "git_branch", "dirty", "built_at"), row_of(params, dirname))))
        for r in got:
            if os.path.isfile(os.path.join(wd.path, r["dirname"], MANIFEST)):
                r["workdir"] = wd.name
                r["dirty"] = bool(r["dirty"])
                r["path"] = os.path.join(wd.path, r["dirname"])
                rows.append(r)
    rows.sort(key=lambda r: r["built_at"] or "", reverse=True)
    return rows[:limit] if limit else rows


def log_command(repo, config, *, cwd: str, as_json: bool, method: str | None, limit: int) -> None:
    rows = list_jobs(repo, config, method=method, limit=limit)
    if as_json:
        emit({"jobs": rows})
        return
    if not rows:
        print(f"no jobs of method '{method}'" if method else "no jobs yet")
        return
    print(table([[r["built_at"][:19].replace("T", " ") if r["built_at"] else "", r["dirname"], r["name"],
                  (r["git_commit"] or "-")[:10] + ("*" if r["dirty"] else ""), r["workdir"]] for r in rows],
                ["built", "job", "name", "commit", "workdir"]))


def _job_by_name(repo, config, store: Store, name: str, cwd: str) -> str | None:
    """The folder of the job named ``name`` that the work tree's build scripts
    use (the last call of that name), else the newest stored job of that name."""
    from accelgit.core.errors import AccelgitError
    from accelgit.git.views import WorktreeView
    from accelgit.plan.document import run_plan
    found = None
    view = WorktreeView(repo)
    try:
        plan = run_plan(repo, config, view, None, cwd, explain=False, capture=True)
        for p in plan.planned.values():
            if p.name == name and p.action == "reuse":
                found = p.path
    except AccelgitError:
        pass                        # scripts that cannot be planned: the newest job of that name
    finally:
        view.close()
    if found:
        return found
    newest = None
    for wd, dirname, params in store.all_jobs():
        if params.get("name") == name and (newest is None or (params.get("built_at") or "") > newest[0]):
            newest = (params.get("built_at") or "", os.path.join(wd.path, dirname))
    return newest[1] if newest else None


def show_command(repo, config, *, cwd: str, as_json: bool, job: str) -> None:
    from accelgit.core.errors import JobNotFound
    store = Store(config)
    try:
        path = store.resolve(job)
    except JobNotFound:
        path = _job_by_name(repo, config, store, job, cwd)      # a job's name is a JOB too
        if path is None:
            raise
    with open(os.path.join(path, JOB_JSON), encoding="utf-8") as f:
        params = json.load(f)
    complete = os.path.isfile(os.path.join(path, MANIFEST))
    result = None
    has_result = os.path.exists(os.path.join(path, RESULT_JSON))
    if has_result:
        from accelgit.store.manifest import verified_bytes
        try:
            result = json.loads(verified_bytes(path, RESULT_JSON))
        except Exception as e:  # noqa: BLE001 - show what is wrong instead
            result = f"<unreadable: {e}>"
    outputs = walk_files(os.path.join(path, OUTPUT))
    profile = None
    try:
        with open(os.path.join(path, PROFILE), encoding="utf-8") as f:
            profile = json.load(f)
    except (OSError, ValueError):
        pass
    if as_json:
        emit({"path": path, "complete": complete, "job": params, "result": result if has_result else None,
              "result_file": RESULT_JSON if has_result else (RESULT_PICKLE if os.path.exists(os.path.join(path, RESULT_PICKLE)) else None),
              "output": outputs, "profile": profile})
        return
    g = params.get("git") or {}
    lines = [
        f"job      {os.path.basename(path)}" + ("" if complete else "  (INCOMPLETE: no manifest.json)"),
        f"id       {params.get('id')}",
        f"method   {params.get('method')} ({params.get('method_path')})   name {params.get('name')}",
        f"path     {path}",
        f"built    {params.get('built_at')} by {params.get('user')}@{params.get('host')}"
        + (f" in {profile['wall']:.3f}s" if profile else ""),
        f"git      {g.get('commit') or '(no commit)'} on {g.get('branch') or '(detached)'}"
        + (f"  DIRTY: {', '.join(g.get('dirty_paths') or [])}" if g.get("dirty") else ""),
    ]
    if params.get("caption"):
        lines.append(f"caption  {params['caption']}")
    if params.get("options"):
        lines.append("options  " + json.dumps(params["options"], sort_keys=True))
    for k, v in (params.get("jobs") or {}).items():
        ids = v if isinstance(v, list) else [] if v is None else [v]
        names = []
        for jid in ids:
            found = store.find_by_id(jid) if isinstance(jid, str) else None
            names.append(os.path.basename(found) if found else str(jid)[:12])
        lines.append(f"input    {k} = {', '.join(names) if names else 'none'}")
    for name, sub in (params.get("subjobs") or {}).items():
        lines.append(f"subjob   {name}" + ("" if sub.get("built") else "  (reused)"))
    for k, v in (params.get("files") or {}).items():
        lines.append(f"file     {k} {v[:12]}")
    for k, v in (params.get("sources") or {}).items():
        lines.append(f"source   {k} {v[:12]}")
    if has_result:
        text = json.dumps(result)
        lines.append("result   " + (text if len(text) < 200 else text[:197] + "..."))
    elif os.path.exists(os.path.join(path, RESULT_PICKLE)):
        lines.append("result   (pickle: load it with Job.load())")
    for o in outputs:
        lines.append(f"output   {o}")
    print("\n".join(lines))


def which_command(repo, config, *, cwd: str, as_json: bool, file: str) -> None:
    """The job whose directory holds ``file`` (a path, relative to the cwd)."""
    from accelgit.core.errors import JobNotFound
    path = os.path.abspath(file)
    store = Store(config)
    for wd in store.workdirs.values():
        base = wd.path + os.sep
        if not path.startswith(base):
            continue
        rel = path[len(base):].split(os.sep)
        jobdir = os.path.join(wd.path, rel[0])
        if rel[0].startswith(".") or not os.path.isfile(os.path.join(jobdir, JOB_JSON)):
            break
        with open(os.path.join(jobdir, JOB_JSON), encoding="utf-8") as f:
            params = json.load(f)
        inner = "/".join(rel[1:])
        entry = None
        if os.path.isfile(os.path.join(jobdir, MANIFEST)):
            from accelgit.store.manifest import read_manifest
            entry = read_manifest(jobdir)["files"].get(inner)
        info = {"file": path, "job": os.path.basename(jobdir), "id": params.get("id"),
                "method": params.get("method"), "name": params.get("name"), "workdir": wd.name,
                "path_in_job": inner, "in_manifest": entry is not None,
                "commit": (params.get("git") or {}).get("commit")}
        if as_json:
            emit(info)
        else:
            print(f"{info['job']}  ({info['method']}, name {info['name']}, workdir {wd.name})")
            print(f"  {inner or '.'}" + ("" if entry or not inner else "  (not in the job's manifest)"))
        return
    if os.path.isfile(path):
        matches = _by_content(store, path)
        if matches:
            if as_json:
                emit({"file": path, "copy_of": matches})
            else:
                for m in matches:
                    print(f"{m['job']}  ({m['method']}, name {m['name']}, workdir {m['workdir']})")
                    print(f"  {m['path_in_job']}: the same content (sha256 {m['sha256'][:12]}); built from commit "
                          f"{(m['commit'] or '(none)')[:10]} by {m['build_script']}")
            return
        raise JobNotFound(f"{file} is in no job directory, and no job's manifest holds a file with its content "
                          f"(workdirs: {', '.join(store.workdirs)})")
    raise JobNotFound(f"{file} is not inside a job directory of any workdir ({', '.join(store.workdirs)})")


def _by_content(store: Store, path: str) -> list[dict]:
    """Every job file with the content of ``path`` (a copy taken out of a job),
    found by sha256 in the jobs' manifests."""
    from accelgit.store.manifest import file_digest, read_manifest
    sha, size = file_digest(path)
    out = []
    for wd, dirname, params in store.all_jobs():
        jobdir = os.path.join(wd.path, dirname)
        try:
            files = read_manifest(jobdir)["files"]
        except Exception:  # noqa: BLE001 - a damaged job: not this one
            continue
        for rel, e in files.items():
            if isinstance(e, dict) and e.get("sha256") == sha and e.get("size") == size:
                out.append({"job": dirname, "id": params.get("id"), "method": params.get("method"),
                            "name": params.get("name"), "workdir": wd.name, "path_in_job": rel, "sha256": sha,
                            "commit": (params.get("git") or {}).get("commit"),
                            "build_script": params.get("build_script")})
    return out
