"""One clock for every timestamp the fake writes, so tests can freeze and move time.

OAuth timestamp checks do not use it: clients sign with real time.

A time given to the clock (`VirtualClock.freeze`, `VirtualClock.set`, `POST /_fake/clock`'s `set`) is
`instant()`'s: an ISO 8601 string of RFC 3339's form with its offset
(`2009-11-01T12:30:00Z`, `2009-11-01T13:30:00+01:00`), or a timezone-aware datetime. A
time without an offset (a naive datetime, a string without `Z`) is refused rather than
guessed: Python takes a naive datetime as local time, the fake writes UTC, and a test
must not depend on the machine's zone. A duration (`VirtualClock.advance`) is `duration()`'s:
seconds as an int or float, or a timedelta; never negative.
"""
from __future__ import annotations

import math
import re
import threading
import time
from datetime import datetime, timedelta, timezone

EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc).timestamp()
LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc).timestamp()


def _check(timestamp: float) -> float:
    if not (EARLIEST <= timestamp <= LATEST):
        raise ValueError("the virtual clock stays between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z")
    return timestamp


# RFC 3339 §5.6 date-time with an offset and without fractions: the clock has second precision.
_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:Z|[+-][0-9]{2}:[0-9]{2})")
STRING_FORM = "an ISO 8601 time with its offset, like 2009-11-01T12:30:00Z or 2009-11-01T13:30:00+01:00"
INSTANT_FORMS = f"{STRING_FORM}, or a timezone-aware datetime"
DURATION_FORMS = "a number of seconds (int or float) or a datetime.timedelta"


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "…"


def instant(value: str | datetime) -> float:
    """The timestamp (seconds since the epoch) of a time given to the clock.

    `value`: an ISO 8601 string with its offset and whole seconds (RFC 3339 §5.6:
    `2009-11-01T12:30:00Z`, `2009-11-01T13:30:00+01:00`), or a timezone-aware datetime.
    Raises TypeError for any other type (a number, a date, None), ValueError for a string
    of another form, a naive datetime, or a time outside 1970-01-01T00:00:00Z ..
    9999-12-31T23:59:59Z."""
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise ValueError(f"{_shown(value)} has no timezone, and the fake will not guess one; "
                             "give it tzinfo=timezone.utc (or pass a string like 2009-11-01T12:30:00Z)")
        return _timestamp(value)
    if isinstance(value, str):
        if not _INSTANT.fullmatch(value):
            raise ValueError(f"{_shown(value)} is not {STRING_FORM} (whole seconds)")
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:  # month 13, 25 o'clock, an offset of 24 hours
            raise ValueError(f"{_shown(value)} is not a valid time: {exc}") from None
        return _timestamp(moment)
    raise TypeError(f"a clock time is {INSTANT_FORMS}; got {type(value).__name__} {_shown(value)}")


def _timestamp(moment: datetime) -> float:
    try:
        return _check(moment.timestamp())
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before what datetime can hold
        return _check(-math.inf)


def duration(value: float | timedelta) -> float:
    """Seconds from a duration given to the clock: an int or float of seconds, or a
    timedelta. Raises TypeError for any other type (a string, a bool, None), ValueError
    for a negative or non-finite one."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:  # an int of 400 digits
            seconds = math.inf
    else:
        raise TypeError(f"a clock advance is {DURATION_FORMS}; got {type(value).__name__} {_shown(value)}")
    if not (0 <= seconds and math.isfinite(seconds)):
        raise ValueError("the clock only moves forward, by a finite number of seconds")
    return seconds


class VirtualClock:
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

    def freeze(self, at: str | datetime | None = None) -> None:
        """Stop the clock, at `at` (an `instant()`) or at its current time."""
        timestamp = None if at is None else instant(at)
        with self._lock:
            self._frozen = _check(timestamp if timestamp is not None else time.time() + self._offset)

    def unfreeze(self) -> None:
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - time.time()
                self._frozen = None

    def set(self, at: str | datetime) -> None:
        """Move the clock to `at` (an `instant()`); a running clock runs on from there."""
        timestamp = instant(at)
        with self._lock:
            if self._frozen is not None:
                self._frozen = timestamp
            else:
                self._offset = timestamp - time.time()

    def advance(self, seconds: float | timedelta) -> None:
        """Move the clock forward by a `duration()`."""
        seconds = duration(seconds)
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


_LAST = datetime.fromtimestamp(LATEST, timezone.utc)


def expiry(start: datetime, seconds: float) -> datetime:
    """`start` plus `seconds`, but never past the clock's last second (LATEST,
    9999-12-31T23:59:59Z): what is issued that late lives until then, and its expiry stays
    a time datetime can hold."""
    lifetime = timedelta(seconds=seconds)
    return start + lifetime if start <= _LAST - lifetime else max(start, _LAST)


def iso_z(dt: datetime) -> str:
    """`2009-05-26T12:59:39Z`: the Atom form in every documented response."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def plain(dt: datetime) -> str:
    """`2009-03-13 13:25:43`: the form of `setup sent` inside client entries (003)."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def parse_iso_z(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


__all__ = ["VirtualClock", "instant", "duration", "expiry", "iso_z", "plain", "parse_iso_z", "timedelta"]
