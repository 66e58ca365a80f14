"""The cache files accelgit keeps in a repository's git dir (the stat cache,
the method cache, the plan's baselines): a JSON object read whole, written
whole and atomically (a temp file, then a rename), and never more than a
cache: missing, damaged or unwritable (a read-only repository), it is just
not there."""
from __future__ import annotations

import json
import os


def read_json(path: str, **expect) -> dict | None:
    """The JSON object in ``path`` when every ``key=value`` of ``expect`` holds
    in it (a version, say), else None."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or any(data.get(k) != v for k, v in expect.items()):
        return None
    return data


def write_json(path: str, obj: dict) -> bool:
    """Write ``obj`` to ``path`` atomically; False where it cannot be written."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        text = json.dumps(obj, separators=(",", ":"))    # json.dump would run the pure-Python encoder
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
        return True
    except OSError:
        try:
            os.remove(tmp)
        except OSError:
            pass
        return False
