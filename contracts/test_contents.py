"""Datastore contents: routes I14–I15.

Inferred from the SyncServer API Python interface, "Datastore contents": `new(data, ctype,
[dataclass])` with the dataclass assigned from the content type ("falling back to using
'Misc'"), the `dataclass` and `since` filters (the library writes `since` both as a datetime,
`2009-11-01T12:30:00Z` on the wire, and as `2009-11-01T123000Z`), and each entry's
`operation` (insert, update, delete) under `since`. No recording of the real service exists
for these routes: every `contract.match` key here reads "unrecorded" until a live run
records it.
"""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from contracts.common import ATOM, ATOM_TYPE, LIBRARY_DOC, OTHER_USERS, item_body, text, xpath
from contracts.test_clients import DS, UNKNOWN, create_datastore, same_url

VCARD = "BEGIN:VCARD\nVERSION:3.0\nFN:Ann Smith\nTEL:+4798765432\nEND:VCARD\n"
VEVENT = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:Lunch & <talk>\nEND:VEVENT\nEND:VCALENDAR\n"
ITEM_ID = {r"/contents/(?!<)[^/\s]+": "/contents/<item-id>"}  # item ids need not be uuids
OPERATIONS = ("insert", "update", "delete")


def contents(store: str) -> str:
    return f"{DS}{store}/contents/"


def item_id(reply_or_entry) -> str:
    path = "/a:entry/a:id" if hasattr(reply_or_entry, "xml") else "a:id"
    return text(reply_or_entry, path).rstrip("/").rsplit("/", 1)[-1]


def described(reply_or_entry) -> dict:
    """An entry as the library's Content resource shows it (000): title, data, type,
    dataclass, operation."""
    base = "/a:entry/" if hasattr(reply_or_entry, "xml") else ""
    content = xpath(reply_or_entry, base + "a:content")
    return {"title": text(reply_or_entry, base + "a:title"),
            "data": (content[0].text or "") if content else None,
            "type": content[0].get("type") if content else None,
            "dataclass": text(reply_or_entry, base + "oc:dataclass"),
            "operation": text(reply_or_entry, base + "oc:operation")}


def listed(reply) -> dict[str, dict]:
    assert reply.status_line == (200, "OK"), reply.text[:300]
    assert reply.content_type == ATOM_TYPE
    return {item_id(e): described(e) for e in xpath(reply, "/a:feed/a:entry")}


def add_item(contract, store: str, data: str, ctype: str, title: str | None = None,
             dataclass: str | None = None, role: str = "user"):
    """POST a run-named item (000: new(data, ctype, [dataclass])); in the ledger, so the run
    deletes it before its store."""
    title = title if title is not None else contract.name("item")
    reply = contract.api_of(role).post(contents(store), item_body(data, ctype, title, dataclass))
    assert reply.status_line == (201, "Created"), reply.text[:300]
    new_id = item_id(reply)
    contract.created("content", title, f"{contents(store)}{new_id}/", role)
    return reply, new_id, title


