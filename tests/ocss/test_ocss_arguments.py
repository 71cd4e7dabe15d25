"""The OCSS library's argument checks, call by call: an error of use (an argument of the
wrong type, or a value the library can tell is wrong by itself) is a TypeError or a
ValueError, raised before anything is sent; only what involves the server raises an
OCSSAPIError (docs/ocss-library.md, "Exceptions"; ocss/checks.py states the rule).

The fake's journal witnesses "nothing sent".
"""
from __future__ import annotations

import math
import re

import pytest

import ocss
from ocss.exceptions import NotAllowedError, NotFoundError, OCSSAPIError

NUMBER = "+4798765432"
URL = "http://www.google.com/m8/feeds/contacts/ann%40example.com/full"
SCOPE = "http://www.google.com/m8/feeds/"


def sent(fake) -> list[tuple[str, str]]:
    return [(e.method, e.path) for e in fake.app.journal.entries() if not e.path.startswith("/_fake")]


def _stable_id(value) -> str:
    """repr() without memory addresses: xdist workers must collect the same test ids."""
    return re.sub(r" at 0x[0-9a-f]+", "", repr(value))


# --- building the API object -----------------------------------------------------------------
@pytest.mark.parametrize(("options", "error"), [
    ({"timeout": "x"}, TypeError), ({"timeout": None}, TypeError), ({"timeout": True}, TypeError),
    ({"timeout": 0}, ValueError), ({"timeout": -1}, ValueError), ({"timeout": math.nan}, ValueError),
    ({"timeout": math.inf}, ValueError),
    ({"base_url": 123}, TypeError), ({"base_url": b"http://h"}, TypeError),
    ({"base_url": "ftp://x"}, ValueError), ({"base_url": "http://"}, ValueError),
    ({"base_url": "http://h:99999"}, ValueError), ({"base_url": "http://h:port"}, ValueError),
    ({"base_url": "http://user:pw@h"}, ValueError), ({"base_url": "http://h/?q=1"}, ValueError),
    ({"base_url": "http://h/#top"}, ValueError), ({"base_url": "http://h/a b"}, ValueError),
    ({"base_url": "http://h/a\nb"}, ValueError),
    ({"auth": "demo-consumer-key"}, TypeError), ({"transport": object()}, TypeError),
], ids=lambda value: _stable_id(value))
def test_a_bad_construction_argument_is_refused_at_once(options, error):
    with pytest.raises(error) as raised:
        ocss.SyncServerAPI(**options)
    assert not isinstance(raised.value, OCSSAPIError)
    assert str(raised.value)


def test_a_good_timeout_is_kept_as_a_float():
    assert ocss.SyncServerAPI(base_url="http://127.0.0.1:9", timeout=2).timeout == 2.0
    assert ocss.SyncServerAPI(base_url="http://127.0.0.1:9", timeout=0.25).timeout == 0.25


def test_a_wsgi_transport_needs_an_application_and_a_url():
    from ocss.transport import WSGITransport

    with pytest.raises(TypeError):
        WSGITransport(None)
    with pytest.raises(ValueError):
        WSGITransport(lambda environ, start_response: [], base_url="localhost")


@pytest.mark.parametrize("values", [{"consumer_key": 1}, {"consumer_secret": b"s"}, {"access_key": ["t"]},
                                    {"access_secret": object()}, {"netrcfile": 3}], ids=lambda value: _stable_id(value))
def test_credentials_must_be_text(values):
    with pytest.raises(TypeError):
        ocss.SyncServerAuth(**values)


# --- every public call ---------------------------------------------------------------------------
@pytest.fixture
def world(fake):
    """Alice's API and one resource of each kind she can own, all fetched: then the journal
    is emptied, so that a test can check that a refused call sent nothing."""
    auth = ocss.SyncServerAuth("demo-consumer-key", "demo-consumer-secret", "alice-access-token",
                               "alice-access-secret")
    api = ocss.SyncServerAPI(auth, base_url=fake.url)
    store = api.clients.datastore.new(name="Store")
    item = store.contents.new("milk", "text/plain", title="Shopping")
    mailbox = api.clients.activesync.new(username="ann", password="secret-1")
    phone = api.clients.syncml.new(phone_number=NUMBER, model="242")
    gmail = api.clients.gdata.new("ann@example.com")
    binding = api.clients.bind(store, mailbox)
    vendor = api.phones.vendors["1"]
    assert (vendor.name, binding.dominant, gmail.user_id) == ("Nokia", "source", "ann@example.com")
    fake.app.journal.clear()
    yield {"api": api, "store": store, "item": item, "mailbox": mailbox, "phone": phone, "gmail": gmail,
           "binding": binding, "vendor": vendor}
    api.close()


