"""Join the other jobs into one small report."""
from _text import words

description = "A summary of token and vocabulary counts, and the top words."
jobs = ("tokens", "counts", "top")


def synthesis(jobs, job):
    report = {
        "tokens": jobs.tokens.load()["tokens"],
        "vocabulary": jobs.counts.load(),
        "top": jobs.top.load(),
        "title_words": words("A Tale of Two Cities"),
    }
    job.json_save(report, "summary.json")
    print(f"{report['tokens']} tokens, {report['vocabulary']} distinct words")
    return report
