"""The nonces seen within the timestamp window (RFC 5849 §3.3), bounded in entries and
in bytes, optionally outliving the process (the persistence package)."""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from ocss_testkit.auth.rules import TIMESTAMP_LIFETIME


class NonceStore:
    """Nonces seen within the timestamp window; bounded in entries and in bytes, oldest
    (by timestamp) dropped first.

    A key is `(consumer key, token or None, nonce, timestamp)`, all strings as signed
    (RFC 5849 §3.3: the nonce is unique per timestamp, consumer and token). The store keeps
    a fixed-size record of it whatever the strings' length (`record`): 16 bytes of BLAKE2b
    over the four, and the timestamp. Records are grouped by timestamp minute; a group
    leaves once no timestamp in it can pass the check any more (more than `lifetime`
    seconds old), and beyond `capacity` records (`limit`, and `max_bytes` / RECORD_BYTES)
    the oldest minute loses records first. A key whose timestamp int() cannot read (or of
    more than 12 characters) is never kept: no timestamp check accepts it (oauthlib's reads
    it with int()).

    A verifier computes a key's record once (`record`), looks it up (`seen`) before the
    signature is checked and keeps it (`remember`) after; `key in store` and `add(key)`
    do the same from the key.

    With a state file (the persistence package) the store outlives the process, in the form
    `persisted` gives, `[32 hex digits of the digest, timestamp]`: `listener` is called with
    that of every new key (after the store's lock is released), `snapshot()` gives those
    still inside the window, and `restore()` takes them back at start, and keys as earlier
    files hold them (4 strings), so that a request replayed after a restart is still refused.
    """

    RECORD_BYTES = 128  # what one record costs in memory at most (tests/test_hardening_growth.py)
    _MINUTE = 60

    def __init__(self, limit: int = 100_000, lifetime: int = TIMESTAMP_LIFETIME,
                 max_bytes: int = 8 * 1024 * 1024) -> None:
        self._minutes: dict[int, dict[bytes, None]] = {}  # timestamp // 60 -> records
        self._count = 0
        self._lock = threading.Lock()
        self.limit = limit
        self.max_bytes = max_bytes
        self.lifetime = lifetime
        # Called with each new key's persisted form; must not call back into the store.
        self.listener: Callable[[list[str]], None] | None = None

    @property
    def capacity(self) -> int:
        """Records kept at most: `limit`, and fewer if `max_bytes` says so."""
        return max(1, min(self.limit, self.max_bytes // self.RECORD_BYTES))

    @staticmethod
    def record(key) -> bytes | None:
        """24 bytes: BLAKE2b-128 of the key's strings (each length-prefixed, None apart from
        ""), then its timestamp as 8 bytes; None for a key no timestamp check accepts (or
        that is not 4 items)."""
        try:
            consumer, token, nonce, timestamp = key
        except (TypeError, ValueError):
            return None
        seconds = NonceStore._seconds(timestamp)
        if seconds is None:
            return None
        digest = hashlib.blake2b(digest_size=16)
        for part in (consumer, token, nonce, timestamp):
            data = b"\xff" if part is None else str(part).encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "big") + data)
        return digest.digest() + seconds.to_bytes(8, "big", signed=True)

    @staticmethod
    def _seconds(timestamp) -> int | None:
        """The timestamp as oauthlib's check reads it (int(): other scripts' digits too)."""
        if not isinstance(timestamp, str) or len(timestamp) > 12:
            return None
        try:
            return int(timestamp)
        except ValueError:
            return None

    @classmethod
    def persisted(cls, key) -> list[str] | None:
        """The form `snapshot()` gives for a key: `[32 hex digits, timestamp]`."""
        record = cls.record(key)
        return None if record is None else cls._as_list(record)

    @staticmethod
    def _as_list(record: bytes) -> list[str]:
        return [record[:16].hex(), str(int.from_bytes(record[16:], "big", signed=True))]

    @classmethod
    def _from_persisted(cls, entry) -> bytes | None:
        if isinstance(entry, (list, tuple)) and len(entry) == 2 and all(isinstance(e, str) for e in entry):
            digest, timestamp = entry
            seconds = cls._seconds(timestamp)
            if len(digest) != 32 or seconds is None:
                return None
            try:
                return bytes.fromhex(digest) + seconds.to_bytes(8, "big", signed=True)
            except ValueError:
                return None
        return cls.record(tuple(entry)) if isinstance(entry, (list, tuple)) else None

    def seen(self, record: bytes | None) -> bool:
        """Whether the store holds this `record` (None: a key it never keeps, so False)."""
        if record is None:
            return False
        with self._lock:
            return record in self._minutes.get(self._minute(record), ())

    def remember(self, record: bytes | None) -> bool:
        """Keep a `record`; False if it was already there (a replay). None (a key whose
        timestamp is not a number) is not kept, and answers True."""
        if record is None:
            return True
        if not self._remember(record, time.time()):
            return False
        listener = self.listener
        if listener is not None:
            listener(self._as_list(record))
        return True

    def __contains__(self, key: tuple) -> bool:
        return self.seen(self.record(key))

    def add(self, key: tuple) -> bool:
        """Remember a nonce; False if it was already there (a replay). A key whose
        timestamp is not a number is not kept, and answers True."""
        return self.remember(self.record(key))

    def _minute(self, record: bytes) -> int:
        return int.from_bytes(record[16:], "big", signed=True) // self._MINUTE

    def _remember(self, record: bytes, wall: float) -> bool:
        with self._lock:
            minute = self._minute(record)
            records = self._minutes.get(minute)
            if records is None:
                records = self._minutes[minute] = {}
            elif record in records:
                return False
            records[record] = None
            self._count += 1
            self._expire(wall)
            return True

    def _expire(self, wall: float) -> None:
        """Drop the minutes past the window, then the oldest records beyond `capacity`
        (the lock held)."""
        minutes = self._minutes
        # A minute leaves once its newest timestamp is more than `lifetime` s old.
        oldest = min(minutes)
        while (oldest + 1) * self._MINUTE - 1 < wall - self.lifetime:
            self._count -= len(minutes.pop(oldest))
            if not minutes:
                break
            oldest = min(minutes)
        capacity = self.capacity
        while self._count > capacity:
            oldest = min(minutes)
            minutes[oldest].popitem()
            self._count -= 1
            if not minutes[oldest]:
                del minutes[oldest]

    def _replayable(self, record: bytes, wall: float) -> bool:
        """Could a request with this record's timestamp still pass the check (±lifetime)?"""
        return abs(wall - int.from_bytes(record[16:], "big", signed=True)) <= self.lifetime

    def snapshot(self) -> list[list[str]]:
        """The records whose timestamp is still inside the window, oldest minute first,
        as `[32 hex digits of the digest, timestamp]`."""
        wall = time.time()
        with self._lock:
            records = [r for minute in sorted(self._minutes) for r in self._minutes[minute]]
        return [self._as_list(r) for r in records if self._replayable(r, wall)]

    def restore(self, entries) -> int:
        """Take back what `snapshot()` gave, or keys as the listener got them (lists or
        tuples of 4 strings, as earlier state files hold them); those outside the window,
        and anything else, are dropped. The listener is not called. Returns how many were kept."""
        wall, kept = time.time(), 0
        for entry in entries:
            record = self._from_persisted(entry)
            if record is not None and self._replayable(record, wall) and self._remember(record, wall):
                kept += 1
        return kept

    def __len__(self) -> int:
        return self._count
