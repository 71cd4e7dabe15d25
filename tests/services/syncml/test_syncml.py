"""SyncML API, /v2/services/syncml/ (routes D6–D15).

Over real HTTP with requests-oauthlib (authlib for the life-cycle test), checking status
codes with their reason phrases, headers and the Atom/oc elements by namespace; the
outbox (`GET /_fake/outbox`) shows what would have reached the phone.
"""
from __future__ import annotations

import pytest
import requests

from tests.helpers import (
    ADMIN_SYNCML_5310,
    ADMIN_SYNCML_5800,
    ATOM,
    ISO_Z,
    OC,
    PLAIN_TIME,
    SYNCML,
    UNKNOWN_UUID,
    authlib_session,
    call,
    link,
    oauth1,
    one,
    run_a_session,
    setup_body,
    syncml_create,
    tag,
    text,
    xml,
    xp,
)

CLIENT_ORDER_PREFIX = ["uuid", "user_id"]
CLIENT_ORDER_SUFFIX = ["phone_number", "model_uuid", "imei", "setup", "timezone"]
ENTRY_ORDER = ["author", "content", "id", "link", "link", "published", "title", "updated", "client"]
NOKIA_6233_UUID = "02978288-537f-102b-beff-000ea60275d1"


def _local(element) -> str:
    return element.xpath("local-name()")


