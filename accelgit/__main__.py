from accelgit.cli.main import entry

entry()
