"""The OCSS library (`import ocss`) as a contract: its read-only surface, driven through
the interface the SyncServer API Python interface documents, against the contract
suite's target.

By default the target is the in-process fake: the library talks to it through
`ocss.transport.WSGITransport`, no sockets. With `--ocss-base-url URL` the same
contracts run over real HTTP (the library's own keep-alive connection) against that URL,
signed with the suite's credentials (OCSS_* variables or `--ocss-netrc`).

Every request the library sends goes through `Wire`, a transport wrapper that applies
the harness's safety check before sending (a read-only contract that would POST fails
on every target, before anything leaves) and records what was sent: that record is how
laziness and the object cache are observed here, on any target, without the fake's
journal.

Against a URL nothing is assumed about the account: on a live account there may be no
clients at all, and other xdist workers may be creating and deleting clients while
these contracts read. Client contracts therefore check what holds whatever the account
holds (every listed item has its flavour's class and attributes, listings agree where
they overlap); a fake-only contract reads a populated account with exact expectations.
The library has no interface to SyncML sessions, so none are read here.
"""
from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import ocss
from contracts.common import GDATA_DOC, SYNCML_DOC, text, xpath
from contracts.harness.target import SAFETY_ORDER, UnsafeRequest
from ocss.exceptions import NotAllowedError, NotFoundError, OCSSAPIError
from ocss.transport import HTTPTransport, WSGITransport, origin_of
from ocss_testkit.routes import safety
from ocss_testkit.world.fixtures import FixtureSet

LIBRARY = "SyncServer API Python interface"
VENDORS = "/v2/phones/vendors/"
MODELS = "/v2/phones/models/"
NOKIA_6233_UUID = "02978288-537f-102b-beff-000ea60275d1"
# The model ids of the SyncML client API's examples; the phones contracts hold any target to them.
MODEL_NAMES = {"112": "Nokia 5310 XpressMusic", "56": "Nokia 5800 XpressMusic", "242": "Nokia 6233",
               NOKIA_6233_UUID: "Nokia 6233"}
# 'Getting started': `print(vendor.name, len(vendor.models))`, in this order, then "etc."
GETTING_STARTED = [("HTC", 26), ("Nokia", 188), ("LG", 5), ("Sony Ericsson", 84)]
UNKNOWN_UUID = "00000000-0000-0000-0000-000000000000"
UNKNOWN_BINDING = 2**31 - 1  # far above any binding id a service hands out
CLIENT_CLASSES = {"syncml": ocss.SyncmlClient, "activesync": ocss.ActivesyncClient,
                  "datastore": ocss.DatastoreClient, "gdata": ocss.GDataClient}
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)  # `since` before anything: every change
DOCS_WORLD = Path(__file__).resolve().parent.parent / "docs" / "ocss-library-world"


# --- the library, wired to the target -------------------------------------------------------
@dataclass
class Sent:
    method: str
    target: str  # path and query, as sent
    headers: dict = field(default_factory=dict)  # as signed (last attempt)


class Wire:
    """An `ocss` transport around the real one: every request is checked against the
    contract's safety class before it is sent (the harness's rule, `routes.safety`), then
    recorded."""

    def __init__(self, inner, base_url: str, allowed: str) -> None:
        self.inner, self.allowed = inner, allowed
        self.origin = inner.origin
        self.prefix = origin_of(base_url)[2]
        self.sent: list[Sent] = []

    def request(self, method, target, headers, body, sign):
        path = target[len(self.prefix):].split("?")[0]
        risk = safety(method, path)
        if SAFETY_ORDER.index(risk) > SAFETY_ORDER.index(self.allowed):
            raise UnsafeRequest(f"{method} {path} is {risk} but the contract is marked {self.allowed}")
        record = Sent(method, target)
        self.sent.append(record)

        def signed(m, url, h):
            record.headers = sign(m, url, h)
            return record.headers
        return self.inner.request(method, target, headers, body, signed)

    def close(self) -> None:
        self.inner.close()

    def paths(self, since: int = 0) -> list[str]:
        """`METHOD path?query` (below the base URL's own path) of every request sent after
        the first `since`."""
        return [f"{s.method} {s.target[len(self.prefix):]}" for s in self.sent[since:]]


