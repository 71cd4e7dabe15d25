"""The state file as a log (persistence.py), in-process: every save appends only what
changed, the file always reads back as exactly the World it follows, a torn last line is
ignored, a compaction keeps it small, and accepted OAuth nonces go with it."""
from __future__ import annotations

import json
import os
import random
import time
from datetime import datetime, timedelta, timezone

import pytest
from oauthlib.oauth1 import Client as OAuthClient
from werkzeug.test import Client as WSGIClient

from ocss_testkit import make_app, persistence
from ocss_testkit.auth import NonceStore
from ocss_testkit.client import Credentials, SignedClient
from ocss_testkit.controls import ClockControl
from ocss_testkit.persistence import FORMAT, StateFile, StateFileError, parse, read_state
from ocss_testkit.services.gdata.state import GDataDatastore, Token

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
NOKIA_6233 = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"
T0 = datetime(2009, 11, 1, 12, 30, tzinfo=timezone.utc)


def entry(inner: str) -> str:
    return f'<entry xmlns="{ATOM}" xmlns:oc="{OC}">{inner}</entry>'


def syncml(phone: str) -> str:
    return entry(f"<oc:client><oc:phone_number>{phone}</oc:phone_number><oc:model_uuid>242</oc:model_uuid>"
                 "</oc:client>")


def uuid_of(reply) -> str:
    from lxml import etree
    return etree.fromstring(reply.body).findtext(f"{{{OC}}}client/{{{OC}}}uuid")


def lines(path) -> list[bytes]:
    return [line for line in path.read_bytes().split(b"\n") if line]


@pytest.fixture
def logged(tmp_path):
    """(app, state file, path): an app whose every change goes to a state file."""
    app = make_app(outbox_limit=6)  # small, so evictions happen within a short test
    path = tmp_path / "state.json"
    state = StateFile(path).install(app)
    yield app, state, path
    state.close()


def same(app, path) -> None:
    assert read_state(path) == app.world.to_dict()


