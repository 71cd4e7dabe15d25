"""Google Data Client API, /v2/services/google/ (routes D1–D5).

Every test talks to the running fake over HTTP with an independent OAuth client
(requests-oauthlib, authlib, or a header built with plain oauthlib) and checks status code,
reason phrase, headers and the Atom/oc elements by namespace; a few run in-process.
"""
from __future__ import annotations

import pytest
import requests

from ocss_testkit.app import FakeApp
from ocss_testkit.client import Credentials, SignedClient
from tests.helpers import (
    ADMIN_GDATA,
    ATOM,
    DEMO_GDATA_SECRETS,
    GOOGLE,
    ISO_Z,
    OC,
    UNKNOWN_UUID,
    authlib_session,
    call,
    gdata_create,
    gdata_update,
    link,
    oauth1,
    one,
    signed_headers,
    tag,
    text,
    xml,
    xp,
)

ENTRY_ORDER = ["author", "content", "id", "link", "link", "link", "published", "title", "updated", "client"]


def _create(fake, user: str, user_id: str, **kw) -> str:
    r = call(fake, "POST", GOOGLE, user, gdata_create(user_id, **kw))
    assert (r.status_code, r.reason) == (201, "Created"), r.text
    return text(xml(r), "oc:client/oc:uuid")


def _freeze(fake, at: str) -> None:
    r = requests.post(fake.url + "/_fake/clock", json={"freeze": True, "set": at}, timeout=30)
    assert r.status_code == 200, r.text


def _check_entry_head(entry, base: str, uuid: str, owner: str, email: str) -> None:
    url = f"{base}/v2/services/google/{uuid}"
    assert tag(entry) == (ATOM, "entry")
    assert [etree_local(c) for c in entry] == ENTRY_ORDER
    assert text(entry, "a:author/a:name") == owner
    assert text(entry, "a:author/a:email") == email
    content = one(entry, "a:content")
    assert content.get("src") == url and content.get("type") == "html"  # 001: "html", not "text/html"
    assert text(entry, "a:id") == url
    assert link(entry, "self") == url
    assert link(entry, "edit") == url + "/edit"
    alternate = one(entry, "a:link[@rel='alternate']")
    assert alternate.get("href") == url and alternate.get("type") == "text/html"
    assert ISO_Z.match(text(entry, "a:published")) and ISO_Z.match(text(entry, "a:updated"))
    assert text(entry, "oc:client/oc:uuid") == uuid


def etree_local(element) -> str:
    return element.xpath("local-name()")


# --- D1 list ------------------------------------------------------------------------------
def test_list_reproduces_the_documented_feed(fake):
    r = call(fake, "GET", GOOGLE, "admin", headers={"Accept": "application/atom+xml"})
    assert (r.status_code, r.reason) == (200, "OK")
    assert r.headers["Content-Type"] == "application/atom+xml"
    feed = xml(r)
    assert tag(feed) == (ATOM, "feed")
    assert text(feed, "a:author/a:name") == "ObexCode AS"
    feed_url = fake.url + "/v2/services/google/all.xml"  # 001 lists under all.xml
    assert text(feed, "a:id") == feed_url
    assert link(feed, "self") == feed_url
    assert text(feed, "a:title") == "Google Data Clients"
    assert text(feed, "a:updated") == "2009-05-26T13:09:47Z"

    (entry,) = xp(feed, "a:entry")
    _check_entry_head(entry, fake.url, ADMIN_GDATA, "admin", "support@obexcode.com")
    assert text(entry, "a:published") == "2009-05-26T12:59:39Z"
    assert text(entry, "a:title") == "some_user@gmail.com"
    client = one(entry, "oc:client")
    assert text(client, "oc:user_id") == "some_user@gmail.com"
    stores = xp(client, "oc:datastore")
    assert [(d.get("dataclass"), d.get("name")) for d in stores] == [("Calendar", "Test"), ("Contacts", "Test")]
    assert stores[0].get("href") == ("http://www.google.com/calendar/feeds/"
                                     "e0an755fcc57j0a25ptli0d22g%40group.calendar.google.com/private/full")
    for d in stores:
        token = one(d, "oc:token")
        assert text(token, "oc:type") == "2"
        assert xp(token, "oc:token_type") == []
        assert xp(token, "oc:key") == [] and xp(token, "oc:secret") == []
    assert [s.text for s in xp(stores[0], "oc:token/oc:scope")] == [
        "https://www.google.com/calendar/feeds/", "http://www.google.com/calendar/feeds/"]
    assert [s.text for s in xp(stores[1], "oc:token/oc:scope")] == [
        "https://www.google.com/m8/feeds/", "http://www.google.com/m8/feeds/"]
    for secret in DEMO_GDATA_SECRETS:  # "not revealed when listing the client" (001)
        assert secret.encode() not in r.content