@pytest.fixture
def library(contract):
    """`library(role)`: `(api, wire)`, an `ocss.SyncServerAPI` for the target's user
    (`"user"`), anonymous (`None`), or signed with the given `ocss.SyncServerAuth`."""
    made = []

    def make(role="user"):
        target = contract.target
        if isinstance(role, ocss.SyncServerAuth):
            auth = role
        elif role is None:
            auth = None
        else:
            creds = target.credentials[role]
            auth = ocss.SyncServerAuth(creds.consumer_key, creds.consumer_secret, creds.token, creds.token_secret)
        inner = (WSGITransport(target.app, target.base_url) if target.app is not None
                 else HTTPTransport(target.base_url, timeout=target.timeout))
        wire = Wire(inner, target.base_url, contract.info.safety)
        api = ocss.SyncServerAPI(auth, base_url=target.base_url, timeout=target.timeout, transport=wire)
        made.append(api)
        return api, wire

    yield make
    for api in made:
        api.close()


def utc_or_none(value) -> bool:
    return value is None or (isinstance(value, dt.datetime) and value.utcoffset() == dt.timedelta(0))


def raw_vendors(contract) -> list[tuple[str, str]]:
    """`(name, models feed path)` of each vendor, in the order of the server's own feed."""
    reply = contract.anonymous.get(VENDORS)
    assert reply.status_line == (200, "OK"), reply
    out = []
    for entry in xpath(reply.xml(), "/a:feed/a:entry"):
        url = text(entry, "a:id")
        assert url.startswith(contract.base_url + "/"), url
        out.append((text(entry, "a:title"), url[len(contract.base_url):].rstrip("/") + "/models/"))
    return out


def vendor_named(api, name: str):
    (found,) = [v for v in api.phones.vendors if v.name == name]
    return found


# --- phones: vendors and models --------------------------------------------------------------
@pytest.mark.inferred("I2", basis=f"{LIBRARY}, 'Getting started': print(vendor.name, len(vendor.models))")
@pytest.mark.read_only
def test_getting_started(contract, library):
    """The documented first session: each vendor with its number of models. The library
    must print what the server's feeds hold, fetching each feed once and nothing else.

    What is fair against a live API: the 2009 documentation's numbers are a snapshot of a
    database that keeps growing ("etc."), and the phones contracts (I2) already hold the
    wire to them. The library's own contract is to report exactly what the server says,
    so on any target its numbers are compared with the server's feeds, read raw, and the
    four documented vendors must be there; the documented numbers themselves are asserted
    only on the in-process fake, whose database is built from that documentation.
    """
    api, wire = library(None)
    printed = [(vendor.name, len(vendor.models)) for vendor in api.phones.vendors]

    raw = raw_vendors(contract)
    counts = []
    for _, path in raw:
        reply = contract.anonymous.get(path)
        assert reply.status_line == (200, "OK"), reply
        counts.append(len(xpath(reply.xml(), "/a:feed/a:entry")))
    assert printed == [(name, count) for (name, _), count in zip(raw, counts)]
    assert {name for name, _ in GETTING_STARTED} <= {name for name, _ in printed}
    if contract.on_fake:
        assert printed[:4] == GETTING_STARTED and len(printed) > 4, printed
    # one GET of the vendors feed, then one of each vendor's models feed: names come from the feed
    assert wire.paths() == [f"GET {VENDORS}"] + [f"GET {path}" for _, path in raw]


@pytest.mark.inferred("I1", basis=f"{LIBRARY}, 'Vendors': api.phones.vendors['some-vendor-id']")
@pytest.mark.read_only
@pytest.mark.parametrize("role", [None, "user"], ids=["anonymous", "signed"])
def test_a_vendor_by_id(contract, library, role):
    listing, _ = library(role)
    nokia = vendor_named(listing, "Nokia")
    assert isinstance(nokia, ocss.Vendor) and isinstance(nokia.id, str) and nokia.id

    api, wire = library(role)  # a fresh API object: the lookup is one GET of that vendor
    vendor = api.phones.vendors[nokia.id]
    assert wire.paths() == [f"GET {VENDORS}{nokia.id}/"]
    assert vendor == nokia and hash(vendor) == hash(nokia), "equality is by resource, across API objects"
    assert vendor.id == nokia.id and vendor.name == "Nokia"
    assert (vendor.image_url or "").startswith("http")
    assert utc_or_none(vendor.created) and utc_or_none(vendor.modified)
    assert nokia.id in api.phones.vendors and api.phones.vendors.get(nokia.id) is vendor
    assert len(wire.sent) == 1, "a vendor read twice is one request"


