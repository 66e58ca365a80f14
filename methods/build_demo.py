"""The demo pipeline: tokenize -> count_words -> top_words, all -> summary."""


def main(urd):
    tokens = urd.build("tokenize")
    counts = urd.build("count_words", tokens=tokens, min_length=3)
    top = urd.build("top_words", counts=counts, top=5)
    summary = urd.build("summary", tokens=tokens, counts=counts, top=top)
    print("top words:", ", ".join(w for w, n in summary.load()["top"]))
