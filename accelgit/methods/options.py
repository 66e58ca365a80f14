"""Option values as a method declares them (SPEC §3): a given value is
coerced to its default's type (``"3"`` -> 3 for an int default) or refused
with a clear error; omitted options take their defaults."""
from __future__ import annotations

import datetime
from typing import Any

from accelgit.core.errors import UsageError
from accelgit.core.identity import encode_value
from accelgit.methods import optspec
from accelgit.methods.declarations import Method

# ---------------------------------------------------------------- options

_TRUE = {"true", "yes", "1", "on"}

_FALSE = {"false", "no", "0", "off"}


def coerce_option(name: str, default: Any, value: Any, where: str) -> Any:
    """``value`` converted to ``default``'s type, or a MethodError/UsageError."""
    def bad(why: str = ""):
        return UsageError(f"{where}: option '{name}' expects {type(default).__name__} (default {default!r}), "
                          f"got {value!r}{why}")
    try:
        encode_value(value, f"option '{name}'")
    except (TypeError, ValueError) as e:
        raise UsageError(f"{where}: {e}") from None
    if default is None or value is None:
        return value
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise bad()
    if isinstance(default, int):
        if isinstance(value, bool):
            raise bad()
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise bad() from None
        raise bad()
    if isinstance(default, float):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                raise bad() from None
        raise bad()
    if isinstance(default, str):
        if isinstance(value, str):
            return value
        raise bad()
    if isinstance(default, datetime.datetime):
        if isinstance(value, datetime.datetime):
            return value
        if isinstance(value, str):
            try:
                return datetime.datetime.fromisoformat(value)
            except ValueError:
                raise bad() from None
        raise bad()
    if isinstance(default, datetime.date):
        if isinstance(value, datetime.datetime):
            raise bad()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                raise bad() from None
        raise bad()
    if isinstance(default, (list, tuple)):
        if isinstance(value, (list, tuple)):
            return list(value)
        raise bad()
    if isinstance(default, dict):
        if isinstance(value, dict):
            return dict(value)
        raise bad()
    return value


def coerce_value(method: str, name: str, spec: Any, value: Any, where: str, typed: bool | None = None) -> Any:
    """A given value of option ``name``: converted to its default's type, or
    as the Accelerator's typing (methods/optspec.py) says (``typed``: whether
    ``spec`` holds a marker, when the caller knows)."""
    if not (optspec.has_markers(spec) if typed is None else typed):
        return coerce_option(name, spec, value, where)
    try:
        return optspec.convert(spec, value)
    except optspec.OptionError as e:
        raise UsageError(f"{where}: option '{name}' of method '{method}' {e}") from None


def coerce_options(m: Method, given: dict[str, Any], where: str) -> dict[str, Any]:
    """All options of ``m``: given ones coerced, the rest their defaults."""
    out = {}
    for k in given:
        if k not in m.options:
            known = ", ".join(m.options) or "none"
            raise UsageError(f"{where}: method '{m.name}' has no option '{k}' (options: {known})")
    typed = m.typed
    for k, default in m.options.items():
        if k in given:
            out[k] = coerce_value(m.name, k, default, given[k], where, k in typed)
        elif k not in typed:
            out[k] = default
        elif optspec.required(default):
            raise UsageError(f"{where}: method '{m.name}' requires option '{k}'")
        else:
            out[k] = optspec.default_of(default)
    return out
