"""The Accelerator's API under accelgit (issue 16), end to end: build scripts
and methods as modules of their method package, the ``accelerator`` import
name, the module globals, the Job API the Accelerator's examples use."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_files

PACKAGE = {
    "methods/printer.py": "from .style import loud\n\ndef prt(*a):\n    print(loud(' '.join(map(str, a))))\n",
    "methods/style.py": "def loud(s):\n    return s.upper()\n",
    "methods/helper.py": "VALUE = 41\n",
    "methods/notes.txt": "a depend_extra file\n",
    "methods/a_m.py": """
        from . import helper
        from accelerator import colour

        depend_extra = ('notes.txt', helper)

        def synthesis():
            return [helper.VALUE + 1, __name__, __package__, colour('plain', 'bold')]
    """,
    "methods/build_x.py": """
        from .printer import prt

        def main(urd):
            job = urd.build('m')
            prt('result', job.load(), __name__)
    """,
}


def job_json(out: dict, name: str) -> dict:
    (job,) = [j for j in out["jobs"] if j["name"] == name]
    return json.loads((Path(job["path"]) / "job.json").read_text())


def test_scripts_and_methods_are_modules_of_their_package_and_relative_imports_are_hashed(repo):
    write_files(repo, PACKAGE)
    repo.commit("package")
    proc = repo.run("build", check=True)
    assert "RESULT [42, 'METHODS.A_M', 'METHODS', 'PLAIN'] METHODS.BUILD_X" in proc.stdout
    out = repo.build()
    params = job_json(out, "m")
    # the module named in depend_extra, the file named there, and the method: its sources
    assert sorted(params["sources"]) == ["methods/a_m.py", "methods/helper.py", "methods/notes.txt"]
    # what the script imports relatively is its provenance, not the job's identity
    assert sorted(params["script_sources"]) == ["methods/build_x.py", "methods/printer.py", "methods/style.py"]
    first = params["id"]
    repo.write("methods/style.py", "def loud(s):\n    return s.lower()\n")
    assert [j["action"] for j in repo.build()["jobs"]] == ["reused"]
    repo.write("methods/helper.py", "VALUE = 1\n")
    out = repo.build()
    assert [j["action"] for j in out["jobs"]] == ["built"] and job_json(out, "m")["id"] != first
    assert repo.json("plan", "--at", "HEAD")["jobs"][0]["action"] == "reuse"     # a commit view imports from git


@pytest.mark.parametrize("text,line", [
    ("from . import helper\ndepend_extra = (helper, nothing)\ndef synthesis(): pass\n",
     "methods/build_x.py:5: methods/a_m.py:2: depend_extra: 'nothing' is neither a path nor a module the method "
     "imports at its top level"),
    ("from . import gone\ndepend_extra = (gone,)\ndef synthesis(): pass\n",
     "methods/build_x.py:5: methods/a_m.py: depend_extra: module '.gone' is not a module in this repository "
     "(worktree); accelgit hashes the repository's files only"),
])
def test_depend_extra_naming_no_module_is_one_line(repo, text, line):
    write_files(repo, PACKAGE)
    repo.write("methods/a_m.py", text, dedent=False)
    proc = repo.run("build")
    assert (proc.returncode, proc.stderr) == (2, f"accelgit: {line}\n")


@pytest.mark.parametrize("code,line", [
    ("from accelerator import Dataset\n", "datasets are not supported (accelerator.dataset)"),
    ("from accelerator.dataset import DatasetWriter\n", "datasets are not supported (accelerator.dataset)"),
    ("import accelerator.dsutil\n", "datasets are not supported (accelerator.dataset)"),
    ("from accelerator import Automata\n", "accelgit does not provide accelerator.Automata (see accelgit's "
     "docs/accelerator.md for what it runs of the Accelerator's API)"),
])
def test_what_the_accelerator_name_lacks_is_one_line(repo, code, line):
    write_files(repo, {"methods/build_x.py": code + "def main(urd):\n    pass\n"})
    proc = repo.run("build")
    assert (proc.returncode, proc.stderr) == (2, f"accelgit: methods/build_x.py:1: {line}\n")


def test_a_method_using_datasets_is_one_line(repo):
    write_files(repo, {"methods/a_m.py": "def prepare(job):\n    return job.datasetwriter()\n",
                       "methods/build_x.py": "def main(urd):\n    urd.build('m')\n"})
    proc = repo.run("build")
    assert (proc.returncode, proc.stderr) == (
        2, "accelgit: methods/build_x.py:2: methods/a_m.py:2: datasets are not supported (accelerator.dataset)\n")


def test_a_method_importing_what_accelerator_lacks_fails_naming_it(repo):
    write_files(repo, {"methods/a_m.py": "def synthesis():\n    from accelerator import Dataset\n",
                       "methods/build_x.py": "def main(urd):\n    urd.build('m')\n"})
    proc = repo.run("build")
    assert proc.returncode == 1
    assert "failed: datasets are not supported (accelerator.dataset); log: " in proc.stderr.splitlines()[-1]


JOB_API = {
    "methods/a_first.py": """
        options = dict(n=1)

        def analysis(sliceno, job):
            job.save('slice %d' % sliceno, 'part', sliceno=sliceno)
            print('analysis', sliceno)

        def synthesis():
            # options, jobs and job are module globals too
            job.save({'n': options.n}, 'whole')
            job.json_save([options.n], 'whole.json')
            with job.open('text.txt', 'w') as f:
                f.write('text')
            return sorted(jobs)
    """,
    "methods/a_second.py": """
        jobs = ('first',)

        def prepare():
            return 'p'

        def analysis(sliceno, prepare_res):
            return sliceno

        def synthesis(analysis_res, prepare_res):
            first = jobs.first
            return [prepare_res, list(analysis_res), first.load('part', sliceno=2), first.load('whole'),
                    first.json_load('whole.json'), first.filename('part', sliceno=1).endswith('output/part.1'),
                    first.params.options.n, first.params.hash == first.params['source'],
                    first.withfile('part', sliced=True).load(sliceno=3), first.load()]
    """,
    "methods/build_x.py": """
        from accelerator import Job

        def main(urd):
            first = urd.build('first', n=7)
            second = urd.build('second', first=first)
            assert Job(str(first)) == first and isinstance(first, Job)
            with first.open('part', 'rb', sliceno=0) as f:
                assert f.read()
            print('RESULT', second.load(), first.output(2).strip(), first.params.method,
                  list(first.post.subjobs), repr(first.output('analysis')))
    """,
}


def test_the_job_api_the_examples_use(repo):
    write_files(repo, JOB_API)
    proc = repo.run("build", check=True)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT")][0]
    assert line == ("RESULT ['p', [0, 1, 2, 3], 'slice 2', {'n': 7}, [7], True, 7, True, 'slice 3', []] "
                    "analysis 2 first [] 'analysis 0\\nanalysis 1\\nanalysis 2\\nanalysis 3\\n'")


def test_register_files_and_finish_early(repo):
    """``job.register_file(s)`` (files written with plain ``open``: recorded like
    every file of the output folder) and ``job.finish_early(result)`` (from
    prepare, nothing after it runs; from synthesis, the rest of it)."""
    write_files(repo, {
        "methods/a_plain.py": """
            import os

            def synthesis(job):
                os.makedirs('sub', exist_ok=True)
                for name in ('a.txt', 'sub/b.txt'):
                    with open(name, 'w') as f:
                        f.write(name)
                job.register_file('a.txt')
                return sorted(job.register_files()), sorted(job.register_files('sub/*'))
        """,
        "methods/a_early.py": """
            options = dict(where='prepare')

            def prepare(job):
                if options.where == 'prepare':
                    job.finish_early(['early', 'prepare'])

            def analysis(sliceno):
                open('analysis-ran', 'w').close()

            def synthesis(job):
                job.finish_early({'early': 'synthesis'})
                return 'not this'
        """,
        "methods/a_missing.py": "def synthesis(job):\n    job.register_file('never-written.txt')\n",
        "methods/build_x.py": """
            def main(urd):
                plain = urd.build('plain')
                one = urd.build('early')
                two = urd.build('early', where='synthesis')
                print('RESULT', plain.load(), plain.files(), one.load(), one.files(), two.load())
        """,
    })
    proc = repo.run("build", "methods/build_x.py", check=True)
    line = [x for x in proc.stdout.splitlines() if x.startswith("RESULT")][0]
    assert line == ("RESULT (['a.txt', 'sub/b.txt'], ['sub/b.txt']) ['a.txt', 'sub/b.txt'] "
                    "['early', 'prepare'] [] {'early': 'synthesis'}")
    assert [j["action"] for j in repo.build("methods/build_x.py")["jobs"]] == ["reused"] * 3
    repo.write("methods/a_slices.py", "def analysis(job):\n    job.finish_early()\n")
    repo.write("methods/build_z.py", "def main(urd):\n    urd.build('slices')\n")
    proc = repo.run("build", "methods/build_z.py")
    assert proc.returncode == 1 and "analysis failed in slice 0, 1, 2, 3" in proc.stderr
    log = proc.stderr.rsplit("log: ", 1)[1].split()[0].rstrip(")")
    assert (Path(log) / "analysis-0.txt").read_text() == ("accelgit: job.finish_early() is not supported in "
                                                          "analysis (only in prepare or synthesis)\n")
    repo.write("methods/build_y.py", "def main(urd):\n    urd.build('missing')\n")
    proc = repo.run("build", "methods/build_y.py")
    assert proc.returncode == 1
    assert "register_file: 'never-written.txt' is not a file in the job's output folder" in proc.stderr


def test_options_and_jobs_stay_read_only(repo):
    write_files(repo, {
        "methods/a_m.py": "options = dict(n=1)\ndef synthesis():\n    options.n = 2\n",
        "methods/build_x.py": "def main(urd):\n    urd.build('m')\n",
    })
    proc = repo.run("build")
    assert proc.returncode == 1 and "TypeError: options and jobs are read-only" in proc.stderr


SUBJOBS = {
    "methods/a_leaf.py": "options = dict(n=0)\ndef synthesis():\n    return options.n * 2\n",
    "methods/a_parent.py": """
        from accelerator import subjobs
        options = dict(n=1)

        def synthesis():
            leaf = subjobs.build('leaf', n=options.n)
            again = subjobs.build('leaf', options=dict(n=options.n))
            return [leaf.load(), str(leaf) == str(again)]
    """,
    "methods/build_x.py": """
        from accelerator import Job

        def main(urd):
            job = urd.build('parent', n=21)
            print('RESULT', job.load(), [(Job(s).method, Job(s).load(), built) for s, built in job.post.subjobs.items()])
    """,
}


def test_a_job_builds_subjobs_through_the_build(repo):
    write_files(repo, {**SUBJOBS, "accelgit.toml": "[gc]\ngrace_days = 0\n"})
    repo.commit("subjobs")
    proc = repo.run("build", "--json", check=True)
    (parent,) = json.loads(proc.stdout)["jobs"]           # the script's own calls
    params = json.loads((Path(parent["path"]) / "job.json").read_text())
    ((name, sub),) = params["subjobs"].items()
    assert name.startswith("leaf-") and (sub["method"], sub["built"]) == ("leaf", True)
    assert (repo.workdir / name / "manifest.json").exists()
    out = repo.run("build", check=True).stdout
    assert "RESULT [42, True] [('leaf', 42, True)]" in out
    assert {j["action"] for j in repo.json("plan")["jobs"]} == {"reuse"}
    assert f"subjob   {name}\n" in repo.run("show", parent["id"][:12], check=True).stdout
    proc = repo.run("verify", "--rerun", "--json")         # a rerun is given the subjobs the job built
    assert proc.returncode == 0, proc.stdout
    # gc keeps what a kept job built
    repo.run("gc", check=True)
    assert (repo.workdir / name).exists()


@pytest.mark.parametrize("method,message", [
    ("def analysis(sliceno):\n    subjobs.build('leaf')\n",
     "SubjobError: analysis is not allowed to make subjobs (as in the Accelerator)"),
    ("def synthesis():\n    subjobs.build('leaf', n='x')\n",
     "SubjobError: subjob leaf: methods/build_x.py: option 'n' expects int (default 0), got 'x'"),
])
def test_a_bad_subjob_fails_its_parent(repo, method, message):
    write_files(repo, {**SUBJOBS, "methods/a_parent.py": "from accelerator import subjobs\n" + method,
                       "methods/build_x.py": "def main(urd):\n    urd.build('parent')\n"})
    proc = repo.run("build")
    assert proc.returncode == 1 and message in proc.stderr, proc.stderr


WITHFILE = {
    "methods/a_write.py": "from datetime import date\noptions = dict(day=date)\n"
                          "def synthesis(job):\n    job.save(str(options.day), 'f')\n",
    "methods/a_read.py": "from accelerator import JobWithFile, OptionEnum\n"
                         "options = dict(src=JobWithFile, mode=OptionEnum('a b'))\n"
                         "def synthesis():\n    return [options.src.load(), options.mode]\n",
    "methods/build_x.py": "import datetime\n\ndef main(urd):\n"
                          "    w = urd.build('write', day=datetime.date(2024, 1, 2))\n"
                          "    urd.build('read', src=w.withfile('f'), mode='b')\n",
}


def test_verify_checks_typed_options_and_what_a_jobwithfile_names(repo):
    write_files(repo, WITHFILE)
    repo.commit("typed")
    out = repo.build()
    assert job_json(out, "read")["option_types"] == {"src": "JobWithFile"}
    proc = repo.run("verify", "--rerun", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    repo.write("methods/a_write.py", WITHFILE["methods/a_write.py"] + "# edited\n")
    read = job_json(out, "read")
    (job,) = json.loads(repo.run("verify", f"read-{read['id'][:12]}", "--json").stdout)["jobs"]
    currency = [c for c in job["checks"] if c["check"] == "currency"][0]
    assert not currency["ok"] and "input of a JobWithFile option: write-" in currency["detail"]
