"""A FakeHandle for a fake in another process: a tenant of a shared `ocss-fake serve`,
driven through its control plane over HTTP (`/t/{tenant}/_fake/…`).

The pytest plugin hands these out under `--ocss-fake-url` (plugin.py). The handle offers
what FakeHandle offers, with the same return types (`journal.Entry`, `faults.Fault`, the
outbox's `Message`, the phone's `Detection` and `Session`): changes go over HTTP, and what
is read comes from the tenant's state document (`GET /_fake/state`), loaded into a World
here, so that it is the model's own objects. `world` is the one thing not offered: the
world lives in the server, and a copy that does not change with it would mislead.

Errors: what the server refuses raises what the in-process handle raises (a fault rule
`faults.FaultError`, a phone action the model's `NotFound`/`Conflict`/`Forbidden`/
`Invalid`, a clock or autopilot setting ValueError, a state `wire.ApiError`), with the
server's sentence; a server that cannot be reached, or answers otherwise, raises
RemoteError naming the request and the answer.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import cast
from urllib.parse import quote, urlencode, urlsplit

from ocss_testkit.answers import ApiError
from ocss_testkit.client import Credentials, Reply, SignedClient
from ocss_testkit.controls import ClockControl, Phone
from ocss_testkit.fake_handle import FakeHandle, FaultControl, Journal, Outbox, State
from ocss_testkit.faults import Fault, FaultError
from ocss_testkit.journal import Entry
from ocss_testkit.world import errors
from ocss_testkit.world.fixtures import FixtureSet, available_sets
from ocss_testkit.world.world import World

TIMEOUT = 30.0  # seconds for one control-plane request
DOMAIN_ERRORS = {400: errors.Invalid, 403: errors.Forbidden, 404: errors.NotFound, 409: errors.Conflict}


class RemoteError(RuntimeError):
    """The shared fake could not be reached, or answered what the handle cannot use;
    `status` is the HTTP status (0: no answer) and `detail` the server's sentence."""

    def __init__(self, message: str, status: int = 0, detail: str = "") -> None:
        super().__init__(message)
        self.status, self.detail = status, detail


def call(url: str, method: str = "GET", data=None, content_type: str = "application/json",
         timeout: float = TIMEOUT) -> tuple[int, object]:
    """One JSON request: (status, the decoded JSON answer). A refusal (4xx) comes back as
    (status, its sentence); anything else unexpected raises RemoteError."""
    body = None if data is None else json.dumps(data).encode("utf-8")
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Content-Type": content_type} if body is not None else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", "replace").strip()
        detail = text.split(": ", 1)[1] if ": " in text else text
        if 400 <= exc.code < 500:
            return exc.code, detail
        raise RemoteError(f"{method} {url} answered {exc.code} {exc.reason}: {detail[:300]}", exc.code,
                          detail) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise RemoteError(f"{method} {url}: no usable answer from the shared fake ({exc})") from None


class _Control:
    """The control plane of one tenant, and a stand-in for the FakeApp the in-process
    parts of the handle (Outbox, ClockControl, State, Journal, FaultControl, Credentials) hold: its
    `world` is a copy loaded from the state document, its journal and fault rules remote."""

    def __init__(self, url: str, fixtures: FixtureSet) -> None:
        self.url = url
        self.fixtures = fixtures
        self.journal = _RemoteJournal(self)
        self.faults = _RemoteFaultControl(self)

    def ok(self, method: str, path: str, data=None, content_type: str = "application/json", errors=None):
        """The JSON answer of a request that must succeed; a refusal raises
        `errors[status]` (or ApiError) with the server's sentence."""
        status, answer = call(self.url + path, method, data, content_type)
        if status >= 400:
            error = (errors or {}).get(status)
            if error is not None:
                raise error(answer)
            raise ApiError(status, "refused", str(answer))
        return answer

    @property
    def world(self) -> World:
        """A copy of the tenant's World as it is now (read-only use: reading it changes
        nothing on the server)."""
        return World.from_dict(self.ok("GET", "/_fake/state"), self.fixtures.phones)

    def patch_state(self, operations) -> None:
        self.ok("PATCH", "/_fake/state", operations, "application/json-patch+json")

    def replace_state(self, document) -> None:
        self.ok("PUT", "/_fake/state", document)