@pytest.mark.inferred("I1", basis=f"{LIBRARY}, 'Collections': NotFoundError \"No Vendor with ID 'invalid-vendor-id'\"")
@pytest.mark.read_only
@pytest.mark.parametrize("role", [None, "user"], ids=["anonymous", "signed"])
@pytest.mark.parametrize("key", ["invalid-vendor-id", "99999", UNKNOWN_UUID])
def test_an_unknown_vendor_is_not_found(contract, library, role, key):
    api, wire = library(role)
    with pytest.raises(NotFoundError) as caught:
        api.phones.vendors[key]
    error = caught.value
    assert isinstance(error, KeyError) and isinstance(error, OCSSAPIError)
    assert str(error) == f"\"No Vendor with ID '{key}'\""
    assert (error.status, error.reason) == (404, "Not Found")
    assert wire.paths() == [f"GET {VENDORS}{key}/"]
    assert key not in api.phones.vendors
    assert api.phones.vendors.get(key, "none") == "none"


@pytest.mark.inferred("I3", basis=f"{LIBRARY}, 'Models': api.phones.models['some-model-id'], model.vendor")
@pytest.mark.read_only
@pytest.mark.parametrize("role", [None, "user"], ids=["anonymous", "signed"])
@pytest.mark.parametrize("ref", list(MODEL_NAMES))
def test_a_model_by_id_and_its_vendor(contract, library, role, ref):
    api, wire = library(role)
    model = api.phones.models[ref]
    assert isinstance(model, ocss.Model)
    assert wire.paths() == [f"GET {MODELS}{ref}/"]
    assert model.name == MODEL_NAMES[ref]
    assert (model.image_url or "").startswith("http")
    assert utc_or_none(model.created) and utc_or_none(model.modified)
    if ref == NOKIA_6233_UUID:  # a model's UUID finds the model with its id
        assert model.id == "242" and api.phones.models["242"] is model
    vendor = model.vendor
    assert isinstance(vendor, ocss.Vendor)
    assert len(wire.sent) == 1, "model.vendor is not fetched before one of its attributes is read"
    assert vendor.name == "Nokia"
    assert wire.paths(1) == [f"GET {VENDORS}{vendor.id}/"]
    assert vendor == vendor_named(library(role)[0], "Nokia")
    assert model in vendor.models.values()


@pytest.mark.inferred("I3", basis=f"{LIBRARY}, 'Collections': a missing id raises NotFoundError")
@pytest.mark.read_only
@pytest.mark.parametrize("key", ["99999", UNKNOWN_UUID, "no-such-model"])
def test_an_unknown_model_is_not_found(contract, library, key):
    api, wire = library(None)
    with pytest.raises(NotFoundError) as caught:
        api.phones.models[key]
    assert str(caught.value) == f"\"No Model with ID '{key}'\""
    assert (caught.value.status, caught.value.reason) == (404, "Not Found")
    assert wire.paths() == [f"GET {MODELS}{key}/"]


@pytest.mark.inferred("I2", basis=f"{LIBRARY}, 'Vendors': vendor.models, all that vendor's models")
@pytest.mark.read_only
def test_a_vendors_models_are_that_vendors(contract, library):
    api, wire = library(None)
    nokia, htc = vendor_named(api, "Nokia"), vendor_named(api, "HTC")
    models = nokia.models
    assert isinstance(models, ocss.Models) and nokia.models is models
    assert {"112", "56", "242"} <= set(models.keys())
    assert models["112"].name == "Nokia 5310 XpressMusic"
    mark = len(wire.sent)
    assert all(model.vendor == nokia for model in models), "a Nokia model of another vendor"
    assert len(wire.sent) == mark, "model.vendor of a listed model sends nothing"
    foreign = next(iter(htc.models))
    with pytest.raises(NotFoundError):
        models[foreign.id]  # vendor.models holds that vendor's models only
    assert foreign.id not in models
    # every model, by vendor: api.phones.models is the union of the vendors' models
    every = set(api.phones.models.keys())
    by_vendor = [set(vendor.models.keys()) for vendor in api.phones.vendors]
    assert sum(map(len, by_vendor)) == len(every) and set().union(*by_vendor) == every


