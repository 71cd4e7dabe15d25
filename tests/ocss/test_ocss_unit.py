"""The OCSS library's Resources and Collections, node by node, over real HTTP against the
session's fake (SyncServer API Python interface, 'Resources', 'Collections', 'Phones',
'Clients' and their sub-sections).

The fake's journal witnesses what reached the server: laziness and the object cache are
asserted as "no request" / "exactly one request", never by timing.
"""
from __future__ import annotations

import datetime
import json
import urllib.request

import pytest

import ocss
from ocss.cache import ObjectCache
from ocss.exceptions import ClientError, NotAllowedError, NotFoundError, OCSSAPIError

UTC = datetime.timezone.utc
ADMIN_PHONE = "2fb295cc-0e50-11de-81c8-002215064801"  # admin's Nokia 5310 XpressMusic (model 112)
ADMIN_PHONE_2 = "bfb81234-30a9-11de-b930-002215064801"  # admin's Nokia 5800 XpressMusic (model 56)
ADMIN_GDATA = "4f1d2dd0-49e4-11de-b387-002215064801"
NUMBER = "+4798765432"
NOKIA_5800_UA = ("Mozilla/5.0 (SymbianOS/9.4; U; Series60/5.0 Nokia5800d-1/21.0.025; Profile/MIDP-2.1 "
                 "Configuration/CLDC-1.1 ) AppleWebKit/413 (KHTML, like Gecko) Safari/413")


@pytest.fixture
def api_of(fake):
    """`api_of(user)`: a SyncServerAPI of the session's fake (fresh world); None: anonymous."""
    made: list[ocss.SyncServerAPI] = []

    def make(user: str | None = "alice", **options) -> ocss.SyncServerAPI:
        auth = None if user is None else ocss.SyncServerAuth(
            "demo-consumer-key", "demo-consumer-secret", f"{user}-access-token", f"{user}-access-secret")
        api = ocss.SyncServerAPI(auth, base_url=fake.url, **options)
        made.append(api)
        return api
    yield make
    for api in made:
        api.close()


def sent(fake) -> list[tuple[str, str]]:
    """(method, path) of every API request the fake received since the last clear."""
    return [(e.method, e.path) for e in fake.app.journal.entries() if not e.path.startswith("/_fake")]


