"""The response cache never serves a stale byte (ocss_testkit/response_cache.py).

The main test is randomized (hypothesis, derandomized: a fixed seed, no example database,
a bounded number of examples and steps). Each example starts a fake whose GETs go through
a fresh ResponseCache, and interleaves reads with every kind of change the fake knows:

- API requests: SyncML, Google Data, ActiveSync and datastore clients created and deleted,
  contents added, changed and deleted, bindings, setup SMS and server alerts, detections;
- the control plane: the clock set, advanced, frozen and unfrozen, phone answers, the
  autopilot, reset, state PUT and PATCH;
- Python: drive.Phone and drive.ClockControl, World methods called under the lock, and the
  virtual clock moved WITHOUT the lock;
- time itself: the running clock reads a fake wall clock the test moves, so that a second
  going by is a step like any other.

Every read is sent, signed once, to the cached fake and then to a twin serving the same
World whose cache never keeps anything: status, Content-Type and body must be the same,
byte for byte. The twin takes the World's lock for reading, as the cache does, so its
renders do not themselves invalidate what the cache keeps; the test checks that the cache
did serve answers (a cache that never hit would pass for the wrong reason).
"""
from __future__ import annotations

import itertools
import json
from collections import deque

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from oauthlib.oauth1 import Client as OAuthClient
from werkzeug.test import Client

from contracts.common import item_body
from ocss_testkit import controls as drive
from ocss_testkit.app import FakeApp
from ocss_testkit.response_cache import ResponseCache
from ocss_testkit.world import clock as clock_module
from tests.helpers import ATOM, OC, gdata_create, setup_body, syncml_create

EXAMPLES = 30
STEPS = 30
USERS = ("alice", "bob", "admin")
NOKIA_6233 = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"


class NeverKeeps(ResponseCache):
    """The twin's cache: takes the lock for reading like the real one, keeps nothing."""

    def _get(self, key, version, second):
        return None

    def _put(self, key, version, second, response):
        pass


class FakeTime:
    """Stands in for the `time` module of ocss_testkit.world.clock: a wall clock the test moves."""

    def __init__(self, start: float) -> None:
        self.now = start

    def time(self) -> float:
        return self.now


class Pair:
    """The cached fake and its never-keeping twin over the same World."""

    def __init__(self) -> None:
        self.app = FakeApp()
        self.cache = self.app.responses = ResponseCache()
        self.twin = FakeApp()
        self.twin.responses = NeverKeeps()
        self.client, self.twin_client = Client(self.app), Client(self.twin)
        self.numbers = itertools.count(1000)
        self.reads = 0
        self.recent: deque[tuple[str, str]] = deque(maxlen=6)  # (user, path) read last

    # --- requests ------------------------------------------------------------------------
    def _signer(self, user: str, **options) -> OAuthClient:
        world = self.app.world
        u = world.users[user]
        return OAuthClient(u.consumer_key, client_secret=world.consumers[u.consumer_key],
                           resource_owner_key=u.token, resource_owner_secret=u.token_secret, **options)

    def _headers(self, user: str | None, method: str, path: str, body: bytes, base: str = "http://localhost") -> dict:
        headers = {"Content-Type": "application/atom+xml"} if body else {}
        if user is None:
            return headers
        return dict(self._signer(user).sign(base + path, http_method=method, headers=headers)[1])

    def send(self, method: str, path: str, user: str | None = "admin", body: bytes | str = b"",
             content_type: str | None = None):
        body = body.encode("utf-8") if isinstance(body, str) else body
        headers = self._headers(user, method, path, body)
        if content_type:
            headers["Content-Type"] = content_type
        return self.client.open(path, method=method, data=body, headers=headers)

    def control(self, method: str, path: str, data=None):
        body = json.dumps(data).encode() if data is not None else b""
        return self.send(method, path, None, body, "application/json")

    def read(self, user: str, path: str) -> None:
        """GET `path` as `user` from the cached fake, then from the twin: the same answer."""
        headers = self._headers(user, "GET", path, b"")
        cached = self.client.get(path, headers=headers)
        self.twin.world = self.app.world  # a reset or a state PUT swapped it
        fresh = self.twin_client.get(path, headers=headers)  # the nonce is the twin's first sight of it
        self.reads += 1
        assert (cached.status, cached.headers.get("Content-Type"), cached.get_data()) == \
               (fresh.status, fresh.headers.get("Content-Type"), fresh.get_data()), f"GET {path} as {user}"

    # --- what the World holds, read without moving its version ------------------------------
    def clients(self, user: str, kind: str | None = None) -> list:
        world = self.app.world
        with world.lock.reading():
            return [c for c in world.clients.values() if c.owner == user and (kind is None or c.kind == kind)]

    def numbers_with_mail(self) -> list[str]:
        world = self.app.world
        with world.lock.reading():
            return sorted({m.to for m in world.outbox})

    def detection_codes(self) -> list[tuple[str, str]]:
        world = self.app.world
        with world.lock.reading():
            return [(d.owner, code) for code, d in dict.items(world.detection.detections)]


