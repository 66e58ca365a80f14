"""The most frequent words."""
description = "The top N words of a count_words job."
jobs = ("counts",)
options = {"top": 5}


def synthesis(jobs, options, job):
    counts = jobs.counts.json_load("counts.json")
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:options.top]
    with job.open("top.txt", "w") as f:
        for word, n in top:
            f.write(f"{n:4d} {word}\n")
    return [[w, n] for w, n in top]
