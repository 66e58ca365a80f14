"""The trust model end to end (issue 15, docs/security.md): a job in any
workdir that is not signed by a key you trust is never loaded, unpickled,
imported or executed — not by build, plan, verify, verify --rerun, nor a real
``git commit`` with the hooks installed — and is treated as absent.  A marker
file that unpickling the attacker's result would create must never appear."""
from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest
from conftest import Repo

from accelgit.store.manifest import write_manifest

PIPE = {
    "methods/a.py": """
        def synthesis():
            return {"n": 1}
    """,
    "methods/b.py": """
        jobs = ("src",)

        def synthesis(jobs):
            return {"n": jobs.src.load()["n"] + 1}
    """,
    "build.py": """
        def main(urd):
            a = urd.build("a")
            urd.build("b", src=a)
            print("a gives", a.load())
    """,
}


class _Evil:
    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def other_user(repo: Repo, tmp_path: Path, name: str = "mallory") -> dict:
    """The environment of another user of the same workdirs (a key of their own)."""
    env = {"XDG_CONFIG_HOME": str(tmp_path / f"{name}-config")}
    pub = json.loads(repo.run("trust", "show", "--json", env=env, check=True).stdout)["key"]
    return {**env, "PUBLIC_KEY": pub}


@pytest.fixture
def team(repo: Repo, tmp_path: Path) -> tuple[Repo, Path]:
    """A pipeline whose config has a second, shared workdir ``team``."""
    shared = tmp_path / "team"
    shared.mkdir()
    for rel, text in PIPE.items():
        repo.write(rel, text)
    set_target(repo, shared, "local")
    repo.commit("pipeline")
    return repo, shared


def set_target(repo: Repo, shared: Path, target: str) -> None:
    repo.write("accelgit.toml", f"""
        target_workdir = "{target}"
        [workdirs]
        local = ".accelgit/work"
        team = "{shared}"
    """)


def plant(repo: Repo, shared: Path, tmp_path: Path, how: str) -> tuple[Path, Path]:
    """What the attacker does: build the pipeline, copy job ``a`` into ``shared``
    with its result replaced by a pickle that runs code when loaded, and a
    self-consistent manifest; unsigned, or signed with their own key."""
    marker = tmp_path / "pwned"
    built = {j["method"]: Path(j["path"]) for j in repo.build()["jobs"]}
    evil = shared / built["a"].name
    shutil.copytree(built["a"], evil)
    (evil / "result.json").unlink()
    (evil / "result.pickle").write_bytes(pickle.dumps(_Evil(str(marker))))
    write_manifest(str(evil))
    (evil / "signature.json").unlink()
    if how == "signed by another key":
        env = {**repo.env, **other_user(repo, tmp_path)}
        import subprocess
        import sys
        subprocess.run([sys.executable, "-c", f"from accelgit.store.signing import sign; sign({str(evil)!r})"],
                       env=env, check=True)
    shutil.rmtree(repo.workdir)                 # the victim: a fresh clone, say
    return evil, marker


