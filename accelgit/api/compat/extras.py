"""``accelerator.extras``: the option markers a method's ``options`` use
(accelgit reads them from the source, methods/optspec.py; these are what the
method module gets when it runs) and ``DotDict``."""
from __future__ import annotations

from accelgit.api.dotdict import DotDict

__all__ = ["DotDict", "OptionEnum", "OptionEnumValue", "OptionString", "RequiredOption", "OptionDefault"]


class OptionEnumValue(str):
    __slots__ = ()


class OptionEnum:
    """``OptionEnum('a b c*', none_ok=False)``: one of the values (``foo.a``,
    ``foo['cde']`` for a ``c*`` prefix)."""

    def __init__(self, values, none_ok=False):
        if isinstance(values, str):
            values = values.replace(",", " ").split()
        self._values = list(values)
        self._valid = set(self._values) | ({None} if none_ok else set())
        self._prefixes = [v[:-1] for v in self._values if v.endswith("*")]

    def __getattr__(self, name):
        if name.startswith("_") or name not in self._values:
            raise AttributeError(name)
        return OptionEnumValue(name)

    def __getitem__(self, name):
        if name in self._values or any(name.startswith(p) for p in self._prefixes):
            return OptionEnumValue(name)
        raise KeyError(name)


class _OptionString(str):
    """``OptionString``: a non-empty string is required (``OptionString('example')``
    too, without making 'example' the default)."""
    __slots__ = ()

    def __call__(self, example):
        return _OptionString(example)

    def __repr__(self):
        return f"OptionString({str(self)!r})" if self else "OptionString"


OptionString = _OptionString("")


class RequiredOption:
    """The caller must give this option (None too with ``none_ok``)."""
    __slots__ = ("value", "none_ok")

    def __init__(self, value, none_ok=False):
        self.value, self.none_ok = value, none_ok


class OptionDefault:
    """A typed option (``value``) that is not required: ``default`` when not given."""
    __slots__ = ("value", "default")

    def __init__(self, value, default=None):
        self.value, self.default = value, default