class _RemoteJournal:
    """What the handle's Journal asks of `app.journal`, over `GET /_fake/journal`."""

    def __init__(self, control: _Control) -> None:
        self._control = control
        self.limit = 1000

    def entries(self, after: int = 0, problems_only: bool = False) -> list[Entry]:
        query = urlencode({"after": after, **({"problems": "1"} if problems_only else {})})
        answer = self._control.ok("GET", f"/_fake/journal?{query}")
        self.limit = answer["limit"]
        return [Entry(**entry) for entry in answer["entries"]]

    def last_id(self) -> int:
        entries = self.entries()
        return entries[-1].id if entries else 0

    def clear(self) -> None:
        self._control.ok("DELETE", "/_fake/journal")


def _control(app) -> _Control:
    """The handle's stand-in app, as what it is (the in-process parts type it FakeApp)."""
    return cast(_Control, app)


def _fault(data: dict) -> Fault:
    return Fault(**{key: value for key, value in data.items() if key != "remaining"})


class _RemoteFaultControl:
    """What the handle's FaultControl asks of `app.faults`, over `/_fake/faults`."""

    def __init__(self, control: _Control) -> None:
        self._control = control

    def add(self, rule: dict) -> Fault:
        status, answer = call(self._control.url + "/_fake/faults", "POST", rule)
        if status == 400:
            raise FaultError(str(answer).removeprefix("fault: "))
        if status >= 400:
            raise ApiError(status, "refused", str(answer))
        return _fault(cast(dict, answer))

    def remove(self, fault_id: int) -> bool:
        status, _ = call(f"{self._control.url}/_fake/faults/{int(fault_id)}", "DELETE")
        return status < 400

    def clear(self) -> None:
        self._control.ok("DELETE", "/_fake/faults")

    def rules(self) -> list[Fault]:
        return [_fault(rule) for rule in self._control.ok("GET", "/_fake/faults")["faults"]]


class RemoteClock(ClockControl):
    """controls.ClockControl over `POST /_fake/clock`; reading it reads the tenant's clock."""

    def _move(self, how: str, *args) -> int:
        if how == "freeze":
            data = {"freeze": True, **({"set": _instant(args[0])} if args[0] is not None else {})}
        elif how == "unfreeze":
            data = {"freeze": False}
        elif how == "set":
            data = {"set": _instant(args[0])}
        else:
            data = {"advance": _seconds(args[0])}
        return _control(self.app).ok("POST", "/_fake/clock", data, errors={400: ValueError})["phone_actions_run"]


def _instant(at) -> str:
    if isinstance(at, datetime):
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("a naive datetime has no zone, and the fake will not guess one: give it a tzinfo")
        return at.isoformat()
    if isinstance(at, str):
        return at
    raise TypeError(f"a time is an ISO 8601 string with its offset or an aware datetime; got {type(at).__name__}")


def _seconds(seconds) -> float:
    if isinstance(seconds, timedelta):
        return seconds.total_seconds()
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError(f"a duration is seconds (int or float) or a timedelta; got {type(seconds).__name__}")
    return seconds


class RemotePhone(Phone):
    """controls.Phone over `/_fake/phone/{number}/…`, returning the model's objects."""

    def _path(self, action: str = "") -> str:
        return f"/_fake/phone/{quote(self.number, safe='')}" + (f"/{action}" if action else "")

    def _call(self, name: str, *args, message: int | None = None):
        self._check_message(message)
        data = {} if message is None else {"message": message}
        if name == "visit":
            answer = _control(self.app).ok("POST", self._path("visit"), {**data, "user_agent": args[0]},
                                           errors=DOMAIN_ERRORS)
            return self.app.world.detection.detections[answer["code"]]
        accept = args[0]
        if name == "answer_setup":
            action = "accept-setup" if accept else "reject-setup"
            return _control(self.app).ok("POST", self._path(action), data, errors=DOMAIN_ERRORS)["client"]
        action = "accept-sync" if accept else "reject-sync"
        answer = _control(self.app).ok("POST", self._path(action), data, errors=DOMAIN_ERRORS)
        if answer.get("session") is None:
            return None
        return next(s for s in self.app.world.syncml_sessions.sessions if s.id == answer["session"])

    def autopilot(self, **config) -> None:
        if config:
            _control(self.app).ok("PUT", self._path("autopilot"), config, errors={400: ValueError})
        else:
            _control(self.app).ok("DELETE", self._path("autopilot"))


class RemoteState(State):
    def get(self) -> dict:
        return _control(self._app).ok("GET", "/_fake/state")


