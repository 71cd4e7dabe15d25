"""The OCSS library meets a failing server: faults injected through the fake's control
plane (`POST /_fake/faults`), over real HTTP, surface as the exceptions the library
documents (SyncServer API Python interface, 'Exceptions'), and a request the library
retries never changes the state twice.

The fake's journal is the witness of what reached the server: one entry per request it
answered (or dropped), recorded when the answer was finished.
"""
from __future__ import annotations

import http.client
import json
import logging
import socket
import time
import urllib.request

import pytest

import ocss
from ocss.exceptions import ClientError, ConnectionError, NotAllowedError, NotFoundError, OCSSAPIError, ServerError

SYNCML = "/v2/services/syncml/"
ADMIN_PHONE = "2fb295cc-0e50-11de-81c8-002215064801"  # a SyncML client of the demo admin
NUMBER = "+4798765432"


def control(fake, method: str, path: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(fake.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)


def inject(fake, **rule):
    """Add a fault rule through the control plane; the fake's own rule object (its `hits`
    keep counting after a rule with `times` is used up and leaves the list)."""
    added = control(fake, "POST", "/_fake/faults", rule)
    [fault] = [f for f in fake.app.faults.rules() if f.id == added["id"]]
    return fault


def seen(fake, path_prefix: str = "/v2/") -> list[tuple[str, str, int]]:
    """(method, path, status) of the API requests the fake finished, oldest first."""
    return [(e.method, e.path, e.status) for e in fake.app.journal.entries() if e.path.startswith(path_prefix)]


def wait_until_answered(fake, fault, deadline: float = 15.0) -> None:
    """A delayed request goes on in the server after the client gave up: wait until every
    request the rule held back has been answered (journaled), so that nothing lands in the
    next test's world."""
    end = time.monotonic() + deadline
    while sum(1 for e in fake.app.journal.entries() if e.fault == fault.id) < fault.hits:
        if time.monotonic() > end:
            raise AssertionError(f"the fake never finished the {fault.hits} request(s) delayed by rule {fault.id}")
        time.sleep(0.02)


def clients_of(fake, user: str) -> list[dict]:
    return [c for c in control(fake, "GET", "/_fake/state")["clients"] if c["owner"] == user]


@pytest.fixture
def api_of(fake):
    """`api_of(user, **options)`: an ocss.SyncServerAPI of the session's fake (fresh world)."""
    made = []

    def make(user: str | None = "alice", secret: str | None = None, **options):
        auth = None
        if user is not None:
            auth = ocss.SyncServerAuth("demo-consumer-key", "demo-consumer-secret", f"{user}-access-token",
                                       secret or f"{user}-access-secret")
        api = ocss.SyncServerAPI(auth, base_url=fake.url, **options)
        made.append(api)
        return api
    yield make
    for api in made:
        api.close()


@pytest.fixture
def warm(api_of, fake):
    """Alice's API with its keep-alive connection open (one phones request made), and the
    journal emptied of that request."""
    api = api_of("alice")
    assert api.phones.models["242"].name == "Nokia 6233"
    fake.app.journal.clear()
    return api


def register(api):
    return api.clients.syncml.new(phone_number=NUMBER, model="242", timezone="Europe/Oslo")


# --- 5xx ---------------------------------------------------------------------------------------
def test_a_500_is_a_server_error_carrying_the_answer(warm, fake):
    inject(fake, action="status", status=500, reason="Database Gone", body="the database went away",
           method="GET", path="/v2/services/syncml/*", times=1)
    with pytest.raises(ServerError) as raised:
        len(warm.clients.syncml)
    error = raised.value
    assert (error.status, error.reason) == (500, "Database Gone")
    assert b"the database went away" in error.body
    assert seen(fake) == [("GET", SYNCML, 500)]  # a 5xx is the server's answer: not retried
    assert len(warm.clients.syncml) == 0  # the failure was not cached; the rule is used up
    assert seen(fake) == [("GET", SYNCML, 500), ("GET", SYNCML, 200)]


def test_a_503_to_a_create_is_a_server_error_and_creates_nothing(warm, fake):
    inject(fake, action="status", status=503, method="POST", path=SYNCML, times=1)
    with pytest.raises(ServerError) as raised:
        register(warm)
    assert raised.value.status == 503
    assert seen(fake) == [("POST", SYNCML, 503)]
    assert clients_of(fake, "alice") == []


# --- a dropped connection ------------------------------------------------------------------------
def test_a_get_on_a_dropped_keep_alive_connection_is_retried_once_transparently(warm, fake):
    inject(fake, action="drop", method="GET", path="/v2/services/syncml/*", times=1)
    assert len(warm.clients.syncml) == 0
    assert seen(fake) == [("GET", SYNCML, 0), ("GET", SYNCML, 200)]  # 0: dropped unanswered


def test_a_get_the_server_keeps_dropping_is_a_connection_error_after_one_retry(warm, fake):
    fault = inject(fake, action="drop", method="GET", path="/v2/services/syncml/*")
    with pytest.raises(ConnectionError) as raised:
        len(warm.clients.syncml)
    assert raised.value.status is None
    assert fault.hits == 2 and seen(fake) == [("GET", SYNCML, 0)] * 2


def test_a_dropped_post_is_a_connection_error_and_is_not_sent_again(warm, fake):
    inject(fake, action="drop", method="POST", path=SYNCML, times=1)
    with pytest.raises(ConnectionError):
        register(warm)
    assert seen(fake) == [("POST", SYNCML, 0)]
    assert clients_of(fake, "alice") == []
    phone = register(warm)  # the API object recovers: a new connection
    assert [c["uuid"] for c in clients_of(fake, "alice")] == [phone.id]


def test_a_post_applied_but_answered_by_half_is_not_applied_twice(warm, fake):
    inject(fake, action="truncate", method="POST", path=SYNCML, times=1)
    with pytest.raises(ConnectionError):
        register(warm)
    assert seen(fake) == [("POST", SYNCML, 201)]  # the server created it, the answer broke off
    assert [c["phone_number"] for c in clients_of(fake, "alice")] == [NUMBER]  # once, not twice


def test_a_dropped_delete_is_retried_and_deletes_once(api_of, fake):
    admin = api_of("admin")
    phone = admin.clients.syncml[ADMIN_PHONE]
    assert phone.phone_number == "+4790981948"  # fetched: the connection is open and idle
    fake.app.journal.clear()
    inject(fake, action="drop", method="DELETE", path=f"{SYNCML}*", times=1)
    phone.delete()
    assert seen(fake) == [("DELETE", f"{SYNCML}{ADMIN_PHONE}", 0), ("DELETE", f"{SYNCML}{ADMIN_PHONE}", 200)]
    assert ADMIN_PHONE not in [c["uuid"] for c in clients_of(fake, "admin")]


def test_a_drop_fault_logs_no_uncaptured_exception_in_the_server(caplog):
    """A dropped connection is the fault working, not the server failing: waitress logs
    nothing above INFO for it (it once logged "uncaptured python exception" for every drop,
    its write handler meeting the socket the drop had closed)."""
    from ocss_testkit.server import FakeServer

    caplog.set_level(logging.INFO, logger="waitress")
    with FakeServer(port=0) as server:
        api = ocss.SyncServerAPI(base_url=server.url, timeout=10)
        try:
            assert len(api.phones.vendors) == 6  # the keep-alive connection is open
            inject(server, action="drop", method="GET", path="/v2/phones/*", times=1)
            api.phones.vendors.refresh()
            assert len(api.phones.vendors) == 6  # dropped, then retried on a new connection
            api.close()
            inject(server, action="drop", method="GET", path="/v2/phones/*", times=1)
            api.phones.vendors.refresh()
            with pytest.raises(ConnectionError):  # a new connection dropped: not retried
                len(api.phones.vendors)
        finally:
            api.close()
        assert [e.status for e in server.app.journal.entries() if e.path.startswith("/v2/")] == [200, 0, 200, 0]
        # Every channel closed (the loop handled each drop to its end) before looking at the log.
        deadline = time.monotonic() + 15
        while server._server.active_channels:
            if time.monotonic() > deadline:
                raise AssertionError(f"channels still open: {server._server.active_channels}")
            time.sleep(0.02)
    logged = [f"{r.name} {r.levelname}: {r.getMessage()}" for r in caplog.records
              if r.name.startswith("waitress") and r.levelno > logging.INFO]
    assert logged == []


# --- answers that are not HTTP, or not Atom ------------------------------------------------------
def test_garbage_behind_a_200_is_a_server_error_carrying_the_answer_as_received(warm, fake):
    """The server answered, unusably: a ServerError (docs/ocss-library.md, "Exceptions"),
    with the status, reason and body received -- not a ConnectionError, which means no
    answer at all."""
    inject(fake, action="garbage", method="GET", path="/v2/services/syncml/*", times=1)
    with pytest.raises(ServerError) as raised:
        len(warm.clients.syncml)
    error = raised.value
    assert (error.status, error.reason, len(error.body)) == (200, "OK", 512)
    assert "not an Atom feed" in error.message
    assert seen(fake) == [("GET", SYNCML, 200)]  # random bytes, sent as a 200; not retried


def test_a_get_answered_by_half_is_a_connection_error(warm, fake):
    inject(fake, action="truncate", method="GET", path="/v2/services/syncml/*")
    with pytest.raises(ConnectionError):
        len(warm.clients.syncml)


# --- a slow server -------------------------------------------------------------------------------
def test_an_answer_later_than_the_timeout_is_a_connection_error(api_of, fake):
    api = api_of("alice", timeout=0.5)
    fault = inject(fake, action="delay", delay=2, method="GET", path="/v2/services/syncml/*")
    try:
        with pytest.raises(ConnectionError) as raised:
            len(api.clients.syncml)
        assert raised.value.status is None
    finally:
        wait_until_answered(fake, fault)
    assert fault.hits == 1  # a timeout is not a dropped connection: not retried


def test_a_create_that_timed_out_is_not_sent_again(api_of, fake):
    api = api_of("alice", timeout=0.5)
    fault = inject(fake, action="delay", delay=2, method="POST", path=SYNCML, times=1)
    try:
        with pytest.raises(ConnectionError):
            register(api)
    finally:
        wait_until_answered(fake, fault)
    # The server went on and created it after the client gave up; the client did not retry.
    assert seen(fake) == [("POST", SYNCML, 201)]
    assert len(clients_of(fake, "alice")) == 1


# --- refusals ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("status", "expected"), [
    (400, ClientError), (401, NotAllowedError), (403, NotAllowedError), (404, NotFoundError),
    (405, NotAllowedError), (409, ClientError), (413, ClientError), (500, ServerError), (502, ServerError),
    (503, ServerError),
])
def test_each_status_is_its_documented_exception(warm, fake, status, expected):
    inject(fake, action="status", status=status, method="GET", path=f"{SYNCML}*", times=1)
    with pytest.raises(OCSSAPIError) as raised:
        warm.clients.syncml[ADMIN_PHONE].phone_number
    assert type(raised.value) is expected
    assert raised.value.status == status and raised.value.reason


