"""Split the corpus into lower-case words, one slice of lines per process."""
from _text import words

description = "Tokenize methods/data/corpus.txt into words, in parallel slices."
files = ("methods/data/corpus.txt",)


def prepare(files):
    with open(files["methods/data/corpus.txt"], encoding="utf-8") as f:
        return f.read().splitlines()


def analysis(sliceno, slices, prepare_res):
    out = []
    for line in prepare_res[sliceno::slices]:
        out.extend(words(line))
    return out


def synthesis(analysis_res, job):
    tokens = [w for part in analysis_res for w in part]
    job.save(tokens, "tokens.pickle")
    return {"tokens": len(tokens)}
