"""A forced rebuild swaps the new job into the old one's place in one step
(store/workdir.exchange), and a checked read takes the manifest, the
signature and the file from one open folder (store/manifest.verified_bytes):
a reader racing the swaps sees one job or the other, whole."""
from __future__ import annotations

import json
import threading
from pathlib import Path

from accelgit.core.errors import IntegrityError
from accelgit.store.manifest import verified_bytes, write_manifest
from accelgit.store.signing import sign
from accelgit.store.workdir import exchange


def job(folder: Path, value: int) -> Path:
    (folder / "output").mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps({"v": value, "pad": "x" * (value * 1000)}))
    sign(str(folder), write_manifest(str(folder)))
    return folder


def test_readers_racing_swaps_see_one_job_or_the_other(tmp_path: Path):
    a, b = job(tmp_path / "job", 1), job(tmp_path / "new", 2)
    assert exchange(str(a), str(b))                  # this system can swap (Linux)
    assert json.loads(verified_bytes(str(a), "result.json"))["v"] == 2
    stop, errors, seen = threading.Event(), [], set()

    def read():
        while not stop.is_set():
            try:
                seen.add(json.loads(verified_bytes(str(a), "result.json"))["v"])
            except IntegrityError as e:          # a mix of the two jobs
                errors.append(str(e))
                return

    readers = [threading.Thread(target=read) for _ in range(2)]
    for t in readers:
        t.start()
    for _ in range(3000):
        exchange(str(a), str(b))
    stop.set()
    for t in readers:
        t.join()
    assert errors == [] and seen == {1, 2}

