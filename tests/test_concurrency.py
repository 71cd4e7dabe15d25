"""Concurrent clients over real HTTP: each request is atomic, nothing is lost or duplicated.

Every worker has its own requests-oauthlib session (one keep-alive connection each) and
they all hammer the same user's SyncML collection at once.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from lxml import etree
from requests_oauthlib import OAuth1

ATOM = "{http://www.w3.org/2005/Atom}"
OC = "{http://schemas.obexcode.com/syncserver/2009}"
SYNCML = "/v2/services/syncml/"
THREADS = 4
PER_THREAD = 25
BUDGET = 30.0  # seconds, for the whole test


def create_body(phone: str) -> bytes:
    return ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
            f"<oc:client><oc:phone_number>{phone}</oc:phone_number><oc:model_uuid>112</oc:model_uuid>"
            "<oc:timezone>Europe/Oslo</oc:timezone></oc:client></entry>").encode()


def admin_auth() -> OAuth1:
    return OAuth1("demo-consumer-key", "demo-consumer-secret", "admin-access-token", "admin-access-secret")


def uuid_of(entry_xml: bytes) -> str:
    root = etree.fromstring(entry_xml)
    return root.findtext(f"{OC}client/{OC}uuid")


def test_concurrent_creates_and_deletes_keep_exact_state(fake):
    started = time.monotonic()
    fixture_uuids = {c["uuid"] for c in fake.app.world.to_dict()["clients"]
                     if c["kind"] == "syncml" and c["owner"] == "admin"}
    barrier = threading.Barrier(THREADS, timeout=10)
    opened_per_worker: set[tuple] = set()
    opened_lock = threading.Lock()

    def worker(n: int) -> dict:
        created, deleted, statuses = [], [], []
        with requests.Session() as s:
            s.auth = admin_auth()
            barrier.wait()
            for i in range(PER_THREAD):
                phone = f"+47{n:02d}{i:06d}"
                r = s.post(fake.url + SYNCML, data=create_body(phone), timeout=10,
                           headers={"Content-Type": "application/atom+xml"})
                statuses.append(("POST", r.status_code, r.text if r.status_code != 201 else ""))
                if r.status_code != 201:
                    continue
                client_uuid = uuid_of(r.content)
                assert r.headers["Content-Type"].startswith("application/atom+xml")
                assert f"<phone_number>{phone}</phone_number>" in r.text
                created.append(client_uuid)
                if i % 2 == 1:  # delete every other one, while the other workers keep creating
                    d = s.delete(f"{fake.url}{SYNCML}{client_uuid}", timeout=10)
                    statuses.append(("DELETE", d.status_code, d.text))
                    if d.status_code == 200:
                        deleted.append(client_uuid)
            # keep-alive: the session opened one connection for all its requests
            pools = s.get_adapter(fake.url).poolmanager.pools
            opened = sum(pools[key].num_connections for key in pools.keys())
            with opened_lock:
                opened_per_worker.add((n, opened))
        return {"created": created, "deleted": deleted, "statuses": statuses}

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(worker, range(THREADS), timeout=BUDGET))

    unexpected = [(m, st, body[:200]) for r in results for (m, st, body) in r["statuses"]
                  if (m, st) not in (("POST", 201), ("DELETE", 200))]
    assert not unexpected, unexpected
    # each session kept one connection alive for all its requests
    assert all(opened == 1 for _, opened in opened_per_worker), opened_per_worker

    created = [u for r in results for u in r["created"]]
    deleted = {u for r in results for u in r["deleted"]}
    assert len(created) == THREADS * PER_THREAD
    assert len(set(created)) == len(created), "two creates got the same uuid"
    assert not set(created) & fixture_uuids
    assert len(deleted) == THREADS * (PER_THREAD // 2)
    expected = (set(created) - deleted) | fixture_uuids

    # what the API lists
    with requests.Session() as s:
        s.auth = admin_auth()
        listing = s.get(fake.url + SYNCML, timeout=10)
        assert listing.status_code == 200
        feed = etree.fromstring(listing.content)
        listed = [e.findtext(f"{OC}client/{OC}uuid") for e in feed.findall(f"{ATOM}entry")]
        assert len(listed) == len(set(listed))
        assert set(listed) == expected
        for gone in sorted(deleted)[:5]:
            r = s.get(f"{fake.url}{SYNCML}{gone}", timeout=10)
            assert r.status_code == 404, r.text

    # what the world holds
    state = fake.app.world.to_dict()
    in_world = [c for c in state["clients"] if c["kind"] == "syncml"]
    assert {c["uuid"] for c in in_world if c["owner"] == "admin"} == expected
    assert len(in_world) == len(expected)  # nobody else got any
    phones = {c["uuid"]: c["phone_number"] for c in in_world}
    for n, r in enumerate(results):
        for i, client_uuid in enumerate(r["created"]):
            if client_uuid not in deleted:
                assert phones[client_uuid] == f"+47{n:02d}{i:06d}"

    assert time.monotonic() - started < BUDGET


def test_the_same_signed_request_sent_concurrently_is_accepted_once(fake):
    """The nonce is checked before the signature and stored after it: two copies racing
    through that window must still not both get in."""
    started = time.monotonic()
    with requests.Session() as s:
        prepared = s.prepare_request(requests.Request(
            "POST", fake.url + SYNCML, data=create_body("+4791234567"), auth=admin_auth(),
            headers={"Content-Type": "application/atom+xml"}))
    copies = 8
    barrier = threading.Barrier(copies, timeout=10)
    before = fake.app.world.to_dict()

    def send(_):
        with requests.Session() as own:
            barrier.wait()
            r = own.send(prepared.copy(), timeout=10)
            return r.status_code, r.text

    with ThreadPoolExecutor(copies) as pool:
        replies = list(pool.map(send, range(copies), timeout=BUDGET))
    statuses = sorted(st for st, _ in replies)
    assert statuses == [201] + [401] * (copies - 1), replies
    assert all("nonce already used" in text for st, text in replies if st == 401)
    after = fake.app.world.to_dict()
    new = [c for c in after["clients"] if c["uuid"] not in {b["uuid"] for b in before["clients"]}]
    assert len(new) == 1 and new[0]["phone_number"] == "+4791234567"
    assert time.monotonic() - started < BUDGET


def test_concurrent_readers_and_writers_of_different_users_do_not_interfere(fake):
    started = time.monotonic()
    users = ["alice", "bob", "admin", "alice"]
    barrier = threading.Barrier(len(users), timeout=10)

    def worker(n: int):
        user = users[n]
        mine = []
        with requests.Session() as s:
            s.auth = OAuth1("demo-consumer-key", "demo-consumer-secret",
                            f"{user}-access-token", f"{user}-access-secret")
            barrier.wait()
            for i in range(10):
                r = s.post(fake.url + SYNCML, data=create_body(f"+48{n}{i:07d}"), timeout=10,
                           headers={"Content-Type": "application/atom+xml"})
                assert r.status_code == 201, r.text
                mine.append(uuid_of(r.content))
                listing = s.get(fake.url + SYNCML, timeout=10)
                assert listing.status_code == 200
                listed = {e.findtext(f"{OC}client/{OC}uuid")
                          for e in etree.fromstring(listing.content).findall(f"{ATOM}entry")}
                assert set(mine) <= listed  # my own writes are always visible to me
        return user, mine

    with ThreadPoolExecutor(len(users)) as pool:
        results = list(pool.map(worker, range(len(users)), timeout=BUDGET))
    owners = {c["uuid"]: c["owner"] for c in fake.app.world.to_dict()["clients"]}
    for user, mine in results:
        assert all(owners[u] == user for u in mine)
    assert sum(1 for o in owners.values() if o == "alice") == 20
    assert sum(1 for o in owners.values() if o == "bob") == 10
    assert time.monotonic() - started < BUDGET