@pytest.mark.parametrize("how", ["unsigned", "signed by another key"])
def test_a_crafted_job_in_a_shared_workdir_never_runs(team, tmp_path: Path, how: str):
    repo, shared = team
    evil, marker = plant(repo, shared, tmp_path, how)
    short = "unsigned" if how == "unsigned" else "signed by "
    # plan: treated as absent, and says why
    plan = repo.json("plan")
    a = next(j for j in plan["jobs"] if j["method"] == "a")
    assert a["action"] == "build"
    assert a["reasons"][0]["kind"] == "untrusted" and short in a["reasons"][0]["detail"], a["reasons"]
    assert not marker.exists()
    # a real commit with the hooks installed (pre-commit plans the index)
    repo.run("hooks", "install", check=True)
    repo.write("README.md", "hello\n")
    repo.git("add", "README.md")
    repo.git("commit", "-q", "-m", "readme")
    assert not marker.exists()
    # post-checkout and post-merge plan too
    repo.git("checkout", "-q", "-b", "side")
    repo.write("NOTES.md", "side\n")
    repo.commit("side")
    repo.git("checkout", "-q", "-")
    repo.git("merge", "-q", "--no-edit", "--no-ff", "side")
    assert not marker.exists()
    # verify --all (and --rerun): the job fails integrity, is not rerun
    v = repo.json("verify", "--all", "--rerun")
    checks = {c["check"]: c for j in v["jobs"] if j["id"].startswith(evil.name[2:]) for c in j["checks"]}
    assert not v["ok"] and not checks["integrity"]["ok"]
    assert f"not trusted: {short}" in checks["integrity"]["detail"]
    assert not checks["reproducible"]["ok"] and "not signed by a key you trust" in checks["reproducible"]["detail"]
    assert not marker.exists()
    # build: its own copy, in the target workdir; the team folder untouched
    proc = repo.run("build", "--json")
    assert proc.returncode == 0, proc.stderr
    jobs = {j["method"]: j for j in json.loads(proc.stdout)["jobs"]}
    assert jobs["a"]["action"] == "built" and Path(jobs["a"]["path"]).parent == repo.workdir
    assert f"{evil.name} in workdir team is not trusted ({short}" in proc.stderr
    assert "a gives {'n': 1}" in proc.stderr
    assert sorted(os.listdir(evil)) == sorted(["job.json", "manifest.json", "output", "log", "source",
                                               "profile.json", "result.pickle"]
                                              + (["signature.json"] if how != "unsigned" else []))
    assert not marker.exists()
    assert repo.json("verify")["ok"]


def test_an_untrusted_job_in_the_target_workdir_is_moved_aside_not_loaded(team, tmp_path: Path):
    repo, shared = team
    evil, marker = plant(repo, shared, tmp_path, "unsigned")
    repo.workdir.mkdir(parents=True)
    target = repo.workdir / evil.name
    shutil.move(str(evil), str(target))
    proc = repo.run("build")
    assert proc.returncode == 0, proc.stderr
    assert f"{evil.name} in workdir local is not trusted (unsigned)" in proc.stderr
    aside = list((repo.workdir / ".untrusted").iterdir())
    assert [p.name.split(".")[0] for p in aside] == [evil.name]          # kept, never deleted
    assert (aside[0] / "result.pickle").exists() and (target / "result.json").exists()
    assert not marker.exists()
    # show reads its job.json, never its result; gc removes it, saying what it was
    show = repo.run("show", str(aside[0]))
    assert not marker.exists() and "result" in show.stdout, show
    gc = repo.json("gc")
    assert [(r["kind"], r["path"]) for r in gc["removed"] if r["kind"] != "lock"] == \
        [("untrusted", f".untrusted/{aside[0].name}")]
    assert not (repo.workdir / ".untrusted").exists() or not any((repo.workdir / ".untrusted").iterdir())


def test_trusting_a_teammates_key_reuses_their_jobs(team, tmp_path: Path):
    repo, shared = team
    teammate = other_user(repo, tmp_path, "tess")
    set_target(repo, shared, "team")
    repo.commit("team target")
    repo.run("build", env=teammate, check=True)              # tess builds into the team folder
    repo.write("accelgit.toml", repo.read("accelgit.toml").replace('target_workdir = "team"', 'target_workdir = "local"'))
    repo.commit("back to local")
    # not trusted yet: built again here
    first = {j["method"]: j["action"] for j in repo.build()["jobs"]}
    assert first == {"a": "built", "b": "built"}
    shutil.rmtree(repo.workdir)
    out = repo.run("trust", "add", teammate["PUBLIC_KEY"], check=True).stdout
    assert out.startswith("trusted ")
    jobs = repo.build()["jobs"]
    assert {j["method"]: j["action"] for j in jobs} == {"a": "reused", "b": "reused"}
    assert all(Path(j["path"]).parent == shared for j in jobs)
    # no longer trusted: absent again
    kid = json.loads(repo.run("trust", "show", "--json", check=True).stdout)["trusted"][0]["key_id"]
    repo.run("trust", "remove", kid, check=True)
    assert {j["method"]: j["action"] for j in repo.build()["jobs"]} == {"a": "built", "b": "built"}


