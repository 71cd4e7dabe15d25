"""One object for tests to hold a fake by: its URL, credentials, outbox, phone, clock,
faults, journal and state. The pytest plugin hands these out; code without pytest can
make one around any FakeServer (real HTTP) or FakeApp (in-process).
"""
from __future__ import annotations

from .app import FakeApp
from .client import Credentials, SignedClient
from .drive import Clock, Phone
from .model.fixtures import FixtureSet
from .server import FakeServer


class Outbox:
    """The messages the fake would have sent to phones (SMS and pushes)."""

    def __init__(self, app: FakeApp) -> None:
        self._app = app

    def messages(self, to: str | None = None, kind: str | None = None) -> list:
        world = self._app.world
        with world.lock:
            return world.messages(to=to, kind=kind)

    def __iter__(self):
        return iter(self.messages())

    def __len__(self) -> int:
        return len(self.messages())

    def last(self, to: str | None = None, kind: str | None = None):
        found = self.messages(to, kind)
        if not found:
            raise LookupError(f"no message{' to ' + to if to else ''}{' of kind ' + kind if kind else ''}")
        return found[-1]


class Faults:
    """Make matching requests fail: `faults.add(action="status", status=503, path="/v2/*", times=1)`."""

    def __init__(self, app: FakeApp) -> None:
        self._app = app

    def add(self, action: str, **rule):
        return self._app.faults.add({"action": action, **rule})

    def clear(self) -> None:
        self._app.faults.clear()

    @property
    def rules(self) -> list:
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


class FakeHandle:
    """A fake as tests see it; `url` is real HTTP for a FakeServer, `http://localhost`
    for an in-process FakeApp (its `client()` then talks WSGI, no sockets)."""

    def __init__(self, target: FakeServer | FakeApp) -> None:
        self.server = target if isinstance(target, FakeServer) else None
        self.app = target.app if isinstance(target, FakeServer) else target
        self.url = self.server.url if self.server else "http://localhost"
        self.outbox = Outbox(self.app)
        self.clock = Clock(self.app)
        self.faults = Faults(self.app)
        self.state = State(self.app)
        self.journal_mark = 0  # journal entries after this one belong to the current test
        self._clients: list[SignedClient] = []

    @property
    def world(self):
        return self.app.world

    @property
    def journal(self) -> list:
        return self.app.journal.entries()

    def credentials(self, user: str) -> Credentials:
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
