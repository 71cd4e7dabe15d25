"""What the fake received: a bounded ring buffer of requests with their verdicts.

Memory stays flat under any load: the oldest entries drop out, and every string an entry
keeps is cut to MAX_TEXT characters, so that the journal weighs at most about `limit` ×
(its text fields) × MAX_TEXT, whatever the requests held. The pytest plugin reads it to
report, at the end of a test, requests the fake could not route or refused as
invalid: usually a bug in the code under test.

Tests verify what reached the fake with a `RequestFilter` (method, path pattern, user,
status or status class), as WireMock's `verify` and pytest-httpserver's checks do: the
handle's `journal.requests(...)`, `assert_requested(...)`, `assert_no_requests(...)`
(fake_handle.py), and `GET /_fake/journal?method=&path=&user=&status=` over HTTP.
"""
from __future__ import annotations

import difflib
import itertools
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields

from ocss_testkit.faults import METHODS, method_problem, path_matches, path_problem

DEFAULT_LIMIT = 1000
MAX_TEXT = 1024  # characters of any string an entry keeps (path, query, user, verdicts, reason, detail)
PROBLEMS = ("unmatched", "unauthorized", "invalid", "error")
STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


_MARK = 16  # room for the "…(+N)" a cut string ends with: a cut string is never cut again


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"…(+{len(text) - MAX_TEXT})"


@dataclass(slots=True)
class Entry:
    """One request the fake received (the control plane under /_fake/ is not journaled).

    Every string is cut to MAX_TEXT characters (then ends `…(+N)`, N the characters cut).

    - `id`: its number, increasing, never reused (a reset does not restart it);
    - `request_id`: the answer's `X-Request-Id` (`r12`), also in the request log line;
    - `time`: when it arrived, real time in seconds since the epoch (not the virtual clock);
    - `method`; `path`: as werkzeug decoded it, without the query; `query`: the raw query
      string, `""` when none;
    - `route`: the route table's path it matched (`/v2/services/syncml/{client}`), None
      when nothing matched;
    - `user`: the demo user whose OAuth signature verified, None when unsigned or refused
      before or by OAuth;
    - `auth`: `"ok"`, or why OAuth refused it (the 401's sentence); None where the route
      needs no authentication or it was refused before;
    - `validation`: `"ok"`, or `"<reason>: <why>"` when its body was refused (Atom
      schema, media type); None without a body to check;
    - `fault`: the id of the fault rule that applied to it, if any; `injected`: True when
      that rule answered instead of the fake (every action but `delay`, which only
      delays the fake's own answer): never a `problem`, the test asked for it;
    - `status`: the status code (0: a fault dropped the connection); `reason`: the reason
      phrase (`Bad Request`, `No such Google client.`);
    - `detail`: the sentence the client read after `<status> <reason>: ` in a refusal
      (`unknown phone model '999999'`), or what a fault did (`fault 2 delayed the answer
      by 2.5 s`); None for an answer that is neither;
    - `duration_ms`: milliseconds spent answering;
    - `problem`: why it is likely a bug in the code under test, one of PROBLEMS:
      `unmatched` (404/405: no route), `unauthorized` (401), `invalid` (400, 413, 415,
      422, a refused body, or any refusal the HTTP server makes from the request's head
      before the app reads it, 431 and 501 included: `Journal.refused`), `error` (a 5xx
      no fault injected); None otherwise, as for a 403, 404 or 409 the domain answered,
      which tests provoke on purpose.
    """
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
    fault: int | None = None  # the fault rule that applied, if any
    injected: bool = False  # that rule answered instead of the fake (not a delay)
    status: int = 0
    reason: str = ""
    detail: str | None = None  # the refusal's sentence, as the client read it
    duration_ms: float = 0.0
    problem: str | None = field(default=None)  # unmatched | unauthorized | invalid | error

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self, query_limit: int = 80) -> str:
        """`#12 POST /v2/services/syncml/ as alice -> 400 Bad Request: unknown phone model '999999'`"""
        query = self.query if len(self.query) <= query_limit else self.query[:query_limit] + "…"
        text = f"#{self.id} {self.method} {self.path}{'?' + query if query else ''}"
        text += f" as {self.user}" if self.user else " (no user)"
        text += f" -> {self.status} {self.reason}" if self.status else " -> connection dropped"
        return text + (f": {self.detail}" if self.detail else "")


