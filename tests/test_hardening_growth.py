"""Memory and CPU that distinct input could grow, bounded (issue 10, "Done when": memory after
100,000 requests of distinct input stays flat; benchmarks/bench_memory.py measures it).

- libxml2's name dictionary: lxml interns every name it parses in a dictionary per thread
  that lives as long as the thread; a thread gets a fresh one after DICTIONARY_BUDGET bytes
  of bodies, so bodies of distinct element names leave the memory flat.
- The OAuth nonce store keeps a fixed-size record per nonce (a digest and the timestamp),
  bounded in entries and bytes, oldest timestamps dropped first; what it persists comes
  back, in the new form and in the form earlier state files hold.
- A model is identified from the first IDENTIFY_LIMIT characters of a User-Agent.
- Phone states and scheduled phone actions follow the outbox; at most PHONE_LIMIT phones.
- An Authorization header over MAX_AUTHORIZATION characters is refused before it is parsed.

Memory is measured in a fresh child process (its RSS, not the test runner's), on
deterministic input, with wide margins: each test also runs the unbounded variant and
shows it grows several times as much.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from oauthlib.oauth1 import Client as OAuthClient
from werkzeug.test import Client as WSGIClient

from ocss_testkit import auth as auth_module
from ocss_testkit import make_app
from ocss_testkit.atom import safe
from ocss_testkit.auth import MAX_AUTHORIZATION, NonceStore
from ocss_testkit.controls import ClockControl
from ocss_testkit.package_data import phones_path
from ocss_testkit.services.phones.database import IDENTIFY_LIMIT, load_phones
from ocss_testkit.world import simulated_phones as phone_module

ROOT = Path(__file__).resolve().parent.parent
ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
NOKIA_6233 = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"
SYNCML = "/v2/services/syncml/"


def child(code: str, *args: str) -> dict:
    """Run `code` in a fresh interpreter at the repository root (`args` in sys.argv[1:]);
    it prints one JSON line."""
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


RSS = """
import gc, json, os, threading
def rss():
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
"""


# --- 1. libxml2's name dictionary ------------------------------------------------------------
def test_lxml_keeps_the_dictionary_context_where_safe_replaces_it():
    """Guards an lxml upgrade: the context entry this relies on is where safe.py looks."""
    def run(seen: list) -> None:
        safe.parse(f'<entry xmlns="{ATOM}"/>'.encode())
        seen.append(safe._LXML_CONTEXT in safe._thread_state())
        seen.append(safe.fresh_name_dictionary())
        seen.append(safe._LXML_CONTEXT in safe._thread_state())
        root = safe.parse(f'<entry xmlns="{ATOM}"><title>t</title></entry>'.encode())
        seen.append(root[0].tag == f"{{{ATOM}}}title" and safe._LXML_CONTEXT in safe._thread_state())

    in_main: list = []
    run(in_main)  # the main thread's entry is lxml's global context: replaced all the same
    in_thread: list = []
    thread = threading.Thread(target=run, args=(in_thread,))
    thread.start()
    thread.join()
    assert in_main == in_thread == [True, True, False, True]


def test_a_thread_gets_a_fresh_dictionary_once_it_parsed_the_budget():
    def run(seen: list) -> None:
        small = f'<entry xmlns="{ATOM}"><title>t</title></entry>'.encode()
        safe.parse(small)
        seen.append(safe._LXML_CONTEXT in safe._thread_state())  # a small body: same dictionary
        filler = b"<n/>" * ((safe.DICTIONARY_BUDGET - len(small)) // 4 + 1)
        with pytest.raises(safe.XMLRejected):  # refused, and still counted: its names were interned
            safe.parse(small[:-8] + filler + b"</entry>" + b"<x/>")
        seen.append(safe._LXML_CONTEXT in safe._thread_state())
        assert safe.parse(small).tag == f"{{{ATOM}}}entry"  # the next parse makes a new one

    seen: list = []
    thread = threading.Thread(target=run, args=(seen,))
    thread.start()
    thread.join()
    assert seen == [True, False]


DISTINCT_NAMES = RSS + """
import sys
from ocss_testkit.atom import safe
if sys.argv[1:] == ["unbounded"]:  # the budget never reached: one dictionary per thread, as before
    safe.DICTIONARY_BUDGET = 1 << 62