def test_trusted_keys_in_the_config_count_and_bad_ones_are_one_line(team, tmp_path: Path):
    repo, shared = team
    teammate = other_user(repo, tmp_path, "tess")
    cfg = repo.read("accelgit.toml")
    repo.write("accelgit.toml", cfg.replace('target_workdir = "local"', 'target_workdir = "team"'))
    repo.run("build", env=teammate, check=True)
    repo.write("accelgit.toml", f'trusted_keys = ["{teammate["PUBLIC_KEY"]}"]\n' + cfg)
    assert {j["action"] for j in repo.build()["jobs"]} == {"reused"}
    # a job process that loads the teammate's job trusts it too (the config's keys are handed down)
    import textwrap
    repo.write("methods/b.py", textwrap.dedent(PIPE["methods/b.py"]) + "\n# b, edited\n", dedent=False)
    assert {j["method"]: j["action"] for j in repo.build()["jobs"]} == {"a": "reused", "b": "built"}
    repo.write("methods/b.py", PIPE["methods/b.py"])
    show = repo.run("trust", "show", check=True).stdout
    assert teammate["PUBLIC_KEY"] in show and "accelgit.toml: trusted_keys" in show
    proc = repo.run("trust", "remove", teammate["PUBLIC_KEY"])
    assert proc.returncode == 2 and proc.stderr.strip().endswith("accelgit.toml: trusted_keys: remove it there")
    repo.write("accelgit.toml", 'trusted_keys = ["ed25519:AAAA"]\n' + cfg)
    proc = repo.run("build")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "accelgit: accelgit.toml: 'trusted_keys': 'ed25519:AAAA' is not an ed25519 public key "
        "(want ed25519:BASE64 of 32 bytes)"]


def test_trust_commands_say_what_they_did(repo: Repo, tmp_path: Path):
    me = json.loads(repo.run("trust", "show", "--json", check=True).stdout)
    assert me["key"].startswith("ed25519:") and me["trusted"] == []
    assert repo.run("trust", "add", me["key"], check=True).stdout.startswith(f"{me['key_id']} is your own key")
    proc = repo.run("trust", "add", "ed25519:bad")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "is not an ed25519 public key" in proc.stderr
    proc = repo.run("trust", "remove", me["key_id"])
    assert proc.returncode == 2 and "is your own key: it is always trusted" in proc.stderr
    proc = repo.run("trust", "remove", "0123456789abcdef")
    assert proc.returncode == 2 and "not a trusted key" in proc.stderr


def test_trust_sign_vouches_for_whole_unsigned_jobs_only(team, tmp_path: Path):
    """Jobs built before signatures are unsigned (so rebuilt); ``trust sign``
    signs a workdir's unsigned jobs whose files are as their manifests say, or
    the jobs named, whoever signed them."""
    repo, shared = team
    jobs = {j["method"]: Path(j["path"]) for j in repo.build()["jobs"]}
    for p in jobs.values():
        (p / "signature.json").unlink()
    (repo.workdir / "index.sqlite").unlink()                        # as a workdir of an older accelgit
    (jobs["b"] / "result.json").write_text('{"n": 99}')            # damaged: never vouched for
    assert {j["method"]: j["action"] for j in repo.json("plan")["jobs"]} == {"a": "build", "b": "build"}
    proc = repo.run("trust", "sign")
    assert proc.returncode == 1
    assert proc.stdout.splitlines() == [f"signed   {jobs['a'].name}",
                                        f"refused  {jobs['b'].name}  (modified: result.json)",
                                        "1 signed, 1 refused"]
    assert {j["method"]: j["action"] for j in repo.json("plan")["jobs"]} == {"a": "reuse", "b": "build"}
    # a job a stranger signed, named: you vouch for it
    teammate = other_user(repo, tmp_path, "tess")
    (jobs["b"] / "result.json").write_text('{"n": 2}')
    import subprocess
    import sys
    subprocess.run([sys.executable, "-c", f"from accelgit.store.signing import sign; sign({str(jobs['b'])!r})"],
                   env={**repo.env, **teammate}, check=True)
    assert repo.json("plan")["jobs"][1]["reasons"][0]["kind"] == "untrusted"
    assert repo.run("trust", "sign", check=True).stdout.strip() == "nothing to sign"     # not unsigned: left
    repo.run("trust", "sign", jobs["b"].name, check=True)
    assert {j["method"]: j["action"] for j in repo.json("plan")["jobs"]} == {"a": "reuse", "b": "reuse"}
    assert repo.json("verify")["ok"]


