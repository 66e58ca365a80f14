"""``accelerator.colour``: the Accelerator's colour wrapper, plainly: named
attributes (``colour.bold(text)``, ``colour.RED``) and ``colour(text, *attrs)``;
on when stdout is a terminal (``NO_COLOR``, ``CLICOLOR``, ``CLICOLOR_FORCE`` as
there), so a job's captured output has no escapes."""
from __future__ import annotations

import os
import sys


def _codes() -> dict[str, str]:
    codes = dict(BOLD="1", FAINT="2", ITALIC="3", UNDERLINE="4", BLINK="5", INVERT="7", STRIKE="9")
    codes.update({"NOT" + k: "2" + v for k, v in list(codes.items())})
    codes["NOTBOLD"] = "22"
    for num, name in enumerate(("BLACK", "RED", "GREEN", "YELLOW", "BLUE", "MAGENTA", "CYAN", "WHITE")):
        for prefix, base in (("", 30), ("BRIGHT", 90)):
            codes[prefix + name] = str(base + num)
            codes[prefix + name + "BG"] = str(base + 10 + num)
    codes.update(DEFAULT="39", DEFAULTBG="49")
    return codes


class Colour:
    _CODES = _codes()

    def __init__(self):
        env = os.environ
        if env.get("CLICOLOR_FORCE", "0") != "0":
            self.enabled = True
        elif env.get("NO_COLOR") is not None:
            self.enabled = False
        else:
            self.enabled = env.get("CLICOLOR", "1") != "0" and sys.stdout.isatty()

    def enable(self):
        self.enabled = True

    def disable(self):
        self.enabled = False

    def __call__(self, value, *attrs, reset=False, force=False):
        if not (self.enabled or force) or not attrs:
            return value
        codes = [self._CODES[a.upper()] for a in attrs]
        return f"\x1b[{';'.join(codes)}m{value}\x1b[m"

    def __getattr__(self, name):
        if name.upper() in self._CODES or name == "RESET":
            if name.isupper():
                return ("\x1b[m" if name == "RESET" else f"\x1b[{self._CODES[name]}m") if self.enabled else ""
            return lambda value, reset=False, force=False: self(value, name, reset=reset, force=force)
        raise AttributeError(name)


colour = Colour()