def control(fake, method: str, path: str, body: dict | None = None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(fake.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)


# === laziness and the object cache ================================================================
def test_building_the_hierarchy_sends_nothing(api_of, fake):
    api = api_of("alice")
    nodes = [api.phones, api.phones.vendors, api.phones.models, api.clients, api.clients.bindings,
             api.clients.syncml, api.clients.activesync, api.clients.datastore, api.clients.gdata]
    assert all(repr(n).endswith(">") for n in nodes)
    assert api.phones is api.phones and api.clients.syncml is api.clients.syncml
    assert sent(fake) == []
    store = api.clients.datastore.new(name="Lazy")
    nokia = api.phones.models["112"].vendor
    fake.app.journal.clear()
    filtered = store.contents(since=datetime.datetime(2009, 1, 1), dataclass="contacts")
    assert repr(store.contents).startswith("<ContentCollection collection at 0x") and filtered is not store.contents
    assert repr(nokia.models) .startswith("<Models collection at 0x")
    assert sent(fake) == []


def test_a_read_fetches_once_and_a_cached_read_sends_nothing(api_of, fake):
    api = api_of(None)
    model = api.phones.models["112"]
    assert sent(fake) == [("GET", "/v2/phones/models/112/")]
    assert model.name == "Nokia 5310 XpressMusic" and model.image_url.endswith(".jpg")
    assert api.phones.models["112"] is model  # the object cache: the same object, no request
    assert "112" in api.phones.models
    assert len(sent(fake)) == 1
    vendor = model.vendor  # a reference: not fetched until one of its own attributes is read
    assert vendor.id == "1" and len(sent(fake)) == 1
    assert vendor.name == "Nokia"
    assert sent(fake)[1:] == [("GET", "/v2/phones/vendors/1/")]
    model.refresh()
    assert model.name == "Nokia 5310 XpressMusic"
    assert len(sent(fake)) == 3
    api.clear_object_cache()
    assert api.phones.models["112"] is not model
    assert len(sent(fake)) == 4


def test_resources_from_a_feed_need_no_request_of_their_own(api_of, fake):
    api = api_of(None)
    seen = [(v.name, v.created, v.image_url) for v in api.phones.vendors]
    assert [name for name, _, _ in seen][:4] == ["HTC", "Nokia", "LG", "Sony Ericsson"]
    assert seen[1][2] == "http://www.obexcode.com/media/phones/nokia/logo.jpg"
    assert all(created.tzinfo is not None and created.utcoffset() == datetime.timedelta(0)
               for _, created, _ in seen)
    assert api.phones.vendors["1"].name == "Nokia" and len(api.phones.vendors) == 6
    assert sent(fake) == [("GET", "/v2/phones/vendors/")]
    nokia = api.phones.vendors["1"]
    assert len(nokia.models) == 188 and nokia.models is nokia.models
    assert api.phones.models["112"].vendor is nokia  # filled from the vendor's feed: no GET
    assert sent(fake) == [("GET", "/v2/phones/vendors/"), ("GET", "/v2/phones/vendors/1/models/")]


def test_one_model_reached_from_two_syncml_clients_is_one_request(api_of, fake):
    api = api_of("alice")
    first = api.clients.syncml.new(phone_number="+4798765001", model="242", timezone="Europe/Oslo")
    second = api.clients.syncml.new(phone_number="+4798765002", model="242", timezone="Europe/Oslo")
    fake.app.journal.clear()
    assert first.model is second.model and first.model == second.model
    assert first.model.name == second.model.name == "Nokia 6233"
    assert sent(fake) == [("GET", "/v2/phones/models/242/")]


def test_equality_is_by_resource_not_identity(api_of):
    one, other = api_of(None), api_of("bob")
    a, b = one.phones.vendors["1"], other.phones.vendors["1"]
    assert a is not b and a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != one.phones.vendors["4"]
    assert a != one.phones.models["1"]  # a Vendor and a Model with the same id
    assert a != "1"


def test_a_change_through_the_api_object_renews_the_feeds_holding_that_kind(api_of, fake):
    api = api_of("alice")
    assert len(api.clients.datastore) == 0 and len(api.clients) == 0
    store = api.clients.datastore.new(name="Work")
    assert store.name == "Work" and len(api.clients.datastore) == 1 and list(api.clients) == [store]
    fake.app.journal.clear()
    assert len(api.clients.datastore) == 1 and len(sent(fake)) == 0  # kept until the next change
    store.delete()
    assert len(api.clients.datastore) == 0 and store.id not in api.clients


def test_the_object_cache_is_bounded_in_entries_and_bytes(api_of):
    vendors = list(api_of(None).phones.vendors)
    few = ObjectCache(max_entries=3)
    for vendor in vendors:
        few.put(vendor)
    assert len(few) == 3 and few.get("Vendor", "", vendors[0].id) is None
    assert few.get("Vendor", "", vendors[-1].id) is vendors[-1]
    small = ObjectCache(max_bytes=3 * 256)  # every entry weighs 256 bytes plus its text
    for vendor in vendors:
        small.put(vendor)
    assert 1 <= len(small) < 3 and small.get("Vendor", "", vendors[-1].id) is vendors[-1]


# === the dict interface ===========================================================================
def test_collections_mirror_dicts(api_of, fake):
    vendors = api_of(None).phones.vendors
    assert "1" in vendors and "invalid-vendor-id" not in vendors and 1 in vendors  # item GETs, then cached
    assert sent(fake) == [("GET", "/v2/phones/vendors/1/"), ("GET", "/v2/phones/vendors/invalid-vendor-id/")]
    fake.app.journal.clear()
    assert [type(v) for v in vendors] == [ocss.Vendor] * 6
    assert vendors.keys() == [v.id for v in vendors.values()] == [k for k, _ in vendors.items()]
    assert dict(vendors.items())["4"].name == "HTC"
    assert vendors.get("invalid-vendor-id") is None and vendors.get("x", 7) == 7  # from the feed now
    assert vendors["1"] is vendors.get("1")
    assert sent(fake) == [("GET", "/v2/phones/vendors/")]


def test_a_missing_member_is_a_not_found_error_worded_as_documented(api_of):
    api = api_of("alice")
    with pytest.raises(NotFoundError) as raised:
        api.phones.vendors["invalid-vendor-id"]
    assert str(raised.value) == "\"No Vendor with ID 'invalid-vendor-id'\""
    assert isinstance(raised.value, KeyError) and isinstance(raised.value, OCSSAPIError)
    assert raised.value.status == 404 and raised.value.body
    for collection, kind in ((api.phones.models, "Model"), (api.clients, "Client"),
                             (api.clients.syncml, "SyncmlClient"), (api.clients.datastore, "DatastoreClient")):
        with pytest.raises(NotFoundError, match=f"No {kind} with ID 'nope'"):
            collection["nope"]


def test_binding_ids_are_integers_and_others_are_missing_without_a_request(api_of, fake):
    bindings = api_of("alice").clients.bindings
    for key in ("abc", 0, -1, "1.5", None, True):
        with pytest.raises(NotFoundError):
            bindings[key]
        assert key not in bindings
    assert sent(fake) == []
    with pytest.raises(NotFoundError, match="No Binding with ID 9"):
        bindings["9"]


def test_models_and_vendors_answer_to_their_uuid_too(api_of, fake):
    api = api_of(None)
    model = api.phones.models["8f8b541e-7f92-5196-918a-c86f4ba03af8"]
    assert model.id == "112" and api.phones.models["112"] is model
    assert "8f8b541e-7f92-5196-918a-c86f4ba03af8" in api.phones.models
    assert sent(fake) == [("GET", "/v2/phones/models/8f8b541e-7f92-5196-918a-c86f4ba03af8/")]
    assert api.phones.vendors["5e550e8f-6119-5c7c-a3a6-ea8666b93d29"] == api.phones.vendors["1"]


def test_a_sub_collection_holds_only_its_own_members(api_of):
    api = api_of(None)
    nokia, htc = api.phones.vendors["1"], api.phones.vendors["4"]
    assert nokia.models["112"].name == "Nokia 5310 XpressMusic"
    assert "112" not in htc.models
    with pytest.raises(NotFoundError, match="No Model with ID '112'"):
        htc.models["112"]


# === phones =======================================================================================
def test_the_phones_api_is_read_only_and_refused_without_a_request(api_of, fake):
    api = api_of("alice")
    nokia, model = api.phones.vendors["1"], api.phones.models["112"]
    fake.app.journal.clear()
    refusals = [nokia.delete, lambda: nokia.update(name="Nokla"), model.delete, lambda: model.update(),
                lambda: api.phones.vendors.new(), lambda: api.phones.vendors.delete("1"),
                lambda: api.phones.models.update("112", name="x"), lambda: api.phones.models.new("x")]
    for refusal in refusals:
        with pytest.raises(NotAllowedError) as raised:
            refusal()
        assert raised.value.status is None and "read-only" in str(raised.value)
    with pytest.raises(AttributeError):
        nokia.name = "Nokla"
    assert sent(fake) == []


def test_detect_auto(api_of, fake):
    fake.app.patch_state([{"op": "add", "path": "/handsets/+4790981948", "value": 112}])
    alice = api_of("alice")
    model = alice.phones.models.detect_auto("+4790981948")
    assert isinstance(model, ocss.Model) and model.id == "112" and model.name == "Nokia 5310 XpressMusic"
    assert alice.phones.models.detect_auto("+4790000000") is None
    with pytest.raises(NotAllowedError) as raised:
        api_of("bob").phones.models.detect_auto("+4790981948")
    assert raised.value.status == 403
    with pytest.raises(ClientError):
        alice.phones.models.detect_auto("not a number")


def test_detect_manual_then_poll(api_of, fake):
    models = api_of("alice").phones.vendors["4"].models  # not limited by vendor
    code = models.detect_manual("+4790066951")
    assert isinstance(code, str) and code
    assert models.detect_poll(code) is None
    control(fake, "POST", "/_fake/phone/+4790066951/visit", {"user_agent": NOKIA_5800_UA})
    found = models.detect_poll(code)
    assert isinstance(found, ocss.Model) and found.id == "56" and found.name == "Nokia 5800 XpressMusic"
    other = models.detect_manual("+4790066952")
    control(fake, "POST", "/_fake/phone/+4790066952/visit", {"user_agent": "NoSuchPhone/1.0"})
    assert models.detect_poll(other) is False
    with pytest.raises(ClientError):
        models.detect_poll("no-such-code")  # the server's to say
    fake.app.journal.clear()
    with pytest.raises(ValueError):
        models.detect_poll("")  # an error of use: nothing sent
    assert sent(fake) == []


def test_detection_needs_credentials_and_sends_nothing_without(api_of, fake):
    models = api_of(None).phones.models
    for call in (lambda: models.detect_auto(NUMBER), lambda: models.detect_manual(NUMBER),
                 lambda: models.detect_poll("abc")):
        with pytest.raises(NotAllowedError) as raised:
            call()
        assert raised.value.status is None
    assert sent(fake) == []


# === clients ======================================================================================
def test_generic_clients_are_each_of_their_own_class_and_read_only(api_of, fake):
    admin = api_of("admin")
    kinds = {c.id: type(c) for c in admin.clients}
    assert kinds == {ADMIN_PHONE: ocss.SyncmlClient, ADMIN_PHONE_2: ocss.SyncmlClient, ADMIN_GDATA: ocss.GDataClient}
    assert admin.clients[ADMIN_PHONE] is admin.clients.syncml[ADMIN_PHONE]
    fake.app.journal.clear()
    for refusal in (lambda: admin.clients.new(), lambda: admin.clients.delete(ADMIN_PHONE),
                    lambda: admin.clients.update(ADMIN_PHONE, timezone="UTC")):
        with pytest.raises(NotAllowedError):
            refusal()
    assert sent(fake) == []
    fresh = api_of("admin")
    assert type(fresh.clients[ADMIN_GDATA]) is ocss.GDataClient  # one GET of the generic URL
    assert sent(fake) == [("GET", f"/v2/clients/{ADMIN_GDATA}/")]


def test_another_users_client_is_not_allowed_and_not_in_the_collection(api_of):
    bob = api_of("bob")
    with pytest.raises(NotAllowedError) as raised:
        bob.clients[ADMIN_PHONE]
    assert raised.value.status == 403
    assert ADMIN_PHONE not in bob.clients and ADMIN_PHONE not in bob.clients.syncml


def test_protected_collections_refuse_anonymous_use_before_sending(api_of, fake):
    anonymous = api_of(None)
    for call in (lambda: len(anonymous.clients), lambda: anonymous.clients.syncml[ADMIN_PHONE],
                 lambda: ADMIN_PHONE in anonymous.clients, lambda: anonymous.clients.datastore.new(name="x")):
        with pytest.raises(NotAllowedError, match="no request was sent"):
            call()
    assert sent(fake) == []


def test_bindings(api_of, fake):
    api = api_of("alice")
    store = api.clients.datastore.new(name="Store")
    phone = api.clients.activesync.new(username="ann", password="secret-1")
    binding = api.clients.bind(store, phone.id)
    assert isinstance(binding.id, int) and repr(binding) == f"<Binding id={binding.id}>"
    assert (binding.dominant, binding.source, binding.target) == ("source", store, phone)
    assert binding.source is store and type(binding.target) is ocss.ActivesyncClient
    assert api.clients.bindings[binding.id] is binding and api.clients.bindings[str(binding.id)] is binding
    binding.update(dominant="target")
    assert binding.dominant == "target"
    other = api.clients.bindings.new(phone, store)
    assert list(api.clients.bindings) == [binding, other]
    api.clients.bindings.update(other.id, target=api.clients.datastore.new(name="Third"))
    assert other.target.name == "Third"
    api.clients.bindings.delete(binding.id)
    assert binding.id not in api.clients.bindings and len(api.clients.bindings) == 1
    with pytest.raises(ClientError):
        api.clients.bind(store, store)


def test_syncml_clients(api_of, fake):
    api = api_of("alice")
    model = api.phones.models["242"]
    phone = api.clients.syncml.new(phone_number=NUMBER, model=model, timezone="Europe/Paris")
    assert (phone.phone_number, phone.timezone, phone.imei, phone.model) == (NUMBER, "Europe/Paris", None, model)
    assert phone.created.tzinfo is not None and phone in api.clients.syncml.values()
    assert phone.modified >= phone.created
    with_imei = api.clients.syncml.new(phone_number="+4798765433", model="112", imei="490154203237518")
    assert with_imei.imei == "490154203237518" and with_imei.model.name == "Nokia 5310 XpressMusic"
    phone.send_setup("1234")
    [sms] = control(fake, "GET", f"/_fake/outbox?to=%2B{NUMBER[1:]}&kind=setup-sms")["messages"]
    assert "1234" in json.dumps(sms)
    phone.sync()
    assert control(fake, "GET", f"/_fake/outbox?to=%2B{NUMBER[1:]}&kind=server-alert")["messages"]
    fake.app.journal.clear()
    with pytest.raises(NotAllowedError, match="cannot be edited"):
        phone.update()
    assert sent(fake) == []
    api.clients.syncml.delete(phone.id)
    assert sent(fake) == [("DELETE", f"/v2/services/syncml/{phone.id}")]
    with pytest.raises(NotFoundError):
        phone.phone_number
    with pytest.raises(ClientError):
        with_imei.send_setup("12")


def test_activesync_clients_and_their_write_only_password(api_of, fake):
    api = api_of("alice")
    client = api.clients.activesync.new(username="ann", password="first-secret")
    assert client.username == "ann" and client.password is None and client.old_pass is None
    client.update(old_pass="first-secret", password="second-secret")
    assert client.password is None  # sent, not kept
    with pytest.raises(ClientError):
        client.update(old_pass="wrong", password="third")
    client.refresh()
    client.username = "ann.other"
    client.update()
    assert api.clients.activesync[client.id].username == "ann.other"
    api.clients.activesync.update(client.id, old_pass="second-secret", password="third-secret")
    fake.app.journal.clear()
    with pytest.raises(TypeError, match="cannot change"):
        client.update(timezone="UTC")
    client.update()  # nothing changed: nothing sent
    assert sent(fake) == []


def test_datastore_clients(api_of):
    api = api_of("alice")
    store = api.clients.datastore.new(name="Notes")
    assert store.name == "Notes" and isinstance(store.contents, ocss.ContentCollection)
    store.update(name="Old notes")
    assert api_of("alice").clients.datastore[store.id].name == "Old notes"
    api.clients.datastore.update(store, name="Archive")
    assert store.name == "Archive"
    api.clients.datastore.delete(store)
    assert store.id not in api.clients.datastore


def test_datastore_contents_items_and_filters(api_of, fake):
    api = api_of("alice")
    store = api.clients.datastore.new(name="Phone book")
    control(fake, "POST", "/_fake/clock", {"freeze": True, "set": "2009-11-01T12:00:00Z"})
    early = store.contents.new("BEGIN:VCARD\r\nFN:Ann\r\nEND:VCARD\r\n", "text/x-vcard")
    gone = store.contents.new("to go", "text/plain", title="Gone")
    control(fake, "POST", "/_fake/clock", {"advance": 3600})
    late = store.contents.new("Buy milk", "text/plain", dataclass="notes", title="Shopping")
    store.contents.delete(gone)
    assert (early.dataclass, early.type, early.operation, early.title) == ("contacts", "text/x-vcard", None, "")
    assert (late.data, late.title, late.dataclass) == ("Buy milk", "Shopping", "notes")
    assert len(store.contents) == 2 and set(store.contents) == {early, late}
    assert len(store.contents(dataclass="contacts")) == 1
    one_hour_east = datetime.timezone(datetime.timedelta(hours=1))
    for since in (datetime.datetime(2009, 11, 1, 12, 30), datetime.datetime(2009, 11, 1, 13, 30, tzinfo=one_hour_east),
                  "2009-11-01T123000Z", "2009-11-01T12:30:00Z"):
        changes = store.contents(since=since)
        assert sorted((c.operation, c.title) for c in changes) == [("delete", "Gone"), ("insert", "Shopping")]
    [tombstone] = [c for c in store.contents(since="2009-11-01T123000Z") if c.operation == "delete"]
    assert tombstone.data is None
    assert store.contents[late.id].operation is None  # a since listing does not leak into the cache
    assert len(store.contents(since="2009-11-01T123000Z")(dataclass="contacts")) == 0
    fake.app.journal.clear()
    with pytest.raises(TypeError):
        store.contents(since=12)
    with pytest.raises(ValueError, match="not a date-time"):
        store.contents(since="yesterday")  # refused as the filter is made, before any request
    assert sent(fake) == []


def test_content_updates(api_of):
    api = api_of("alice")
    store = api.clients.datastore.new(name="Pad")
    item = store.contents.new(b"first", "text/plain", title="Draft")
    item.update(data="second")
    assert (item.data, item.type) == ("second", "text/plain")
    fresh = api_of("alice").clients.datastore[store.id].contents[item.id]
    assert (fresh.data, fresh.title, fresh.type) == ("second", "Draft", "text/plain")
    item.title = "Final"
    store.contents.update(item.id, type="text/x-note")
    assert (item.title, item.type, item.data) == ("Final", "text/x-note", "second")
    with pytest.raises(ValueError, match="cannot be sent in XML"):
        store.contents.new("bad \x00 byte", "text/plain")
    item.delete()
    assert item.id not in store.contents


def test_gdata_clients(api_of):
    api = api_of("alice")
    gmail = api.clients.gdata.new("ann@example.com")
    assert (gmail.user_id, gmail.datastores) == ("ann@example.com", [])
    gmail.add_datastore("Contacts", "http://www.google.com/m8/feeds/contacts/ann%40example.com/full",
                        "token-key", "token-secret", ["http://www.google.com/m8/feeds/"])
    gmail.add_datastore("Calendar", "http://www.google.com/calendar/feeds/ann%40example.com/private/full",
                        "k2", "s2", "http://www.google.com/calendar/feeds/", name="Work", token_type=1)
    assert sorted((d["dataclass"], d["name"]) for d in gmail.datastores) == [("Calendar", "Work"),
                                                                            ("Contacts", "Contacts")]
    gmail.refresh()
    stores = {d["dataclass"]: d for d in gmail.datastores}
    assert stores["Contacts"]["url"].endswith("/contacts/ann%40example.com/full")
    gmail.datastores.clear()  # a copy
    assert len(gmail.datastores) == 2
    with pytest.raises(ClientError):
        api.clients.gdata.new("ann@example.com")
    with pytest.raises(ClientError):
        gmail.add_datastore("Music", "http://example.com/", "k", "s", [])
    api.clients.gdata.delete(gmail)
    assert len(api.clients.gdata) == 0
