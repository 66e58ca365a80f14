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
    if sys.argv[:1] == ["-m"]:      # Python is finding the module its own -m names: is it this one?
        first = next((a for a in sys.orig_argv[1:] if a.startswith("-m")), "")
        as_module = first == "-maccelgit" or (first == "-m" and _after(sys.orig_argv, first) == "accelgit")
    else:
        as_module = False
    if as_module or (sys.argv and sys.argv[0].endswith(("/accelgit", "\\accelgit", "accelgit.exe"))):
        import _signal
        _signal.signal(_signal.SIGINT, _interrupted)


def _after(argv: list, item: str):
    i = argv.index(item)
    return argv[i + 1] if i + 1 < len(argv) else None


_catch_early_ctrl_c()