@pytest.mark.inferred("I1", basis=f"{LIBRARY}, 'Getting started': the phone model database needs no authorization")
@pytest.mark.read_only
def test_phones_read_the_same_anonymously_and_signed(contract, library):
    """Anonymous requests carry no Authorization header; signed ones are OAuth 1.0a
    HMAC-SHA1 (Authentication); both read one phones database."""
    anonymous, plain = library(None)
    signed, oauth = library("user")
    views = []
    for api in (anonymous, signed):
        nokia = vendor_named(api, "Nokia")
        views.append(([(v.id, v.name) for v in api.phones.vendors], sorted(nokia.models.keys()),
                      api.phones.models["112"].name, api.phones.models["112"].image_url))
    assert views[0] == views[1]
    assert plain.sent and all("Authorization" not in s.headers for s in plain.sent)
    assert oauth.sent and len(oauth.sent) == len(plain.sent)
    for s in oauth.sent:
        header = s.headers.get("Authorization", "")
        assert header.startswith("OAuth ") and 'oauth_signature_method="HMAC-SHA1"' in header
        assert re.search(r'oauth_token="[^"]+"', header) and 'oauth_version="1.0"' in header


@pytest.mark.inferred("I4", basis=f"{LIBRARY}, 'Vendors': the vendor API is read-only (NotAllowedError)")
@pytest.mark.read_only
@pytest.mark.parametrize("operation", ["vendors.new", "vendors.delete", "vendors.update", "vendor.delete",
                                       "vendor.update", "models.new", "models.delete", "model.delete",
                                       "model.update"])
def test_the_phones_api_refuses_changes_without_sending(contract, library, operation):
    api, wire = library("user")
    nokia, model = vendor_named(api, "Nokia"), api.phones.models["112"]
    model.name  # noqa: B018 - loaded: what follows would be the only request
    mark = len(wire.sent)
    calls = {"vendors.new": lambda: api.phones.vendors.new(name="Nokia 2"),
             "vendors.delete": lambda: api.phones.vendors.delete(nokia.id),
             "vendors.update": lambda: api.phones.vendors.update(nokia, name="Nokia 2"),
             "vendor.delete": nokia.delete, "vendor.update": lambda: nokia.update(),
             "models.new": lambda: api.phones.models.new(name="Nokia 9999"),
             "models.delete": lambda: nokia.models.delete("112"),
             "model.delete": model.delete, "model.update": lambda: model.update()}
    with pytest.raises(NotAllowedError) as caught:
        calls[operation]()
    assert caught.value.status is None and "no request was sent" in str(caught.value)
    assert wire.paths(mark) == []
    assert api.phones.models["112"] is model and nokia.id in api.phones.vendors


# --- laziness and the object cache, seen on the wire ------------------------------------------
@pytest.mark.inferred("I1", basis=f"{LIBRARY}, 'General API': nothing is fetched before it is needed")
@pytest.mark.read_only
def test_nothing_is_sent_before_it_is_needed(contract, library):
    api, wire = library("user")
    clients = api.clients
    reached = [api.phones, api.phones.vendors, api.phones.models, clients, clients.bindings, clients.syncml,
               clients.activesync, clients.datastore, clients.gdata]
    assert [type(r).__name__ for r in reached] == ["Phones", "Vendors", "Models", "Clients", "Bindings", "Syncml",
                                                   "Activesync", "Datastore", "GData"]
    assert repr(api.phones.vendors).startswith("<Vendors collection at 0x")
    assert wire.sent == [], wire.paths()
    len(api.phones.vendors)
    assert wire.paths() == [f"GET {VENDORS}"]


@pytest.mark.inferred("I1", basis=f"{LIBRARY}, 'Collections': a dict keyed by id, fetched once until refresh()")
@pytest.mark.read_only
def test_a_feed_is_fetched_once_until_refresh(contract, library):
    api, wire = library(None)
    vendors = api.phones.vendors
    size = len(vendors)
    first = vendors.values()
    assert size == len(first) > 0
    assert list(vendors) == first and vendors.keys() == [v.id for v in first]
    assert vendors.items() == [(v.id, v) for v in first]
    assert all(vendors[v.id] is v and v.id in vendors for v in first)
    assert "invalid-vendor-id" not in vendors  # answered from the listing
    with pytest.raises(NotFoundError, match="No Vendor with ID 'invalid-vendor-id'") as caught:
        vendors["invalid-vendor-id"]
    assert caught.value.status is None, "answered from the loaded listing: no HTTP status"
    assert [v.name for v in first] and len(vendors) == size
    assert wire.paths() == [f"GET {VENDORS}"]
    vendors.refresh()
    assert len(vendors) == size and wire.paths() == [f"GET {VENDORS}"] * 2
    assert vendors.values() == first, "the same resources after a refresh"