# --- the steps -------------------------------------------------------------------------------
def read_step(pair: Pair, draw) -> None:
    """Read one path more, and again the last few paths read: what the cache holds is what
    a change could have made stale."""
    user = draw(st.sampled_from(USERS))
    paths = ["/v2/services/syncml/", "/v2/services/google/", "/v2/clients/", "/v2/clients/bindings/",
             "/v2/services/activesync/", "/v2/services/datastore/", "/v2/services/syncml/sessions/",
             "/v2/services/syncml/sessions/chatlog/", "/v2/services/syncml/sessions/1/",
             "/v2/services/google/00000000-0000-0000-0000-000000000000/"]
    for client in pair.clients(user):
        kind_path = {"syncml": "syncml", "gdata": "google", "activesync": "activesync", "datastore": "datastore"}
        paths += [f"/v2/clients/{client.uuid}/", f"/v2/services/{kind_path[client.kind]}/{client.uuid}/"]
        if client.kind == "datastore":
            contents = f"/v2/services/datastore/{client.uuid}/contents/"
            paths += [contents, contents + "?dataclass=Notes", contents + "?since=2009-11-01T12:00:00Z"]
            paths += [f"{contents}{item_id}/" for item_id in list(client.contents.items)[:2]]
    paths += [f"/v2/phones/detect/manual/{code}/" for owner, code in pair.detection_codes() if owner == user]
    new = (user, draw(st.sampled_from(paths)))
    if new in pair.recent:
        pair.recent.remove(new)
    pair.recent.append(new)
    for user, path in pair.recent:
        pair.read(user, path)


def api_step(pair: Pair, draw) -> None:
    user = draw(st.sampled_from(USERS))
    action = draw(st.sampled_from(["syncml", "gdata", "activesync", "datastore", "delete", "content",
                                   "change content", "binding", "setup", "sync", "detect"]))
    if action == "syncml":
        pair.send("POST", "/v2/services/syncml/", user, syncml_create(f"+4791{next(pair.numbers):06d}"))
    elif action == "gdata":
        pair.send("POST", "/v2/services/google/", user, gdata_create(f"user{next(pair.numbers)}@gmail.com"))
    elif action == "activesync":
        pair.send("POST", "/v2/services/activesync/", user,
                  f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client><oc:username>u{next(pair.numbers)}'
                  "</oc:username><oc:password>pw</oc:password></oc:client></entry>")
    elif action == "datastore":
        pair.send("POST", "/v2/services/datastore/", user,
                  f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client><oc:name>book {next(pair.numbers)}'
                  "</oc:name></oc:client></entry>")
    elif action == "delete" and pair.clients(user):
        client = draw(st.sampled_from(pair.clients(user)))
        path = {"syncml": "syncml", "gdata": "google", "activesync": "activesync", "datastore": "datastore"}
        pair.send("DELETE", f"/v2/services/{path[client.kind]}/{client.uuid}/", user)
    elif action in ("content", "change content") and pair.clients(user, "datastore"):
        store = draw(st.sampled_from(pair.clients(user, "datastore")))
        contents = f"/v2/services/datastore/{store.uuid}/contents/"
        items = list(store.contents.items)
        if action == "content" or not items:
            pair.send("POST", contents, user, item_body(f"note {next(pair.numbers)}", "text/plain", "t", "Notes"))
        elif draw(st.booleans()):
            pair.send("PUT", f"{contents}{draw(st.sampled_from(items))}/", user, item_body("changed", "text/plain"))
        else:
            pair.send("DELETE", f"{contents}{draw(st.sampled_from(items))}/", user)
    elif action == "binding" and len(pair.clients(user)) >= 2:
        source, target = pair.clients(user)[:2]
        pair.send("POST", "/v2/clients/bindings/", user,
                  f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:binding><oc:source>{source.uuid}</oc:source>'
                  f"<oc:target>{target.uuid}</oc:target></oc:binding></entry>")
    elif action in ("setup", "sync") and pair.clients(user, "syncml"):
        client = draw(st.sampled_from(pair.clients(user, "syncml")))
        body = setup_body() if action == "setup" else b""
        pair.send("POST", f"/v2/services/syncml/{client.uuid}/{action}/", user, body)
    elif action == "detect":
        pair.send("POST", "/v2/phones/detect/manual/", user,
                  f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>+4792{next(pair.numbers):06d}'
                  "</oc:phone_number></entry>")


