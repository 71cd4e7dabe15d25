"""Datastore contents over real HTTP (routes I14/I15; SyncServer API Python interface,
"Datastore contents").

`new(data, ctype, [dataclass])` with the dataclass derived from the MIME type, one item's
GET/PUT/DELETE, and the two filters: `dataclass` and `since` (both documented spellings of
the timestamp), under which every entry carries `oc:operation` and deletions are tombstones.
The virtual clock is frozen and moved through `POST /_fake/clock` so every change time is
known. Signed with requests-oauthlib; answers validated against response/contents.xsd.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from xml.sax.saxutils import escape

import pytest
import requests
from lxml import etree
from requests_oauthlib import OAuth1

from contracts.common import (
    item_body,  # the wire format, as the contract suite writes it
)
from tests.helpers import assert_error, unchanged, valid_atom

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
NS = {"a": ATOM, "oc": OC}
ATOM_XML = {"Content-Type": "application/atom+xml"}
DATASTORE = "/v2/services/datastore/"
UNKNOWN = "00000000-0000-0000-0000-000000000000"

VCARD = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Smith\r\nTEL:+4798765432\r\nEND:VCARD\r\n"
VEVENT = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Lunch & <talk>\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"


# --- plumbing -----------------------------------------------------------------------------

@pytest.fixture
def alice(http):
    return http("alice")


def xml(reply: requests.Response, schema: str = "contents", status: int = 200, reason: str = "OK"):
    return valid_atom(reply, schema, status, reason)


def send(fake, session, method: str, path: str, body: bytes | None = None, **params) -> requests.Response:
    kw = {"data": body, "headers": ATOM_XML} if body is not None else {}
    return session.request(method, fake.url + path, params=params or None, timeout=10, **kw)


def new_store(fake, session, name: str = "Ann's phone book") -> str:
    body = f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client><oc:name>{escape(name)}</oc:name></oc:client></entry>'
    root = xml(send(fake, session, "POST", DATASTORE, body.encode()), "datastore", 201, "Created")
    return root.findtext("oc:client/oc:uuid", namespaces=NS)


@pytest.fixture
def store(fake, alice) -> str:
    return new_store(fake, alice)


def contents(store_uuid: str) -> str:
    return f"{DATASTORE}{store_uuid}/contents/"


def item_id(root) -> str:
    return root.findtext("a:id", namespaces=NS).rstrip("/").rsplit("/", 1)[1]


def add(fake, session, store_uuid: str, data: str, ctype: str, title: str = "", dataclass: str | None = None):
    reply = send(fake, session, "POST", contents(store_uuid), item_body(data, ctype, title, dataclass))
    root = xml(reply, status=201, reason="Created")
    assert reply.headers["Location"] == root.findtext("a:id", namespaces=NS)
    return item_id(root), root


def described(root) -> dict:
    """An entry as plain data: what the library's Content resource exposes (000)."""
    content = root.find("a:content", NS)
    return {"title": root.findtext("a:title", namespaces=NS),
            "data": content.text if content is not None else None,
            "type": content.get("type") if content is not None else None,
            "dataclass": root.findtext("oc:dataclass", namespaces=NS),
            "operation": root.findtext("oc:operation", namespaces=NS),
            "published": root.findtext("a:published", namespaces=NS),
            "updated": root.findtext("a:updated", namespaces=NS)}


def feed_items(feed) -> dict[str, dict]:
    return {item_id(e): described(e) for e in feed.findall("a:entry", NS)}


