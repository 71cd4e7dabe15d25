"""One object for tests to hold a fake by: its URL, credentials, outbox, phone, clock,
faults, journal and state. The pytest plugin hands these out; code without pytest can
make one around any FakeServer (real HTTP) or FakeApp (in-process).

What its parts return, with their fields, is documented where they are defined:
`journal.Entry` (a request the fake received), `faults.Fault` (a fault rule), and the
outbox's `Message`, the phone's `Detection` and `Session` in `controls`'s docstring.
"""
from __future__ import annotations

from ocss_testkit.app import FakeApp
from ocss_testkit.client import Credentials, SignedClient
from ocss_testkit.controls import ClockControl, Phone, message_kind_problem
from ocss_testkit.faults import Fault
from ocss_testkit.journal import Entry, RequestFilter, mismatch_report
from ocss_testkit.server import FakeServer
from ocss_testkit.world.fixtures import FixtureSet


class Outbox:
    """The messages the fake would have sent to phones (SMS and pushes), oldest first:
    `Message`s with `id`, `to`, `kind`, `body`, `time`, `client`, `code` (see controls.py).
    Bounded: the oldest drop out past the World's outbox limit."""

    def __init__(self, app: FakeApp) -> None:
        self._app = app

    def messages(self, to: str | None = None, kind: str | None = None) -> list:
        """The messages to this number and of this kind (None: any). `kind` is one of
        `detection-link`, `setup-sms`, `server-alert`; another raises ValueError naming
        them, so that a typo cannot make "no SMS was sent" pass."""
        if to is not None and not isinstance(to, str):
            raise TypeError(f"to must be a phone number as a string, like '+4798765432'; got {type(to).__name__}")
        problem = message_kind_problem(kind) if kind is not None else None
        if problem:
            raise ValueError(problem)
        world = self._app.world
        with world.lock:
            return world.outbox.messages(to=to, kind=kind)

    def __iter__(self):
        return iter(self.messages())

    def __len__(self) -> int:
        return len(self.messages())

    def last(self, to: str | None = None, kind: str | None = None):
        """The newest message of `messages(to, kind)`; LookupError when there is none."""
        found = self.messages(to, kind)
        if not found:
            raise LookupError(f"no message{' to ' + to if to else ''}{' of kind ' + kind if kind else ''}")
        return found[-1]


class FaultControl:
    """Make matching requests fail: `faults.add("status", status=503, path="/v2/*", times=1)`.

    `add(action, **rule)` takes the fields of `POST /_fake/faults` (`method`, `path`,
    `status`, `reason`, `body`, `delay`, `times`) and returns the `Fault` (faults.py lists
    its fields); a rule that makes no sense raises `faults.FaultError` (a ValueError)
    naming the field and its valid values."""

    def __init__(self, app: FakeApp) -> None:
        self._app = app

    def add(self, action: str, **rule) -> Fault:
        return self._app.faults.add({"action": action, **rule})

    def remove(self, fault_id: int) -> bool:
        """Remove one rule; False when no rule has that id."""
        return self._app.faults.remove(fault_id)

    def clear(self) -> None:
        self._app.faults.clear()

    @property
    def rules(self) -> list[Fault]:
        """The rules in force, in the order they are tried."""
        return self._app.faults.rules()


class State:
    """The whole state as a JSON document: read it, patch it (RFC 6902), replace it."""

    def __init__(self, app: FakeApp) -> None:
        self._app = app

    def get(self) -> dict:
        world = self._app.world
        with world.lock:
            return world.to_dict()

    def patch(self, operations: list) -> None:
        self._app.patch_state(operations)

    def replace(self, document: dict) -> None:
        self._app.replace_state(document)


