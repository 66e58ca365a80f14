"""Options typed as the Accelerator types them (its deptree.py and
methods.py are the reference): a type as the default (``number=int``,
``day=date``: that type, default None), typed containers (``seq=[]``,
``cplx=dict(str=dict(str=str))``), ``OptionEnum``, ``RequiredOption``,
``OptionString``, ``OptionDefault`` and ``JobWithFile``.

A declaration holding any of these is a *spec*: plain values with markers
(the classes below) inside.  ``default_of`` gives what an omitted option is,
``convert`` what a given value becomes; both give plain JSON-like values (a
``JobWithFile`` as ``[job id, name, sliced, extra]``), so the job id is made
of values only (docs/accelerator.md has the golden ids)."""
from __future__ import annotations

import datetime
from typing import Any

from accelgit.core.identity import decode_value, encode_value

# type names a declaration may use as a default, and what a value of each is
TYPES = {"int": int, "float": float, "str": str, "bool": bool, "date": datetime.date,
         "datetime": datetime.datetime, "JobWithFile": None}


class Marker:
    """A typed default in a declaration (not a value)."""
    kind = ""
    __slots__ = ()

    def args(self) -> list:
        return [getattr(self, k) for k in self.__slots__]

    def __eq__(self, other):
        return type(other) is type(self) and other.args() == self.args()

    def __hash__(self):
        return hash((self.kind, repr(self.args())))

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(map(repr, self.args()))})"


class Type(Marker):
    """``int``, ``date``, ``JobWithFile`` ... as the default: that type, default None."""
    kind, __slots__ = "type", ("name",)

    def __init__(self, name: str):
        self.name = name


class Enum(Marker):
    """``OptionEnum(values, none_ok)``; a value ending in ``*`` allows any ending."""
    kind, __slots__ = "enum", ("values", "none_ok")

    def __init__(self, values, none_ok=False):
        if isinstance(values, str):
            values = values.replace(",", " ").split()
        self.values, self.none_ok = [str(v) for v in values], bool(none_ok)


class String(Marker):
    """``OptionString`` / ``OptionString('example')``: a non-empty string, required."""
    kind, __slots__ = "string", ("example",)

    def __init__(self, example: str = ""):
        self.example = example


class Required(Marker):
    """``RequiredOption(value, none_ok)``: the caller must give it."""
    kind, __slots__ = "required", ("value", "none_ok")

    def __init__(self, value, none_ok=False):
        self.value, self.none_ok = value, bool(none_ok)


class Default(Marker):
    """``OptionDefault(value, default)``: typed as ``value``, ``default`` when omitted."""
    kind, __slots__ = "default", ("value", "default")

    def __init__(self, value, default=None):
        self.value, self.default = value, default


MARKERS = {c.kind: c for c in (Type, Enum, String, Required, Default)}


def has_markers(spec: Any) -> bool:
    if isinstance(spec, Marker):
        return True
    if isinstance(spec, dict):
        return any(has_markers(v) for v in spec.values())
    if isinstance(spec, (list, tuple)):
        return any(has_markers(v) for v in spec)
    return False


# ---------------------------------------------------------------- cache form

def encode_spec(spec: Any, where: str = "option") -> Any:
    """``spec`` as JSON-able data (markers as ``{"$spec": [kind, args...]}``, other
    dict keys escaped as encode_value escapes them)."""
    if isinstance(spec, Marker):
        return {"$spec": [spec.kind, *(encode_spec(a, where) for a in spec.args())]}
    if isinstance(spec, dict):
        return {("$" + k) if k.startswith("$") else k: encode_spec(v, where) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)) and has_markers(spec):
        return [encode_spec(v, where) for v in spec]
    return encode_value(spec, where)


def decode_spec(data: Any) -> Any:
    if isinstance(data, dict):
        if len(data) == 1 and "$spec" in data:
            kind, *args = data["$spec"]
            return MARKERS[kind](*(decode_spec(a) for a in args))
        if len(data) == 1 and next(iter(data)) in ("$date", "$datetime"):
            return decode_value(data)
        return {(k[1:] if k.startswith("$") else k): decode_spec(v) for k, v in data.items()}
    if isinstance(data, list):
        return [decode_spec(v) for v in data]
    return data


# ---------------------------------------------------------------- defaults

def default_of(spec: Any) -> Any:
    """What an omitted option is: the Accelerator's params2defaults."""
    if isinstance(spec, Required):
        spec = spec.value
    if isinstance(spec, Default):
        return _plain(spec.default)
    return _fixup(spec)


def _fixup(item: Any) -> Any:
    if isinstance(item, dict):
        d = {k: _fixup(v) for k, v in sorted(item.items())}
        if len(d) == 1 and next(iter(d.values())) is None and next(iter(item.values())) is not None:
            d.clear()
        return d
    if isinstance(item, (list, tuple)):
        out = [_fixup(v) for v in item]
        return [] if out == [None] and list(item) != [None] else out
    if isinstance(item, (Type, Enum)):
        return None
    if isinstance(item, String):
        return item.example or None
    return _plain(item)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def required(spec: Any) -> bool:
    """Must the caller give this option (options2required)?"""
    if isinstance(spec, (String, Required)):
        return True
    if isinstance(spec, Enum):
        return not spec.none_ok
    if isinstance(spec, dict):
        return any(required(v) for v in spec.values())
    if isinstance(spec, (list, tuple)):
        return any(required(v) for v in spec)
    return False


