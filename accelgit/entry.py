"""Kept for installs made before the layered package: their ``accelgit``
console script imports ``accelgit.entry:entry`` until ``pip install`` runs
again.  The entry point is accelgit/cli/main.py."""
from accelgit.cli.main import entry, main  # noqa: F401
