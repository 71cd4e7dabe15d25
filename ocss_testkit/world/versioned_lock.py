"""The World's lock, counting the times it is taken: the World's version.

Every change to a World is made with its lock held (world/world.py): the HTTP layer holds
it for each request, the control plane's handlers run inside a request, controls.Phone and
controls.ClockControl take it, autopilot actions run under it (`run_due`). So a count of the lock's
acquisitions is a version that moves on every change, whoever makes it and whatever it
changes: a tracked dict, a deque, an object changed in place (a client's `updated`, a
detection's status), the virtual clock moved through controls.ClockControl. Nothing that changes
state has to remember to say so. Reads take the lock too and move the version as well: a
move without a change only costs a cached answer (response_cache.py) its next render.

The one exception is `reading()`: the lock taken without counting, for code that only
reads (the response cache's GETs). Whoever holds it that way and changes something after
all calls `bump()`.

`serial` names the World for the life of the process: no two locks share one, so a
cache keyed by it cannot mistake a new World (a reset, a state PUT) for an old one.
"""
from __future__ import annotations

import itertools
import threading

_serials = itertools.count(1)


class _Reading:
    """`with lock.reading():` the lock, taken without moving the version."""
    __slots__ = ("_acquire", "_release")

    def __init__(self, rlock: threading.RLock) -> None:
        self._acquire, self._release = rlock.acquire, rlock.release

    def __enter__(self) -> bool:
        return self._acquire()

    def __exit__(self, *exc: object) -> None:
        self._release()


class VersionedLock:
    """A reentrant lock (threading.RLock) whose `version` counts its acquisitions.

    `version` is read and moved only by the thread holding the lock; every acquisition,
    nested ones included, moves it by one."""
    __slots__ = ("_lock", "_reading", "serial", "version")

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._reading = _Reading(self._lock)
        self.serial = next(_serials)
        self.version = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if self._lock.acquire(blocking, timeout):
            self.version += 1
            return True
        return False

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> bool:
        self._lock.acquire()
        self.version += 1
        return True

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def reading(self) -> _Reading:
        """The lock for a reader: taken and released as usual, the version left as it is."""
        return self._reading

    def bump(self) -> None:
        """Move the version: the holder changed something while reading."""
        self.version += 1
