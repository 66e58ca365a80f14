"""What scripts and methods see of a job (accelgit/api): results pickled by
an accelgit from before the layered package still load."""
from __future__ import annotations

import pickle

from accelgit.api.job import Job, load_pickle
from accelgit.api.running import ReadOnly


def test_pickles_naming_the_modules_of_the_flat_layout_load(tmp_path):
    job = Job(str(tmp_path), id="ab" * 32, method="m", name="m")
    old = pickle.dumps({"job": job, "opts": ReadOnly({"n": 1})}, protocol=0)
    old = old.replace(b"accelgit.api.job", b"accelgit.jobref").replace(b"accelgit.api.running", b"accelgit.runner")
    assert b"accelgit.jobref" in old and b"accelgit.runner" in old
    got = load_pickle(old)
    assert isinstance(got["job"], Job) and got["job"].id == job.id and got["opts"].n == 1
    assert load_pickle(pickle.dumps([1, "x"])) == [1, "x"]