# --- the file follows the World exactly ------------------------------------------------------
def test_every_kind_of_change_through_the_api_reads_back_exactly(logged):
    app, state, path = logged
    admin, alice = SignedClient(app, Credentials.of(app, "admin")), SignedClient(app, Credentials.of(app, "alice"))
    control = WSGIClient(app)
    ClockControl(app).freeze(T0)
    app.on_change(app.world)
    steps = []

    def step(reply, status=None):
        code = reply.status_code if hasattr(reply, "status_code") else reply.status
        assert code == (status or code) and code < 400, \
            reply.get_data(as_text=True) if hasattr(reply, "get_data") else reply.text
        same(app, path)
        steps.append(code)
        return reply

    phone = uuid_of(step(alice.post("/v2/services/syncml/", syncml("+4798765432")), 201))
    step(alice.post(f"/v2/services/syncml/{phone}/setup/", entry("<oc:pincode>1234</oc:pincode>")), 201)
    step(control.post("/_fake/phone/+4798765432/accept-setup", json={}), 200)
    step(alice.post(f"/v2/services/syncml/{phone}/sync/", entry("")), None)
    step(control.post("/_fake/phone/+4798765432/accept-sync", json={}), 200)
    gdata = entry("<oc:client><oc:user_id>alice@gmail.com</oc:user_id><oc:datastore dataclass=\"Calendar\" "
                  "href=\"http://www.google.com/calendar/feeds/alice/private/full\" name=\"Work\"><oc:token>"
                  "<oc:token_type>2</oc:token_type><oc:key>k</oc:key><oc:secret>s</oc:secret>"
                  "<oc:scope>http://www.google.com/calendar/feeds/</oc:scope></oc:token></oc:datastore>"
                  "</oc:client>")
    step(alice.post("/v2/services/google/", gdata), None)
    sync = uuid_of(step(alice.post("/v2/services/activesync/", entry(
        "<oc:client><oc:username>ann</oc:username><oc:password>pw</oc:password></oc:client>")), 201))
    step(alice.put(f"/v2/services/activesync/{sync}/", entry(
        "<oc:client><oc:username>anne</oc:username></oc:client>")), 200)
    store = uuid_of(step(alice.post("/v2/services/datastore/", entry(
        "<oc:client><oc:name>Book</oc:name></oc:client>")), 201))
    step(alice.put(f"/v2/services/datastore/{store}/", entry("<oc:client><oc:name>Address book</oc:name>"
                                                             "</oc:client>")), 200)
    item = step(alice.post(f"/v2/services/datastore/{store}/contents/",
                           f'<entry xmlns="{ATOM}"><title>Ann</title><content type="text/plain">x</content>'
                           "</entry>"), 201).headers["Location"].rstrip("/").rsplit("/", 1)[1]
    step(alice.put(f"/v2/services/datastore/{store}/contents/{item}/",
                   f'<entry xmlns="{ATOM}"><title>Ann B</title><content type="text/plain">y</content></entry>'), 200)
    step(alice.delete(f"/v2/services/datastore/{store}/contents/{item}/"), 200)
    binding = step(alice.post("/v2/clients/bindings/", entry(
        f"<oc:binding><oc:source>{sync}</oc:source><oc:target>{store}</oc:target></oc:binding>")), 201)
    binding_id = binding.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    step(alice.put(f"/v2/clients/bindings/{binding_id}/", entry(
        f"<oc:binding><oc:source>{store}</oc:source><oc:target>{sync}</oc:target>"
        "<oc:dominant>target</oc:dominant></oc:binding>")), 200)
    step(alice.delete(f"/v2/services/activesync/{sync}/"), 200)  # takes its binding with it
    for n in range(8):  # more messages than the outbox holds: evictions
        step(alice.post("/v2/phones/detect/manual/", entry(
            f"<oc:phone_number>+47987654{n:02d}</oc:phone_number>")), 201)
    step(control.post("/_fake/phone/+4798765407/visit", json={"user_agent": NOKIA_6233}), 200)
    step(control.put("/_fake/phone/+4798765499/autopilot", json={"setup": "accept", "setup_after": 30}), 200)
    step(control.put("/_fake/phone/*/autopilot", json={"setup": "reject", "setup_after": 10}), 200)
    step(alice.post(f"/v2/services/syncml/{phone}/setup/", entry("<oc:pincode>9999</oc:pincode>")), 201)
    step(control.post("/_fake/clock", json={"advance": 3601}), 200)  # runs the autopilot, expires codes
    step(alice.post("/v2/phones/detect/manual/", entry("<oc:phone_number>+4798765500</oc:phone_number>")), 201)
    step(control.delete("/_fake/phone/*/autopilot"), 200)
    step(alice.delete(f"/v2/services/syncml/{phone}"), 200)
    step(control.patch("/_fake/state", data=json.dumps([{"op": "replace", "path": "/settings",
                                                          "value": {"detection_code_lifetime": 60}}]),
                       content_type="application/json-patch+json"), 200)
    step(admin.post("/v2/services/syncml/", syncml("+4711111111")), 201)
    step(control.put("/_fake/state", data=json.dumps(app.world.to_dict()), content_type="application/json"), 200)
    step(control.post("/_fake/reset"), 200)
    step(admin.post("/v2/services/syncml/", syncml("+4722222222")), 201)
    assert len(steps) > 30 and state.snapshots >= 4  # the load, then PATCH, PUT and reset
    assert len(lines(path)) > 1  # and the last change was appended, not a snapshot


