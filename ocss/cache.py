"""The object cache of an API object (the object cache of the library conventions; the
SyncServer API Python interface, 'Resources': two objects for one resource are equal):
one object per resource, so that reaching a resource again sends no request."""
from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import CacheKey, Resource


class ObjectCache:
    """One object per resource for an API object (the object cache of the library
    conventions): bounded to ``max_entries`` resources and, roughly, ``max_bytes`` of their
    text; the least recently used go first. A resource pushed out is simply fetched again
    when next reached through a collection or an attribute."""

    def __init__(self, max_entries: int = 10_000, max_bytes: int = 32 * 1024 * 1024) -> None:
        self.max_entries, self.max_bytes = max_entries, max_bytes
        self._objects: OrderedDict[CacheKey, tuple[Resource, int]] = OrderedDict()
        self._aliases: OrderedDict[CacheKey, CacheKey] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._objects)

    def get(self, kind: str, parent: Any, id: Any) -> Resource | None:  # noqa: A002
        key: CacheKey = (kind, parent, id)
        key = self._aliases.get(key, key)
        found = self._objects.get(key)
        if found is None:
            return None
        self._objects.move_to_end(key)
        return found[0]

    def put(self, obj: Resource) -> None:
        key = obj._key
        old = self._objects.pop(key, None)
        if old is not None:
            self._bytes -= old[1]
        weight = _weight(obj)
        self._objects[key] = (obj, weight)
        self._bytes += weight
        for alias in obj._aliases:
            self._aliases[(key[0], key[1], alias)] = key
            self._aliases.move_to_end((key[0], key[1], alias))
        while len(self._objects) > self.max_entries or (self._bytes > self.max_bytes and len(self._objects) > 1):
            _, (_, dropped) = self._objects.popitem(last=False)
            self._bytes -= dropped
        while len(self._aliases) > self.max_entries:
            self._aliases.popitem(last=False)

    def discard(self, obj: Resource) -> None:
        found = self._objects.get(obj._key)
        if found is not None and found[0] is obj:
            del self._objects[obj._key]
            self._bytes -= found[1]

    def clear(self) -> None:
        self._objects.clear()
        self._aliases.clear()
        self._bytes = 0


def _weight(obj: Resource) -> int:
    data = obj._data or {}
    return 256 + sum(len(v) for v in data.values() if isinstance(v, str))
