"""Helpers shared by the demo methods (a repo-local module: its blob joins
the identity of every method that imports it)."""
import re

WORD = re.compile(r"[a-z']+")


def words(line):
    return WORD.findall(line.lower())
