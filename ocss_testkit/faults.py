"""Scheduled misbehaviour: make matching requests fail the way real networks and servers do.

This is how users test their handling of the OCSS library's ServerError (a 5xx) and
ConnectionError (a dropped connection, a truncated or garbage answer, a slow server).
A rule matches on method and a path pattern (shell-style, `*` within and across
segments), for the next N matches or always.
"""
from __future__ import annotations

import fnmatch
import itertools
import threading
from collections import deque
from dataclasses import asdict, dataclass

from ocss_testkit.world.state_reader import MAX_INT

ACTIONS = ("status", "delay", "drop", "truncate", "garbage")
# The methods of RFC 9110 §9 and PATCH (RFC 5789): a rule or a journal filter naming any
# other word could never match a request the fake answers, so it is refused, not kept.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
MAX_DELAY = 30.0
MAX_TIMES = MAX_INT  # the exact integers of JSON (RFC 7493 §2.2)
# Spent rules kept for tests to read (`Fault.hits`), newest last: at most this many, and
# at most this many characters of their texts (reason, body, path) together; the oldest
# leave first. The newest spent rule always stays: it was held as a live rule anyway.
MAX_SPENT = 100
MAX_SPENT_CHARS = 1 << 20


class FaultError(ValueError):
    """A fault rule that does not make sense; the message says which field."""


def method_problem(method) -> str | None:
    """Why `method` is not an HTTP method the fake can receive (case-insensitive), or None."""
    if not isinstance(method, str) or method.upper() not in METHODS:
        return f"method must be one of {', '.join(METHODS)}; got {method!r:.40}"
    return None


def path_problem(path) -> str | None:
    """Why `path` is not a path pattern (`/v2/services/syncml/*`), or None. Patterns are
    shell-style (`fnmatch`): `*` matches within and across segments, `?` one character."""
    if not isinstance(path, str) or not path.startswith(("/", "*")):
        return (f"path must be a path or a pattern starting with / or * (like /v2/services/syncml/*), "
                f"not a URL; got {path!r:.60}")
    return None


def path_matches(pattern: str, path: str) -> bool:
    return fnmatch.fnmatchcase(path, pattern)


@dataclass(slots=True)
class Fault:
    """A rule: the next `times` requests (None: every one) matching `method` and `path`
    get `action` instead of their answer.

    - `id`: the rule's number, for `DELETE /_fake/faults/{id}`; journal entries it
      answered carry it as their `fault`;
    - `action`: `status` (answer `status` `reason` with `body` as its text), `delay` (wait
      `delay` seconds, then answer normally), `drop` (close the connection unanswered),
      `truncate` (half the answer's body, then close), `garbage` (512 random bytes);
    - `method`: an HTTP method, upper case, or `*`; `path`: a pattern (`path_problem`);
    - `status`: the status code sent (`status`, `garbage`); `reason`, `body`: the reason
      phrase and text of a `status` answer (defaults: the standard phrase, a sentence
      naming the fault);
    - `delay`: seconds, from 0 to MAX_DELAY; `times`: how many matches it answers, None
      for always; `hits`: how many it answered so far;
    - `spent`: True once a rule with `times` has answered that many requests. A spent rule
      matches nothing more, but stays listed (`FaultRules.rules`, `GET /_fake/faults`, with
      `remaining` 0), so that a test can check `hits` after the fact, until it is removed
      or the faults are cleared (a reset clears them). Only the last MAX_SPENT spent rules
      are kept (and MAX_SPENT_CHARS of their texts): the oldest leave first.
    """
    id: int
    action: str
    method: str = "*"
    path: str = "*"
    status: int = 500
    reason: str = ""
    body: str = ""
    delay: float = 0.0
    times: int | None = None  # None: always
    hits: int = 0
    spent: bool = False

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and path_matches(self.path, path)

    def describe(self) -> str:
        """What this rule did to a request, as the journal's `detail` says it."""
        return {"status": f"fault {self.id} answered {self.status} instead",
                "delay": f"fault {self.id} delayed the answer by {self.delay:g} s",
                "drop": f"fault {self.id} closed the connection without an answer",
                "truncate": f"fault {self.id} cut the answer's body to half",
                "garbage": f"fault {self.id} sent 512 random bytes instead of the answer"}[self.action]

    def as_dict(self) -> dict:
        data = asdict(self)
        data["remaining"] = None if self.times is None else self.times - self.hits
        return data