class Journal:
    """The requests the fake received since the test began (since the handle's
    `journal_mark`), oldest first: a sequence of `journal.Entry` (`len`, indexing,
    iteration, `== [...]`), and verification as WireMock's `verify` does it.

    Every check takes the same criteria, each None for any: `method` (`"POST"`), `path`
    (exact, or a pattern like fault rules take: `"/v2/services/syncml/*"`), `user` (the
    user whose signature verified; `""` for requests without one), `status` (`404`, or a
    class: `"4xx"`). A criterion outside its set (an unknown method or user, `status=
    "4oo"`) raises ValueError naming the valid values, a wrong type TypeError.

    The journal is a ring buffer (1000 requests by default): in a test sending more,
    the oldest are no longer counted."""

    def __init__(self, handle: FakeHandle) -> None:
        self._handle = handle

    def _all(self) -> list[Entry]:
        return self._handle.app.journal.entries(after=self._handle.journal_mark)

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __getitem__(self, index):
        return self._all()[index]

    def __eq__(self, other) -> bool:
        return self._all() == list(other) if isinstance(other, (list, tuple, Journal)) else NotImplemented

    # No __hash__: a class that defines __eq__ alone is unhashable (Python data model,
    # object.__hash__), as a journal that changes with traffic must be.

    def __repr__(self) -> str:
        return f"<journal of {len(self)} request(s)>"

    def _filter(self, entries: list[Entry], method, path, user, status) -> RequestFilter:
        """The criteria, a user checked against the world's users and those `entries` name
        (`app.world`: a remote handle's reads the fake's state)."""
        users = set(self._handle.app.world.users) | {e.user for e in entries if e.user}
        return RequestFilter.of(method, path, user, status, users=users)

    def problems(self) -> list[Entry]:
        """The entries with a `problem` (unmatched, unauthorized, invalid, error): what the
        plugin lists at the end of a test."""
        return [e for e in self._all() if e.problem]

    def requests(self, method: str | None = None, path: str | None = None, user: str | None = None,
                 status: int | str | None = None) -> list[Entry]:
        """The entries matching every criterion given, oldest first."""
        received = self._all()
        wanted = self._filter(received, method, path, user, status)
        return [e for e in received if wanted.matches(e)]

    def assert_requested(self, method: str | None = None, path: str | None = None, user: str | None = None,
                         status: int | str | None = None, times: int | None = None) -> list[Entry]:
        """Check that the fake received requests matching the criteria: exactly `times`
        of them, or at least one when `times` is None. Returns the matching entries.
        Raises AssertionError listing what the fake received instead, matching requests
        first, then the others closest first, each with the criteria it fails."""
        __tracebackhide__ = True  # pytest shows the caller's line and the message, not this frame
        if times is not None and (isinstance(times, bool) or not isinstance(times, int)):
            raise TypeError(f"times must be an int or None; got {type(times).__name__}")
        if times is not None and times < 0:
            raise ValueError(f"times must be 0 or more; got {times}")
        received = self._all()
        wanted = self._filter(received, method, path, user, status)
        found = [e for e in received if wanted.matches(e)]
        if (len(found) != times) if times is not None else not found:
            expected = "at least one request" if times is None else f"exactly {times} request(s)"
            raise AssertionError(mismatch_report(wanted, expected, found, received,
                                                 journal_limit=self._handle.app.journal.limit))
        return found

    def assert_no_requests(self, method: str | None = None, path: str | None = None, user: str | None = None,
                           status: int | str | None = None) -> None:
        """Check that no request matching the criteria reached the fake (with none given:
        no request at all). Raises AssertionError listing those that did."""
        __tracebackhide__ = True  # pytest shows the caller's line and the message, not this frame
        self.assert_requested(method, path, user, status, times=0)

    def clear(self) -> None:
        """Forget every request received so far (`DELETE /_fake/journal`)."""
        self._handle.app.journal.clear()


class FakeHandle:
    """A fake as tests see it; `url` is real HTTP for a FakeServer, `http://localhost`
    for an in-process FakeApp (its `client()` then talks WSGI, no sockets).

    `journal` is a `Journal` (the requests received, and `requests`, `assert_requested`,
    `assert_no_requests`, which the handle offers too); `outbox` an `Outbox`; `clock` a
    `controls.ClockControl`; `phone(number)` a `controls.Phone`; `faults` a `FaultControl`; `state` a `State`."""

    def __init__(self, target: FakeServer | FakeApp) -> None:
        self.server = target if isinstance(target, FakeServer) else None
        self.app = target.app if isinstance(target, FakeServer) else target
        self.url = self.server.url if self.server else "http://localhost"
        self.outbox = Outbox(self.app)
        self.clock = ClockControl(self.app)
        self.faults = FaultControl(self.app)
        self.state = State(self.app)
        self.journal = Journal(self)
        self.journal_mark = 0  # journal entries after this one belong to the current test
        self._clients: list[SignedClient] = []

    def __repr__(self) -> str:
        return f"<FakeHandle {self.url} ({self.app.fixtures.name})>"

    @property
    def world(self):
        return self.app.world

    def requests(self, method: str | None = None, path: str | None = None, user: str | None = None,
                 status: int | str | None = None) -> list[Entry]:
        """`journal.requests(...)`: the requests received matching the criteria."""
        return self.journal.requests(method, path, user, status)

    def assert_requested(self, method: str | None = None, path: str | None = None, user: str | None = None,
                         status: int | str | None = None, times: int | None = None) -> list[Entry]:
        """`journal.assert_requested(...)`."""
        __tracebackhide__ = True  # pytest shows the caller's line and the message, not this frame
        return self.journal.assert_requested(method, path, user, status, times)

    def assert_no_requests(self, method: str | None = None, path: str | None = None, user: str | None = None,
                           status: int | str | None = None) -> None:
        """`journal.assert_no_requests(...)`."""
        __tracebackhide__ = True  # pytest shows the caller's line and the message, not this frame
        self.journal.assert_no_requests(method, path, user, status)

    def credentials(self, user: str) -> Credentials:
        """The OAuth credentials of `user` in the world; LookupError naming its users."""
        if user not in self.app.world.users:
            raise LookupError(f"no user {user!r:.40} in the fake's world; its users: "
                              f"{', '.join(sorted(self.app.world.users))}")
        return Credentials.of(self.app, user)

    def client(self, user: str | None = "alice") -> SignedClient:
        """A signed client of this fake (None: unsigned)."""
        credentials = self.credentials(user) if user else None
        client = SignedClient(self.server.url if self.server else self.app, credentials)
        self._clients.append(client)
        return client

    def close_clients(self) -> None:
        """Close the connections of every client this handle made."""
        while self._clients:
            self._clients.pop().close()

    def phone(self, number: str) -> Phone:
        return Phone(self.app, number)

    def reset(self, fixtures: FixtureSet | None = None) -> None:
        """A fresh world (from `fixtures` when given, else the app's own set), no faults,
        an empty journal."""
        if fixtures is not None:
            self.app.fixtures = fixtures
        self.app.reset()