def test_a_trusted_job_copied_under_another_id_is_not_that_job(team, tmp_path: Path):
    """The signature covers job.json (through the manifest): a copy of a
    trusted job in the folder of another id, with only job.json's id edited,
    is not reused as that job."""
    repo, shared = team
    a = next(Path(j["path"]) for j in repo.build()["jobs"] if j["method"] == "a")
    repo.write("methods/a.py", PIPE["methods/a.py"].replace('{"n": 1}', '{"n": 1, "v": 2}'))
    repo.commit("a v2")
    new_id = next(j["id"] for j in repo.json("plan")["jobs"] if j["method"] == "a")
    fake = shared / f"a-{new_id[:12]}"
    shutil.copytree(a, fake)
    params = json.loads((fake / "job.json").read_text())
    params["id"] = new_id
    (fake / "job.json").write_text(json.dumps(params))
    built = {j["method"]: j for j in repo.build()["jobs"]}
    assert built["a"]["action"] == "built" and Path(built["a"]["path"]).parent == repo.workdir


def test_a_fifo_in_a_workdir_hangs_nothing(team, tmp_path: Path):
    repo, shared = team
    a = next(Path(j["path"]) for j in repo.build()["jobs"] if j["method"] == "a")
    planted = shared / a.name
    shutil.copytree(a, planted)
    shutil.rmtree(repo.workdir)
    (planted / "job.json").unlink()
    os.mkfifo(planted / "job.json")                # reading it would wait for a writer forever
    for args in (["plan"], ["build"], ["verify", "--all"]):
        proc = repo.run(*args)                     # (the fixture's timeout is what a hang would hit)
        assert proc.returncode in (0, 1), (args, proc.stderr)
    assert (repo.workdir / a.name / "result.json").exists()


def test_a_job_is_built_in_a_folder_only_you_can_enter(repo: Repo):
    repo.write("methods/m.py", """
        import os
        import stat

        def synthesis():
            return oct(stat.S_IMODE(os.stat("..").st_mode))      # the job's folder, while it runs
    """)
    repo.write("build.py", "def main(urd):\n    urd.build('m')\n")
    repo.commit("m")
    path = Path(repo.build()["jobs"][0]["path"])
    assert json.loads((path / "result.json").read_text()) == "0o700"
    umask = os.umask(0o022)
    os.umask(umask)
    assert oct(path.stat().st_mode & 0o777) == oct(0o777 & ~umask)          # opened up when published


def test_trust_sign_refuses_to_vouch_for_a_workdir_others_can_write(team):
    repo, shared = team
    repo.build()
    os.chmod(shared, 0o777)
    proc = repo.run("trust", "sign", "--workdir", "team")
    assert proc.returncode == 2 and "can be written by others" in proc.stderr and proc.stderr.count("\n") == 1


def test_trust_sign_takes_jobs_or_a_workdir_not_both(team):
    repo, _ = team
    job = Path(repo.build()["jobs"][0]["path"])
    proc = repo.run("trust", "sign", job.name, "--workdir", "team")
    assert proc.returncode == 2 and proc.stderr == "accelgit: give JOBs or --workdir, not both\n"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file to another user")
def test_a_signing_key_that_belongs_to_another_user_is_one_line_and_builds_nothing(repo: Repo, tmp_path: Path):
    """Like ssh with a private key: a key file that is not yours is refused (someone
    else could have planted it), whatever its mode.  One line naming the file and
    the owner, exit 2, no job, and the key is left as it was."""
    for rel, text in PIPE.items():
        repo.write(rel, text)
    repo.commit("pipeline")
    env = {"XDG_CONFIG_HOME": str(tmp_path / "planted-config")}
    repo.run("trust", "show", env=env, check=True)           # makes the key
    key = tmp_path / "planted-config" / "accelgit" / "signing-key"
    before = key.read_bytes()
    os.chown(key, 4321, -1)
    for cmd in (("build",), ("trust", "show")):
        proc = repo.run(*cmd, env=env)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == f"accelgit: {key}: a signing key must belong to you (it belongs to uid 4321)\n"
    assert repo.job_dirs() == []
    assert key.read_bytes() == before and key.stat().st_uid == 4321