def control_step(pair: Pair, draw) -> None:
    action = draw(st.sampled_from(["advance", "set", "freeze", "unfreeze", "answer", "autopilot", "reset",
                                   "put state", "patch state"]))
    numbers = pair.numbers_with_mail()
    if action == "advance":
        pair.control("POST", "/_fake/clock", {"advance": draw(st.sampled_from([1, 59, 600, 3600]))})
    elif action == "set":
        pair.control("POST", "/_fake/clock", {"set": draw(st.sampled_from(["2009-11-01T12:00:00Z",
                                                                             "2030-01-01T00:00:00Z"]))})
    elif action in ("freeze", "unfreeze"):
        pair.control("POST", "/_fake/clock", {"freeze": action == "freeze"})
    elif action == "answer" and numbers:
        verb = draw(st.sampled_from(["accept-setup", "accept-sync", "reject-sync", "visit"]))
        data = {"user_agent": NOKIA_6233} if verb == "visit" else {}
        pair.control("POST", f"/_fake/phone/{draw(st.sampled_from(numbers))}/{verb}", data)
    elif action == "autopilot" and numbers:
        pair.control("PUT", f"/_fake/phone/{draw(st.sampled_from(numbers))}/autopilot",
                     {"setup": "accept", "setup_after": draw(st.sampled_from([0.5, 30])), "sync": "accept",
                      "sync_after": draw(st.sampled_from([0.5, 60])), "user_agent": NOKIA_6233, "visit_after": 5})
    elif action == "reset":
        pair.control("POST", "/_fake/reset")
    elif action == "put state":
        world = pair.app.world
        with world.lock.reading():
            state = world.to_dict()
        for doc in state.get("clients", []):
            if isinstance(doc, dict) and "name" in doc:
                doc["name"] = f"renamed {next(pair.numbers)}"
        assert pair.control("PUT", "/_fake/state", state).status_code == 200
    elif action == "patch state":
        pair.control("PATCH", "/_fake/state", [{"op": "replace", "path": "/settings/detection_code_lifetime",
                                                "value": draw(st.sampled_from([60, 3600]))}])


def python_step(pair: Pair, draw, wall: FakeTime) -> None:
    action = draw(st.sampled_from(["drive phone", "drive clock", "world", "unlocked clock", "time passes"]))
    numbers = pair.numbers_with_mail()
    if action == "drive phone" and numbers:
        phone = drive.Phone(pair.app, draw(st.sampled_from(numbers)))
        try:
            draw(st.sampled_from([phone.accept_setup, phone.accept_sync, lambda: phone.visit(NOKIA_6233)]))()
        except Exception:  # noqa: BLE001 - no such message: the phone had nothing to answer
            pass
    elif action == "drive clock":
        drive.ClockControl(pair.app).advance(draw(st.sampled_from([1, 30, 600])))
    elif action == "world":
        world = pair.app.world
        user = world.users[draw(st.sampled_from(USERS))]
        with world.lock:
            stores = [c for c in world.clients.values() if c.owner == user.name and c.kind == "datastore"]
            if stores and draw(st.booleans()):
                world.datastore.update_client(user, stores[0].uuid, f"renamed {next(pair.numbers)}")
            else:
                world.activesync.create_client(user, f"py{next(pair.numbers)}", "pw")
    elif action == "unlocked clock":
        pair.app.world.clock.advance(draw(st.sampled_from([1, 3600])))  # no lock: the key's second sees it
    elif action == "time passes":
        wall.now += draw(st.sampled_from([0.4, 1, 61]))


def test_no_stale_answer_under_interleaved_changes(monkeypatch):
    wall = FakeTime(1_700_000_000.0)
    monkeypatch.setattr(clock_module, "time", wall)  # the virtual clock runs on the test's wall clock
    totals = {"hits": 0, "reads": 0}

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, print_blob=False,
              phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded in time
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.data())
    def run(data):
        wall.now = 1_700_000_000.0  # each example as the first: hypothesis may run one twice
        pair = Pair()
        draw = data.draw
        for _ in range(STEPS):
            kind = draw(st.sampled_from(["read", "read", "read", "api", "control", "python"]))
            if kind == "read":
                read_step(pair, draw)
            elif kind == "api":
                api_step(pair, draw)
            elif kind == "control":
                control_step(pair, draw)
            else:
                python_step(pair, draw, wall)
        totals["hits"] += pair.cache.hits
        totals["reads"] += pair.reads

    run()
    # Served from the cache often enough that the comparisons above tested it.
    assert totals["hits"] >= totals["reads"] // 10 > 0, totals


