"""A parameter the fake reads, given twice, is a 400 naming it (issue 10, item 16).

`?dataclass=Contacts&dataclass=Notes` has no single meaning; werkzeug reads the first copy
and the client never learns that the second was ignored. The check lives in one place
(the app reads every query and form through wire.SingleValueParams), so it covers every
parameter of the API and of the control plane; a parameter the fake ignores may repeat.
"""
from __future__ import annotations

import json

import pytest

from ocss_testkit.app import FakeApp
from ocss_testkit.client import Credentials, SignedClient

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def app():
    return FakeApp()


@pytest.fixture
def alice(app):
    return SignedClient(app, Credentials.of(app, "alice"))


@pytest.fixture
def anonymous(app):
    return SignedClient(app, None)


@pytest.fixture
def store(app) -> str:
    """alice's datastore client, holding one Contacts and one Notes item."""
    world = app.world
    user = world.users["alice"]
    with world.lock:
        client = world.datastore.create_client(user, "phone book")
        world.datastore.add_content(user, client.uuid, "BEGIN:VCARD", "text/x-vcard", "Contacts", "Ann")
        world.datastore.add_content(user, client.uuid, "buy milk", "text/plain", "Notes", "todo")
    return f"/v2/services/datastore/{client.uuid}/contents/"


def dump(app) -> dict:
    with app.world.lock:
        return app.world.to_dict()


def assert_repeated(reply, name: str, times: int = 2) -> None:
    text = reply.body.decode("utf-8")
    assert (reply.status, reply.reason) == (400, "Bad Request"), text
    assert f"the parameter '{name}' is given {times} times" in text, text


SINCE = "2009-11-01T12:30:00Z"


@pytest.mark.parametrize("query, name, times", [
    ("dataclass=Contacts&dataclass=Notes", "dataclass", 2),  # the report's input
    ("dataclass=Contacts&dataclass=Contacts", "dataclass", 2),  # even the same value
    (f"since={SINCE}&since=2009-11-02T00:00:00Z", "since", 2),
    (f"since={SINCE}&dataclass=Notes&since={SINCE}&since={SINCE}", "since", 3),
    ("dataclass=Contacts&%64ataclass=Notes", "dataclass", 2),  # percent-encoded, the same name
])
def test_a_repeated_contents_filter_is_400(app, alice, store, query, name, times):
    before = dump(app)
    assert_repeated(alice.get(f"{store}?{query}"), name, times)
    assert dump(app) == before


def test_each_contents_filter_once_still_filters(alice, store):
    reply = alice.get(f"{store}?dataclass=Notes&since={SINCE}")
    assert reply.status == 200 and "buy milk" in reply.text and "BEGIN:VCARD" not in reply.text


@pytest.mark.parametrize("path, name", [
    ("/_fake/journal?after=1&after=2", "after"),
    ("/_fake/journal?problems=1&problems=0", "problems"),
    ("/_fake/outbox?to=%2B4798765432&to=%2B4790000000", "to"),
    ("/_fake/outbox?kind=setup-sms&kind=server-alert", "kind"),
])
def test_a_repeated_control_plane_parameter_is_400(app, anonymous, path, name):
    anonymous.get("/v2/phones/vendors/")  # one journal entry
    assert_repeated(anonymous.get(path), name)
    assert len(app.journal.entries()) == 1  # control requests are not journaled


def test_control_plane_parameters_once_still_work(anonymous):
    anonymous.get("/v2/phones/vendors/")
    assert len(json.loads(anonymous.get("/_fake/journal?after=0&problems=0").body)["entries"]) == 1
    assert json.loads(anonymous.get("/_fake/outbox?to=%2B4798765432&kind=setup-sms").body) == {"messages": []}


def test_a_repeated_oauth_token_on_the_approval_page_is_400(app, anonymous):
    app.world.tokens.issue_request_token("demo-consumer-key", "oob", "rt-1", "rt-secret")
    assert anonymous.get("/oauth/authorize?oauth_token=rt-1").status == 200
    assert_repeated(anonymous.get("/oauth/authorize?oauth_token=rt-1&oauth_token=rt-2"), "oauth_token")


@pytest.mark.parametrize("form, name", [
    ("oauth_token=rt-1&user=alice&user=bob", "user"),
    ("oauth_token=rt-1&oauth_token=rt-1&user=alice", "oauth_token"),
])
def test_a_repeated_approval_field_is_400_and_approves_nothing(app, anonymous, form, name):
    app.world.tokens.issue_request_token("demo-consumer-key", "oob", "rt-1", "rt-secret")
    before = dump(app)
    assert_repeated(anonymous.post("/oauth/authorize", form, headers=FORM), name)
    assert dump(app) == before
    assert app.world.tokens.request_tokens["rt-1"].verifier is None
    assert anonymous.post("/oauth/authorize", "oauth_token=rt-1&user=alice&approve=yes", headers=FORM).status == 200


def test_a_parameter_the_fake_ignores_may_repeat(alice, anonymous):
    assert alice.get("/v2/services/google/?utm=1&utm=2").status == 200
    assert anonymous.get("/_fake/health?x=1&x=2").status == 200
