"""accelgit: jobs built the Accelerator's way, tied to git."""

__version__ = "0.1.0"


def _catch_early_ctrl_c() -> None:
    """Run as the ``accelgit`` command: from here until ``cli.main.main``
    takes over, Ctrl-C is ``accelgit: interrupted``, exit 130, not a traceback
    of the modules being imported.  (Imported as a library, nothing changes.)"""
    import sys
    if not sys.argv or not sys.argv[0].endswith(("/accelgit", "\\accelgit", "accelgit.exe")):
        return
    from accelgit._interrupt import install
    install()


_catch_early_ctrl_c()
