"""accelgit: jobs built the Accelerator's way, tied to git."""

__version__ = "0.1.0"


def _interrupted(signum, frame) -> None:
    import os
    os.write(2, b"accelgit: interrupted\n")
    os._exit(130)


def _catch_early_ctrl_c() -> None:
    """Run as the ``accelgit`` command or ``python -m accelgit``: from here
    until ``cli.main.main`` takes over (``_interrupt.uninstall``), Ctrl-C is
    ``accelgit: interrupted``, exit 130, not a traceback of the modules being
    imported.  Set here, with builtin modules only (``_signal``, not
    ``signal``: importing the latter builds enums), so no file is loaded
    before it.  (Imported as a library, nothing changes.)"""
    import sys
    argv = sys.orig_argv
    as_module = "-m" in argv and argv[argv.index("-m") + 1:argv.index("-m") + 2] == ["accelgit"]
    if as_module or (sys.argv and sys.argv[0].endswith(("/accelgit", "\\accelgit", "accelgit.exe"))):
        import _signal
        _signal.signal(_signal.SIGINT, _interrupted)


_catch_early_ctrl_c()