def test_list_holds_only_the_callers_clients(fake):
    r = call(fake, "GET", GOOGLE, "alice")
    assert (r.status_code, r.reason) == (200, "OK")
    feed = xml(r)
    assert text(feed, "a:id") == fake.url + "/v2/services/google/all.xml"
    assert text(feed, "a:title") == "Google Data Clients"
    assert xp(feed, "a:entry") == []
    assert ADMIN_GDATA.encode() not in r.content


def test_feed_updated_is_the_newest_entrys_not_the_last_created(fake):
    # A client created "in 2001" is older than the demo client updated 2009-05-26T13:09:47Z.
    _freeze(fake, "2001-01-01T00:00:00Z")
    _create(fake, "admin", "old@gmail.com")
    feed = xml(call(fake, "GET", GOOGLE, "admin"))
    assert len(xp(feed, "a:entry")) == 2
    assert text(feed, "a:updated") == "2009-05-26T13:09:47Z"
    _freeze(fake, "2010-02-03T04:05:06Z")
    _create(fake, "admin", "new@gmail.com")
    feed = xml(call(fake, "GET", GOOGLE, "admin"))
    updated = sorted(e.text for e in xp(feed, "a:entry/a:updated"))
    assert updated[-1] == "2010-02-03T04:05:06Z"
    assert text(feed, "a:updated") == "2010-02-03T04:05:06Z"


# --- D3 get -------------------------------------------------------------------------------
@pytest.mark.parametrize("slash", ["/", ""])
def test_get_client(fake, slash):
    r = call(fake, "GET", GOOGLE + ADMIN_GDATA + slash, "admin", headers={"Accept": "application/atom+xml"})
    assert (r.status_code, r.reason) == (200, "OK")
    assert r.headers["Content-Type"] == "application/atom+xml"
    entry = xml(r)
    _check_entry_head(entry, fake.url, ADMIN_GDATA, "admin", "support@obexcode.com")
    assert text(entry, "a:title") == "some_user@gmail.com"
    assert text(entry, "a:updated") == "2009-05-26T13:09:47Z"
    assert [d.get("dataclass") for d in xp(entry, "oc:client/oc:datastore")] == ["Calendar", "Contacts"]
    assert xp(entry, "//oc:key | //oc:secret") == []
    for secret in DEMO_GDATA_SECRETS:
        assert secret.encode() not in r.content


def test_get_unknown_client_is_404_no_such_google_client(fake):
    r = call(fake, "GET", GOOGLE + UNKNOWN_UUID + "/", "admin")
    assert (r.status_code, r.reason) == (404, "No such Google client.")


def test_get_a_syncml_client_through_the_google_api_is_404(fake):
    r = call(fake, "GET", GOOGLE + "2fb295cc-0e50-11de-81c8-002215064801/", "admin")
    assert (r.status_code, r.reason) == (404, "No such Google client.")


# --- D2 create ----------------------------------------------------------------------------
def test_create_reproduces_the_documented_201(fake):
    before = len(fake.app.world.clients)
    r = call(fake, "POST", GOOGLE, "alice", gdata_create("some_other@gmail.com"),
             headers={"Content-Type": "application/atom+xml", "Accept": "application/atom+xml"})
    assert (r.status_code, r.reason) == (201, "Created")
    assert r.headers["Content-Type"] == "application/atom+xml"
    entry = xml(r)
    uuid = text(entry, "oc:client/oc:uuid")
    _check_entry_head(entry, fake.url, uuid, "alice", "alice@example.com")
    assert text(entry, "a:title") == "some_other@gmail.com"
    assert text(entry, "a:published") == text(entry, "a:updated")
    assert text(entry, "oc:client/oc:user_id") == "some_other@gmail.com"
    (store,) = xp(entry, "oc:client/oc:datastore")
    href = "http://google_something.com/some_other@gmail.com/calendar#Test"
    assert store.get("dataclass") == "Calendar" and store.get("href") == href
    # "the name attribute can be omitted, in which case the dataclass will be used" (001)
    assert store.get("name") == "Calendar"
    token = one(store, "oc:token")
    # 001's 201 echoes the token as sent: token_type, key and secret included.
    assert [etree_local(c) for c in token] == ["token_type", "key", "secret", "scope"]
    assert text(token, "oc:token_type") == "2"
    assert text(token, "oc:key") == "secret_key"
    assert text(token, "oc:secret") == "secret_secret"
    assert text(token, "oc:scope") == href
    assert len(fake.app.world.clients) == before + 1