@pytest.mark.inferred("I3", basis=f"{LIBRARY}, 'Resources': refresh() clears the local data cache")
@pytest.mark.read_only
def test_a_resource_is_fetched_once_until_refresh(contract, library):
    api, wire = library(None)
    model = api.phones.models["112"]
    path = f"GET {MODELS}112/"
    assert (model.name, model.image_url) == (model.name, model.image_url)
    assert api.phones.models["112"] is model, "the object cache: one object per resource"
    assert wire.paths() == [path]
    model.refresh()
    assert wire.paths() == [path], "refresh() itself sends nothing"
    assert model.name == "Nokia 5310 XpressMusic" and wire.paths() == [path] * 2
    api.clear_object_cache()
    again = api.phones.models["112"]
    assert again == model and wire.paths() == [path] * 3
    # a listing fills the resources it lists: reading them sends nothing more
    listed = api.phones.models.values()
    mark = len(wire.sent)
    assert all(m.name and utc_or_none(m.created) for m in listed)
    assert wire.paths(mark) == []


# --- credentials --------------------------------------------------------------------------------
PROTECTED = {
    "len(clients)": lambda api: len(api.clients),
    "clients[id]": lambda api: api.clients[UNKNOWN_UUID],
    "id in clients": lambda api: UNKNOWN_UUID in api.clients,
    "bindings": lambda api: list(api.clients.bindings),
    "bindings[id]": lambda api: api.clients.bindings[1],
    "syncml": lambda api: api.clients.syncml.keys(),
    "activesync": lambda api: api.clients.activesync.values(),
    "datastore": lambda api: api.clients.datastore.items(),
    "gdata[id]": lambda api: api.clients.gdata.get(UNKNOWN_UUID),
    # writes and a message to a phone: refused before sending, so the guard never sees them
    "bind": lambda api: api.clients.bind(UNKNOWN_UUID, UNKNOWN_UUID),
    "datastore.new": lambda api: api.clients.datastore.new(name="never sent"),
    "detect_auto": lambda api: api.phones.models.detect_auto("+447700900001"),
    "detect_manual": lambda api: api.phones.models.detect_manual("+447700900001"),
    "detect_poll": lambda api: api.phones.models.detect_poll("some-code"),
}


@pytest.mark.inferred("I9", basis=f"{LIBRARY}, 'Getting started': without credentials only the phone database")
@pytest.mark.read_only
@pytest.mark.parametrize("credentials", ["none", "consumer only"])
@pytest.mark.parametrize("call", list(PROTECTED))
def test_a_protected_call_without_credentials_sends_nothing(contract, library, monkeypatch, credentials, call):
    if credentials == "none":
        api, wire = library(None)
    else:  # a consumer token alone (the three-legged flow's start) is not an access token
        for name in ("OCSS_ACCESS_TOKEN", "OCSS_ACCESS_SECRET"):
            monkeypatch.delenv(name, raising=False)
        consumer = contract.target.credentials["user"]
        api, wire = library(ocss.SyncServerAuth(consumer.consumer_key, consumer.consumer_secret,
                                                netrcfile=os.devnull))
        assert not api.auth.complete
    with pytest.raises(NotAllowedError) as caught:
        PROTECTED[call](api)
    assert caught.value.status is None and "no request was sent" in str(caught.value)
    assert wire.sent == []