# --- deterministic cases -----------------------------------------------------------------------
@pytest.fixture
def wall(monkeypatch) -> FakeTime:
    """The virtual clock runs on a wall clock that stands still unless the test moves it:
    the cached read and the twin's read of one step see the same second."""
    wall = FakeTime(1_700_000_000.0)
    monkeypatch.setattr(clock_module, "time", wall)
    return wall


@pytest.fixture
def pair(wall):
    return Pair()


def test_a_repeated_get_is_served_from_the_cache_until_a_write(pair):
    pair.read("alice", "/v2/services/syncml/")
    pair.read("alice", "/v2/services/syncml/")
    pair.read("alice", "/v2/services/syncml/")
    assert (pair.cache.hits, pair.cache.misses) == (2, 1)
    pair.send("POST", "/v2/services/syncml/", "alice", syncml_create("+4790000001"))
    pair.read("alice", "/v2/services/syncml/")  # the new client shows: rendered again
    assert (pair.cache.hits, pair.cache.misses) == (2, 2)


def test_each_user_base_url_and_query_has_its_own_answer(pair):
    for user in USERS:
        pair.read(user, "/v2/clients/")
    assert pair.cache.hits == 0
    for user in USERS:
        pair.read(user, "/v2/clients/")
    assert pair.cache.hits == 3
    base = "http://other.example:81"
    other = pair.client.get("/v2/clients/", headers=pair._headers("alice", "GET", "/v2/clients/", b"", base),
                            base_url=base)
    assert other.status_code == 200 and b"<id>http://other.example:81/v2/clients/</id>" in other.get_data()
    assert pair.cache.hits == 3
    pair.send("POST", "/v2/services/datastore/", "alice",
              f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client><oc:name>book</oc:name></oc:client></entry>')
    (store,) = pair.clients("alice", "datastore")
    contents = f"/v2/services/datastore/{store.uuid}/contents/"
    pair.send("POST", contents, "alice", item_body("buy milk", "text/plain", "todo", "Notes"))
    pair.send("POST", contents, "alice", item_body("BEGIN:VCARD", "text/x-vcard", "Ann", "Contacts"))
    pair.read("alice", contents)
    pair.read("alice", contents + "?dataclass=Notes")
    assert pair.cache.hits == 3
    pair.read("alice", contents + "?dataclass=Notes")
    assert pair.cache.hits == 4


def test_oauth_parameters_in_the_query_do_not_split_the_cache(pair):
    """Signed in the query (RFC 5849 §3.5.3) every request has a query of its own; the
    handler reads none of it, so the answer is kept under the query without them."""
    from oauthlib.oauth1 import SIGNATURE_TYPE_QUERY

    path = "/v2/services/syncml/?"  # an empty query of its own, then the OAuth parameters
    bodies = []
    for _ in range(3):
        uri = pair._signer("alice", signature_type=SIGNATURE_TYPE_QUERY).sign("http://localhost" + path[:-1])[0]
        reply = pair.client.get(uri[len("http://localhost"):])
        assert reply.status_code == 200
        bodies.append(reply.get_data())
    assert pair.cache.hits == 2 and bodies[0] == bodies[1] == bodies[2]


def test_an_answer_of_a_past_second_is_not_served(pair, wall):
    """An empty feed's `updated` is the clock's time: a running clock must not serve the
    answer of the second before, nor a clock moved without the World's lock."""
    path = "/v2/services/activesync/"  # bob has no ActiveSync client: `updated` is now
    pair.read("bob", path)
    wall.now += 1
    pair.read("bob", path)
    pair.app.world.clock.advance(3600)  # no lock taken
    pair.read("bob", path)
    assert pair.cache.hits == 0
    pair.read("bob", path)
    assert pair.cache.hits == 1


def test_a_detection_expires_on_the_clock_through_the_cache(pair):
    pair.control("POST", "/_fake/clock", {"freeze": True, "set": "2009-11-01T12:00:00Z"})
    created = pair.send("POST", "/v2/phones/detect/manual/", "alice",
                        f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>+4790000002'
                        "</oc:phone_number></entry>")
    assert created.status_code == 201
    (owner, code), = pair.detection_codes()
    poll = f"/v2/phones/detect/manual/{code}/"
    pair.read("alice", poll)
    pair.read("alice", poll)
    assert pair.cache.hits == 1
    with pair.app.world.lock.reading():
        lifetime = pair.app.world.settings["detection_code_lifetime"]
    pair.app.world.clock.advance(lifetime)  # without the lock: the code has expired
    expired = pair.client.get(poll, headers=pair._headers("alice", "GET", poll, b""))
    assert expired.status_code == 400
    pair.read("alice", poll)


def test_reset_and_state_put_make_a_new_world(pair):
    pair.read("alice", "/v2/services/syncml/")
    pair.send("POST", "/v2/services/syncml/", "alice", syncml_create("+4790000003"))
    pair.read("alice", "/v2/services/syncml/")
    before = pair.cache.hits
    serial = pair.app.world.lock.serial
    pair.control("POST", "/_fake/reset")
    assert pair.app.world.lock.serial != serial
    pair.read("alice", "/v2/services/syncml/")  # the client made before the reset is gone
    assert pair.cache.hits == before
    with pair.app.world.lock.reading():
        state = pair.app.world.to_dict()
    pair.control("PUT", "/_fake/state", state)
    pair.read("alice", "/v2/services/syncml/")
    assert pair.cache.hits == before


def test_phone_actions_falling_due_before_a_get_show_in_it(pair, wall):
    """The autopilot accepts the server alert half a second after it was sent, within the
    same clock second, and the phone syncs: a session. The sessions feed read before that
    is kept; the GET of another path that comes after runs the phone's answer first, and
    the kept feed must not be served again."""
    wall.now = 1_700_000_000.2
    pair.send("POST", "/v2/services/syncml/", "alice", syncml_create("+4790000004"))
    (client,) = [c for c in pair.clients("alice", "syncml") if c.phone_number == "+4790000004"]
    pair.control("PUT", "/_fake/phone/+4790000004/autopilot",
                 {"setup": "accept", "setup_after": 0, "sync": "accept", "sync_after": 0.5})
    pair.send("POST", f"/v2/services/syncml/{client.uuid}/setup/", "alice", setup_body())
    pair.send("POST", f"/v2/services/syncml/{client.uuid}/sync/", "alice")  # the setup is installed first
    sessions = "/v2/services/syncml/sessions/"
    pair.read("alice", sessions)
    pair.read("alice", sessions)
    hits = pair.cache.hits
    assert hits == 1
    wall.now += 0.6  # the same second: only the phone's answer tells the answers apart
    pair.read("alice", "/v2/services/google/")  # runs the phone's answer, due by now
    pair.read("alice", sessions)
    assert pair.cache.hits == hits
    reply = pair.client.get(sessions, headers=pair._headers("alice", "GET", sessions, b""))
    assert b"<outcome>ok</outcome>" in reply.get_data()


def test_the_cache_is_bounded_in_entries_and_bytes(wall):
    cache = ResponseCache(max_entries=4, max_bytes=64 * 1024, max_body=16 * 1024)
    pair = Pair()
    pair.app.responses = pair.cache = cache
    for n in range(6):
        pair.send("POST", "/v2/services/datastore/", "alice",
                  f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client><oc:name>book {n}</oc:name></oc:client></entry>')
    stores = pair.clients("alice", "datastore")
    for store in stores:
        pair.read("alice", f"/v2/services/datastore/{store.uuid}/")
        assert cache.stats()["entries"] <= 4
    # A body over max_body is rendered, and not kept.
    big = stores[0]
    contents = f"/v2/services/datastore/{big.uuid}/contents/"
    pair.send("POST", contents, "alice", item_body("x" * 20_000, "text/plain", "big", "Notes"))
    pair.read("alice", contents)
    pair.read("alice", contents)
    stats = cache.stats()
    assert stats["entries"] <= 4 and stats["bytes"] <= 64 * 1024
    assert all(key[4] != contents for key in cache._items)
    # Bytes: a small budget holds fewer answers than its entry bound allows.
    small = ResponseCache(max_entries=100, max_bytes=4 * 1024)
    pair.app.responses = pair.cache = small
    for store in stores:
        pair.read("alice", f"/v2/services/datastore/{store.uuid}/")
    assert 0 < small.stats()["entries"] < len(stores) and small.stats()["bytes"] <= 4 * 1024


def test_head_and_errors_are_not_kept(pair):
    path = "/v2/services/syncml/00000000-0000-0000-0000-000000000000"
    pair.read("alice", path)
    pair.read("alice", path)
    head = pair.client.head("/v2/services/syncml/", headers=pair._headers("alice", "HEAD", "/v2/services/syncml/",
                                                                          b""))
    assert head.status_code == 200
    assert pair.cache.stats()["entries"] == 0