CALLS = {
    # the OAuth flow
    "get_request_token(None)": (TypeError, lambda w: w["api"].get_request_token(None)),
    "get_request_token('')": (ValueError, lambda w: w["api"].get_request_token("")),
    "get_access_token(None)": (TypeError, lambda w: w["api"].get_access_token(None)),
    "get_access_token('')": (ValueError, lambda w: w["api"].get_access_token("")),
    # datastore contents: filters and new()
    "contents(since=123)": (TypeError, lambda w: w["store"].contents(since=123)),
    "contents(since='yesterday')": (ValueError, lambda w: w["store"].contents(since="yesterday")),
    "contents(dataclass=1)": (TypeError, lambda w: w["store"].contents(dataclass=1)),
    "contents(dataclass='')": (ValueError, lambda w: w["store"].contents(dataclass="")),
    "contents(foo=1)": (TypeError, lambda w: w["store"].contents(foo=1)),
    "contents.new(None, ctype)": (TypeError, lambda w: w["store"].contents.new(None, "text/plain")),
    "contents.new(1, ctype)": (TypeError, lambda w: w["store"].contents.new(1, "text/plain")),
    "contents.new(data, None)": (TypeError, lambda w: w["store"].contents.new("x", None)),
    "contents.new(data, '')": (ValueError, lambda w: w["store"].contents.new("x", "")),
    "contents.new(non-UTF-8)": (ValueError, lambda w: w["store"].contents.new(b"\xff\xfe", "text/plain")),
    "contents.new(NUL)": (ValueError, lambda w: w["store"].contents.new("a\x00b", "text/plain")),
    "contents.new(dataclass=3)": (TypeError, lambda w: w["store"].contents.new("x", "text/plain", 3)),
    "contents.new(title=3)": (TypeError, lambda w: w["store"].contents.new("x", "text/plain", title=3)),
    "contents.new(title positional)": (TypeError, lambda w: w["store"].contents.new("x", "text/plain", "notes", "T")),
    # clients of each flavour: new()
    "datastore.new(None)": (TypeError, lambda w: w["api"].clients.datastore.new(None)),
    "datastore.new('')": (ValueError, lambda w: w["api"].clients.datastore.new("")),
    "syncml.new()": (TypeError, lambda w: w["api"].clients.syncml.new()),
    "syncml.new(model=object())": (TypeError, lambda w: w["api"].clients.syncml.new(NUMBER, object())),
    "syncml.new(model=True)": (TypeError, lambda w: w["api"].clients.syncml.new(NUMBER, True)),
    "syncml.new(model=Vendor)": (TypeError, lambda w: w["api"].clients.syncml.new(NUMBER, w["vendor"])),
    "syncml.new(model='')": (ValueError, lambda w: w["api"].clients.syncml.new(NUMBER, "")),
    "syncml.new(phone_number=int)": (TypeError, lambda w: w["api"].clients.syncml.new(4798765432, "242")),
    "syncml.new(timezone=1)": (TypeError, lambda w: w["api"].clients.syncml.new(NUMBER, "242", 1)),
    "syncml.new(imei=int)": (TypeError, lambda w: w["api"].clients.syncml.new(NUMBER, "242", imei=490154203237518)),
    "activesync.new(None, pw)": (TypeError, lambda w: w["api"].clients.activesync.new(None, "pw")),
    "activesync.new('', pw)": (ValueError, lambda w: w["api"].clients.activesync.new("", "pw")),
    "gdata.new(None)": (TypeError, lambda w: w["api"].clients.gdata.new(None)),
    "gdata.new('')": (ValueError, lambda w: w["api"].clients.gdata.new("")),
    # bindings
    "bind(None, x)": (TypeError, lambda w: w["api"].clients.bind(None, w["store"])),
    "bind(x, 5)": (TypeError, lambda w: w["api"].clients.bind(w["store"], 5)),
    "bind(Vendor, x)": (TypeError, lambda w: w["api"].clients.bind(w["vendor"], w["store"])),
    "bind('', x)": (ValueError, lambda w: w["api"].clients.bind("", w["store"])),
    "bindings.new(None, x)": (TypeError, lambda w: w["api"].clients.bindings.new(None, w["store"])),
    # delete() and update() of a collection
    "syncml.delete(None)": (TypeError, lambda w: w["api"].clients.syncml.delete(None)),
    "syncml.delete(3.5)": (TypeError, lambda w: w["api"].clients.syncml.delete(3.5)),
    "syncml.delete(Vendor)": (TypeError, lambda w: w["api"].clients.syncml.delete(w["vendor"])),
    "datastore.update(None)": (TypeError, lambda w: w["api"].clients.datastore.update(None, name="x")),
    # update() of each kind of resource
    "store.update(name=None)": (TypeError, lambda w: w["store"].update(name=None)),
    "store.update(name='')": (ValueError, lambda w: w["store"].update(name="")),
    "store.update(color=1)": (TypeError, lambda w: w["store"].update(color=1)),
    "item.update(data=1)": (TypeError, lambda w: w["item"].update(data=1)),
    "item.update(title=None)": (TypeError, lambda w: w["item"].update(title=None)),
    "item.update(type='')": (ValueError, lambda w: w["item"].update(type="")),
    "item.update(dataclass=2)": (TypeError, lambda w: w["item"].update(dataclass=2)),
    "binding.update(dominant='both')": (ValueError, lambda w: w["binding"].update(dominant="both")),
    "binding.update(dominant=1)": (TypeError, lambda w: w["binding"].update(dominant=1)),
    "binding.update(source=None)": (TypeError, lambda w: w["binding"].update(source=None)),
    "mailbox.update(password=1)": (TypeError, lambda w: w["mailbox"].update(old_pass="secret-1", password=1)),
    "mailbox.update(username='')": (ValueError, lambda w: w["mailbox"].update(username="")),
    "gmail.update(user_id=None)": (TypeError, lambda w: w["gmail"].update(user_id=None)),
    # actions
    "send_setup(None)": (TypeError, lambda w: w["phone"].send_setup(None)),
    "send_setup(True)": (TypeError, lambda w: w["phone"].send_setup(True)),
    "send_setup('')": (ValueError, lambda w: w["phone"].send_setup("")),
    "add_datastore(dataclass=None)": (TypeError, lambda w: w["gmail"].add_datastore(None, URL, "k", "s", SCOPE)),
    "add_datastore(url='')": (ValueError, lambda w: w["gmail"].add_datastore("Contacts", "", "k", "s", SCOPE)),
    "add_datastore(scopes=5)": (TypeError, lambda w: w["gmail"].add_datastore("Contacts", URL, "k", "s", 5)),
    "add_datastore(scopes=[1])": (TypeError, lambda w: w["gmail"].add_datastore("Contacts", URL, "k", "s", [1])),
    "add_datastore(name='')": (ValueError,
                               lambda w: w["gmail"].add_datastore("Contacts", URL, "k", "s", SCOPE, name="")),
    "add_datastore(token_type=3)": (ValueError,
                                    lambda w: w["gmail"].add_datastore("Contacts", URL, "k", "s", SCOPE, token_type=3)),
    "add_datastore(token_type='2')": (TypeError, lambda w: w["gmail"].add_datastore("Contacts", URL, "k", "s",
                                                                                   SCOPE, token_type="2")),
    "detect_auto(None)": (TypeError, lambda w: w["api"].phones.models.detect_auto(None)),
    "detect_auto('')": (ValueError, lambda w: w["api"].phones.models.detect_auto("")),
    "detect_manual(4790066951)": (TypeError, lambda w: w["api"].phones.models.detect_manual(4790066951)),
    "detect_poll(None)": (TypeError, lambda w: w["api"].phones.models.detect_poll(None)),
    "detect_poll(' ')": (ValueError, lambda w: w["api"].phones.models.detect_poll(" ")),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_an_error_of_use_is_a_type_or_value_error_and_sends_nothing(world, fake, name):
    error, call = CALLS[name]
    with pytest.raises(error) as raised:
        call(world)
    assert not isinstance(raised.value, OCSSAPIError), f"{name} raised the library's error for an error of use"
    assert sent(fake) == []


def test_a_refused_update_changes_nothing_locally(world, fake):
    binding, store = world["binding"], world["store"]
    with pytest.raises(TypeError):
        binding.update(dominant="target", source=None)  # one bad value: the good one is not kept either
    with pytest.raises(ValueError):
        store.update(name="")
    assert (binding.dominant, store.name) == ("source", "Store")
    binding.update()  # nothing pending: nothing sent
    assert sent(fake) == []
    with pytest.raises(ValueError):
        binding.dominant = "both"  # a plain assignment is checked the same way
    assert binding.dominant == "source"


def test_good_values_of_every_accepted_type_are_sent(world, fake):
    item = world["item"]
    item.update(data=b"oat milk", title=b"Shopping list")
    assert (item.data, item.title) == ("oat milk", "Shopping list")
    phone = world["api"].clients.syncml.new("+4798765400", 242, "Europe/Oslo")  # a numeric model id
    assert phone.model.name == "Nokia 6233"
    phone.send_setup(4711)  # an int pincode
    world["gmail"].add_datastore("Contacts", URL, "k", "s", (s for s in [SCOPE]), token_type=1)
    assert [d["dataclass"] for d in world["gmail"].datastores] == ["Contacts"]


def test_a_key_no_member_can_have_is_missing_like_a_dict_key(world, fake):
    syncml = world["api"].clients.syncml
    for key in (None, "", 3.5, True):
        with pytest.raises(NotFoundError):
            syncml[key]
        assert key not in syncml and syncml.get(key) is None
    assert sent(fake) == []


def test_syncml_update_is_refused_whatever_the_arguments(world, fake):
    for call in (lambda: world["phone"].update(), lambda: world["phone"].update(timezone="UTC"),
                 lambda: world["phone"].update(timezone=1)):
        with pytest.raises(NotAllowedError) as raised:
            call()
        assert raised.value.status is None
    assert sent(fake) == []


def test_an_error_of_use_comes_before_the_missing_credentials(fake):
    anonymous = ocss.SyncServerAPI(base_url=fake.url)
    fake.app.journal.clear()
    with pytest.raises(TypeError):
        anonymous.clients.syncml.new(NUMBER, object())
    with pytest.raises(NotAllowedError):
        anonymous.clients.syncml.new(NUMBER, "242")
    assert sent(fake) == []
    anonymous.close()