# --- clients -------------------------------------------------------------------------------------
def check_clients(api, wire, *, exact: bool) -> dict:
    """What holds for the clients of any account, read through the library: returns the
    generic listing by id. `exact`: the account is the contract's alone (a private fake),
    so the generic listing and the flavours' listings must hold the same clients;
    otherwise concurrent contracts may change the account between two listings, and only
    the clients both listings show are compared."""
    everyone = api.clients.values()
    ids = [c.id for c in everyone]
    assert len(set(ids)) == len(ids), "a client is listed twice"
    assert api.clients.keys() == ids and api.clients.items() == list(zip(ids, everyone))
    by_id = dict(zip(ids, everyone))
    for client in everyone:
        assert type(client) in CLIENT_CLASSES.values(), f"{client!r} is not of a flavour's class"
        assert isinstance(client.id, str) and client.id
        assert utc_or_none(client.created) and utc_or_none(client.modified)
        assert client.id in api.clients and api.clients[client.id] is client
    mark = len(wire.sent)
    for name, cls in CLIENT_CLASSES.items():
        flavour = getattr(api.clients, name)
        members = flavour.values()
        assert all(type(m) is cls for m in members), f"clients.{name} holds {members}"
        listed_here = {m.id for m in members}
        listed_there = {i for i, c in by_id.items() if type(c) is cls}
        if exact:
            assert listed_here == listed_there, name
        for member in members:
            if member.id in by_id:
                assert by_id[member.id] == member, "one client, one resource"
    assert wire.paths(mark) == [f"GET {getattr(api.clients, n).path}" for n in CLIENT_CLASSES]
    # the flavours' attributes come with the listings: reading them sends nothing
    mark = len(wire.sent)
    for client in api.clients.syncml:
        assert re.fullmatch(r"\+\d{6,15}", client.phone_number or ""), client.phone_number
        assert client.timezone is None or isinstance(client.timezone, str)
        assert client.imei is None or re.fullmatch(r"\d{14,16}", client.imei)
        assert client.model is None or isinstance(client.model, ocss.Model)
    for client in api.clients.activesync:
        assert isinstance(client.username, str) and client.username
        assert client.password is None and client.old_pass is None, "write-only: never read from the server"
    for client in api.clients.datastore:
        assert isinstance(client.name, str)
        assert isinstance(client.contents, ocss.ContentCollection) and client.contents is client.contents
    for client in api.clients.gdata:
        assert isinstance(client.user_id, str) and client.user_id
        stores = client.datastores
        assert isinstance(stores, list) and all(set(s) == {"dataclass", "url", "name"} for s in stores)
        kept = [dict(s) for s in stores]
        stores.clear()
        assert client.datastores == kept, "datastores is a copy: clearing it changes nothing"
    assert wire.paths(mark) == []
    return by_id


def gone(collection, key) -> bool:
    """Whether `key` is no longer in the collection, asked afresh: a concurrent contract
    deleted it (the only acceptable reason for a NotFoundError while reading a listing)."""
    collection.refresh()
    return key not in collection


def check_bindings(api) -> list:
    bindings = api.clients.bindings.values()
    for binding in bindings:
        assert isinstance(binding, ocss.Binding) and isinstance(binding.id, int) and binding.id > 0
        assert binding.dominant in ("source", "target")
        try:
            source, target = binding.source, binding.target
            classes = (type(source), type(target))
        except NotFoundError:
            assert gone(api.clients.bindings, binding.id), f"binding {binding.id} names a missing client"
            continue
        assert set(classes) <= set(CLIENT_CLASSES.values()) and source != target
    return bindings


def check_contents(api, store) -> list | None:
    """The contents of one datastore client, unfiltered, `since` and by dataclass; None
    when the datastore was deleted meanwhile."""
    try:
        items = store.contents.values()
        changes = store.contents(since=EPOCH).values()
    except NotFoundError:
        assert gone(api.clients.datastore, store.id), f"the contents of {store!r} are missing"
        return None
    for item in items:
        assert isinstance(item, ocss.Content) and isinstance(item.id, str)
        assert isinstance(item.type, str) and item.type and isinstance(item.dataclass, str) and item.dataclass
        assert isinstance(item.data, str) and item.operation is None
    for change in changes:
        assert change.operation in ("insert", "update", "delete"), change.operation
    for wanted in {item.dataclass for item in items}:
        try:
            only = store.contents(dataclass=wanted).values()
        except NotFoundError:
            assert gone(api.clients.datastore, store.id)
            return None
        assert all(item.dataclass == wanted for item in only), wanted
    return items


@pytest.mark.inferred("I9", basis=f"{LIBRARY}, 'Clients': api.clients lists every client, each of its flavour's class")
@pytest.mark.read_only
def test_the_clients_of_any_account(contract, library):
    api, wire = library("user")
    check_clients(api, wire, exact=False)
    assert all(s.method == "GET" for s in wire.sent)


@pytest.mark.inferred("I10", basis=f"{LIBRARY}, 'Bindings': dominant, source and target as client instances")
@pytest.mark.read_only
def test_the_bindings_of_any_account(contract, library):
    api, wire = library("user")
    check_bindings(api)
    assert wire.paths()[:1] == ["GET /v2/clients/bindings/"]
    assert all(s.method == "GET" for s in wire.sent)