class TenantClient(SignedClient):
    """A SignedClient of a tenant: its paths are below the tenant's URL (`/v2/…` goes to
    `/t/{tenant}/v2/…`, signed as that)."""

    def __init__(self, url: str, credentials: Credentials | None = None) -> None:
        super().__init__(url, credentials)
        self._prefix = urlsplit(self.base).path.rstrip("/")

    def request(self, method: str, path: str, body: bytes | str = b"", headers: dict | None = None) -> Reply:
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = dict(headers or {})
        if body and "Content-Type" not in headers:
            headers["Content-Type"] = "application/atom+xml"
        headers = self._sign(method, self.base + path, body, headers)
        assert self._conn is not None  # a URL, never an app: always over HTTP
        self._conn.request(method, self._prefix + path, body=body or None, headers=headers)
        answer = self._conn.getresponse()
        return Reply(answer.status, answer.reason, dict(answer.getheaders()), answer.read())


class RemoteHandle(FakeHandle):
    """A tenant of a shared fake (module doc). `claim` makes one; `drop` deletes it.

    `server_url` is the shared fake's root (`http://fake:8080`), `tenant` the tenant's
    name; `url` is the tenant's (`http://fake:8080/t/{tenant}`), what clients use."""

    def __init__(self, server_url: str, tenant: str, fixtures: FixtureSet) -> None:
        self.server = None
        self.server_url = server_url.rstrip("/")
        self.tenant = tenant
        self.url = f"{self.server_url}/t/{tenant}"
        # The in-process parts take it for the FakeApp it stands in for (_Control's doc).
        self.app = _Control(self.url, fixtures)  # type: ignore[assignment]
        self.outbox = Outbox(self.app)
        self.clock = RemoteClock(self.app)
        self.faults = FaultControl(self.app)
        self.state = RemoteState(self.app)
        self.journal = Journal(self)
        self.journal_mark = 0
        self._clients: list[SignedClient] = []

    @classmethod
    def claim(cls, server_url: str, tenant: str, fixtures: FixtureSet) -> RemoteHandle:
        """Create the tenant (a fresh one, replacing any of that name) from `fixtures`.
        Raises RemoteError when the server refuses it (no room, a bad name)."""
        handle = cls(server_url, tenant, fixtures)
        handle._put(fixtures)
        return handle

    def __repr__(self) -> str:
        return f"<RemoteHandle {self.url} ({self.app.fixtures.name})>"

    @property
    def world(self):
        raise AttributeError(f"the fake's world lives in another process (the shared fake at {self.server_url}): "
                             "read it with state.get(), outbox, clock or journal, change it with state.patch()")

    def credentials(self, user: str) -> Credentials:
        world = self.app.world
        if user not in world.users:
            raise LookupError(f"no user {user!r:.40} in the fake's world; its users: {', '.join(sorted(world.users))}")
        found = world.users[user]
        return Credentials(found.consumer_key, world.consumers[found.consumer_key], found.token, found.token_secret)

    def client(self, user: str | None = "alice") -> SignedClient:
        client = TenantClient(self.url, self.credentials(user) if user else None)
        self._clients.append(client)
        return client

    def phone(self, number: str) -> RemotePhone:
        return RemotePhone(self.app, number)

    def reset(self, fixtures: FixtureSet | None = None) -> None:
        """A fresh world (from `fixtures` when given and another set than the tenant's:
        the tenant is then made anew from it), no faults, an empty journal."""
        if fixtures is not None and fixtures is not self.app.fixtures:
            self._put(fixtures)
            return
        _control(self.app).ok("POST", "/_fake/reset")

    def _put(self, fixtures: FixtureSet) -> None:
        # A shipped set goes by name (the server parses it once); a folder of this machine
        # as the state document its world starts from, which the tenant then resets to.
        body = ({"fixtures": fixtures.name} if fixtures.name in available_sets()
                else {"state": fixtures.build().to_dict()})
        url = f"{self.server_url}/_fake/tenants/{quote(self.tenant, safe='')}"
        status, answer = call(url, "PUT", body)
        if status >= 400:
            raise RemoteError(f"the shared fake at {self.server_url} refused tenant {self.tenant!r}: {answer}",
                              status, str(answer))
        self.app.fixtures = fixtures

    def drop(self) -> None:
        """Delete the tenant from the shared fake (a tenant already gone is fine)."""
        status, answer = call(f"{self.server_url}/_fake/tenants/{quote(self.tenant, safe='')}", "DELETE")
        if status >= 400 and status != 404:
            raise RemoteError(f"dropping tenant {self.tenant!r} at {self.server_url}: {answer}", status, str(answer))