ATOM = "http://www.w3.org/2005/Atom"
def body(seed):
    return (f'<entry xmlns="{ATOM}">' + "".join(f"<n{seed}x{i}/>" for i in range(20_000)) + "</entry>").encode()
def run(first):
    for r in range(first, first + 15):
        safe.parse(body(r))
safe.parse(body(-1)); safe.parse(body(-2))  # the allocator's first growth, before measuring
before = rss()
run(0)
worker = threading.Thread(target=run, args=(100,)); worker.start(); worker.join()
print(json.dumps({"growth": rss() - before}))
"""


def test_bodies_of_distinct_names_leave_memory_flat():
    """600,000 distinct element names, in the main thread and in another: 0.6 MB of
    dictionary at most, where the unbounded dictionary holds ~27 MB."""
    bounded = child(DISTINCT_NAMES)["growth"]
    unbounded = child(DISTINCT_NAMES, "unbounded")["growth"]
    assert bounded < 8, (bounded, unbounded)
    assert unbounded > 15 and unbounded > 3 * bounded, (bounded, unbounded)


SIGNED_POSTS = RSS + """
from oauthlib.oauth1 import Client
from werkzeug.test import Client as WSGIClient
import sys
from ocss_testkit import make_app
from ocss_testkit.atom import safe
if sys.argv[1:] == ["unbounded"]:
    safe.DICTIONARY_BUDGET = 1 << 62
app = make_app()
wsgi = WSGIClient(app)
signer = Client("demo-consumer-key", client_secret="demo-consumer-secret",
                resource_owner_key="admin-access-token", resource_owner_secret="admin-access-secret")
ATOM, OC = "http://www.w3.org/2005/Atom", "http://schemas.obexcode.com/syncserver/2009"
statuses = []
def post(seed):
    names = "".join(f"<oc:e{seed}_{i}/>" for i in range(50_000))
    body = (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client><oc:name>a</oc:name>{names}'
            "</oc:client></entry>").encode()
    _, headers, _ = signer.sign("http://localhost/v2/services/datastore/", http_method="POST")
    reply = wsgi.post("/v2/services/datastore/", data=body,
                      headers={"Authorization": headers["Authorization"], "Content-Type": "application/atom+xml"})
    statuses.append(reply.status_code)
post(-1); post(-2)
before = rss()
for seed in range(10):
    post(seed)