@pytest.mark.inferred("I14", basis=f"{LIBRARY}, 'Datastore contents': the since and dataclass filters")
@pytest.mark.read_only
def test_the_datastore_contents_of_any_account(contract, library):
    api, wire = library("user")
    for store in api.clients.datastore:
        check_contents(api, store)
    assert all(s.method == "GET" for s in wire.sent)


def documented_account(fake, reset: bool = True) -> ocss.SyncServerAuth:
    """The credentials of the account the library documentation's examples use (the demo
    world's administrator, with a client of every flavour, binding 123 and a datastore of
    15 items), in the fake's own world, reset to that world first."""
    if reset:
        fake.reset(FixtureSet.load(DOCS_WORLD))
    creds = fake.credentials("admin")
    return ocss.SyncServerAuth(creds.consumer_key, creds.consumer_secret, creds.token, creds.token_secret)


FLAVOURS = [
    pytest.param("syncml", "SyncmlClient", id="syncml",
                 marks=pytest.mark.documented(SYNCML_DOC, "Listing all clients", "D6")),
    pytest.param("activesync", "ActivesyncClient", id="activesync",
                 marks=pytest.mark.inferred("I12", basis=f"{LIBRARY}, 'ActiveSync': api.clients.activesync")),
    pytest.param("datastore", "DatastoreClient", id="datastore",
                 marks=pytest.mark.inferred("I13", basis=f"{LIBRARY}, 'Datastore': api.clients.datastore")),
    pytest.param("gdata", "GDataClient", id="gdata",
                 marks=pytest.mark.documented(GDATA_DOC, "List all clients", "D1")),
]


@pytest.mark.read_only
@pytest.mark.parametrize("flavour, kind", FLAVOURS)
def test_a_flavours_collection(contract, library, flavour, kind):
    api, wire = library("user")
    collection = getattr(api.clients, flavour)
    assert wire.sent == []
    members = collection.values()
    assert wire.paths() == [f"GET {collection.path}"]
    assert all(type(m).__name__ == kind for m in members)
    fresh, probe = library("user")
    with pytest.raises(NotFoundError) as caught:
        getattr(fresh.clients, flavour)[UNKNOWN_UUID]
    assert str(caught.value) == f"\"No {kind} with ID '{UNKNOWN_UUID}'\""
    path = getattr(fresh.clients, flavour).member.item_path(UNKNOWN_UUID)
    assert probe.paths() == [f"GET {path}"]
    # the error carries the answer as it came (the GData API has its own reason phrase)
    raw = contract.api.get(path)
    assert raw.status == 404
    assert (caught.value.status, caught.value.reason, caught.value.body) == (raw.status, raw.reason, raw.body)
    assert getattr(fresh.clients, flavour).get(UNKNOWN_UUID) is None
    assert UNKNOWN_UUID not in collection, "answered from the loaded listing"
    assert len(wire.sent) == 1


@pytest.mark.inferred("I9", basis=f"{LIBRARY}, 'Clients': the generic client interface fetches individual clients")
@pytest.mark.read_only
def test_an_unknown_client_is_not_found(contract, library):
    api, wire = library("user")
    with pytest.raises(NotFoundError) as caught:
        api.clients[UNKNOWN_UUID]
    assert str(caught.value) == f"\"No Client with ID '{UNKNOWN_UUID}'\""
    assert (caught.value.status, caught.value.reason) == (404, "Not Found")
    assert wire.paths() == [f"GET /v2/clients/{UNKNOWN_UUID}/"]
    assert UNKNOWN_UUID not in api.clients


@pytest.mark.inferred("I11", basis=f"{LIBRARY}, 'Bindings': api.clients.bindings[123], integer ids")
@pytest.mark.read_only
def test_an_unknown_binding_is_not_found(contract, library):
    api, wire = library("user")
    with pytest.raises(NotFoundError) as caught:
        api.clients.bindings[UNKNOWN_BINDING]
    assert str(caught.value) == f"'No Binding with ID {UNKNOWN_BINDING}'"
    assert caught.value.status == 404
    assert wire.paths() == [f"GET /v2/clients/bindings/{UNKNOWN_BINDING}/"]
    with pytest.raises(NotFoundError) as caught:  # not an integer: no binding can have it
        api.clients.bindings["not-a-binding"]
    assert caught.value.status is None and len(wire.sent) == 1