@pytest.mark.parametrize("type_tag", ["type", "token_type"])
def test_create_echoes_type_or_token_type_as_sent(fake, type_tag):
    r = call(fake, "POST", GOOGLE, "bob", gdata_create("bob@gmail.com", type_tag=type_tag, name="Work",
                                                       key="k-" + type_tag, secret="s-" + type_tag))
    assert (r.status_code, r.reason) == (201, "Created")
    token = one(xml(r), "oc:client/oc:datastore[@name='Work']/oc:token")
    other = {"type": "token_type", "token_type": "type"}[type_tag]
    assert text(token, f"oc:{type_tag}") == "2"
    assert xp(token, f"oc:{other}") == []
    assert (text(token, "oc:key"), text(token, "oc:secret")) == ("k-" + type_tag, "s-" + type_tag)


def test_get_and_list_never_reveal_key_or_secret_after_create(fake):
    uuid = _create(fake, "alice", "hidden@gmail.com", key="ALICE-KEY-1234", secret="ALICE-SECRET-5678",
                   type_tag="token_type")
    for path in (GOOGLE, GOOGLE + uuid + "/", GOOGLE + uuid):
        r = call(fake, "GET", path, "alice")
        assert (r.status_code, r.reason) == (200, "OK")
        assert b"ALICE-KEY-1234" not in r.content and b"ALICE-SECRET-5678" not in r.content
        token = one(xml(r), "//oc:datastore/oc:token")
        # Listing shows <type> (docs/decisions.md, "Where the docs disagree"), whatever the request used.
        assert text(token, "oc:type") == "2" and xp(token, "oc:token_type") == []
        assert xp(token, "oc:key | oc:secret") == []


@pytest.mark.parametrize("headers", [{"Content-Type": "application/atom+xml"}, {}], ids=["typed", "untyped"])
def test_create_without_body_is_400_no_entry_provided(fake, headers):
    before = fake.app.world.to_dict()
    r = requests.post(fake.url + GOOGLE, data=b"", headers=headers, auth=oauth1("alice"), timeout=30)
    assert (r.status_code, r.reason) == (400, "No Entry provided")
    assert fake.app.world.to_dict() == before


@pytest.mark.parametrize("body", [
    f'<entry xmlns="{ATOM}"/>',
    f'<entry xmlns="{ATOM}"><title>no client here</title></entry>',
    f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:user_id>x@gmail.com</oc:user_id></entry>',
], ids=["empty-entry", "atom-only", "oc-without-client"])
def test_create_entry_without_client_is_400_no_entry_provided(fake, body):
    before = fake.app.world.to_dict()
    r = call(fake, "POST", GOOGLE, "alice", body)
    assert (r.status_code, r.reason) == (400, "No Entry provided")
    assert fake.app.world.to_dict() == before


@pytest.mark.parametrize("user", ["admin", "alice"])
def test_create_for_a_registered_gdata_user_is_400_already_registered(fake, user):
    before = fake.app.world.to_dict()
    r = call(fake, "POST", GOOGLE, user, gdata_create("some_user@gmail.com"))
    assert (r.status_code, r.reason) == (400, "Google client already registered")
    assert fake.app.world.to_dict() == before


def test_create_twice_is_400_already_registered_the_second_time(fake):
    _create(fake, "bob", "twice@gmail.com")
    before = fake.app.world.to_dict()
    r = call(fake, "POST", GOOGLE, "bob", gdata_create("twice@gmail.com", dataclass="Contacts"))
    assert (r.status_code, r.reason) == (400, "Google client already registered")
    assert fake.app.world.to_dict() == before