def test_a_seeded_random_workload_reads_back_exactly_after_every_save(logged):
    app, state, path = logged
    rng = random.Random(20091101)
    world = app.world
    ClockControl(app).freeze(T0)
    world.tokens.issued_token_limit, world.tokens.request_token_limit, world.detection.detection_limit = 3, 4, 5
    users = [world.users[n] for n in ("alice", "bob", "admin")]

    def clients(kind):
        return [c for c in world.clients.values() if c.kind == kind]

    def op():
        user = rng.choice(users)
        choice = rng.randrange(14)
        number = f"+47{rng.randrange(10):08d}"
        if choice == 0:
            world.syncml.create_client(user, number, "242")
        elif choice == 1 and clients("syncml"):
            c = rng.choice(clients("syncml"))
            world.syncml.send_setup(world.users[c.owner], c.uuid, "1234")
        elif choice == 2 and clients("syncml"):
            c = rng.choice(clients("syncml"))
            world.syncml.request_sync(world.users[c.owner], c.uuid)
            world.simulated_phones.answer_setup(c.phone_number) if rng.random() < 0.5 else None
        elif choice == 3:
            world.detection.detect_manual(user, number, "http://x/d/{code}")
        elif choice == 4:
            world.simulated_phones.visit(number, NOKIA_6233)
        elif choice == 5:
            store = world.datastore.create_client(user, f"store {rng.random()}")
            world.datastore.add_content(user, store.uuid, "x", "text/plain", None, "X")
        elif choice == 6 and clients("datastore"):
            c = rng.choice(clients("datastore"))
            owner = world.users[c.owner]
            if c.contents.items and rng.random() < 0.5:
                world.datastore.delete_content(owner, c.uuid, rng.choice(list(c.contents.items)))
            else:
                world.datastore.add_content(owner, c.uuid, "y", "text/plain", "notes", "Y")
        elif choice == 7 and len(clients("datastore")) > 1:
            a, b = rng.sample(clients("datastore"), 2)
            if a.owner == b.owner:
                world.bindings.create(world.users[a.owner], a.uuid, b.uuid)
        elif choice == 8 and world.clients:
            c = rng.choice(list(world.clients.values()))
            world.clients.remove(c)
        elif choice == 9:
            rt = world.tokens.issue_request_token("demo-consumer-key", "oob")
            if rng.random() < 0.7:
                world.tokens.approve_request_token(rt.token, user.name)
                if rng.random() < 0.7:
                    world.tokens.exchange_request_token(rt.token)
        elif choice == 10:
            world.simulated_phones.set_autopilot(number, {"setup": "accept", "setup_after": rng.randrange(60)}
                                if rng.random() < 0.7 else None)
        elif choice == 11:
            world.clock.advance(rng.choice([1, 30, 700, 4000]))
            world.simulated_phones.run_due()
        elif choice == 12:
            world.gdata.create_client(user, f"u{rng.random()}@gmail.com", [GDataDatastore(
                "Calendar", "http://www.google.com/calendar/feeds/x/private/full", "Work",
                Token(2, "k", "s", ["http://www.google.com/calendar/feeds/"], "token_type"))])
        elif choice == 13 and clients("gdata"):
            c = rng.choice(clients("gdata"))
            world.gdata.update_client(world.users[c.owner], c.uuid, None, [GDataDatastore(
                "Contacts", "http://www.google.com/m8/feeds/contacts/x/full", "Friends", None)])

    from ocss_testkit.world.errors import DomainError
    for _ in range(400):
        with world.lock:
            try:
                op()
            except DomainError:
                pass  # refused: still a save, which must then write nothing wrong
            app.on_change(world)
        same(app, path)
    assert state.snapshots == 1  # all of it appended, after the first snapshot
    document = world.to_dict()
    assert len(document["outbox"]) <= 6 and len(document["setups"]) <= 6  # bounded, and followed
    assert len(document["issued_tokens"]) <= 3 and len(document["request_tokens"]) <= 4
    assert len(document["detections"]) <= 5


# --- what a save costs ----------------------------------------------------------------------------
def test_a_save_appends_what_changed_whatever_the_size_of_the_state(tmp_path):
    """The proxy, without timing, for "a write costs the same with 10 and 10,000 clients":
    one small change appends the same bytes whatever else the state holds."""
    appended = {}
    for clients in (10, 2000):
        app = make_app()
        world = app.world
        with world.lock:
            for n in range(clients):
                world.syncml.create_client(world.users["admin"], f"+47{n:08d}", "242")
        with StateFile(tmp_path / f"state-{clients}.json") as state:
            state.install(app)
            size = state._size
            with world.lock:
                world.activesync.create_client(world.users["bob"], "ann", "secret")
                app.on_change(world)
            appended[clients] = state._size - size
            assert state.snapshots == 1
    # uuids and timestamps are the same length in both: only the change's own bytes count
    assert appended[10] == appended[2000] < 400, appended


def test_a_compaction_keeps_the_file_proportional_to_the_state(logged, monkeypatch):
    app, state, path = logged
    monkeypatch.setattr(persistence, "COMPACT_MIN_BYTES", 4096)
    api = SignedClient(app, Credentials.of(app, "admin"))
    reply = api.post("/v2/services/datastore/", entry("<oc:client><oc:name>Book</oc:name></oc:client>"))
    store = uuid_of(reply)
    first = f'<entry xmlns="{ATOM}"><title>n</title><content type="text/plain">n</content></entry>'
    reply = api.post(f"/v2/services/datastore/{store}/contents/", first)
    assert reply.status == 201
    item = reply.headers["Location"].split("localhost", 1)[1]
    sizes = []
    for n in range(150):  # the same item rewritten: the state stays small, the log would not
        body = f'<entry xmlns="{ATOM}"><title>n{n}</title><content type="text/plain">{n}</content></entry>'
        assert api.put(item, body).status == 200
        sizes.append(path.stat().st_size)
    assert state.snapshots > 2
    snapshot = len(lines(path)[0])
    assert max(sizes) <= 2 * max(4096, 2 * snapshot) + 4096, (max(sizes), snapshot)
    same(app, path)
    assert os.listdir(path.parent) == ["state.json"]


