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
    imported.  The handler is set first, with a builtin module only (``_signal``,
    not ``signal``: importing the latter builds enums), then the previous one is
    put back unless this is accelgit's own start: deciding first was a window in
    which Ctrl-C gave a traceback.  (Imported as a library, nothing changes.)"""
    import _signal
    try:
        previous = _signal.signal(_signal.SIGINT, _interrupted)
    except ValueError:              # not the main thread: a library import
        return
    import sys
    as_module = False
    if sys.argv[:1] == ["-m"]:      # Python is finding the module its own -m names: is it this one?
        argv = sys.orig_argv
        first = next((a for a in argv[1:] if a.startswith("-m")), "")
        i = argv.index(first) if first else -1
        as_module = first == "-maccelgit" or (first == "-m" and argv[i + 1:i + 2] == ["accelgit"])
    if not as_module and not (sys.argv and sys.argv[0].endswith(("/accelgit", "\\accelgit", "accelgit.exe"))):
        _signal.signal(_signal.SIGINT, previous)


_catch_early_ctrl_c()