_TEXT_FIELDS = tuple(f.name for f in fields(Entry) if "str" in str(f.type))


class Journal:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self._limit = limit
        self._entries: deque[Entry] = deque(maxlen=limit)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        return self._limit

    def start(self, request_id: str, method: str, path: str, query: str) -> Entry:
        # The bound is on bytes too, not only on entries: a hostile request line is cut short.
        return Entry(next(self._ids), request_id, time.time(), method[:16], _cut(path), _cut(query))

    def record(self, entry: Entry, status: int, reason: str, started: float, problem: str | None = None) -> None:
        """Store `entry` with its answer. Its strings were set while the request ran, from
        whatever it held (an auth refusal quoting a 200 KB parameter, a schema error naming
        a 40 KB element): they are cut here, as they go into the buffer. `problem`, one of
        PROBLEMS, replaces the classification derived from the answer (`refused`)."""
        entry.status, entry.reason = status, reason
        for name in _TEXT_FIELDS:
            value = getattr(entry, name)
            if value is not None and len(value) > MAX_TEXT + _MARK:
                setattr(entry, name, _cut(value))
        entry.duration_ms = round((time.perf_counter() - started) * 1000, 3)
        if problem is not None:
            entry.problem = problem
        elif entry.injected:
            pass  # the test injected this answer on purpose
        elif entry.route is None and status in (404, 405):
            entry.problem = "unmatched"
        elif status == 401:
            entry.problem = "unauthorized"
        elif entry.validation not in (None, "ok") or status in (400, 413, 415, 422):
            entry.problem = "invalid"
        elif status >= 500 and entry.fault is None:
            entry.problem = "error"
        with self._lock:
            self._entries.append(entry)

    def refused(self, request_id: str, method: str, path: str, query: str, status: int, reason: str,
                sentence: str, started: float) -> Entry:
        """Store a request the HTTP server refused from its head or framing before the app
        read it (http_framing.py: a body over the limit, ambiguous framing, an oversized head, a
        target that is not a URI), as an app refusal is stored: `detail` is `sentence`, the
        words the client read after `<status> <reason>: `. Its problem is `invalid`
        whatever the status (400, 413, 431, or 501 for a transfer coding the fake does not
        decode): the request, not the fake, was at fault. `started`: time.perf_counter()
        when it was refused. Returns the stored entry."""
        entry = self.start(request_id, method, path, query)
        entry.detail = sentence or None
        self.record(entry, status, reason, started, problem="invalid")
        return entry

    def entries(self, after: int = 0, problems_only: bool = False) -> list[Entry]:
        """The entries after id `after`, oldest first; only those with a `problem` when
        `problems_only`. Filter them with a `RequestFilter`."""
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