# --- reading it back ------------------------------------------------------------------------------
def test_a_torn_last_line_is_ignored_and_the_file_rewritten(logged, tmp_path):
    app, state, path = logged
    api = SignedClient(app, Credentials.of(app, "admin"))
    assert api.post("/v2/services/syncml/", syncml("+4711111111")).status == 201
    expected = app.world.to_dict()
    state.close()
    with open(path, "ab") as out:  # a save cut short by a kill: half a line, never acknowledged
        out.write(b'{"set":{"clients":[["0000","kind":"sync')
    assert read_state(path) == expected
    again = make_app()
    with StateFile(path) as second:
        assert second.load(again) is True
        assert again.world.to_dict() == expected
        assert len(lines(path)) == 1 and json.loads(lines(path)[0])[FORMAT] == 1  # one fresh snapshot


def test_a_damaged_line_before_the_last_is_refused_and_left_untouched(logged):
    app, state, path = logged
    api = SignedClient(app, Credentials.of(app, "admin"))
    for phone in ("+4711111111", "+4722222222"):
        assert api.post("/v2/services/syncml/", syncml(phone)).status == 201
    state.close()
    damaged = path.read_bytes().split(b"\n")
    damaged[1] = damaged[1][:20]  # a line in the middle, not the last one
    path.write_bytes(b"\n".join(damaged))
    before = path.read_bytes()
    with pytest.raises(StateFileError, match="line 2 is not a JSON record") as caught:
        StateFile(path).load(make_app())
    assert str(path) in str(caught.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize("content, message", [
    (b'{"ocss-state-log": 2, "state": {}}\n', "log format 2"),
    (b'{"ocss-state-log": 1, "state": []}\n', "line 1 is not a snapshot"),
    (b'{"ocss-state-log": 1, "state": {}}\n["not a record"]\n{}\n', "line 2 is not a record"),
    (b'{"ocss-state-log": 1, "state": {}}\n{"set": {"nope": [["k", 1]]}}\n{}\n', "line 2 is not a record"),
])
def test_lines_this_toolkit_did_not_write_are_refused(tmp_path, content, message):
    path = tmp_path / "state.json"
    path.write_bytes(content)
    with pytest.raises(StateFileError, match=message):
        StateFile(path).load(make_app())
    assert path.read_bytes() == content


# --- nonces ------------------------------------------------------------------------------------
def test_accepted_nonces_are_in_the_file_and_come_back_at_load(logged):
    app, state, path = logged
    api = SignedClient(app, Credentials.of(app, "alice"))
    assert api.get("/v2/services/syncml/").status == 200  # a read: its nonce too
    assert api.post("/v2/services/syncml/", syncml("+4711111111")).status == 201
    _, nonces = parse(path.read_bytes())
    assert len(nonces) == 2 and sorted(map(tuple, nonces)) == sorted(map(tuple, app.auth.nonces.snapshot()))
    state.close()
    again = make_app()
    with StateFile(path) as second:
        second.load(again)
        assert sorted(map(tuple, again.auth.nonces.snapshot())) == sorted(map(tuple, nonces))
        _, kept = parse(path.read_bytes())  # the fresh snapshot carries them on
        assert sorted(map(tuple, kept)) == sorted(map(tuple, nonces))


def test_a_request_signed_before_a_restart_is_refused_after_it_in_process(logged):
    app, state, path = logged
    c = Credentials.of(app, "admin")
    signer = OAuthClient(c.consumer_key, client_secret=c.consumer_secret, resource_owner_key=c.token,
                         resource_owner_secret=c.token_secret)
    body = syncml("+4711111111").encode()
    _, headers, _ = signer.sign("http://localhost/v2/services/syncml/", http_method="POST",
                                headers={"Content-Type": "application/atom+xml"})
    first = WSGIClient(app).post("/v2/services/syncml/", data=body, headers=headers)
    assert first.status_code == 201
    state.close()
    again = make_app()
    with StateFile(path) as second:
        second.install(again)
        replay = WSGIClient(again).post("/v2/services/syncml/", data=body, headers=headers)
        assert replay.status_code == 401 and "nonce already used" in replay.get_data(as_text=True)
        assert again.world.to_dict() == app.world.to_dict()


def test_the_nonce_store_keeps_only_what_the_timestamp_window_could_still_accept():
    store = NonceStore(lifetime=600)
    now = int(time.time())
    seen = []
    store.listener = seen.append
    fresh, old, future = (("ck", "tok", "n1", str(now)), ("ck", "tok", "n2", str(now - 601)),
                          ("ck", None, "n3", str(now + 300)))
    for key in (fresh, old, future):
        assert store.add(key) is True
    assert store.add(fresh) is False
    persisted = [NonceStore.persisted(key) for key in (fresh, old, future)]  # [digest, timestamp]
    assert seen == persisted  # each new key once, a replay not at all
    assert store.snapshot() == [persisted[0], persisted[2]]
    other = NonceStore(lifetime=600)
    other.listener = seen.append
    assert other.restore([list(fresh), list(old), list(future), ["too", "short"]]) == 2
    assert fresh in other and future in other and old not in other
    assert len(seen) == 3  # restoring tells no listener


def test_reads_write_no_state_only_their_nonce(logged):
    app, state, path = logged
    api = SignedClient(app, Credentials.of(app, "alice"))
    saves, size = state.saves, path.stat().st_size
    for _ in range(5):
        assert api.get("/v2/services/syncml/").status == 200
    assert state.saves == saves
    grown = lines(path)[-5:]
    assert all(set(json.loads(line)) == {"nonces"} for line in grown)
    assert path.stat().st_size > size


def test_a_reset_snapshot_keeps_the_nonces(logged):
    app, state, path = logged
    api = SignedClient(app, Credentials.of(app, "alice"))
    assert api.get("/v2/services/syncml/").status == 200
    app.reset()
    assert len(lines(path)) == 1
    _, nonces = parse(path.read_bytes())
    assert len(nonces) == 1


def test_close_then_save_is_a_clear_error(logged):
    app, state, path = logged
    state.close()
    with pytest.raises(StateFileError, match="closed"):
        state.save(app.world)


def test_expired_detections_leave_the_file_too(logged):
    app, state, path = logged
    world = app.world
    ClockControl(app).freeze(T0)
    with world.lock:
        first = world.detection.detect_manual(world.users["alice"], "+4711111111", "http://x/d/{code}")
        app.on_change(world)
    assert first.code in {d["code"] for d in read_state(path)["detections"]}
    ClockControl(app).advance(3600 + 1)
    with world.lock:
        world.detection.detect_manual(world.users["alice"], "+4722222222", "http://x/d/{code}")
        app.on_change(world)
    assert first.code not in {d["code"] for d in read_state(path)["detections"]}
    same(app, path)
    assert world.clock.now() - T0 > timedelta(hours=1)


def test_reads_alone_cannot_grow_the_file_without_bound(logged, monkeypatch):
    app, state, path = logged
    monkeypatch.setattr(persistence, "COMPACT_MIN_BYTES", 2048)
    api = SignedClient(app, Credentials.of(app, "alice"))
    snapshot = len(lines(path)[0])
    for _ in range(3 * (2 * snapshot) // 100):  # nonce lines worth several snapshots
        assert api.get("/v2/services/syncml/").status == 200
        current = len(lines(path)[0])  # the snapshot holds the nonces in the window too
        assert path.stat().st_size <= current + max(2048, 2 * current) + 400
    assert state.snapshots > 1
    same(app, path)
    assert len(parse(path.read_bytes())[1]) == len(app.auth.nonces)


def test_concurrent_writers_and_readers_leave_a_file_equal_to_the_world(logged, monkeypatch):
    import threading

    app, state, path = logged
    monkeypatch.setattr(persistence, "COMPACT_MIN_BYTES", 16 * 1024)  # compactions mid-stream too
    errors: list[str] = []

    def work(user: str, n: int) -> None:
        api = SignedClient(app, Credentials.of(app, user))
        try:
            for i in range(25):
                reply = api.post("/v2/services/syncml/", syncml(f"+47{n}{i:07d}"))
                if reply.status != 201:
                    errors.append(reply.text)
                if api.get("/v2/services/syncml/").status != 200:
                    errors.append("read failed")
                if i == 12 and n == 0:
                    WSGIClient(app).post("/_fake/clock", json={"advance": 10})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(user, n), daemon=True)
               for n, user in enumerate(("alice", "bob", "admin", "alice"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a save deadlocked"
    assert errors == []
    same(app, path)
    assert state.snapshots > 1
    _, nonces = parse(path.read_bytes())
    assert len({tuple(n) for n in nonces}) == 4 * 25 * 2 == len(app.auth.nonces)