def test_wrong_credentials_are_not_allowed(api_of, fake):
    with pytest.raises(NotAllowedError) as raised:
        len(api_of("alice", secret="not-alices-secret").clients.syncml)
    assert raised.value.status == 401
    assert b"signature" in raised.value.body.lower()


def test_another_users_client_is_not_allowed(api_of):
    with pytest.raises(NotAllowedError) as raised:
        api_of("bob").clients.syncml[ADMIN_PHONE].phone_number
    assert raised.value.status == 403


def test_a_missing_client_is_not_found_and_a_key_error(warm):
    missing = "00000000-0000-0000-0000-000000000000"
    with pytest.raises(KeyError) as raised:
        warm.clients.syncml[missing].phone_number
    assert isinstance(raised.value, NotFoundError) and raised.value.status == 404
    assert missing not in warm.clients.syncml
    assert warm.clients.syncml.get(missing) is None


def test_a_refused_create_is_a_client_error_and_changes_nothing(warm, fake):
    with pytest.raises(ClientError) as raised:
        warm.clients.syncml.new(phone_number=NUMBER, model="no-such-model", timezone="Europe/Oslo")
    assert raised.value.status == 400
    assert seen(fake) == [("POST", SYNCML, 400)]
    assert clients_of(fake, "alice") == []