def job_with_file_options(options: dict) -> dict[str, str]:
    """``{option: "JobWithFile" | "[JobWithFile]"}`` of a method's options."""
    out = {}
    for k, spec in options.items():
        for v, fmt in ((spec, "%s"), (spec[0] if isinstance(spec, list) and spec else None, "[%s]")):
            if isinstance(v, Default):
                v = v.value
            if isinstance(v, Type) and v.name == "JobWithFile":
                out[k] = fmt % "JobWithFile"
    return out


# ---------------------------------------------------------------- given values

class OptionError(ValueError):
    pass


def convert(spec: Any, v: Any) -> Any:
    """A given value under ``spec``: the Accelerator's DepTree._fix_options
    ``convert``, giving plain values; OptionError says why not."""
    if isinstance(spec, Required):
        if v is None and not spec.none_ok:
            raise OptionError("requires a non-None value")
        spec = spec.value
    if spec is None or v is None:
        if isinstance(spec, String):
            raise OptionError("requires a non-empty string value")
        if isinstance(spec, Enum) and not spec.none_ok:
            raise OptionError(f"requires a value in {sorted(spec.values)}")
        return _fixup(spec.default) if isinstance(spec, Default) else v
    if isinstance(spec, Default):
        spec = spec.value
    if isinstance(spec, dict) and isinstance(v, dict):
        if not spec:
            return dict(v)
        sample = next(iter(spec.values()))
        return {k: convert(sample, x) for k, x in v.items()}
    if isinstance(spec, (list, tuple)) and isinstance(v, (str, list, tuple)):
        items = [e.strip() for e in v.split(",")] if isinstance(v, str) else list(v)
        return [convert(spec[0], e) for e in items] if spec else items
    if isinstance(spec, Enum):
        if not (v or None) in spec.values + ([None] if spec.none_ok else []) and \
                not (isinstance(v, str) and any(v.startswith(p[:-1]) for p in spec.values if p.endswith("*"))):
            raise OptionError(f"{v!r} is not one of {spec.values}")
        return v or None
    if isinstance(spec, String):
        if not isinstance(v, (str, int, float)) or isinstance(v, bool) or not str(v):
            raise OptionError("requires a non-empty string value")
        return str(v)
    if isinstance(spec, Type):
        return _typed(spec.name, v)
    return _like(spec, v)


def _typed(name: str, v: Any) -> Any:
    if name == "JobWithFile":
        if not isinstance(v, (list, tuple)) or not 2 <= len(v) <= 4 or not all(isinstance(x, str) for x in v[:2]):
            raise OptionError("expects job.withfile(name) (a JobWithFile)")
        v = list(v) + [False, None][len(v) - 2:]
        return [v[0], v[1], bool(v[2]), v[3]]
    t = TYPES[name]
    if t is datetime.datetime:
        if isinstance(v, datetime.datetime):
            return v
        if isinstance(v, datetime.date):
            return datetime.datetime.combine(v, datetime.time())
    elif t is datetime.date:
        if isinstance(v, datetime.datetime):
            return v.date()
        if isinstance(v, datetime.date):
            return v
    if t in (datetime.date, datetime.datetime):
        if isinstance(v, str):
            try:
                return t.fromisoformat(v)
            except ValueError:
                raise OptionError(f"{v!r} is not a {name}") from None
        raise OptionError(f"expects a {name}, not {type(v).__name__}")
    if t is bool:
        return _like(False, v)
    if isinstance(v, t) and not (t is not bool and isinstance(v, bool)):
        return v
    if t in (int, float) and isinstance(v, (int, float, str)) and not isinstance(v, bool):
        return _like(t(), v)
    raise OptionError(f"expects {name}, not {type(v).__name__}")


def _like(default: Any, v: Any) -> Any:
    """``v`` as the type of a plain default, as the Accelerator converts it."""
    if isinstance(default, bool):
        if isinstance(v, bool):
            return v
        if str(v).lower() in ("true", "1", "t", "yes", "on"):
            return True
        if str(v).lower() in ("false", "0", "f", "no", "off", ""):
            return False
        raise OptionError(f"{v!r} is not a bool")
    if isinstance(default, (str, int, float)) and isinstance(v, (str, int, float)) and not isinstance(v, bool):
        try:
            return type(default)(v)
        except ValueError:
            raise OptionError(f"{v!r} is not {type(default).__name__}") from None
    if isinstance(default, (datetime.date, datetime.datetime)):
        return _typed(type(default).__name__, v)
    if type(v) is type(default) or (isinstance(default, (list, tuple)) and isinstance(v, (list, tuple))):
        return _plain(v)
    raise OptionError(f"expects {type(default).__name__}, not {type(v).__name__}")