@pytest.mark.inferred("I9", basis=f"{LIBRARY}, 'Clients': the generic client interface is read-only")
@pytest.mark.read_only
@pytest.mark.parametrize("operation", ["new", "delete", "update"])
def test_the_generic_clients_collection_refuses_changes_without_sending(contract, library, operation):
    api, wire = library("user")
    calls = {"new": lambda: api.clients.new(name="never"), "delete": lambda: api.clients.delete(UNKNOWN_UUID),
             "update": lambda: api.clients.update(UNKNOWN_UUID, name="never")}
    with pytest.raises(NotAllowedError) as caught:
        calls[operation]()
    assert caught.value.status is None and "no request was sent" in str(caught.value)
    assert wire.sent == []


@pytest.mark.inferred("I9", basis=f"{LIBRARY}, 'Clients' to 'GData': the documented account, every flavour")
@pytest.mark.read_only
@pytest.mark.fake_only("reads a private fake world with clients of every flavour (the library documentation's)")
def test_the_clients_of_a_populated_account(contract, fake, library):
    api, wire = library(documented_account(fake))
    by_id = check_clients(api, wire, exact=True)
    assert sorted(type(c).__name__ for c in by_id.values()) == [
        "ActivesyncClient", "DatastoreClient", "GDataClient", "SyncmlClient", "SyncmlClient"]

    phone = api.clients.syncml["2fb295cc-0e50-11de-81c8-002215064801"]
    assert (phone.phone_number, phone.timezone, phone.imei) == ("+4790981948", "Europe/Oslo", None)
    assert phone.model == api.phones.models["112"] and phone.model.name == "Nokia 5310 XpressMusic"
    assert api.clients.activesync["7c4e2b10-d4b2-11de-8a39-0800200c9a66"].username == \
        "support@exchange.obexcode.com"
    gmail = api.clients.gdata["4f1d2dd0-49e4-11de-b387-002215064801"]
    assert gmail.user_id == "some_user@gmail.com"
    assert [(s["dataclass"], s["name"]) for s in gmail.datastores] == [("Calendar", "Test"), ("Contacts", "Test")]

    (binding,) = check_bindings(api)
    assert (binding.id, binding.dominant) == (123, "source")
    assert binding.source is phone and binding.source == by_id[phone.id]
    assert binding.target == api.clients.datastore["9a1f5c3e-d4b2-11de-8a39-0800200c9a66"]
    assert api.clients.bindings[123] is binding and 123 in api.clients.bindings

    assert all(s.method == "GET" for s in wire.sent)


@pytest.mark.inferred("I15", basis=f"{LIBRARY}, 'Datastore contents': store.contents['item-id'], filters")
@pytest.mark.read_only
@pytest.mark.fake_only("reads a private fake world with a datastore of 15 items (the library documentation's)")
def test_the_contents_of_a_populated_datastore(contract, fake, library):
    api, wire = library(documented_account(fake))
    store = api.clients.datastore["9a1f5c3e-d4b2-11de-8a39-0800200c9a66"]
    assert store.name == "Phone backup"
    items = check_contents(api, store)
    assert len(items) == 15
    changes = store.contents(since=dt.datetime(2009, 11, 1, 12, 30))
    assert sorted(change.operation for change in changes) == ["delete"] + ["insert"] * 8 + ["update"]
    assert len(store.contents(dataclass="contacts")) == 8
    assert len(store.contents(dataclass="contacts", since="2009-11-01T123000Z")) == 5
    note = store.contents["c0a1e505-d4b2-11de-8a39-0800200c9a66"]
    assert (note.title, note.type, note.dataclass, note.data) == ("Shopping", "text/plain", "notes",
                                                                   "milk, bread, coffee")
    # a fresh API object reads one item by id (I15): one GET of that item
    other, probe = library(documented_account(fake, reset=False))
    again = other.clients.datastore[store.id].contents[note.id]
    assert again == note and again.data == note.data
    assert probe.paths() == [f"GET /v2/services/datastore/{store.id}/",
                             f"GET /v2/services/datastore/{store.id}/contents/{note.id}/"]
    with pytest.raises(NotFoundError, match=f"No Content with ID '{UNKNOWN_UUID}'"):
        other.clients.datastore[store.id].contents[UNKNOWN_UUID]
    assert all(s.method == "GET" for s in wire.sent + probe.sent)
