from accelgit._interrupt import install

install()          # python -m accelgit: Ctrl-C from here is one line (see _interrupt.py)

from accelgit.cli.main import entry  # noqa: E402

entry()
