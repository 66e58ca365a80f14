"""``DotDict``: the Accelerator's dict with attribute access; a method's
``options`` and ``jobs`` are frozen ones."""
from __future__ import annotations

from collections import OrderedDict


class DotDict(OrderedDict):
    """The Accelerator's ``DotDict``: a dict with attribute access.  The
    ``options`` and ``jobs`` a job is given are frozen ones (``frozen``):
    read-only, their dicts too, keys sorted, so a method printing them prints
    what it does under the Accelerator (``pprint(options)``)."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)

    @classmethod
    def frozen(cls, data) -> "DotDict":
        d = cls()
        for k in sorted(data):
            v = data[k]
            OrderedDict.__setitem__(d, k, cls.frozen(v) if type(v) is dict else v)
        d.__dict__["_frozen"] = True
        return d

    def _check(self):
        if self.__dict__.get("_frozen"):
            raise TypeError("options and jobs are read-only")

    def __getattr__(self, k):
        if k.startswith("__") or k == "_frozen":
            raise AttributeError(k)
        try:
            return self[k]
        except KeyError:
            raise AttributeError(f"no such name: {k!r} (have: {', '.join(self) or 'none'})") from None

    def __setattr__(self, k, v):
        self._check()
        self[k] = v

    def __delattr__(self, k):
        self._check()
        del self[k]

    def __setitem__(self, k, v):
        self._check()
        super().__setitem__(k, v)

    def __delitem__(self, k):
        self._check()
        super().__delitem__(k)

    def __reduce__(self):
        return _restore_dotdict, (type(self), list(self.items()), bool(self.__dict__.get("_frozen")))


def _mutator(name: str):
    def method(self, *a, **kw):
        self._check()
        return getattr(OrderedDict, name)(self, *a, **kw)
    method.__name__ = name
    return method


for _name in ("update", "pop", "popitem", "clear", "setdefault", "move_to_end"):
    setattr(DotDict, _name, _mutator(_name))


def _restore_dotdict(cls, items, frozen):
    d = cls()
    for k, v in items:
        OrderedDict.__setitem__(d, k, v)
    if frozen:
        d.__dict__["_frozen"] = True
    return d
