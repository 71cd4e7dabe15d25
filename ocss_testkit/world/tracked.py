"""A dict that records the keys written, read for change or deleted: how persistence
writes only what changed (persistence.py)."""
from __future__ import annotations

_MISSING = object()


class TrackedDict(dict):
    """A dict that, once `touched` is a set, records every key written, deleted or read.

    Persistence (persistence.py) writes only what changed since its last save. A key read
    through `d[key]` or `d.get(key)` counts as touched because that is how the services
    reach an object they then change in place (a client's `updated`, a detection's
    status); writing one unchanged object again costs little, missing one would lose it.
    Iterating, `in` and `len` touch nothing. Only present keys are recorded, so a stream
    of lookups of unknown keys cannot grow the set; it is emptied by every save.
    """
    __slots__ = ("touched",)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.touched: set | None = None

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        if self.touched is not None:
            self.touched.add(key)
        return value

    def get(self, key, default=None):
        value = dict.get(self, key, _MISSING)
        if value is _MISSING:
            return default
        if self.touched is not None:
            self.touched.add(key)
        return value

    def __setitem__(self, key, value) -> None:
        dict.__setitem__(self, key, value)
        if self.touched is not None:
            self.touched.add(key)

    def __delitem__(self, key) -> None:
        dict.__delitem__(self, key)
        if self.touched is not None:
            self.touched.add(key)

    def pop(self, key, *default):
        if self.touched is not None and dict.__contains__(self, key):
            self.touched.add(key)
        return dict.pop(self, key, *default)

    def setdefault(self, key, default=None):
        if self.touched is not None:
            self.touched.add(key)
        return dict.setdefault(self, key, default)

    def popitem(self):
        key, value = dict.popitem(self)
        if self.touched is not None:
            self.touched.add(key)
        return key, value

    def update(self, *args, **kwargs) -> None:
        other = dict(*args, **kwargs)
        dict.update(self, other)
        if self.touched is not None:
            self.touched.update(other)

    def clear(self) -> None:
        if self.touched is not None:
            self.touched.update(self.keys())
        dict.clear(self)

    def __ior__(self, other):
        self.update(other)
        return self

    def __reduce__(self):  # copy and pickle as a plain dict: tracking belongs to one World
        return dict, (dict(self),)
