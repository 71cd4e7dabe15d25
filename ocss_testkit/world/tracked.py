"""A dict that records the keys written, read for change or deleted: how persistence
writes only what changed (the persistence package)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from _typeshed import SupportsKeysAndGetItem
    from typing_extensions import Self

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")

_MISSING: Any = object()


class TrackedDict(dict[K, V]):
    """A dict that, once `touched` is a set, records every key written, deleted or read.

    Persistence (the persistence package) writes only what changed since its last save. A key read
    through `d[key]` or `d.get(key)` counts as touched because that is how the services
    reach an object they then change in place (a client's `updated`, a detection's
    status); writing one unchanged object again costs little, missing one would lose it.
    Iterating, `in` and `len` touch nothing. Only present keys are recorded, so a stream
    of lookups of unknown keys cannot grow the set; it is emptied by every save.
    """
    __slots__ = ("touched",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.touched: set[K] | None = None

    def __getitem__(self, key: K) -> V:
        value = dict.__getitem__(self, key)
        if self.touched is not None:
            self.touched.add(key)
        return value

    @overload
    def get(self, key: K, default: None = None) -> V | None: ...
    @overload
    def get(self, key: K, default: V | T) -> V | T: ...
    def get(self, key: K, default: V | T | None = None) -> V | T | None:
        value = dict.get(self, key, _MISSING)
        if value is _MISSING:
            return default
        if self.touched is not None:
            self.touched.add(key)
        return value

    def __setitem__(self, key: K, value: V) -> None:
        dict.__setitem__(self, key, value)
        if self.touched is not None:
            self.touched.add(key)

    def __delitem__(self, key: K) -> None:
        dict.__delitem__(self, key)
        if self.touched is not None:
            self.touched.add(key)

    def pop(self, key: K, *default: Any) -> Any:
        if self.touched is not None and dict.__contains__(self, key):
            self.touched.add(key)
        return dict.pop(self, key, *default)

    def setdefault(self, key: K, default: V) -> V:
        if self.touched is not None:
            self.touched.add(key)
        return dict.setdefault(self, key, default)

    def popitem(self) -> tuple[K, V]:
        key, value = dict.popitem(self)
        if self.touched is not None:
            self.touched.add(key)
        return key, value

    def update(self, *args: Any, **kwargs: Any) -> None:
        other: dict[K, V] = dict(*args, **kwargs)
        dict.update(self, other)
        if self.touched is not None:
            self.touched.update(other)

    def clear(self) -> None:
        if self.touched is not None:
            self.touched.update(self.keys())
        dict.clear(self)

    # `|=` takes what `|` refuses (PEP 584: any mapping or iterable of pairs), which mypy's
    # check of in-place operators flags on every dict subclass: typeshed's own dict.__ior__
    # carries the same ignore.
    def __ior__(self, other: SupportsKeysAndGetItem[K, V] | Iterable[tuple[K, V]], /) -> Self:  # type: ignore[override,misc]
        self.update(other)
        return self

    # Copied and pickled as a plain dict: tracking belongs to one World.
    def __reduce__(self) -> tuple[type[dict[K, V]], tuple[dict[K, V]]]:
        return dict, (dict(self),)