# --- verification (WireMock's verify, pytest-httpserver's checks) -------------------------------
@dataclass(frozen=True, slots=True)
class RequestFilter:
    """Which journal entries a verification counts; a criterion that is None matches any.

    - `method`: an HTTP method (one of faults.METHODS; given in any case, kept upper case);
    - `path`: the exact path, or a shell-style pattern as fault rules take
      (`/v2/services/syncml/*`: `*` within and across segments); the query is not matched;
    - `user`: the user whose signature verified (`Entry.user`), `""` for requests with none;
    - `status`: a status code (`404`, or `0` for a dropped connection) or a class (`"4xx"`).

    Build one with `RequestFilter.of(...)`, which checks every criterion."""
    method: str | None = None
    path: str | None = None
    user: str | None = None
    status: int | str | None = None

    @classmethod
    def of(cls, method: str | None = None, path: str | None = None, user: str | None = None,
           status: int | str | None = None, users=None) -> RequestFilter:
        """Checked and normalised. `users`: the names `user` may take, when known (a typo
        then fails loudly instead of matching nothing). Raises TypeError for a criterion
        of the wrong type, ValueError for a value outside its set, naming the valid ones."""
        if method is not None:
            if not isinstance(method, str):
                raise TypeError(f"method must be a string like 'POST'; got {type(method).__name__}")
            if method_problem(method):
                raise ValueError(method_problem(method))
            method = method.upper()
        if path is not None:
            if not isinstance(path, str):
                raise TypeError(f"path must be a string like '/v2/services/syncml/*'; got {type(path).__name__}")
            if path_problem(path):
                raise ValueError(path_problem(path))
        if user is not None:
            if not isinstance(user, str):
                raise TypeError(f"user must be a user's name, or '' for requests without one; got "
                                f"{type(user).__name__}")
            if user and users is not None and user not in users:
                raise ValueError(f"no user {user!r:.40} in the fake's world; its users: "
                                 f"{', '.join(sorted(users))} ('' for requests without one)")
        return cls(method, path, user, _status(status))

    def matches(self, entry: Entry) -> bool:
        return not self.differences(entry)

    def differences(self, entry: Entry) -> list[str]:
        """The criteria `entry` fails, in the order method, path, user, status."""
        failed = []
        if self.method is not None and entry.method != self.method:
            failed.append("method")
        if self.path is not None and not path_matches(self.path, entry.path):
            failed.append("path")
        if self.user is not None and (entry.user or "") != self.user:
            failed.append("user")
        if self.status is not None and not (
                entry.status == self.status if isinstance(self.status, int)
                else str(entry.status).startswith(self.status[0]) and entry.status >= 100):
            failed.append("status")
        return failed

    def __str__(self) -> str:
        if self == RequestFilter():
            return "any request"
        text = " ".join(filter(None, [self.method or "any method", self.path or "any path"]))
        if self.user is not None:
            text += f" as {self.user}" if self.user else " without a user"
        if self.status is not None:
            text += f" answered {self.status}"
        return text


def _status(status) -> int | str | None:
    if status is None:
        return None
    if isinstance(status, bool) or not isinstance(status, (int, str)):
        raise TypeError(f"status must be a status code like 404 or a class like '4xx'; got {type(status).__name__}")
    text = str(status).strip().lower()
    if text in STATUS_CLASSES:
        return text
    if text.isdigit() and len(text) <= 3 and (int(text) == 0 or 100 <= int(text) <= 599):
        return int(text)
    raise ValueError(f"status must be a code from 100 to 599 (0: a dropped connection) or one of "
                     f"{', '.join(STATUS_CLASSES)}; got {str(status)!r:.40}")


def _closeness(wanted: RequestFilter, entry: Entry) -> tuple:
    """Sort key, closest first: fewer failed criteria, then the more similar path, then newer."""
    failed = wanted.differences(entry)
    similarity = 1.0
    if "path" in failed:
        # bounded work: only failure reports sort, over at most `limit` entries of 100 characters
        similarity = difflib.SequenceMatcher(None, (wanted.path or "").replace("*", "")[:100], entry.path[:100]).ratio()
    return len(failed), -similarity, -entry.id


def mismatch_report(wanted: RequestFilter, expected: str, found: list[Entry], received: list[Entry],
                    limit: int = 20, journal_limit: int | None = None) -> str:
    """The message of a failed verification: what was expected, how many matched, then
    what the fake received, the matching requests first, then the others closest first
    (as WireMock's near misses), each with the criteria it fails."""
    lines = [f"expected {expected} matching {wanted}; the fake received {len(found)} such "
             f"request(s) among {len(received)}:"]
    ranked = sorted(received, key=lambda e: _closeness(wanted, e))
    for entry in ranked[:limit]:
        failed = wanted.differences(entry)
        lines.append(f"  {entry.line()}  [{'differs in ' + ', '.join(failed) if failed else 'matches'}]")
    if len(ranked) > limit:
        lines.append(f"  … and {len(ranked) - limit} more")
    if not received:
        lines.append("  (none)")
    if journal_limit is not None and len(received) >= journal_limit:
        lines.append(f"(the journal keeps the newest {journal_limit} requests: older ones are not counted)")
    return "\n".join(lines)


__all__ = ["Entry", "Journal", "RequestFilter", "mismatch_report", "DEFAULT_LIMIT", "MAX_TEXT",
           "PROBLEMS", "STATUS_CLASSES", "METHODS"]
