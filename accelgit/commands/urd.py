"""``accelgit urd list [LIST]`` and ``accelgit urd show LIST [TIMESTAMP]``:
the urd lists build scripts keep (store/urddb.py): which data a pipeline used
at a time, and which commit of the code made it."""
from __future__ import annotations

from accelgit.commands.output import emit
from accelgit.core.errors import UsageError
from accelgit.core.table import table
from accelgit.store.urddb import UrdDB, urd_path


def _db(config) -> UrdDB:
    return UrdDB(urd_path(config), writable=False)


def list_command(repo, config, *, cwd: str, as_json: bool, name: str | None) -> None:
    db = _db(config)
    if name is None:
        rows = [{"list": n, "items": len(db.timestamps(n)), "latest": db.timestamps(n)[-1]} for n in db.names()]
        if as_json:
            emit({"lists": rows})
        elif not rows:
            print("no urd lists yet")
        else:
            print(table([[r["list"], r["items"], r["latest"]] for r in rows], ["list", "items", "latest"]))
        return
    if not db.timestamps(name):
        raise UsageError(f"no urd list '{name}' (lists: {', '.join(db.names()) or 'none'})")
    items = [db.get(name, ts) for ts in db.timestamps(name)]
    if as_json:
        emit({"list": name, "items": items})
        return
    print(table([[i["timestamp"], i["caption"], (i.get("commit") or "-")[:12], len(i["joblist"])] for i in items],
                ["timestamp", "caption", "commit", "jobs"]))


def show_command(repo, config, *, cwd: str, as_json: bool, name: str, timestamp: str | None) -> None:
    db = _db(config)
    item = db.get(name, timestamp or "latest")
    if item is None:
        stamps = db.timestamps(name)
        raise UsageError(f"urd list '{name}' has no item at {timestamp}" + (f" (it has {', '.join(stamps[-5:])})"
                         if stamps else f" (lists: {', '.join(db.names()) or 'none'})"))
    if as_json:
        emit(item)
        return
    print(f"list       {item['list']}\ntimestamp  {item['timestamp']}\ncaption    {item['caption']}\n"
          f"commit     {item.get('commit') or '-'} ({item.get('view')})\nscript     {item.get('build_script')}\n"
          f"user       {item.get('user')}\nadded      {item.get('added_at')}")
    for dep, d in sorted(item["deps"].items()):
        print(f"uses       {dep} at {d['timestamp']}")
    print()
    print(table([[m, d, n] for m, d, n, _ in item["joblist"]], ["method", "job", "name"]))