def published(reply) -> datetime:
    return datetime.strptime(text(reply, "/a:entry/a:published"), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


# === I14: new(data, ctype, [dataclass]) ======================================================
@pytest.mark.inferred("I14", basis=f"{LIBRARY_DOC}, 'Datastore contents': new(data, ctype, [dataclass]); "
                                   "the dataclass is assigned from the ctype, else 'Misc'")
@pytest.mark.mutating
@pytest.mark.parametrize("ctype, data, dataclass", [
    ("text/x-vcard", VCARD, "contacts"),
    ("text/vcard", VCARD, "contacts"),
    ("text/calendar", VEVENT, "events"),
    ("text/x-vcalendar", VEVENT, "events"),
    ("text/plain", "Buy milk", "Misc"),
])
def test_new_item_dataclass_follows_the_content_type(contract, ctype, data, dataclass):
    _, store, name = create_datastore(contract)
    title = contract.name("item")
    reply = contract.api.post(contents(store), item_body(data, ctype, title))
    if reply.status < 300:
        contract.created("content", title, f"{contents(store)}{item_id(reply)}/")
    contract.match("content-item-" + ctype.replace("/", "-"), reply,
                   replace={title: "content-title", name: "datastore-name"}, regex=ITEM_ID)
    assert reply.status_line == (201, "Created")
    assert reply.content_type == ATOM_TYPE
    assert reply.xml().tag == f"{{{ATOM}}}entry"
    assert described(reply) == {"title": title, "data": data, "type": ctype, "dataclass": dataclass,
                                "operation": None}
    url = text(reply, "/a:entry/a:id")
    assert same_url(url, f"{contract.base_url}{contents(store)}{item_id(reply)}")
    assert same_url(reply.headers.get("Location"), url)


@pytest.mark.inferred("I14", basis=f"{LIBRARY_DOC}, 'Datastore contents': dataclass can optionally be supplied; any "
                                   "string")
@pytest.mark.mutating
@pytest.mark.parametrize("ctype", ["text/plain", "text/x-vcard"])
def test_new_item_keeps_an_explicit_dataclass(contract, ctype):
    _, store, _ = create_datastore(contract)
    reply, new_id, _ = add_item(contract, store, "Buy milk", ctype, dataclass="notes")
    assert described(reply)["dataclass"] == "notes"
    assert described(contract.api.get(f"{contents(store)}{new_id}/"))["dataclass"] == "notes"


@pytest.mark.inferred("I14", basis=f"{LIBRARY_DOC}, 'Datastore contents': the raw data string is neither wrapped "
                                   "nor parsed")
@pytest.mark.mutating
def test_new_item_data_round_trips(contract):
    _, store, _ = create_datastore(contract)
    data = VEVENT + "Ærlig talt – ☃ <b>not markup</b> &amp;"
    title = contract.name("item") + " <&>"
    _, new_id, _ = add_item(contract, store, data, "text/calendar", title)
    got = described(contract.api.get(f"{contents(store)}{new_id}/"))
    assert (got["title"], got["data"]) == (title, data)


@pytest.mark.inferred("I14", basis=f"{LIBRARY_DOC}, 'Datastore contents': new(data, ctype, [dataclass]) "
                                   "needs the data and its content-type")
@pytest.mark.mutating
def test_bad_new_items_are_refused(contract):
    _, store, _ = create_datastore(contract)
    add_item(contract, store, VCARD, "text/x-vcard")  # the state a refusal must keep
    before = contract.api.get(contents(store)).body
    for body in (item_body(VCARD, None, contract.name("item")),  # content without a type
                 item_body(None, None, contract.name("item")),  # nothing to store
                 item_body("x", "text/plain", contract.name("item"), "a").replace(
                     b"</entry>", b"<oc:dataclass>b</oc:dataclass></entry>")):  # two dataclasses
        reply = contract.api.post(contents(store), body)
        if reply.status < 300:
            contract.created("content", "(refused)", f"{contents(store)}{item_id(reply)}/")
        assert reply.status_line == (400, "Bad Request"), f"{body!r}: {reply.status_line}"
    empty = contract.api.post(contents(store), b"", headers={"Content-Type": ATOM_TYPE})
    assert empty.status_line == (400, "No Entry provided")
    assert contract.api.get(contents(store)).body == before


# === I14: the listing and its filters ========================================================
@pytest.mark.inferred("I14", basis=f"{LIBRARY_DOC}, 'Datastore contents': the collection and its dataclass filter")
@pytest.mark.mutating
def test_listing_and_the_dataclass_filter(contract):
    _, store, name = create_datastore(contract)
    _, ann_id, ann_title = add_item(contract, store, VCARD, "text/x-vcard")
    _, lunch_id, lunch_title = add_item(contract, store, VEVENT, "text/calendar")
    _, memo_id, memo_title = add_item(contract, store, "memo", "text/plain")
    replace = {name: "datastore-name", ann_title: "ann", lunch_title: "lunch", memo_title: "memo"}
    reply = contract.api.get(contents(store))
    contract.match("contents-list", reply, replace=replace, regex=ITEM_ID)
    everything = listed(reply)
    assert same_url(text(reply, "/a:feed/a:id"), f"{contract.base_url}{contents(store)}")
    assert everything == {ann_id: {"title": ann_title, "data": VCARD, "type": "text/x-vcard",
                                   "dataclass": "contacts", "operation": None},
                          lunch_id: {"title": lunch_title, "data": VEVENT, "type": "text/calendar",
                                     "dataclass": "events", "operation": None},
                          memo_id: {"title": memo_title, "data": "memo", "type": "text/plain",
                                    "dataclass": "Misc", "operation": None}}
    filtered = contract.api.get(contents(store), params={"dataclass": "contacts"})
    contract.match("contents-dataclass", filtered, replace=replace, regex=ITEM_ID)
    assert set(listed(filtered)) == {ann_id}
    for dataclass, expected in (("events", {lunch_id}), ("Misc", {memo_id}), ("tasks", set())):
        assert set(listed(contract.api.get(contents(store), params={"dataclass": dataclass}))) == expected, dataclass


@pytest.mark.inferred("I14", basis=f"{LIBRARY_DOC}, 'Datastore contents': since returns the changes, each "
                                   "with an operation; since as 2009-11-01T12:30:00Z or 2009-11-01T123000Z")
@pytest.mark.mutating
def test_since_lists_changes_with_their_operation(contract):
    """Works against any server: times come from the server's own `published` values.
    `since` is the last insert's second, and `since` is inclusive: a change at exactly
    `since` is listed again, and clients de-duplicate by id. (Until issue 10 this contract
    assumed the opposite, and so lost a change made in the same second as the last one seen.)
    So the last insert, and any other made in its second, are listed as inserts; the
    contract waits just over a second so that the changes after it fall in later seconds."""
    _, store, name = create_datastore(contract)
    made, at = {}, {}
    items = (("ann", VCARD, "text/x-vcard"), ("bea", VCARD, "text/x-vcard"),
             ("lunch", VEVENT, "text/calendar"), ("memo", "memo", "text/plain"))
    for i, (key, data, ctype) in enumerate(items):
        if i == 2:  # ann and bea in earlier seconds than since; lunch and memo early in one second
            time.sleep(1.1)
            time.sleep(1.02 - time.time() % 1)
        reply, made[key], _ = add_item(contract, store, data, ctype, title=contract.name(key))
        at[key] = published(reply)
    time.sleep(1.1)  # every change below is in a later server second than the last insert
    since = at["memo"]
    at_since = {made[k]: "insert" for k in ("ann", "lunch", "memo") if at[k] == since}
    assert made["memo"] in at_since
    ann_title = contract.name("ann")
    assert contract.api.put(f"{contents(store)}{made['ann']}/", item_body(title=ann_title)).status_line == \
        (200, "Updated")
    bea = f"{contents(store)}{made['bea']}/"
    assert contract.api.delete(bea).status_line == (200, "Deleted")
    contract.deleted(bea)
    _, made["cid"], _ = add_item(contract, store, VCARD, "text/vcard", title=contract.name("cid"))

    answers = []
    for spelling in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H%M%SZ"):
        reply = contract.api.get(contents(store), params={"since": since.strftime(spelling)})
        answers.append(listed(reply))
    contract.match("contents-since", reply, replace={name: "datastore-name"}, regex={
        **ITEM_ID, f"{contract.run_id}[^<]*": "<run-name>"})
    assert answers[0] == answers[1], "the two spellings of since give different answers"
    got = answers[0]
    # ann: inserted in since's second and changed after it is still an insert
    expected = {**at_since, made["ann"]: "insert" if at["ann"] == since else "update",
                made["bea"]: "delete", made["cid"]: "insert"}
    assert {k: v["operation"] for k, v in got.items()} == expected
    assert got[made["memo"]]["data"] == "memo"  # the change at exactly since, listed again
    assert got[made["ann"]]["title"] == ann_title and got[made["ann"]]["data"] == VCARD
    assert got[made["cid"]]["dataclass"] == "contacts"
    # the deleted item is a tombstone: no data, still its dataclass
    assert got[made["bea"]]["data"] is None and got[made["bea"]]["dataclass"] == "contacts"
    # both filters at once
    both = listed(contract.api.get(contents(store), params={"dataclass": "contacts",
                                                            "since": since.strftime("%Y-%m-%dT%H%M%SZ")}))
    assert {k: v["operation"] for k, v in both.items()} == {
        k: v for k, v in expected.items() if k in (made["ann"], made["bea"], made["cid"])}
    events = listed(contract.api.get(contents(store), params={"dataclass": "events", "since": since.strftime(
        "%Y-%m-%dT%H:%M:%SZ")}))
    assert {k: v["operation"] for k, v in events.items()} == {k: v for k, v in at_since.items() if k == made["lunch"]}
    # from before the store existed, every live item is an insert
    early = listed(contract.api.get(contents(store), params={"since": "2009-11-01T12:30:00Z"}))
    assert {made["ann"], made["lunch"], made["memo"], made["cid"]} <= set(early)
    assert all(early[k]["operation"] == "insert" for k in (made["ann"], made["lunch"], made["memo"], made["cid"]))
    assert all(v["operation"] in OPERATIONS for v in early.values())
    # without since: no operations, and the deleted item is gone
    assert set(listed(contract.api.get(contents(store)))) == {made["ann"], made["lunch"], made["memo"], made["cid"]}


@pytest.mark.inferred("I14", basis=f"{LIBRARY_DOC}, 'Datastore contents': since='2009-11-01T123000Z' and "
                                   "datetime(2009, 11, 1, 12, 30), to the second")
@pytest.mark.fake_only("freezes and moves the fake's virtual clock to the docs' own timestamps")
@pytest.mark.mutating
def test_since_at_the_docs_own_timestamps(contract, fake):
    fake.clock.freeze(datetime(2009, 11, 1, 12, 0, tzinfo=timezone.utc))
    _, store, _ = create_datastore(contract)
    ids = {}
    for key, data, ctype, dataclass in (("ann", VCARD, "text/x-vcard", None), ("bea", VCARD, "text/x-vcard", None),
                                        ("lunch", VEVENT, "text/calendar", None), ("memo", "memo", "text/plain",
                                                                                   "notes")):
        _, ids[key], _ = add_item(contract, store, data, ctype, dataclass=dataclass)
    fake.clock.set(datetime(2009, 11, 1, 12, 30, tzinfo=timezone.utc))
    # a change at exactly `since` is listed (since is inclusive; until issue 10 this contract
    # said the opposite)
    assert contract.api.put(f"{contents(store)}{ids['memo']}/", item_body(title="memo")).status_line == \
        (200, "Updated")
    fake.clock.advance(60)  # 12:31
    assert contract.api.put(f"{contents(store)}{ids['ann']}/", item_body(title="Ann S.")).status_line == \
        (200, "Updated")
    fake.clock.advance(60)  # 12:32
    assert contract.api.delete(f"{contents(store)}{ids['bea']}/").status_line == (200, "Deleted")
    fake.clock.advance(60)  # 12:33: created after since, then changed: still an insert
    _, ids["cid"], _ = add_item(contract, store, VCARD, "text/vcard")
    fake.clock.advance(60)
    assert contract.api.put(f"{contents(store)}{ids['cid']}/", item_body(title="Cid C.")).status_line == \
        (200, "Updated")
    expected = {ids["memo"]: "update", ids["ann"]: "update", ids["bea"]: "delete", ids["cid"]: "insert"}
    for since in ("2009-11-01T12:30:00Z", "2009-11-01T123000Z"):
        reply = contract.api.get(contents(store), params={"since": since})
        got = listed(reply)
        assert {k: v["operation"] for k, v in got.items()} == expected, since
        assert text(reply, "/a:feed/a:entry[oc:operation='delete']/a:updated") == "2009-11-01T12:32:00Z"
        # docs/decisions.md, "Where the docs disagree": the feed's updated is its newest entry's
        assert text(reply, "/a:feed/a:updated") == "2009-11-01T12:34:00Z"
    got = listed(contract.api.get(contents(store), params={"dataclass": "contacts", "since": "2009-11-01T123000Z"}))
    assert {k: v["operation"] for k, v in got.items()} == {k: v for k, v in expected.items() if k != ids["memo"]}
    # the last change, at 12:34, is listed from 12:34 on, and nothing from the next second
    last = listed(contract.api.get(contents(store), params={"since": "2009-11-01T12:34:00Z"}))
    assert {k: v["operation"] for k, v in last.items()} == {ids["cid"]: "update"}
    assert listed(contract.api.get(contents(store), params={"since": "2009-11-01T12:34:01Z"})) == {}


@pytest.mark.inferred("I14", basis=f"{LIBRARY_DOC}, 'Datastore contents': since is a UTC timestamp, "
                                   "2009-11-01T12:30:00Z or 2009-11-01T123000Z")
@pytest.mark.mutating
def test_unreadable_since_is_refused(contract):
    _, store, _ = create_datastore(contract)
    add_item(contract, store, VCARD, "text/x-vcard")
    before = contract.api.get(contents(store)).body
    for since in ("yesterday", "2009-11-01", "2009-13-01T000000Z", "2009-11-01T12:30:00+01:00", "1257078600"):
        reply = contract.api.get(contents(store), params={"since": since})
        assert reply.status_line == (400, "Bad Request"), f"since={since}: {reply.status_line}"
    assert contract.api.get(contents(store)).body == before


@pytest.mark.inferred("I14", basis=f"{LIBRARY_DOC}, 'Datastore contents': store.contents of a datastore client")
@pytest.mark.read_only
def test_contents_feed_shape(contract):
    """Read-only: the contents of the account's first datastore client, if it has one."""
    stores = xpath(contract.api.get(DS), "/a:feed/a:entry/oc:client/oc:uuid")
    if not stores:
        pytest.skip("the account holds no datastore client to read")
    store = stores[0].text
    reply = contract.api.get(contents(store))
    contract.match("contents-list", reply, fields=("entry/title", "content"), keep=[], indices=[],
                   regex={**ITEM_ID, r"^Contents of .*": "Contents of <datastore-name>"})  # any store's name
    items = listed(reply)
    assert same_url(text(reply, "/a:feed/a:id"), f"{contract.base_url}{contents(store)}")
    for key, item in items.items():
        assert item["operation"] is None, "an entry has an operation without since"
        assert item["dataclass"], f"item {key} has no dataclass"
        assert item["type"], f"item {key} has no content type"


@pytest.mark.inferred("I14", basis=f"{LIBRARY_DOC}, 'Collections': a missing member is NotFoundError")
@pytest.mark.read_only
def test_contents_of_an_unknown_store(contract):
    assert contract.api.get(contents(UNKNOWN)).status_line == (404, "Not Found")


@pytest.mark.inferred("I14", basis=f"{LIBRARY_DOC}, 'Authentication': protected parts of the API need OAuth")
@pytest.mark.read_only
def test_contents_need_oauth(contract):
    reply = contract.anonymous.get(contents(UNKNOWN))
    assert reply.status_line == (401, "Unauthorized")
    assert reply.headers.get("WWW-Authenticate", "").startswith("OAuth realm=")


@pytest.mark.inferred("I14", basis=OTHER_USERS)
@pytest.mark.mutating
def test_another_users_contents_are_forbidden(contract):
    _, store, _ = create_datastore(contract)
    add_item(contract, store, VCARD, "text/x-vcard")
    before = contract.api.get(contents(store)).body
    assert contract.other.get(contents(store)).status_line == (403, "Forbidden")
    assert contract.other.get(contents(store), params={"since": "2009-11-01T12:30:00Z"}).status_line == \
        (403, "Forbidden")
    reply = contract.other.post(contents(store), item_body("x", "text/plain", contract.name("theirs")))
    if reply.status < 300:
        contract.created("content", "(theirs)", f"{contents(store)}{item_id(reply)}/", "other")
    assert reply.status_line == (403, "Forbidden")
    assert contract.api.get(contents(store)).body == before


# === I15: one item ===========================================================================
@pytest.mark.inferred("I15", basis=f"{LIBRARY_DOC}, 'Datastore contents': store.contents['my-content-id']")
@pytest.mark.mutating
def test_get_one_item(contract):
    _, store, name = create_datastore(contract)
    created, new_id, title = add_item(contract, store, VCARD, "text/x-vcard")
    for slash in ("/", ""):
        reply = contract.api.get(f"{contents(store)}{new_id}{slash}")
        if slash:
            contract.match("content-item-get", reply, replace={title: "content-title", name: "datastore-name"},
                           regex=ITEM_ID)
        assert reply.status_line == (200, "OK")
        assert reply.content_type == ATOM_TYPE
        assert described(reply) == described(created)
        assert text(reply, "/a:entry/a:id") == text(created, "/a:entry/a:id")
        assert text(reply, "/a:entry/a:published") == text(created, "/a:entry/a:published")


@pytest.mark.inferred("I15", basis=f"{LIBRARY_DOC}, 'Resources': update(**kwargs); Content: data, title, type, "
                                   "dataclass")
@pytest.mark.mutating
def test_update_one_item(contract):
    _, store, name = create_datastore(contract)
    created, new_id, _ = add_item(contract, store, VCARD, "text/x-vcard")
    path = f"{contents(store)}{new_id}/"
    card, title = VCARD.replace("Ann Smith", "Ann Jones"), contract.name("item")
    reply = contract.api.put(path, item_body(card, "text/x-vcard", title))
    contract.match("content-item-update", reply, replace={title: "content-title", name: "datastore-name"},
                   regex=ITEM_ID)
    assert reply.status_line == (200, "Updated")
    assert reply.content_type == ATOM_TYPE
    expected = {"title": title, "data": card, "type": "text/x-vcard", "dataclass": "contacts", "operation": None}
    assert described(reply) == expected
    assert described(contract.api.get(path)) == expected
    assert text(contract.api.get(path), "/a:entry/a:published") == text(created, "/a:entry/a:published")
    # a PUT of the title alone keeps the data
    retitled = contract.name("item")
    reply = contract.api.put(path, item_body(title=retitled))
    assert reply.status_line == (200, "Updated")
    assert described(contract.api.get(path)) == {**expected, "title": retitled}
    # and of the dataclass alone
    assert contract.api.put(path, item_body(dataclass="notes")).status_line == (200, "Updated")
    assert described(contract.api.get(path)) == {**expected, "title": retitled, "dataclass": "notes"}


@pytest.mark.inferred("I15", basis=f"{LIBRARY_DOC}, 'Resources': delete()")
@pytest.mark.mutating
def test_delete_one_item(contract):
    _, store, _ = create_datastore(contract)
    _, new_id, _ = add_item(contract, store, VCARD, "text/x-vcard")
    _, kept_id, _ = add_item(contract, store, "memo", "text/plain")
    path = f"{contents(store)}{new_id}/"
    reply = contract.api.delete(path)
    contract.match("content-item-delete", reply)
    assert reply.status_line == (200, "Deleted")
    assert reply.body == b""
    contract.deleted(path)
    assert contract.api.get(path).status_line == (404, "Not Found")
    assert contract.api.put(path, item_body("x", "text/plain")).status_line == (404, "Not Found")
    assert contract.api.delete(path).status_line == (404, "Not Found")
    assert set(listed(contract.api.get(contents(store)))) == {kept_id}


@pytest.mark.inferred("I15", basis=f"{LIBRARY_DOC}, 'Collections': a missing member is NotFoundError; Content: type")
@pytest.mark.mutating
def test_one_item_refusals(contract):
    _, store, _ = create_datastore(contract)
    _, second, _ = create_datastore(contract)
    _, new_id, _ = add_item(contract, store, VCARD, "text/x-vcard")
    path = f"{contents(store)}{new_id}/"
    before = contract.api.get(path).body
    reply = contract.api.put(path, item_body("y", None))  # content without a type
    assert reply.status_line == (400, "Bad Request")
    assert contract.api.put(path, b"", headers={"Content-Type": ATOM_TYPE}).status_line == (400, "No Entry provided")
    for missing in (f"{contents(store)}{UNKNOWN}/", f"{contents(second)}{new_id}/"):  # unknown; another store's
        assert contract.api.get(missing).status_line == (404, "Not Found"), missing
        assert contract.api.put(missing, item_body("x", "text/plain")).status_line == (404, "Not Found"), missing
        assert contract.api.delete(missing).status_line == (404, "Not Found"), missing
    assert contract.api.get(path).body == before


@pytest.mark.inferred("I15", basis=OTHER_USERS)
@pytest.mark.mutating
def test_another_users_item_is_forbidden(contract):
    _, store, _ = create_datastore(contract)
    _, new_id, _ = add_item(contract, store, VCARD, "text/x-vcard")
    path = f"{contents(store)}{new_id}/"
    before = contract.api.get(path).body
    assert contract.other.get(path).status_line == (403, "Forbidden")
    assert contract.other.put(path, item_body("x", "text/plain", contract.name("theirs"))).status_line == \
        (403, "Forbidden")
    assert contract.other.delete(path).status_line == (403, "Forbidden")
    assert contract.api.get(path).body == before
