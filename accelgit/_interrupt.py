"""The end of start-up's Ctrl-C handling (accelgit/__init__.py sets it)."""
import _signal


def uninstall() -> None:
    """From here on Ctrl-C is a KeyboardInterrupt (``dispatch.handle_error``)."""
    _signal.signal(_signal.SIGINT, _signal.default_int_handler)