def _outbox(fake, **filters) -> list[dict]:
    r = requests.get(fake.url + "/_fake/outbox", params=filters, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["messages"]


def _freeze(fake, at: str) -> None:
    r = requests.post(fake.url + "/_fake/clock", json={"freeze": True, "set": at}, timeout=30)
    assert r.status_code == 200, r.text


def _create(fake, user: str = "alice", **kw) -> str:
    r = call(fake, "POST", SYNCML, user, syncml_create(**kw))
    assert (r.status_code, r.reason) == (201, "Created"), r.text
    return text(xml(r), "oc:client/oc:uuid")


def _check_entry(entry, base: str, uuid: str, owner: str, email: str) -> None:
    url = f"{base}/v2/services/syncml/{uuid}"
    assert tag(entry) == (ATOM, "entry")
    assert [_local(c) for c in entry] == ENTRY_ORDER
    assert text(entry, "a:author/a:name") == owner
    assert text(entry, "a:author/a:email") == email
    content = one(entry, "a:content")
    assert content.get("src") == url and content.get("type") == "text/html"  # 003: "text/html", not "html"
    assert text(entry, "a:id") == url
    assert link(entry, "self") == url
    alternate = one(entry, "a:link[@rel='alternate']")
    assert alternate.get("href") == url and alternate.get("type") == "text/html"
    assert xp(entry, "a:link[@rel='edit']") == []  # 003's entries have no edit link
    assert ISO_Z.match(text(entry, "a:published")) and ISO_Z.match(text(entry, "a:updated"))
    client = one(entry, "oc:client")
    names = [_local(c) for c in client]
    assert names[:2] == CLIENT_ORDER_PREFIX and names[-5:] == CLIENT_ORDER_SUFFIX
    assert set(names[2:-5]) <= {"datastore"}
    assert text(client, "oc:uuid") == uuid


# --- D6 list ------------------------------------------------------------------------------
def test_list_reproduces_the_documented_feed(fake):
    r = call(fake, "GET", SYNCML, "admin", headers={"Accept": "application/atom+xml"})
    assert (r.status_code, r.reason) == (200, "OK")
    assert r.headers["Content-Type"] == "application/atom+xml"
    feed = xml(r)
    assert tag(feed) == (ATOM, "feed")
    assert text(feed, "a:author/a:name") == "ObexCode AS"
    assert text(feed, "a:id") == fake.url + "/v2/services/syncml/"
    assert link(feed, "self") == fake.url + "/v2/services/syncml/"
    assert text(feed, "a:title") == "SyncML Clients"
    assert text(feed, "a:updated") == "2009-04-28T13:32:59Z"  # the newest entry's

    first, second = xp(feed, "a:entry")
    _check_entry(first, fake.url, ADMIN_SYNCML_5310, "admin", "support@obexcode.com")
    _check_entry(second, fake.url, ADMIN_SYNCML_5800, "admin", "support@obexcode.com")
    assert (text(first, "a:title"), text(second, "a:title")) == ("Nokia 5310 XpressMusic", "Nokia 5800 XpressMusic")
    assert (text(first, "a:published"), text(first, "a:updated")) == ("2009-03-11T16:20:42Z", "2009-03-13T13:25:43Z")
    c1, c2 = one(first, "oc:client"), one(second, "oc:client")
    assert text(c1, "oc:user_id") == "1"
    assert [(d.get("dataclass"), d.get("href"), d.text) for d in xp(c1, "oc:datastore")] == [
        ("Calendar", fake.url + "/v2/services/syncml/datastores/Calendar", "Calendar"),
        ("Contacts", fake.url + "/v2/services/syncml/datastores/Contacts", "Contacts")]
    assert [d.text for d in xp(c2, "oc:datastore")] == ["C:Contacts.cdb", "c:Notepad.dat", "C:Calendar"]
    assert (text(c1, "oc:phone_number"), text(c1, "oc:model_uuid")) == ("+4790981948", "112")
    assert (text(c2, "oc:phone_number"), text(c2, "oc:model_uuid")) == ("+4790066951", "56")
    for c in (c1, c2):
        imei = one(c, "oc:imei")
        assert imei.text is None and len(imei) == 0
    assert (one(c1, "oc:setup").get("sent"), text(c1, "oc:setup")) == ("2009-03-13 13:25:43", "SyncServer")
    assert (one(c2, "oc:setup").get("sent"), text(c2, "oc:setup")) == ("2009-04-24 10:30:26", "NewSyncFrank")
    assert text(c1, "oc:timezone") == "Europe/Oslo"


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_list_holds_only_the_callers_clients(fake, user):
    r = call(fake, "GET", SYNCML, user)
    assert (r.status_code, r.reason) == (200, "OK")
    feed = xml(r)
    assert text(feed, "a:id") == fake.url + "/v2/services/syncml/"
    assert text(feed, "a:title") == "SyncML Clients"
    assert xp(feed, "a:entry") == []


def test_feed_updated_is_the_newest_entrys(fake):
    _freeze(fake, "2011-06-07T08:09:10Z")
    _create(fake, "admin")
    feed = xml(call(fake, "GET", SYNCML, "admin"))
    assert len(xp(feed, "a:entry")) == 3
    assert text(feed, "a:updated") == "2011-06-07T08:09:10Z"


# --- D8 get -------------------------------------------------------------------------------
@pytest.mark.parametrize("slash", ["", "/"])
def test_get_client(fake, slash):
    r = call(fake, "GET", SYNCML + ADMIN_SYNCML_5800 + slash, "admin")
    assert (r.status_code, r.reason) == (200, "OK")
    assert r.headers["Content-Type"] == "application/atom+xml"
    entry = xml(r)
    _check_entry(entry, fake.url, ADMIN_SYNCML_5800, "admin", "support@obexcode.com")
    assert text(entry, "a:title") == "Nokia 5800 XpressMusic"
    assert [d.get("dataclass") for d in xp(entry, "oc:client/oc:datastore")] == ["Contacts", "Notes", "Calendar"]


def test_get_unknown_client_is_404(fake):
    r = call(fake, "GET", SYNCML + UNKNOWN_UUID, "admin")
    assert (r.status_code, r.reason) == (404, "Not Found")


# --- D7 create ----------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["242", NOKIA_6233_UUID])
@pytest.mark.parametrize("user,account_id,email", [("admin", "1", "support@obexcode.com"),
                                                   ("alice", "2", "alice@example.com")])
def test_create_reproduces_the_documented_201(fake, model, user, account_id, email):
    r = call(fake, "POST", SYNCML, user, syncml_create(model=model),
             headers={"Content-Type": "application/atom+xml", "Accept": "application/atom+xml"})
    assert (r.status_code, r.reason) == (201, "Created")
    assert r.headers["Content-Type"] == "application/atom+xml"
    entry = xml(r)
    client = one(entry, "oc:client")
    uuid = text(client, "oc:uuid")
    _check_entry(entry, fake.url, uuid, user, email)
    assert text(entry, "a:title") == "Nokia 6233"  # title = the model's name
    assert text(client, "oc:user_id") == account_id
    assert [_local(c) for c in client] == CLIENT_ORDER_PREFIX + CLIENT_ORDER_SUFFIX  # no datastores yet
    assert text(client, "oc:phone_number") == "+4798765432"
    assert text(client, "oc:model_uuid") == model  # echoed as sent
    imei = one(client, "oc:imei")
    assert imei.text is None and len(imei) == 0 and imei.attrib == {}
    setup = one(client, "oc:setup")
    assert setup.attrib == {"sent": ""} and setup.text is None
    assert text(client, "oc:timezone") == "Europe/Paris"

    got = call(fake, "GET", SYNCML + uuid, user)
    assert (got.status_code, got.reason) == (200, "OK")
    assert text(xml(got), "oc:client/oc:model_uuid") == model
    listed = xml(call(fake, "GET", SYNCML, user))
    assert uuid in [u.text for u in xp(listed, "a:entry/oc:client/oc:uuid")]


@pytest.mark.parametrize("model", ["999999", "12345678-1234-1234-1234-123456789abc"])
def test_create_with_an_unknown_model_is_400_and_creates_nothing(fake, model):
    before = fake.app.world.to_dict()
    r = call(fake, "POST", SYNCML, "alice", syncml_create(model=model))
    assert (r.status_code, r.reason) == (400, "Bad Request")
    assert model in r.text
    assert fake.app.world.to_dict() == before
    assert xp(xml(call(fake, "GET", SYNCML, "alice")), "a:entry") == []


@pytest.mark.parametrize("timezone", ['Europe/Oslo"', "Mars/Olympus"])
def test_create_with_an_unknown_timezone_is_400(fake, timezone):
    before = fake.app.world.to_dict()
    r = call(fake, "POST", SYNCML, "alice", syncml_create(timezone=timezone))
    assert (r.status_code, r.reason) == (400, "Bad Request")
    assert "timezone" in r.text
    assert fake.app.world.to_dict() == before


def test_create_with_the_non_iana_zone_localtime_is_400(fake):
    before = fake.app.world.to_dict()
    r = call(fake, "POST", SYNCML, "alice", syncml_create(timezone="localtime"))
    assert (r.status_code, r.reason) == (400, "Bad Request")
    assert fake.app.world.to_dict() == before


def test_create_without_body_is_400_no_entry_provided(fake):
    before = fake.app.world.to_dict()
    r = call(fake, "POST", SYNCML, "alice", b"")
    assert (r.status_code, r.reason) == (400, "No Entry provided")
    assert fake.app.world.to_dict() == before


# --- D9 delete ----------------------------------------------------------------------------
@pytest.mark.parametrize("slash", ["", "/"])
def test_delete_is_200_ok_with_an_empty_body(fake, slash):
    uuid = _create(fake, "bob")
    r = call(fake, "DELETE", SYNCML + uuid + slash, "bob",
             headers={"Content-Type": "application/atom+xml", "Accept": "application/atom+xml"})
    assert (r.status_code, r.reason) == (200, "OK")
    assert r.content == b"" and r.headers.get("Content-Length") == "0"
    assert uuid not in fake.app.world.clients
    assert call(fake, "GET", SYNCML + uuid, "bob").status_code == 404


def test_delete_the_documented_client(fake):
    r = call(fake, "DELETE", SYNCML + ADMIN_SYNCML_5310, "admin")
    assert (r.status_code, r.reason, r.content) == (200, "OK", b"")
    feed = xml(call(fake, "GET", SYNCML, "admin"))
    assert [u.text for u in xp(feed, "a:entry/oc:client/oc:uuid")] == [ADMIN_SYNCML_5800]


# --- D10 setup ----------------------------------------------------------------------------
def test_setup_reproduces_the_documented_201_and_sends_the_sms(fake):
    _freeze(fake, "2008-08-15T16:13:03Z")  # the instant 003's example shows
    r = call(fake, "POST", SYNCML + ADMIN_SYNCML_5310 + "/setup/", "admin", setup_body("1234"))
    assert (r.status_code, r.reason) == (201, "Created")
    assert r.headers["Content-Type"] == "application/atom+xml"
    entry = xml(r)
    assert tag(entry) == (ATOM, "entry")
    assert [(etree_ns(c), _local(c)) for c in entry] == [(ATOM, "id"), (OC, "pincode"), (OC, "setup")]
    assert text(entry, "a:id") == f"{fake.url}/v2/services/syncml/{ADMIN_SYNCML_5310}/setup/1/"
    assert text(entry, "oc:pincode") == "1234"
    setup = one(entry, "oc:setup")
    assert setup.get("sent") == "2008-08-15T16:13:03Z" and ISO_Z.match(setup.get("sent"))
    assert setup.text == "SyncServer"

    # Inside the client entry `sent` is `YYYY-MM-DD HH:MM:SS` (003).
    client = one(xml(call(fake, "GET", SYNCML + ADMIN_SYNCML_5310, "admin")), "oc:client")
    sent = one(client, "oc:setup").get("sent")
    assert sent == "2008-08-15 16:13:03" and PLAIN_TIME.match(sent)

    (sms,) = _outbox(fake, kind="setup-sms")
    assert sms["to"] == "+4790981948"
    assert "1234" in sms["body"]
    assert sms["client"] == ADMIN_SYNCML_5310
    assert sms["time"] == "2008-08-15T16:13:03Z"


def test_setup_numbers_grow_and_reach_a_new_client(fake):
    uuid = _create(fake, "alice", phone="+4711122233", model="242")
    ids = []
    for pin in ("1111", "22222"):
        r = call(fake, "POST", SYNCML + uuid + "/setup", "alice", setup_body(pin))
        assert (r.status_code, r.reason) == (201, "Created")
        assert text(xml(r), "oc:pincode") == pin
        ids.append(text(xml(r), "a:id"))
    assert ids == [f"{fake.url}/v2/services/syncml/{uuid}/setup/1/", f"{fake.url}/v2/services/syncml/{uuid}/setup/2/"]
    setup = one(xml(call(fake, "GET", SYNCML + uuid, "alice")), "oc:client/oc:setup")
    assert PLAIN_TIME.match(setup.get("sent")) and setup.text
    messages = _outbox(fake, to="+4711122233")
    assert [m["kind"] for m in messages] == ["setup-sms", "setup-sms"]
    assert "1111" in messages[0]["body"] and "22222" in messages[1]["body"]


def test_setup_without_pincode_is_400_and_sends_nothing(fake):
    before = fake.app.world.to_dict()
    r = call(fake, "POST", SYNCML + ADMIN_SYNCML_5310 + "/setup/", "admin", f'<entry xmlns="{ATOM}"/>')
    assert (r.status_code, r.reason) == (400, "Bad Request")
    r = call(fake, "POST", SYNCML + ADMIN_SYNCML_5310 + "/setup/", "admin", b"")
    assert (r.status_code, r.reason) == (400, "No Entry provided")
    assert fake.app.world.to_dict() == before
    assert _outbox(fake) == []


# --- D11 server-initiated sync ---------------------------------------------------------------
@pytest.mark.parametrize("headers", [{"Content-Type": "application/atom+xml"}, {}], ids=["typed", "untyped"])
def test_sync_is_200_ok_with_no_content_and_pushes_a_server_alert(fake, headers):
    r = requests.post(f"{fake.url}{SYNCML}{ADMIN_SYNCML_5800}/sync/", data=b"", headers=headers,
                      auth=oauth1("admin"), allow_redirects=False, timeout=30)
    assert (r.status_code, r.reason) == (200, "Ok")  # 003 writes "Ok"
    assert r.headers["Content-Length"] == "0"
    assert r.headers["Content-Type"] == "application/atom+xml"
    assert r.content == b""
    (alert,) = _outbox(fake)
    assert alert["kind"] == "server-alert"
    assert alert["to"] == "+4790066951"
    assert alert["client"] == ADMIN_SYNCML_5800


@pytest.mark.parametrize("model,name", [("401", "Samsung SGH-E250"), ("501", "HTC Touch Diamond"),
                                        ("42e21575-efc7-558a-ba3a-cc41def47404", "Samsung SGH-E250")])
def test_sync_on_a_model_without_server_initiated_sync_is_refused(fake, model, name):
    uuid = _create(fake, "alice", phone="+4712345678", model=model)
    assert text(xml(call(fake, "GET", SYNCML + uuid, "alice")), "a:title") == name
    before = fake.app.world.to_dict()
    r = call(fake, "POST", SYNCML + uuid + "/sync/", "alice")
    assert 400 <= r.status_code < 500
    assert (r.status_code, r.reason) == (400, "Server initiated sync not supported")
    assert name in r.text
    assert _outbox(fake) == []
    assert fake.app.world.to_dict() == before


# --- D15 no PUT -----------------------------------------------------------------------------
@pytest.mark.parametrize("slash", ["", "/"])
def test_put_is_405_with_an_allow_header_without_put(fake, slash):
    before = fake.app.world.to_dict()
    r = call(fake, "PUT", SYNCML + ADMIN_SYNCML_5310 + slash, "admin", syncml_create())
    assert (r.status_code, r.reason) == (405, "Method Not Allowed")
    allowed = {m.strip() for m in r.headers["Allow"].split(",")}
    assert "PUT" not in allowed
    assert {"GET", "DELETE"} <= allowed
    assert fake.app.world.to_dict() == before


def test_any_405_on_a_client_url_never_advertises_put(fake):
    r = call(fake, "POST", SYNCML + ADMIN_SYNCML_5310, "admin")
    assert (r.status_code, r.reason) == (405, "Method Not Allowed")
    assert "PUT" not in {m.strip() for m in r.headers["Allow"].split(",")}


# --- D12–D14 sessions, chatlog, datastores ----------------------------------------------------
@pytest.mark.parametrize("user", ["alice", "bob", "admin"])
def test_sessions_feed(fake, user):
    r = call(fake, "GET", SYNCML + "sessions/", user)
    assert (r.status_code, r.reason) == (200, "OK")
    assert r.headers["Content-Type"] == "application/atom+xml"
    feed = xml(r)
    assert tag(feed) == (ATOM, "feed")
    assert text(feed, "a:id") == fake.url + "/v2/services/syncml/sessions/"
    assert link(feed, "self") == fake.url + "/v2/services/syncml/sessions/"
    assert text(feed, "a:author/a:name") == "ObexCode AS"
    assert xp(feed, "a:entry") == []


@pytest.mark.parametrize("path", ["sessions/chatlog/", "sessions/1/chatlog/", "sessions/chatlog"])
@pytest.mark.parametrize("user", ["alice", "bob"])
def test_chatlog_is_403_for_non_administrators(fake, user, path):
    run_a_session(fake)
    r = call(fake, "GET", SYNCML + path, user)
    assert (r.status_code, r.reason) == (403, "Forbidden")
    assert "administrators" in r.text


@pytest.mark.parametrize("path", ["sessions/chatlog/", "sessions/1/chatlog/"])
def test_chatlog_is_200_for_the_administrator(fake, path):
    if "/1/" in path:
        run_a_session(fake)
    r = call(fake, "GET", SYNCML + path, "admin")
    assert (r.status_code, r.reason) == (200, "OK")
    assert r.headers["Content-Type"] == "application/atom+xml"
    feed = xml(r)
    assert tag(feed) == (ATOM, "feed")
    assert text(feed, "a:id") == fake.url + SYNCML + path
    assert link(feed, "self") == fake.url + SYNCML + path


@pytest.mark.parametrize("user", ["alice", "admin"])
@pytest.mark.parametrize("slash", ["/", ""])
def test_datastores_is_501_not_implemented_yet(fake, user, slash):
    r = call(fake, "GET", SYNCML + "datastores" + slash, user)
    assert (r.status_code, r.reason) == (501, "Not implemented yet")


# --- another user's client: 403 everywhere -------------------------------------------------
@pytest.mark.parametrize("method,suffix,body", [
    ("GET", "", None), ("GET", "/", None), ("DELETE", "", None),
    ("POST", "/setup/", setup_body()), ("POST", "/sync/", None),
], ids=["get", "get-slash", "delete", "setup", "sync"])
@pytest.mark.parametrize("user", ["alice", "bob"])
def test_another_users_client_is_403_and_nothing_changes(fake, user, method, suffix, body):
    before = fake.app.world.to_dict()
    r = call(fake, method, SYNCML + ADMIN_SYNCML_5310 + suffix, user, body)
    assert (r.status_code, r.reason) == (403, "Forbidden")
    assert b"+4790981948" not in r.content
    assert fake.app.world.to_dict() == before
    assert _outbox(fake) == []


def test_alices_client_is_forbidden_to_bob_and_admin(fake):
    uuid = _create(fake, "alice")
    for user in ("bob", "admin"):
        r = call(fake, "GET", SYNCML + uuid, user)
        assert (r.status_code, r.reason) == (403, "Forbidden")
    assert uuid not in [u.text for u in xp(xml(call(fake, "GET", SYNCML, "admin")), "a:entry/oc:client/oc:uuid")]


# --- in-process and authlib ------------------------------------------------------------------
def test_in_process_create_setup_and_sync(wsgi, app):
    c = wsgi("alice")
    r = c.post(SYNCML, syncml_create(model="242"))
    assert (r.status, r.reason) == (201, "Created")
    entry = xml(r.body)
    uuid = text(entry, "oc:client/oc:uuid")
    assert text(entry, "a:id") == f"http://localhost/v2/services/syncml/{uuid}"
    r = c.post(f"{SYNCML}{uuid}/setup/", setup_body("9876"))
    assert (r.status, r.reason) == (201, "Created")
    assert text(xml(r.body), "a:id") == f"http://localhost/v2/services/syncml/{uuid}/setup/1/"
    r = c.post(f"{SYNCML}{uuid}/sync/")
    assert (r.status, r.reason, r.body) == (200, "Ok", b"")
    assert [m.kind for m in app.world.outbox.messages(to="+4798765432")] == ["setup-sms", "server-alert"]
    r = c.request("PUT", SYNCML + uuid, syncml_create())
    assert r.status == 405 and "PUT" not in r.headers["Allow"]


def test_life_cycle_with_authlib(fake):
    with authlib_session("bob") as s:
        atom_xml = {"Content-Type": "application/atom+xml"}
        r = s.post(fake.url + SYNCML, data=syncml_create(phone="+4799988877", model=NOKIA_6233_UUID),
                   headers=atom_xml, allow_redirects=False)
        assert (r.status_code, r.reason) == (201, "Created"), r.text
        uuid = text(xml(r), "oc:client/oc:uuid")
        assert text(xml(r), "oc:client/oc:user_id") == "3"

        r = s.post(f"{fake.url}{SYNCML}{uuid}/setup/", data=setup_body("4321"), headers=atom_xml,
                   allow_redirects=False)
        assert (r.status_code, r.reason) == (201, "Created")
        assert text(xml(r), "oc:pincode") == "4321"

        r = s.post(f"{fake.url}{SYNCML}{uuid}/sync/", allow_redirects=False)
        assert (r.status_code, r.reason, r.content) == (200, "Ok", b"")
        assert [m["kind"] for m in _outbox(fake, to="+4799988877")] == ["setup-sms", "server-alert"]

        r = s.get(fake.url + SYNCML + "sessions/chatlog/", allow_redirects=False)
        assert (r.status_code, r.reason) == (403, "Forbidden")
        r = s.get(fake.url + SYNCML + "datastores/", allow_redirects=False)
        assert (r.status_code, r.reason) == (501, "Not implemented yet")

        r = s.delete(fake.url + SYNCML + uuid, allow_redirects=False)
        assert (r.status_code, r.reason, r.content) == (200, "OK", b"")
        r = s.get(fake.url + SYNCML + uuid, allow_redirects=False)
        assert r.status_code == 404


def etree_ns(element) -> str:
    return element.xpath("namespace-uri()")
