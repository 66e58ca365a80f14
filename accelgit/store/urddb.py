"""The urd lists (the Accelerator's Urd, its database of build sessions):
each list holds items by timestamp, each item the jobs a session built, what
it read of other lists (``deps``), and the git commit it was made from.

Stored as JSON Lines (``<target workdir>/.urd.jsonl``, or the config's
``urd`` path): one event a line, ``{"op": "add", "item": {...}}`` or
``{"op": "truncate", "list", "timestamp"}``, appended under a lock and
replayed to read.  This module is the one writer and the one reader; a
read-only database (plan, hooks) keeps its changes in memory."""
from __future__ import annotations

import json
import os

from accelgit.core.errors import UsageError
from accelgit.store.layout import URD_DB

_IGNORED = ("user", "commit", "view", "added_at", "build_job")      # not part of "the same item"


def urd_path(config) -> str:
    """The file of the urd lists for ``config``."""
    if config.urd is not None:
        path = os.path.expanduser(config.urd)
        return path if os.path.isabs(path) else os.path.join(config.root, path)
    return os.path.join(config.workdir_path(config.target_workdir), URD_DB)


def ts_key(ts: str) -> tuple:
    """Sort key of a timestamp: integers in order, before dates (ISO strings)."""
    return (0, int(ts), "") if ts.isdigit() else (1, 0, ts)


class UrdDB:
    def __init__(self, path: str, writable: bool):
        self.path, self.writable = path, writable
        self._lists: dict[str, dict[str, dict]] | None = None

    @property
    def lists(self) -> dict[str, dict[str, dict]]:
        if self._lists is None:
            self._lists = {}
            try:
                with open(self.path, encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        if line.strip():
                            try:
                                self._apply(json.loads(line))
                            except (ValueError, KeyError, TypeError, AttributeError):
                                raise UsageError(f"{self.path}:{n}: not an urd event line; the urd lists "
                                                 f"cannot be read") from None
            except FileNotFoundError:
                pass
        return self._lists

    def _apply(self, event: dict) -> None:
        lists = self._lists
        if event["op"] == "add":
            item = event["item"]
            lists.setdefault(item["list"], {})[item["timestamp"]] = item
        elif event["op"] == "truncate":
            key = ts_key(event["timestamp"])
            items = lists.get(event["list"], {})
            for ts in [t for t in items if ts_key(t) >= key]:
                del items[ts]
        else:
            raise ValueError(event["op"])

    def _append(self, event: dict) -> None:
        self.lists         # read what is there before adding to it
        self._apply(event)
        if not self.writable:
            return
        import fcntl
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            f.write(json.dumps(event, sort_keys=True, ensure_ascii=False) + "\n")

    def add(self, item: dict, update: bool = False) -> None:
        """Add ``item``; an item of that list and timestamp must be the same
        one (a build run again) unless ``update``."""
        old = self.lists.get(item["list"], {}).get(item["timestamp"])
        if old is not None and not update:
            same = {k: v for k, v in old.items() if k not in _IGNORED} == \
                {k: v for k, v in json.loads(json.dumps(item)).items() if k not in _IGNORED}
            if not same:
                raise UsageError(f"urd list '{item['list']}' already has a different item at {item['timestamp']} "
                                 f"(truncate the list first, or begin(..., update=True))")
            return
        self._append({"op": "add", "item": item})

    def truncate(self, name: str, ts: str) -> None:
        self._append({"op": "truncate", "list": name, "timestamp": ts})

    def timestamps(self, name: str) -> list[str]:
        return sorted(self.lists.get(name, {}), key=ts_key)

    def get(self, name: str, ts: str) -> dict | None:
        """The item of list ``name`` at ``ts`` (or ``latest``/``first``)."""
        stamps = self.timestamps(name)
        if ts in ("latest", "first"):
            return self.lists[name][stamps[-1 if ts == "latest" else 0]] if stamps else None
        return self.lists.get(name, {}).get(ts)

    def since(self, name: str, ts: str) -> list[str]:
        key = ts_key(ts)
        return [t for t in self.timestamps(name) if ts_key(t) > key]

    def names(self) -> list[str]:
        return sorted(n for n, items in self.lists.items() if items)