# --- D4 update ----------------------------------------------------------------------------
def test_put_adds_a_datastore_and_answers_200_updated_in_text_form(fake):
    uuid = _create(fake, "alice", "merge@gmail.com", href="http://google_something.com/merge#Test")
    r = call(fake, "PUT", GOOGLE + uuid + "/", "alice",
             gdata_update(user_id="merge@gmail.com", key="PUT-KEY-42", secret="PUT-SECRET-42"))
    assert (r.status_code, r.reason) == (200, "Updated")
    assert r.headers["Content-Type"] == "application/atom+xml"
    entry = xml(r)
    _check_entry_head(entry, fake.url, uuid, "alice", "alice@example.com")
    stores = xp(entry, "oc:client/oc:datastore")
    # 001's 200 Updated: <datastore dataclass= href=>Name</datastore>, no token, no name attribute.
    assert [(d.get("dataclass"), d.get("href"), d.text) for d in stores] == [
        ("Calendar", "http://google_something.com/merge#Test", "Calendar"),
        ("Contacts", "http://google_something.com/some_user@gmail.com#Friends", "Contacts")]
    for d in stores:
        assert len(d) == 0 and d.get("name") is None
    assert b"PUT-KEY-42" not in r.content and b"PUT-SECRET-42" not in r.content

    got = xml(call(fake, "GET", GOOGLE + uuid, "alice"))
    assert [(d.get("dataclass"), d.get("name")) for d in xp(got, "oc:client/oc:datastore")] == [
        ("Calendar", "Calendar"), ("Contacts", "Contacts")]
    assert [t.text for t in xp(got, "oc:client/oc:datastore/oc:token/oc:type")] == ["2", "2"]
    state = next(c for c in fake.app.world.to_dict()["clients"] if c["uuid"] == uuid)
    assert [d["token"]["secret"] for d in state["datastores"]] == ["secret_secret", "PUT-SECRET-42"]


def test_put_the_documented_update_on_the_demo_client(fake):
    r = call(fake, "PUT", GOOGLE + ADMIN_GDATA + "/", "admin", gdata_update(user_id="some_user@gmail.com"))
    assert (r.status_code, r.reason) == (200, "Updated")
    stores = xp(xml(r), "oc:client/oc:datastore")
    # Calendar kept as it was; the Contacts definition (one per dataclass) is the new one.
    assert [(d.get("dataclass"), d.text) for d in stores] == [("Calendar", "Test"), ("Contacts", "Contacts")]
    assert stores[1].get("href") == "http://google_something.com/some_user@gmail.com#Friends"


def test_put_on_the_collection_with_oc_uuid_in_the_body(fake):
    uuid = _create(fake, "bob", "collection@gmail.com")
    r = call(fake, "PUT", GOOGLE, "bob", gdata_update(uuid=uuid))
    assert (r.status_code, r.reason) == (200, "Updated")
    entry = xml(r)
    assert text(entry, "a:id") == f"{fake.url}/v2/services/google/{uuid}"
    assert [d.get("dataclass") for d in xp(entry, "oc:client/oc:datastore")] == ["Calendar", "Contacts"]


def test_put_follows_the_rel_edit_link(fake):
    uuid = _create(fake, "bob", "edit@gmail.com")
    edit = link(xml(call(fake, "GET", GOOGLE + uuid + "/", "bob")), "edit")
    assert edit == f"{fake.url}/v2/services/google/{uuid}/edit"
    r = call(fake, "PUT", edit[len(fake.url):], "bob", gdata_update())
    assert (r.status_code, r.reason) == (200, "Updated")
    assert len(xp(xml(r), "oc:client/oc:datastore")) == 2


@pytest.mark.parametrize("body", [None, gdata_update(user_id="some_user@gmail.com")], ids=["no-body", "no-uuid"])
def test_put_on_the_collection_without_an_id_is_400_no_client_id_provided(fake, body):
    before = fake.app.world.to_dict()
    r = call(fake, "PUT", GOOGLE, "admin", body)
    assert (r.status_code, r.reason) == (400, "No client ID provided")
    assert fake.app.world.to_dict() == before


def test_put_on_an_item_without_body_is_400_no_entry_provided(fake):
    before = fake.app.world.to_dict()
    r = call(fake, "PUT", GOOGLE + ADMIN_GDATA + "/", "admin")
    assert (r.status_code, r.reason) == (400, "No Entry provided")
    assert fake.app.world.to_dict() == before


