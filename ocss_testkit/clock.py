"""One clock for every timestamp the fake writes, so tests can freeze and move time.

OAuth timestamp checks do not use it: clients sign with real time.
"""
from __future__ import annotations

import math
import threading
import time
from datetime import datetime, timedelta, timezone


EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc).timestamp()
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp()


def _check(timestamp: float) -> float:
    if not (EARLIEST <= timestamp <= LATEST):
        raise ValueError("the virtual clock stays between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z")
    return timestamp


class Clock:
    """Real time plus an offset, or a frozen instant. Always UTC, second precision."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen: float | None = None

    def timestamp(self) -> float:
        with self._lock:
            return self._frozen if self._frozen is not None else time.time() + self._offset

    def now(self) -> datetime:
        # A running clock set near the end of time keeps running: hold it at the last second.
        return datetime.fromtimestamp(int(min(max(self.timestamp(), EARLIEST), LATEST)), tz=timezone.utc)

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def freeze(self, at: datetime | None = None) -> None:
        with self._lock:
            self._frozen = _check(at.timestamp() if at else time.time() + self._offset)

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - time.time()
                self._frozen = None

    def set(self, at: datetime) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen = _check(at.timestamp())
            else:
                self._offset = _check(at.timestamp()) - time.time()

    def advance(self, seconds: float) -> None:
        if not (0 <= seconds and math.isfinite(seconds)):
            raise ValueError("the clock only moves forward, by a finite number of seconds")
        with self._lock:
            if self._frozen is not None:
                self._frozen = _check(self._frozen + seconds)
            else:
                _check(time.time() + self._offset + seconds)
                self._offset += seconds

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
            self._frozen = None

    def as_dict(self) -> dict:
        return {"now": iso_z(self.now()), "frozen": self.frozen}

    def state(self) -> dict:
        """Stable between calls: a frozen instant, or the offset from real time."""
        with self._lock:
            if self._frozen is not None:
                return {"frozen": True, "now": iso_z(datetime.fromtimestamp(int(self._frozen), tz=timezone.utc))}
            return {"frozen": False, "offset": round(self._offset, 3)}

    def restore_offset(self, offset: float) -> None:
        """Raises ValueError for an offset that leaves the clock's range (or is not finite)."""
        offset = float(offset)
        if not (math.isfinite(offset) and abs(offset) <= LATEST - EARLIEST):
            raise ValueError(f"a clock offset is finite seconds within ±{LATEST - EARLIEST:.0f}")
        with self._lock:
            self._frozen, self._offset = None, offset


def iso_z(dt: datetime) -> str:
    """`2009-05-26T12:59:39Z`: the Atom form in every documented response."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plain(dt: datetime) -> str:
    """`2009-03-13 13:25:43`: the form of `setup sent` inside client entries (003)."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def parse_iso_z(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


__all__ = ["Clock", "iso_z", "plain", "parse_iso_z", "timedelta"]