def test_an_invalid_detection_code_is_a_client_error(warm):
    with pytest.raises(ClientError) as raised:
        warm.phones.models.detect_poll("no-such-code")
    assert raised.value.status == 400


def test_the_read_only_phones_api_is_refused_without_a_request(warm, fake):
    nokia = warm.phones.vendors["1"]
    assert nokia.name == "Nokia"
    fake.app.journal.clear()
    for attempt in (nokia.delete, lambda: nokia.update(name="Nokla"), lambda: warm.phones.vendors.delete(nokia)):
        with pytest.raises(NotAllowedError) as raised:
            attempt()
        assert raised.value.status is None
    assert seen(fake) == []


def test_protected_calls_without_credentials_are_refused_without_a_request(api_of, fake):
    anonymous = api_of(None)
    with pytest.raises(NotAllowedError):
        len(anonymous.clients.syncml)
    with pytest.raises(NotAllowedError):
        anonymous.phones.models.detect_auto(NUMBER)
    assert seen(fake) == []


# --- nothing raw escapes -------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_server_that_is_not_there_is_a_connection_error():
    api = ocss.SyncServerAPI(base_url=f"http://127.0.0.1:{_free_port()}", timeout=5)
    try:
        with pytest.raises(ConnectionError) as raised:
            len(api.phones.vendors)
        assert raised.value.status is None
    finally:
        api.close()