def test_put_with_an_empty_client_is_400_no_entry_provided(fake):
    before = fake.app.world.to_dict()
    r = call(fake, "PUT", GOOGLE + ADMIN_GDATA + "/", "admin",
             f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client/></entry>')
    assert (r.status_code, r.reason) == (400, "No Entry provided")
    assert fake.app.world.to_dict() == before


@pytest.mark.parametrize("path,body", [
    (GOOGLE + UNKNOWN_UUID + "/", gdata_update()),
    (GOOGLE + UNKNOWN_UUID, gdata_update()),
    (GOOGLE, gdata_update(uuid=UNKNOWN_UUID)),
], ids=["item", "item-no-slash", "collection"])
def test_put_unknown_id_is_404_no_such_client_id(fake, path, body):
    before = fake.app.world.to_dict()
    r = call(fake, "PUT", path, "admin", body)
    assert (r.status_code, r.reason) == (404, "No such client ID")
    assert fake.app.world.to_dict() == before


# --- D5 delete ----------------------------------------------------------------------------
@pytest.mark.parametrize("slash", ["/", ""])
def test_delete_is_200_deleted_with_an_empty_body(fake, slash):
    uuid = _create(fake, "alice", "gone@gmail.com")
    r = call(fake, "DELETE", GOOGLE + uuid + slash, "alice")
    assert (r.status_code, r.reason) == (200, "Deleted")
    assert r.content == b""
    assert r.headers.get("Content-Length") == "0"
    assert uuid not in fake.app.world.clients
    assert (call(fake, "GET", GOOGLE + uuid + "/", "alice").status_code) == 404
    assert xp(xml(call(fake, "GET", GOOGLE, "alice")), "a:entry") == []


def test_delete_on_the_collection_is_400_no_client_id_provided(fake):
    before = fake.app.world.to_dict()
    r = call(fake, "DELETE", GOOGLE, "admin")
    assert (r.status_code, r.reason) == (400, "No client ID provided")
    assert fake.app.world.to_dict() == before


def test_delete_unknown_id_is_404_no_such_client_id(fake):
    before = fake.app.world.to_dict()
    r = call(fake, "DELETE", GOOGLE + UNKNOWN_UUID + "/", "admin")
    assert (r.status_code, r.reason) == (404, "No such client ID")
    assert fake.app.world.to_dict() == before


# --- another user's client: 403 (001 "Attempt at ... another user") -----------------------------
@pytest.mark.parametrize("method,path,body", [
    ("GET", GOOGLE + ADMIN_GDATA + "/", None),
    ("GET", GOOGLE + ADMIN_GDATA, None),
    ("PUT", GOOGLE + ADMIN_GDATA + "/", gdata_update()),
    ("PUT", GOOGLE, gdata_update(uuid=ADMIN_GDATA)),
    ("DELETE", GOOGLE + ADMIN_GDATA + "/", None),
], ids=["get", "get-no-slash", "put", "put-collection", "delete"])
@pytest.mark.parametrize("user", ["alice", "bob"])
def test_another_users_client_is_403_and_nothing_changes(fake, user, method, path, body):
    before = fake.app.world.to_dict()
    r = call(fake, method, path, user, body)
    assert (r.status_code, r.reason) == (403, "Forbidden")
    for secret in DEMO_GDATA_SECRETS:
        assert secret.encode() not in r.content
    assert fake.app.world.to_dict() == before


# --- absolute ids and links ------------------------------------------------------------------
def test_ids_and_links_follow_the_host_header(fake):
    """Signed for http://api.obexcode.com/… and sent with that Host: the docs' own URLs come back."""
    for path in (GOOGLE, GOOGLE + ADMIN_GDATA + "/"):
        headers = signed_headers("admin", "GET", "http://api.obexcode.com" + path)
        r = requests.get(fake.url + path, headers={**headers, "Host": "api.obexcode.com"}, timeout=30)
        assert (r.status_code, r.reason) == (200, "OK"), r.text
        doc = xml(r)
        entry = doc if path != GOOGLE else one(doc, "a:entry")
        url = "http://api.obexcode.com/v2/services/google/4f1d2dd0-49e4-11de-b387-002215064801"
        assert text(entry, "a:id") == url
        assert link(entry, "edit") == url + "/edit"
        assert one(entry, "a:content").get("src") == url
        if path == GOOGLE:
            assert text(doc, "a:id") == "http://api.obexcode.com/v2/services/google/all.xml"
        assert b"127.0.0.1" not in r.content


def test_in_process_links_come_from_the_request_host(wsgi):
    r = wsgi("admin").get(GOOGLE)
    assert (r.status, r.reason) == (200, "OK")
    feed = xml(r.body)
    assert text(feed, "a:id") == "http://localhost/v2/services/google/all.xml"
    assert text(feed, "a:entry/a:id") == f"http://localhost/v2/services/google/{ADMIN_GDATA}"


def test_in_process_links_come_from_the_configured_base_url():
    app = FakeApp(base_url="https://sync.example.test/api")
    c = SignedClient(app, Credentials.of(app, "bob"))
    created = c.post(GOOGLE, gdata_create("based@gmail.com"))
    assert (created.status, created.reason) == (201, "Created")
    entry = xml(created.body)
    uuid = text(entry, "oc:client/oc:uuid")
    url = f"https://sync.example.test/api/v2/services/google/{uuid}"
    assert text(entry, "a:id") == url
    assert link(entry, "self") == url and link(entry, "edit") == url + "/edit"
    feed = xml(c.get(GOOGLE).body)
    assert text(feed, "a:id") == "https://sync.example.test/api/v2/services/google/all.xml"
    assert link(feed, "self") == "https://sync.example.test/api/v2/services/google/all.xml"
    updated = c.put(f"{GOOGLE}{uuid}/", gdata_update())
    assert (updated.status, updated.reason) == (200, "Updated")
    assert text(xml(updated.body), "a:id") == url
    deleted = c.delete(f"{GOOGLE}{uuid}/")
    assert (deleted.status, deleted.reason, deleted.body) == (200, "Deleted", b"")


def test_in_process_errors_keep_their_documented_reasons(wsgi):
    c = wsgi("alice")
    assert (c.get(GOOGLE + UNKNOWN_UUID + "/").reason) == "No such Google client."
    r = c.delete(GOOGLE)
    assert (r.status, r.reason) == (400, "No client ID provided")
    r = c.post(GOOGLE, b"")
    assert (r.status, r.reason) == (400, "No Entry provided")
    r = c.get(GOOGLE + ADMIN_GDATA)
    assert (r.status, r.reason) == (403, "Forbidden")


# --- authlib: the whole life cycle with another OAuth implementation ---------------------------
def test_life_cycle_with_authlib(fake):
    with authlib_session("bob") as s:
        body = gdata_create("authlib@gmail.com", type_tag="type", key="AUTHLIB-KEY-7", secret="AUTHLIB-SECRET-7")
        r = s.post(fake.url + GOOGLE, data=body,
                   headers={"Content-Type": "application/atom+xml"}, allow_redirects=False)
        assert (r.status_code, r.reason) == (201, "Created"), r.text
        entry = xml(r)
        uuid = text(entry, "oc:client/oc:uuid")
        assert text(entry, "oc:client/oc:datastore/oc:token/oc:type") == "2"
        assert text(entry, "oc:client/oc:datastore/oc:token/oc:key") == "AUTHLIB-KEY-7"

        r = s.get(fake.url + GOOGLE, allow_redirects=False)
        assert (r.status_code, r.reason) == (200, "OK")
        assert [e.text for e in xp(xml(r), "a:entry/oc:client/oc:uuid")] == [uuid]
        assert b"AUTHLIB-KEY-7" not in r.content and b"AUTHLIB-SECRET-7" not in r.content

        r = s.put(fake.url + GOOGLE + uuid, data=gdata_update(user_id="authlib@gmail.com"),
                  headers={"Content-Type": "application/atom+xml"}, allow_redirects=False)
        assert (r.status_code, r.reason) == (200, "Updated")
        assert [d.text for d in xp(xml(r), "oc:client/oc:datastore")] == ["Calendar", "Contacts"]

        r = s.get(fake.url + GOOGLE + ADMIN_GDATA + "/", allow_redirects=False)
        assert (r.status_code, r.reason) == (403, "Forbidden")

        r = s.delete(fake.url + GOOGLE + uuid + "/", allow_redirects=False)
        assert (r.status_code, r.reason, r.content) == (200, "Deleted", b"")
        r = s.delete(fake.url + GOOGLE + uuid + "/", allow_redirects=False)
        assert (r.status_code, r.reason) == (404, "No such client ID")