def clock(fake, **change) -> dict:
    reply = requests.post(fake.url + "/_fake/clock", json=change, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()


# --- new(data, ctype, [dataclass]) ----------------------------------------------------------
def test_new_vcard_item_defaults_to_contacts(fake, alice, store):
    reply = send(fake, alice, "POST", contents(store), item_body(VCARD, "text/x-vcard", "Ann"))
    root = xml(reply, status=201, reason="Created")
    assert root.tag == f"{{{ATOM}}}entry"
    new_id = item_id(root)
    url = f"{fake.url}{contents(store)}{new_id}"
    assert root.findtext("a:id", namespaces=NS) == url
    assert reply.headers["Location"] == url
    assert root.find("a:link[@rel='self']", NS).get("href") == url
    got = described(root)
    assert got == {"title": "Ann", "data": VCARD.replace("\r\n", "\n"), "type": "text/x-vcard",
                   "dataclass": "contacts", "operation": None,
                   "published": got["published"], "updated": got["published"]}


@pytest.mark.parametrize("ctype, dataclass", [
    ("text/x-vcard", "contacts"),
    ("text/vcard", "contacts"),
    ("text/calendar", "events"),
    ("text/x-vcalendar", "events"),
    ("text/calendar; charset=utf-8", "events"),
    ("text/plain", "Misc"),
    ("application/octet-stream", "Misc"),
])
def test_new_item_dataclass_follows_the_content_type(fake, alice, store, ctype, dataclass):
    _, root = add(fake, alice, store, "data", ctype, "x")
    assert described(root)["type"] == ctype
    assert described(root)["dataclass"] == dataclass


@pytest.mark.parametrize("ctype", ["text/plain", "text/x-vcard"])
def test_new_item_explicit_dataclass_is_kept(fake, alice, store, ctype):
    new_id, root = add(fake, alice, store, "Buy milk", ctype, "Todo", dataclass="notes")
    assert described(root)["dataclass"] == "notes"
    got = xml(send(fake, alice, "GET", contents(store) + new_id))
    assert described(got)["dataclass"] == "notes"


def test_new_item_data_round_trips_markup_and_unicode(fake, alice, store):
    data = VEVENT + "Ærlig talt – ☃"
    new_id, _ = add(fake, alice, store, data, "text/calendar", "Lunch <&>")
    got = described(xml(send(fake, alice, "GET", contents(store) + new_id + "/")))
    assert (got["title"], got["data"]) == ("Lunch <&>", data.replace("\r\n", "\n"))


# --- one item: GET, PUT, DELETE (I15) ------------------------------------------------------
def test_item_get_update_delete(fake, alice, store):
    clock(fake, freeze=True, set="2009-11-01T12:00:00Z")
    new_id, created = add(fake, alice, store, VCARD, "text/x-vcard", "Ann")
    path = contents(store) + new_id
    got = xml(send(fake, alice, "GET", path))
    assert etree.tostring(got) == etree.tostring(created)
    assert described(got)["published"] == "2009-11-01T12:00:00Z"

    clock(fake, advance=60)
    new_card = VCARD.replace("Ann Smith", "Ann Jones")
    reply = send(fake, alice, "PUT", path + "/", item_body(new_card, "text/x-vcard", "Ann Jones"))
    updated = described(xml(reply, status=200, reason="Updated"))
    assert updated == {"title": "Ann Jones", "data": new_card.replace("\r\n", "\n"), "type": "text/x-vcard",
                       "dataclass": "contacts", "operation": None,
                       "published": "2009-11-01T12:00:00Z", "updated": "2009-11-01T12:01:00Z"}
    assert described(xml(send(fake, alice, "GET", path))) == updated

    # a PUT of only the title keeps the data
    only_title = described(xml(send(fake, alice, "PUT", path, item_body(title="A. Jones")), status=200,
                               reason="Updated"))
    assert (only_title["title"], only_title["data"]) == ("A. Jones", updated["data"])

    reply = send(fake, alice, "DELETE", path)
    assert (reply.status_code, reply.reason, reply.content) == (200, "Deleted", b"")
    with unchanged(fake):
        assert_error(send(fake, alice, "GET", path), 404, "Not Found")
        assert_error(send(fake, alice, "PUT", path, item_body("x", "text/plain")), 404, "Not Found")
        assert_error(send(fake, alice, "DELETE", path), 404, "Not Found")
    assert xml(send(fake, alice, "GET", contents(store))).findall("a:entry", NS) == []


def test_item_of_another_store_is_404(fake, alice, store):
    other = new_store(fake, alice, "Second")
    new_id, _ = add(fake, alice, store, "x", "text/plain")
    assert_error(send(fake, alice, "GET", contents(other) + new_id), 404, "Not Found")
    assert_error(send(fake, alice, "GET", contents(store) + UNKNOWN), 404, "Not Found")


# --- listing and the dataclass filter -------------------------------------------------------
def test_listing_and_dataclass_filter(fake, alice, store):
    ann, _ = add(fake, alice, store, VCARD, "text/x-vcard", "Ann")
    lunch, _ = add(fake, alice, store, VEVENT, "text/calendar", "Lunch")
    memo, _ = add(fake, alice, store, "memo", "text/plain", "Memo")
    feed = xml(send(fake, alice, "GET", contents(store)))
    assert feed.tag == f"{{{ATOM}}}feed"
    assert feed.findtext("a:id", namespaces=NS) == fake.url + contents(store)
    everything = feed_items(feed)
    assert set(everything) == {ann, lunch, memo}
    assert all(v["operation"] is None for v in everything.values())  # no since, no operation
    assert {k: v["dataclass"] for k, v in everything.items()} == {ann: "contacts", lunch: "events", memo: "Misc"}
    for dataclass, expected in (("contacts", {ann}), ("events", {lunch}), ("Misc", {memo}), ("tasks", set())):
        got = feed_items(xml(send(fake, alice, "GET", contents(store), dataclass=dataclass)))
        assert set(got) == expected, dataclass


def test_listing_of_a_store_with_many_items_returns_all(fake, alice, store):
    local, sessions = threading.local(), []

    def one(n: int) -> tuple[str, str]:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.auth = alice.auth
            sessions.append(local.session)
        ctype = "text/calendar" if n % 3 == 0 else "text/x-vcard"
        reply = send(fake, local.session, "POST", contents(store), item_body(f"item {n}", ctype, f"Item {n}"))
        assert reply.status_code == 201, reply.text
        return item_id(etree.fromstring(reply.content)), ctype

    with ThreadPoolExecutor(max_workers=6) as pool:  # six keep-alive clients at once
        created = dict(pool.map(one, range(300)))
    for session in sessions:
        session.close()
    assert len(created) == 300
    started = time.perf_counter()
    everything = feed_items(xml(send(fake, alice, "GET", contents(store))))
    assert time.perf_counter() - started < 2.0
    assert set(everything) == set(created)
    assert len({v["title"] for v in everything.values()}) == 300
    events = feed_items(xml(send(fake, alice, "GET", contents(store), dataclass="events")))
    assert set(events) == {k for k, t in created.items() if t == "text/calendar"}
    assert len(events) == 100
    inserts = feed_items(xml(send(fake, alice, "GET", contents(store), since="2000-01-01T00:00:00Z")))
    assert set(inserts) == set(created) and {v["operation"] for v in inserts.values()} == {"insert"}


# --- since (I14) ----------------------------------------------------------------------------
@pytest.fixture
def history(fake, alice, store):
    """A store whose every change time is known (the clock frozen and moved by hand).

    12:00 ann, bea (contacts), lunch (events), memo (notes) created
    12:31 ann updated; 12:32 bea deleted; 12:33 cid (contacts) created;
    12:34 tmp created, 12:35 tmp deleted; 12:36 cid updated; 12:37 lunch updated.
    """
    clock(fake, freeze=True, set="2009-11-01T12:00:00Z")
    ids = {}
    ids["ann"], _ = add(fake, alice, store, VCARD, "text/x-vcard", "Ann")
    ids["bea"], _ = add(fake, alice, store, VCARD.replace("Ann", "Bea"), "text/x-vcard", "Bea")
    ids["lunch"], _ = add(fake, alice, store, VEVENT, "text/calendar", "Lunch")
    ids["memo"], _ = add(fake, alice, store, "memo", "text/plain", "Memo", dataclass="notes")
    clock(fake, set="2009-11-01T12:31:00Z")
    xml(send(fake, alice, "PUT", contents(store) + ids["ann"], item_body(title="Ann S.")), status=200,
        reason="Updated")
    clock(fake, advance=60)
    assert send(fake, alice, "DELETE", contents(store) + ids["bea"]).status_code == 200
    clock(fake, advance=60)
    ids["cid"], _ = add(fake, alice, store, VCARD.replace("Ann", "Cid"), "text/vcard", "Cid")
    clock(fake, advance=60)
    ids["tmp"], _ = add(fake, alice, store, "tmp", "text/x-vcard", "Tmp")
    clock(fake, advance=60)
    assert send(fake, alice, "DELETE", contents(store) + ids["tmp"]).status_code == 200
    clock(fake, advance=60)
    xml(send(fake, alice, "PUT", contents(store) + ids["cid"], item_body(title="Cid C.")), status=200,
        reason="Updated")
    clock(fake, advance=60)
    xml(send(fake, alice, "PUT", contents(store) + ids["lunch"], item_body(VEVENT, "text/calendar", "Lunch!")),
        status=200, reason="Updated")
    return ids


def changes(fake, session, store_uuid, **params) -> dict[str, dict]:
    feed = xml(send(fake, session, "GET", contents(store_uuid), **params))
    items = feed_items(feed)
    if items:  # the feed's updated is its newest entry's (docs/decisions.md)
        assert feed.findtext("a:updated", namespaces=NS) == max(v["updated"] for v in items.values())
    return items


@pytest.mark.parametrize("since", ["2009-11-01T12:30:00Z", "2009-11-01T123000Z"])
def test_since_lists_changes_with_their_operation(fake, alice, store, history, since):
    got = changes(fake, alice, store, since=since)
    ids = history
    assert {k: v["operation"] for k, v in got.items()} == {
        ids["ann"]: "update", ids["bea"]: "delete", ids["cid"]: "insert", ids["lunch"]: "update"}
    # the tombstone carries no data, but still its dataclass and the time of the deletion
    assert got[ids["bea"]]["data"] is None and got[ids["bea"]]["type"] is None
    assert got[ids["bea"]]["dataclass"] == "contacts"
    assert got[ids["bea"]]["updated"] == "2009-11-01T12:32:00Z"
    assert got[ids["ann"]]["updated"] == "2009-11-01T12:31:00Z"
    assert got[ids["ann"]]["published"] == "2009-11-01T12:00:00Z"
    assert got[ids["ann"]]["title"] == "Ann S." and got[ids["ann"]]["data"] == VCARD.replace("\r\n", "\n")
    assert got[ids["cid"]]["updated"] == "2009-11-01T12:36:00Z"  # inserted then updated: still an insert
    assert ids["tmp"] not in got  # created and deleted after since: nothing to tell
    assert ids["memo"] not in got  # unchanged since


def test_since_both_spellings_give_the_same_answer(fake, alice, store, history):
    a = send(fake, alice, "GET", contents(store), since="2009-11-01T12:32:30Z")
    b = send(fake, alice, "GET", contents(store), since="2009-11-01T123230Z")
    assert feed_items(xml(a)) == feed_items(xml(b))
    assert {k: v["operation"] for k, v in feed_items(xml(a)).items()} == {
        history["cid"]: "insert", history["lunch"]: "update"}
    # cid was created before 12:33:30 and changed after it: an update from there on
    later = changes(fake, alice, store, since="2009-11-01T123330Z")
    assert {k: v["operation"] for k, v in later.items()} == {history["cid"]: "update", history["lunch"]: "update"}


def test_since_before_everything_shows_only_inserts_of_live_items(fake, alice, store, history):
    got = changes(fake, alice, store, since="2009-11-01T110000Z")
    ids = history
    assert {k: v["operation"] for k, v in got.items()} == {
        ids["ann"]: "insert", ids["lunch"]: "insert", ids["memo"]: "insert", ids["cid"]: "insert"}


def test_since_after_everything_is_empty(fake, alice, store, history):
    assert changes(fake, alice, store, since="2009-11-01T13:00:00Z") == {}


def test_since_with_dataclass(fake, alice, store, history):
    ids = history
    got = changes(fake, alice, store, since="2009-11-01T12:30:00Z", dataclass="contacts")
    assert {k: v["operation"] for k, v in got.items()} == {
        ids["ann"]: "update", ids["bea"]: "delete", ids["cid"]: "insert"}
    got = changes(fake, alice, store, dataclass="events", since="2009-11-01T123000Z")
    assert {k: v["operation"] for k, v in got.items()} == {ids["lunch"]: "update"}
    assert changes(fake, alice, store, since="2009-11-01T12:30:00Z", dataclass="notes") == {}
    got = changes(fake, alice, store, since="2009-11-01T11:00:00Z", dataclass="notes")
    assert {k: v["operation"] for k, v in got.items()} == {ids["memo"]: "insert"}


def test_since_the_first_items_updated_reports_the_second_of_the_same_second(fake, alice, store):
    """Issue 10: timestamps have whole seconds; a strict `since` lost the second item."""
    clock(fake, freeze=True, set="2009-11-01T12:00:00Z")
    first, root = add(fake, alice, store, "one", "text/plain", "First")
    second, _ = add(fake, alice, store, "two", "text/plain", "Second")
    since = described(root)["updated"]
    assert since == "2009-11-01T12:00:00Z"
    got = changes(fake, alice, store, since=since)
    assert {k: v["operation"] for k, v in got.items()} == {first: "insert", second: "insert"}
    assert changes(fake, alice, store, since="2009-11-01T12:00:01Z") == {}


@pytest.mark.parametrize("since, expected", [
    ("2009-11-01T12:31:00Z", {"ann": "update", "bea": "delete", "cid": "insert", "lunch": "update"}),
    ("2009-11-01T12:32:00Z", {"bea": "delete", "cid": "insert", "lunch": "update"}),
    ("2009-11-01T12:33:00Z", {"cid": "insert", "lunch": "update"}),
    # tmp: created at 12:34 (the client may have seen it), deleted at 12:35
    ("2009-11-01T12:34:00Z", {"tmp": "delete", "cid": "update", "lunch": "update"}),
    ("2009-11-01T12:35:00Z", {"tmp": "delete", "cid": "update", "lunch": "update"}),
    ("2009-11-01T12:36:00Z", {"cid": "update", "lunch": "update"}),
    ("2009-11-01T12:37:00Z", {"lunch": "update"}),
    ("2009-11-01T12:37:01Z", {}),
], ids=lambda v: v if isinstance(v, str) else None)
def test_since_is_inclusive_for_inserts_updates_and_deletes(fake, alice, store, history, since, expected):
    """A change made at exactly `since` is listed (again): clients de-duplicate by id."""
    got = changes(fake, alice, store, since=since)
    assert {k: v["operation"] for k, v in got.items()} == {history[name]: op for name, op in expected.items()}
    compact = since[:11] + since[11:].replace(":", "")
    assert changes(fake, alice, store, since=compact) == got


def test_without_since_deleted_items_are_gone(fake, alice, store, history):
    ids = history
    got = changes(fake, alice, store)
    assert set(got) == {ids["ann"], ids["lunch"], ids["memo"], ids["cid"]}
    assert all(v["operation"] is None for v in got.values())


@pytest.mark.parametrize("since", ["yesterday", "2009-11-01", "2009-13-01T000000Z", "2009-11-01T12:30:00+01:00",
                                   "2009-11-01T12:30:00", "2009-11-31T12:30:00Z", "2009-11-01T25:00:00Z",
                                   "2009-11-01 12:30:00Z", "", "1257078600"])
def test_invalid_since_is_400(fake, alice, store, since):
    add(fake, alice, store, VCARD, "text/x-vcard", "Ann")
    with unchanged(fake):
        assert_error(send(fake, alice, "GET", contents(store), since=since), 400, "Bad Request", "since")


@pytest.mark.parametrize("params", [{"limit": "10"}, {"Since": "2009-11-01T12:30:00Z"},
                                    {"dataclass": "contacts", "page": "2"}])
def test_unknown_query_parameter_is_400(fake, alice, store, params):
    with unchanged(fake):
        assert_error(send(fake, alice, "GET", contents(store), **params), 400, "Bad Request",
                next(k for k in params if k not in ("dataclass",)))


def test_listing_signed_in_the_query_string(fake, store):
    """oauth_* query parameters (RFC 5849 3.5.3) are not filters (once a 400, found by this suite)."""
    from oauthlib.oauth1 import SIGNATURE_TYPE_QUERY
    auth = OAuth1("demo-consumer-key", "demo-consumer-secret", "alice-access-token", "alice-access-secret",
                  signature_type=SIGNATURE_TYPE_QUERY)
    assert requests.get(fake.url + DATASTORE + store, auth=auth, timeout=10).status_code == 200  # control
    reply = requests.get(fake.url + contents(store), params={"dataclass": "contacts"}, auth=auth, timeout=10)
    assert "oauth_signature=" in reply.request.url
    xml(reply)


# --- refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    item_body("BEGIN:VCARD", None, "No type"),  # content without type
    item_body(None, None, "No content"),  # nothing to store
    item_body("x", "not a mime type", "Bad type"),
    item_body("x", "text/plain", "Two classes", "a") .replace(b"</entry>", b"<oc:dataclass>b</oc:dataclass></entry>"),
    f'<entry xmlns="{ATOM}"><content type="text/plain"><b>markup</b></content></entry>'.encode(),
])
def test_bad_new_item_is_400(fake, alice, store, body):
    with unchanged(fake):
        assert_error(send(fake, alice, "POST", contents(store), body), 400, "Bad Request")