OPERATIONS = {
    "list": lambda api: len(api.clients.syncml),
    "read": lambda api: api.clients.syncml[ADMIN_PHONE].timezone,
    "create": lambda api: api.clients.syncml.new(phone_number=NUMBER, model="242", timezone="UTC").id,
    "action": lambda api: api.clients.syncml[ADMIN_PHONE].send_setup("4711"),
    "delete": lambda api: api.clients.syncml.delete(ADMIN_PHONE),
}
FAULTS = [
    {"action": "drop"}, {"action": "truncate"}, {"action": "garbage"}, {"action": "status", "status": 500},
    {"action": "status", "status": 418}, {"action": "delay", "delay": 2.5},
]


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("rule", FAULTS, ids=lambda r: r.get("action") + str(r.get("status", "")))
def test_no_failure_leaves_the_library_as_anything_but_its_own_exceptions(api_of, fake, operation, rule):
    if rule["action"] == "delay":
        admin = api_of("admin", timeout=1.0)  # the only request it makes is the delayed one
    else:
        admin = api_of("admin")
        assert len(admin.phones.vendors) == 6  # the connection is open: its reuse (and retry) is covered
    fault = inject(fake, path="/v2/services/*", **rule)  # always: retries meet it too
    try:
        OPERATIONS[operation](admin)
    except OCSSAPIError as error:
        assert type(error).__module__ == "ocss.exceptions"
        assert not isinstance(error, (http.client.HTTPException, OSError))
    except Exception as error:  # noqa: BLE001 - the point of the test
        pytest.fail(f"{operation} under {rule} raised {type(error).__module__}.{type(error).__name__}: {error}")
    finally:
        control(fake, "DELETE", "/_fake/faults")
        if rule["action"] == "delay":
            wait_until_answered(fake, fault)
    assert fault.hits >= 1
