"""What the fake received: a bounded ring buffer of requests with their verdicts.

Memory stays flat under any load: the oldest entries drop out, and every string an entry
keeps is cut to MAX_TEXT characters, so that the journal weighs at most about `limit` ×
(its text fields) × MAX_TEXT, whatever the requests held. The pytest plugin reads it to
report, at the end of a test, requests the fake could not route or refused as
invalid: usually a bug in the code under test.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields

DEFAULT_LIMIT = 1000
MAX_TEXT = 1024  # characters of any string an entry keeps (path, query, user, verdicts, reason)


_MARK = 16  # room for the "…(+N)" a cut string ends with: a cut string is never cut again


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"…(+{len(text) - MAX_TEXT})"


@dataclass(slots=True)
class Entry:
    id: int
    request_id: str
    time: float  # real time, seconds since the epoch
    method: str
    path: str
    query: str
    route: str | None = None  # the route table's path, None when nothing matched
    user: str | None = None
    auth: str | None = None  # "ok", or why OAuth refused; None where no auth is needed
    validation: str | None = None  # "ok", or why the body was refused; None without a body
    fault: int | None = None  # the fault rule that answered instead, if any
    status: int = 0
    reason: str = ""
    duration_ms: float = 0.0
    problem: str | None = field(default=None)  # unmatched | unauthorized | invalid | error

    def as_dict(self) -> dict:
        return asdict(self)


# Every text field, found from the class so that a field added later is cut too.
_TEXT_FIELDS = tuple(f.name for f in fields(Entry) if "str" in str(f.type))


class Journal:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._entries: deque[Entry] = deque(maxlen=limit)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        return self._entries.maxlen

    def start(self, request_id: str, method: str, path: str, query: str) -> Entry:
        # The bound is on bytes too, not only on entries: a hostile request line is cut short.
        return Entry(next(self._ids), request_id, time.time(), method[:16], _cut(path), _cut(query))

    def record(self, entry: Entry, status: int, reason: str, started: float) -> None:
        """Store `entry` with its answer. Its strings were set while the request ran, from
        whatever it held (an auth refusal quoting a 200 KB parameter, a schema error naming
        a 40 KB element): they are cut here, as they go into the buffer."""
        entry.status, entry.reason = status, reason
        for name in _TEXT_FIELDS:
            value = getattr(entry, name)
            if value is not None and len(value) > MAX_TEXT + _MARK:
                setattr(entry, name, _cut(value))
        entry.duration_ms = round((time.perf_counter() - started) * 1000, 3)
        if entry.route is None and status in (404, 405):
            entry.problem = "unmatched"
        elif status == 401:
            entry.problem = "unauthorized"
        elif entry.validation not in (None, "ok") or status in (400, 413, 415, 422):
            entry.problem = "invalid"
        elif status >= 500 and entry.fault is None:
            entry.problem = "error"
        with self._lock:
            self._entries.append(entry)

    def entries(self, after: int = 0, problems_only: bool = False) -> list[Entry]:
        with self._lock:
            return [e for e in self._entries if e.id > after and (e.problem or not problems_only)]

    def last_id(self) -> int:
        with self._lock:
            return self._entries[-1].id if self._entries else 0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