def test_content_without_type_on_update_is_400(fake, alice, store):
    new_id, _ = add(fake, alice, store, "x", "text/plain")
    with unchanged(fake):
        assert_error(send(fake, alice, "PUT", contents(store) + new_id, item_body("y", None)), 400, "Bad Request")


def test_contents_of_another_users_store_are_403(fake, http, store):
    alice, bob = http("alice"), http("bob")
    new_id, _ = add(fake, alice, store, VCARD, "text/x-vcard", "Ann")
    with unchanged(fake):
        assert_error(send(fake, bob, "GET", contents(store)), 403, "Forbidden")
        assert_error(send(fake, bob, "GET", contents(store), since="2009-11-01T12:30:00Z"), 403, "Forbidden")
        assert_error(send(fake, bob, "POST", contents(store), item_body("x", "text/plain")), 403, "Forbidden")
        assert_error(send(fake, bob, "GET", contents(store) + new_id), 403, "Forbidden")
        assert_error(send(fake, bob, "PUT", contents(store) + new_id, item_body("x", "text/plain")), 403, "Forbidden")
        assert_error(send(fake, bob, "DELETE", contents(store) + new_id), 403, "Forbidden")


def test_contents_of_an_unknown_store_are_404(fake, alice):
    with unchanged(fake):
        assert_error(send(fake, alice, "GET", contents(UNKNOWN)), 404, "Not Found")
        assert_error(send(fake, alice, "POST", contents(UNKNOWN), item_body("x", "text/plain")), 404, "Not Found")


def test_contents_need_oauth(fake, store):
    reply = requests.get(fake.url + contents(store), timeout=10)
    assert_error(reply, 401, "Unauthorized")
    assert reply.headers["WWW-Authenticate"].startswith('OAuth realm="')