class FaultRules:
    def __init__(self) -> None:
        self._rules: list[Fault] = []  # the live rules, in the order they are tried
        self._spent: deque[Fault] = deque()  # used up, oldest first (MAX_SPENT)
        self._spent_chars = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, spec: dict) -> Fault:
        if not isinstance(spec, dict):
            raise FaultError("a fault is a JSON object")
        known = {"action", "method", "path", "status", "reason", "body", "delay", "times"}
        unknown = set(spec) - known
        if unknown:
            raise FaultError(f"unknown field(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(known))}")
        action = spec.get("action")
        if action not in ACTIONS:
            raise FaultError(f"action must be one of {', '.join(ACTIONS)}; got {action!r:.40}")
        method = spec.get("method", "*")
        problem = method_problem(method) if method != "*" else None
        if problem:
            raise FaultError(f"{problem} (or * for any)")
        path = spec.get("path", "*")
        if path_problem(path):
            raise FaultError(path_problem(path))
        if path.startswith("/_fake"):
            raise FaultError("the control plane cannot be faulted")
        status = spec.get("status", 500 if action == "status" else 200)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise FaultError("status must be an HTTP status code")
        delay = spec.get("delay", 0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= MAX_DELAY:
            raise FaultError(f"delay must be seconds from 0 to {MAX_DELAY:g}")
        if action == "delay" and not delay:
            raise FaultError("a delay fault needs delay > 0")
        times = spec.get("times")
        # Bounded like every integer the fake takes (wire.MAX_INT): rules added from Python
        # skip the JSON checks, and a 5,000-digit count could not even be listed as JSON.
        if times is not None and (not isinstance(times, int) or isinstance(times, bool) or not 1 <= times <= MAX_TIMES):
            raise FaultError(f"times must be an integer from 1 to {MAX_TIMES}, or absent for always")
        for name in ("reason", "body"):
            if not isinstance(spec.get(name, ""), str):
                raise FaultError(f"{name} must be a string")
        with self._lock:
            fault = Fault(next(self._ids), action, method.upper(), path, status, spec.get("reason", ""),
                          spec.get("body", ""), float(delay), times)
            self._rules.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first live rule matching this request, counted as used; a rule used up
        is marked `spent` and moves to the spent rules, which match nothing."""
        with self._lock:
            for fault in self._rules:
                if fault.matches(method, path):
                    fault.hits += 1
                    if fault.times is not None and fault.hits >= fault.times:
                        self._rules.remove(fault)
                        self._keep_spent(fault)
                    return fault
        return None

    def _keep_spent(self, fault: Fault) -> None:
        fault.spent = True
        self._spent.append(fault)
        self._spent_chars += _chars(fault)
        while len(self._spent) > 1 and (len(self._spent) > MAX_SPENT or self._spent_chars > MAX_SPENT_CHARS):
            self._spent_chars -= _chars(self._spent.popleft())

    def rules(self) -> list[Fault]:
        """Every rule by id: the live ones (tried in this order) and the spent ones kept
        (`spent` True, matching nothing)."""
        with self._lock:
            return sorted([*self._rules, *self._spent], key=lambda f: f.id)

    def remove(self, fault_id: int) -> bool:
        """Remove one rule, live or spent; False when no rule has that id."""
        with self._lock:
            before = len(self._rules) + len(self._spent)
            self._rules = [f for f in self._rules if f.id != fault_id]
            for fault in [f for f in self._spent if f.id == fault_id]:
                self._spent.remove(fault)
                self._spent_chars -= _chars(fault)
            return len(self._rules) + len(self._spent) != before

    def clear(self) -> None:
        """Remove every rule, the spent ones too."""
        with self._lock:
            self._rules.clear()
            self._spent.clear()
            self._spent_chars = 0


def _chars(fault: Fault) -> int:
    return len(fault.reason) + len(fault.body) + len(fault.path)
