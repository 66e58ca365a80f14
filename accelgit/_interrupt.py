"""Ctrl-C while the ``accelgit`` command starts (before ``cli.main.main``
runs): one line and exit 130.  ``_signal``, not ``signal``: importing the
latter builds enums, a window of its own."""
import _signal


def _interrupted(signum, frame) -> None:
    import os
    os.write(2, b"accelgit: interrupted\n")
    os._exit(130)


def install() -> None:
    _signal.signal(_signal.SIGINT, _interrupted)


def uninstall() -> None:
    """From here on Ctrl-C is a KeyboardInterrupt (``dispatch.handle_error``)."""
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)
