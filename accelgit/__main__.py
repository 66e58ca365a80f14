from accelgit.cli.main import entry  # Ctrl-C is one line from accelgit/__init__.py on

entry()
