"""What accelgit learns from a method source is kept by its blob id
(accelgit/methods/cache.py): an unchanged method is never parsed again, an
edited one is parsed once, and a cache that is missing, damaged or from
another accelgit gives the same jobs as no cache at all."""
from __future__ import annotations

import json

import pytest

from accelgit.config import load_config
from accelgit.git.repo import find_repo
from accelgit.git.views import CommitView, WorktreeView
from accelgit.methods import cache as cache_module
from accelgit.methods import imports as imports_module
from accelgit.methods import registry


def methods_of(repo, view_cls=WorktreeView, *args):
    r = find_repo(str(repo.path))
    view = view_cls(r, *args)
    return view, registry.Methods(view, load_config(r.root).methods)


@pytest.fixture
def parses(monkeypatch):
    """Every parse of a Python source, by path."""
    seen = []
    real = imports_module.parse_source

    def counting(data, path):
        seen.append(path)
        return real(data, path)
    monkeypatch.setattr(registry, "parse_source", counting)
    monkeypatch.setattr(imports_module, "parse_source", counting)
    return seen


def snapshot(m):
    return (m.sources, m.digest, m.options, m.jobs, m.files, m.depend_extra, m.functions, m.equivalent)


def test_an_unchanged_method_is_parsed_once_then_never(chain_repo, parses):
    view, ms = methods_of(chain_repo)
    first = {n: snapshot(ms.get(n)) for n in ("a", "b", "c")}
    view.close()
    assert sorted(parses) == ["methods/_helper.py", "methods/a.py", "methods/b.py", "methods/c.py"]
    assert (chain_repo.path / ".git" / cache_module.FILENAME).is_file()
    parses.clear()
    for view_cls, args in ((WorktreeView, ()), (CommitView, ("HEAD",))):      # blobs are blobs in every view
        view, ms = methods_of(chain_repo, view_cls, *args)
        assert {n: snapshot(ms.get(n)) for n in ("a", "b", "c")} == first
        view.close()
    assert parses == []
    chain_repo.write("methods/b.py", chain_repo.read("methods/b.py") + "\n# an edit\n")
    view, ms = methods_of(chain_repo)
    ms.get("b")
    view.close()
    assert parses == ["methods/b.py"]                 # the helper it imports is unchanged


def test_declarations_come_back_exactly(repo, parses):
    repo.write("methods/m.py", """\
        import datetime
        description = "all kinds"
        options = {"n": 3, "x": -0.0, "t": (1, 2), "d": datetime.date(2024, 2, 29), "$k": {"$date": 1},
                   "none": None, "s": "é"}
        jobs = ("a", "[many]")
        files = ("data/x.txt",)
        depend_extra = ("notes.txt",)
        resources = {"GPU": 2, "memory": "8GB"}


        def synthesis():
            pass
    """)
    repo.write("data/x.txt", "x\n")
    repo.write("methods/notes.txt", "n\n")
    repo.commit("m")
    view, ms = methods_of(repo)
    fresh = ms.get("m")
    view.close()
    view, ms = methods_of(repo)
    cached = ms.get("m")
    view.close()
    assert parses == ["methods/m.py"]
    assert snapshot(cached) == snapshot(fresh) and cached.description == fresh.description
    assert cached.options["d"].isoformat() == "2024-02-29" and cached.options["$k"] == {"$date": 1}
    assert cached.resources == fresh.resources == {"GPU": 2, "memory": "8GB"}


@pytest.mark.parametrize("damage", ["garbage", "other-version", "wrong-shape"])
def test_a_bad_cache_is_ignored_and_the_jobs_are_the_same(chain_repo, damage):
    chain_repo.build()
    plain = chain_repo.run("plan", "--json", env={"ACCELGIT_METHODCACHE": "0"}, check=True).stdout
    path = chain_repo.path / ".git" / cache_module.FILENAME
    assert path.is_file()
    if damage == "garbage":
        path.write_bytes(b"\x00{not json")
    elif damage == "other-version":
        data = json.loads(path.read_text())
        data["accelgit"] = "0.0.0-other"
        for e in data["entries"].values():        # what another version says must not be used
            if "decl" in e:
                e["decl"]["options"] = {"bogus": 1}
        path.write_text(json.dumps(data))
    else:
        path.write_text(json.dumps({"version": 1, "accelgit": "x", "entries": []}))
    assert chain_repo.run("plan", "--json", check=True).stdout == plain
    assert chain_repo.build()["jobs"] and all(j["action"] == "reused" for j in chain_repo.build()["jobs"])
    data = json.loads(path.read_text())
    assert data["version"] == cache_module.VERSION and len(data["entries"]) >= 4


def test_turned_off_it_writes_nothing(chain_repo):
    chain_repo.run("plan", env={"ACCELGIT_METHODCACHE": "0"}, check=True)
    assert not (chain_repo.path / ".git" / cache_module.FILENAME).exists()


def test_a_file_edited_between_hashing_and_reading_is_not_cached(repo, monkeypatch):
    repo.write("methods/m.py", "import helper\noptions = {'n': 1}\n\ndef synthesis():\n    pass\n")
    repo.write("methods/helper.py", "X = 1\n")
    repo.commit("m")
    repo.write("methods/m.py", repo.read("methods/m.py") + "# edited\n")     # hashed from disk
    view, ms = methods_of(repo)
    blob = view.blob("methods/m.py")
    real_read = view.read
    monkeypatch.setattr(view, "read", lambda p: b"options = {'n': 2}\ndef synthesis():\n    pass\n"
                        if p == "methods/m.py" else real_read(p))          # changed after it was hashed
    ms.get("m")
    assert ms.known.get(blob, "decl") is None                             # what was read is not that blob's
    view.close()
    view, ms = methods_of(repo)
    m = ms.get("m")
    view.close()
    assert m.options == {"n": 1} and set(m.sources) == {"methods/m.py", "methods/helper.py"}


def test_a_damaged_entry_is_parsed_again(chain_repo):
    chain_repo.run("plan", check=True)
    path = chain_repo.path / ".git" / cache_module.FILENAME
    data = json.loads(path.read_text())
    for e in data["entries"].values():
        e["decl"], e["refs"] = ["x"], "y"
    path.write_text(json.dumps(data))
    plain = chain_repo.run("plan", "--json", env={"ACCELGIT_METHODCACHE": "0"}, check=True).stdout
    assert chain_repo.run("plan", "--json", check=True).stdout == plain


def test_saving_merges_with_what_another_process_wrote_for_the_same_blob(tmp_path):
    path = tmp_path / cache_module.FILENAME
    mine = cache_module.MethodCache(str(path))
    assert mine.get("b" * 40, "decl") is None                 # read (empty) before the other writes
    other = cache_module.MethodCache(str(path))
    other.put("b" * 40, refs=[[0, "x", []]])
    other.save()
    mine.put("b" * 40, decl={"d": 1})
    mine.save()
    entry = json.loads(path.read_text())["entries"]["b" * 40]
    assert entry == {"refs": [[0, "x", []]], "decl": {"d": 1}}