print(json.dumps({"growth": rss() - before, "statuses": statuses, "size": 50_000 * 15}))
"""


def test_signed_bodies_of_distinct_names_are_refused_and_leave_memory_flat():
    """The reported input: ten signed ~750 KB POSTs of 50,000 distinct element names,
    all refused 400, added 44 MB over HTTP (~20 MB in one thread, in-process)."""
    bounded, unbounded = child(SIGNED_POSTS), child(SIGNED_POSTS, "unbounded")
    assert set(bounded["statuses"]) == set(unbounded["statuses"]) == {400}
    assert bounded["growth"] < 8, (bounded, unbounded)
    assert unbounded["growth"] > 12 and unbounded["growth"] > 3 * bounded["growth"], (bounded, unbounded)


# --- 2. the OAuth nonce store -----------------------------------------------------------------
def now_key(i: int, nonce_length: int = 12, token: str | None = "alice-access-token", ts: int | None = None):
    nonce = f"{i:0{nonce_length}d}"
    return ("demo-consumer-key", token, nonce, str(ts if ts is not None else int(time.time())))


@pytest.mark.parametrize("nonce_length", [12, 512])
def test_a_nonce_costs_a_fixed_record_whatever_its_length(nonce_length):
    for count in (1_000, 6_000, 20_000):
        store = NonceStore()
        keys = [now_key(i, nonce_length) for i in range(count)]
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for key in keys:
                assert store.add(key)
            used = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert len(store) == count
        assert used / count <= NonceStore.RECORD_BYTES, (count, used / count)


def test_the_store_is_bounded_in_entries_and_bytes_the_oldest_timestamps_first():
    now = int(time.time())
    by_count = NonceStore(limit=300)
    by_bytes = NonceStore(max_bytes=200 * NonceStore.RECORD_BYTES)
    assert (by_count.capacity, by_bytes.capacity) == (300, 200)
    for store in (by_count, by_bytes):
        old = [now_key(i, ts=now - 240) for i in range(150)]  # an earlier minute
        new = [now_key(1000 + i, ts=now) for i in range(400)]
        for key in old + new:
            assert store.add(key)
        assert len(store) == store.capacity
        assert not any(key in store for key in old)  # the older minute went first
        assert sum(key in store for key in new) == store.capacity
        # a replay of a key still kept is refused; the same nonce for another token is new
        kept = next(key for key in new if key in store)
        assert store.add(kept) is False
        assert store.add((kept[0], "bob-access-token", kept[2], kept[3])) is True


def test_nonces_leave_once_their_timestamp_is_out_of_the_window():
    store = NonceStore(lifetime=600)
    now = int(time.time())
    stale = now_key(1, ts=now - 700)  # accepted long ago: its minute is entirely past the window
    assert store.add(stale) and stale not in store and len(store) == 0
    edge = now_key(2, ts=now - 560)
    assert store.add(edge) and edge in store
    assert store.add(now_key(3)) and len(store) == 2
    for bad in ("", "12a", "1.5", "9" * 13):  # no timestamp check reads these as a number
        assert store.add(now_key(4)[:3] + (bad,)) is True
        assert now_key(4)[:3] + (bad,) not in store
    assert len(store) == 2
    # digits of another script: oauthlib's check reads them with int(), so they are kept
    arabic = now_key(5)[:3] + ("".join(chr(0x660 + int(d)) for d in str(now)),)
    assert store.add(arabic) is True and arabic in store and store.add(arabic) is False
    assert arabic[:3] + (str(now),) not in store  # the digest is of the timestamp as sent


def test_what_the_store_persists_comes_back_in_both_forms():
    now = int(time.time())
    store = NonceStore()
    seen: list = []
    store.listener = seen.append
    keys = [now_key(i, nonce_length=40) for i in range(5)] + [now_key(9, token=None)]
    for key in keys:
        store.add(key)
    snapshot = store.snapshot()
    assert seen == snapshot == [NonceStore.persisted(k) for k in keys]
    assert [t for _, t in snapshot] == [k[3] for k in keys] and all(len(d) == 32 for d, _ in snapshot)
    assert not any(k[2] in json.dumps(snapshot) for k in keys)  # no nonce written out
    again = NonceStore()
    assert again.restore(json.loads(json.dumps(snapshot))) == len(keys)
    assert all(k in again for k in keys) and not again.add(keys[0])
    # what earlier state files hold (the four strings); and what no writer makes: dropped
    legacy = NonceStore()
    garbage = [["zz" * 16, str(now)], ["ab" * 16, "9" * 11], ["ab" * 16], "ab" * 16, ["ck", "tok", "n"], 7,
               ["ab" * 16, str(now - 3600)]]
    assert legacy.restore([list(k) for k in keys[:3]] + garbage) == 3
    assert all(k in legacy for k in keys[:3]) and len(legacy) == 3


# --- 3. identifying a model from a User-Agent --------------------------------------------------
def test_identification_reads_the_first_characters_only():
    db = load_phones(phones_path())
    ua = "HTC_Touch_Diamond/1.0 Mozilla/4.0 (compatible; MSIE 6.0; Windows CE; IEMobile 7.11)"
    model = db.identify(ua)
    assert model is not None and model.name == "HTC Touch Diamond"
    assert db.identify(ua + " " + "u" * 256 * 1024) == model  # padded to 256 KiB: the same answer
    hidden = "Mozilla/5.0 (" + "x" * IDENTIFY_LIMIT + ") " + NOKIA_6233  # the model token past the limit
    assert db.identify(hidden) is None and db.identify(hidden[IDENTIFY_LIMIT - 20:]).name == "Nokia 6233"


def test_every_user_agent_of_the_phones_file_identifies_its_model_as_before():
    db = load_phones(phones_path())
    data = json.loads(phones_path().read_text("utf-8"))
    uas = [(m["name"], ua) for v in data["vendors"] for m in v["models"] for ua in m.get("user_agents", ())]
    assert uas and max(len(ua) for _, ua in uas) < IDENTIFY_LIMIT
    for name, ua in uas:
        whole = [m for m in db.models.values() if m.ua_pattern and m.ua_pattern.search(ua)]  # uncut
        assert db.identify(ua) is (whole[0] if len(whole) == 1 else None)
        assert db.identify(ua).name == name
        assert db.identify(ua + " " + "p" * 5000) is db.identify(ua)


# --- 4. phone states and the schedule follow the outbox ----------------------------------------
def detect_and_visit(world, count: int, first: int = 0) -> list[str]:
    numbers = []
    with world.lock:
        for n in range(first, first + count):
            number = f"+4791{n:06d}"
            world.detection.detect_manual(world.users["alice"], number, "http://x/d/{code}")
            numbers.append(number)
        world.simulated_phones.run_due()
    return numbers


def test_answers_and_phone_states_follow_the_outbox():
    app = make_app(outbox_limit=20)
    ClockControl(app).freeze("2009-11-01T12:30:00Z")
    world = app.world
    with world.lock:
        world.simulated_phones.set_autopilot("*", {"user_agent": NOKIA_6233, "visit_after": 0})
    numbers = detect_and_visit(world, 200)
    ids = {m.id for m in world.outbox}
    assert len(world.outbox) == 20
    answered = {mid for s in world.simulated_phones.phone_states.values() for mid in s.answers}
    assert not answered - {mid for mid in range(min(ids) - 20, max(ids) + 1)}  # at most one outbox behind
    assert len(world.simulated_phones.phone_states) <= 2 * 20 and numbers[-1] in world.simulated_phones.phone_states
    # nothing seen through the API changed: the newest phone shows its answer and message
    state = world.simulated_phones.view(numbers[-1]).state()
    assert list(state["answers"].values()) == ["visited"]
    assert world.detection.handsets[numbers[-1]].name == "Nokia 6233"
    document = world.to_dict()
    app.replace_state(document)
    assert app.world.to_dict() == document  # the state document round-trips


def test_actions_scheduled_for_dropped_messages_are_dropped():
    app = make_app(outbox_limit=20)
    ClockControl(app).freeze("2009-11-01T12:30:00Z")
    world = app.world
    with world.lock:  # every visit waits 50 virtual minutes: the clock stands still
        world.simulated_phones.set_autopilot("*", {"user_agent": NOKIA_6233, "visit_after": 3000})
    detect_and_visit(world, 500)
    assert len(world.simulated_phones.schedule) <= 2 * 20  # 500 before: one per message ever sent
    assert all(entry[1] >= world.outbox[0].id - 20 for entry in world.simulated_phones.schedule)
    live = world.outbox[-1]
    ClockControl(app).advance(3000)
    with world.lock:
        world.simulated_phones.run_due()
        assert world.simulated_phones.view(live.to).answers == {live.id: "visited"}  # the live ones still run


def test_at_most_phone_limit_phones_the_least_recently_active_forgotten(monkeypatch):
    monkeypatch.setattr(phone_module, "PHONE_LIMIT", 30)
    monkeypatch.setattr(phone_module, "PHONE_ITEM_LIMIT", 45)
    app = make_app()
    world = app.world
    alice = world.users["alice"]
    with world.lock:
        clients = [world.syncml.create_client(alice, f"+4792{n:06d}", "242") for n in range(100)]
        for client in clients:
            world.syncml.send_setup(alice, client.uuid, "1234")
            world.simulated_phones.answer_setup(client.phone_number)
        keeper = clients[0].phone_number
        world.syncml.send_setup(alice, clients[0].uuid, "1234")
        world.simulated_phones.answer_setup(keeper)  # acts again: the most recently active phone
        world.simulated_phones.tidy()
        assert len(world.simulated_phones.phone_states) <= 30
        assert sum(len(s.answers) + len(s.installed) for s in world.simulated_phones.phone_states.values()) <= 45
        states = world.simulated_phones.phone_states
        assert keeper in states and clients[-1].phone_number in states
        assert clients[1].phone_number not in world.simulated_phones.phone_states  # acted least recently
        assert world.simulated_phones.view(keeper).installed == {clients[0].uuid}


def test_a_learned_number_is_short_the_detect_schema_bounds_it():
    app = make_app()
    signer = OAuthClient("demo-consumer-key", client_secret="demo-consumer-secret",
                         resource_owner_key="alice-access-token", resource_owner_secret="alice-access-secret")
    body = f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>+{"4" * 16}</oc:phone_number></entry>'
    _, headers, _ = signer.sign("http://localhost/v2/phones/detect/manual/", http_method="POST")
    reply = WSGIClient(app).post("/v2/phones/detect/manual/", data=body,
                                 headers={"Authorization": headers["Authorization"],
                                          "Content-Type": "application/atom+xml"})
    assert reply.status_code == 400 and not app.world.detection.detections


# --- 5. an oversized Authorization header -----------------------------------------------------
def oversized(length: int) -> str:
    head = ('OAuth oauth_consumer_key="demo-consumer-key", oauth_token="bob-access-token", '
            'oauth_signature="x", oauth_timestamp="1700000000", oauth_nonce="n1", oauth_version="1.0", '
            'oauth_signature_method="')
    return head + "H" * (length - len(head) - 1) + '"'


@pytest.mark.parametrize("path, method", [(SYNCML, "GET"), ("/oauth/request_token", "POST")])
def test_an_oversized_authorization_header_is_refused_before_it_is_parsed(monkeypatch, path, method):
    app = make_app()
    with app.world.lock:
        before = app.world.to_dict()

    def never(*_args, **_kw):
        raise AssertionError("the header was parsed")
    monkeypatch.setattr(auth_module.oauth_utils, "parse_http_list", never)
    monkeypatch.setattr(auth_module.oauth_utils, "parse_authorization_header", never)
    reply = WSGIClient(app).open(path, method=method, headers={"Authorization": oversized(200_000)})
    text = reply.get_data(as_text=True)
    assert reply.status_code == 401 and "WWW-Authenticate" in reply.headers, text
    assert "Authorization header is 200,000 characters long" in text and f"{MAX_AUTHORIZATION:,}" in text
    assert len(text) < 1000
    with app.world.lock:
        assert app.world.to_dict() == before


def test_an_authorization_header_at_the_limit_is_read_as_before():
    app = make_app()
    header = oversized(MAX_AUTHORIZATION)
    assert len(header) == MAX_AUTHORIZATION
    reply = WSGIClient(app).get(SYNCML, headers={"Authorization": header})
    text = reply.get_data(as_text=True)
    assert reply.status_code == 401 and "unsupported signature method 'HHH" in text, text[:300]
    longer = WSGIClient(app).get(SYNCML, headers={"Authorization": oversized(MAX_AUTHORIZATION + 1)})
    assert longer.status_code == 401 and "Authorization header is 8,193 characters" in longer.get_data(as_text=True)
