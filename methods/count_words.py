"""Count words, leaving out stop words."""
description = "Word frequencies of a tokenize job, without stop words."
jobs = ("tokens",)
files = ("methods/data/stopwords.txt",)
options = {"min_length": 1}


def synthesis(jobs, files, options, job):
    with open(files["methods/data/stopwords.txt"], encoding="utf-8") as f:
        stop = set(f.read().split())
    counts = {}
    for w in jobs.tokens.load("tokens.pickle"):
        if w not in stop and len(w) >= options.min_length:
            counts[w] = counts.get(w, 0) + 1
    job.json_save(counts, "counts.json")
    return len(counts)
