"""The World as one JSON document: dump → load → dump is exact; bad documents say where."""
import copy
import json
from datetime import timedelta

import pytest

from ocss_testkit.controls import ClockControl
from ocss_testkit.services.gdata.state import GDataDatastore, Token
from ocss_testkit.world.errors import Invalid
from ocss_testkit.world.world import World

NOKIA_6233 = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"


def busy_world(app) -> World:
    """A world using every part of the state: all client kinds, contents and tombstones,
    bindings, setups, sessions and chatlog, detections, handsets, autopilot, tokens."""
    world = app.world
    ClockControl(app).freeze()
    alice = world.users["alice"]
    with world.lock:
        phone = world.syncml.create_client(alice, "+4798765432", "242", "Europe/Oslo", "351234567890123")
        world.syncml.send_setup(alice, phone.uuid, "1234")
        world.simulated_phones.answer_setup("+4798765432")
        world.syncml.request_sync(alice, phone.uuid)
        world.simulated_phones.answer_sync("+4798765432")
        gdata = world.gdata.create_client(alice, "alice@gmail.com", [GDataDatastore(
            "Calendar", "http://www.google.com/calendar/feeds/alice/private/full", "Work",
            Token(2, "k", "s", ["http://www.google.com/calendar/feeds/"], "token_type"))])
        sync = world.activesync.create_client(alice, "alice", "secret")
        store = world.datastore.create_client(alice, "Address book")
        ann = world.datastore.add_content(alice, store.uuid, "BEGIN:VCARD\nFN:Ann\nEND:VCARD", "text/x-vcard", None,
                                          "Ann")
        world.datastore.add_content(alice, store.uuid, "note", "text/plain", "notes", "Note")
        world.datastore.delete_content(alice, store.uuid, ann.id)
        world.bindings.create(alice, gdata.uuid, store.uuid, "target")
        world.bindings.create(alice, sync.uuid, store.uuid)
        world.detection.detect_manual(alice, "+4798765400", "http://x/d/{code}")
        world.simulated_phones.visit("+4798765400", NOKIA_6233)
        world.simulated_phones.set_autopilot("*", {"setup": "accept", "setup_after": 30})
        world.syncml.send_setup(alice, phone.uuid, "9999")  # scheduled, not yet due
        rt = world.tokens.issue_request_token("demo-consumer-key", "oob")
        world.tokens.approve_request_token(rt.token, "bob")
        world.tokens.exchange_request_token(rt.token)
    return world


def test_round_trip_is_exact(app):
    world = busy_world(app)
    data = world.to_dict()
    assert json.loads(json.dumps(data)) == data  # plain JSON
    again = World.from_dict(data, world.phones)
    assert again.to_dict() == data
    assert {c["kind"] for c in data["clients"]} == {"syncml", "gdata", "activesync", "datastore"}
    assert len(data["schedule"]) == 1 and data["sessions"][0]["outcome"] == "ok"


def test_loaded_world_keeps_working(app):
    world = busy_world(app)
    again = World.from_dict(world.to_dict(), world.phones)
    alice = again.users["alice"]
    store = next(c for c in again.clients.values() if c.kind == "datastore")
    with again.lock:
        item = again.datastore.add_content(alice, store.uuid, "x", "text/plain", None, "X")
        binding = again.bindings.create(alice, store.uuid, next(c.uuid for c in again.clients.values()
                                                               if c.kind == "syncml" and c.owner == "alice"))
    assert binding.id == 3  # counters continue after the loaded ids
    since = store.published - timedelta(seconds=1)
    assert [(i.title, op) for i, op in store.contents.changes_since(since)] == [("Note", "insert"), ("X", "insert")]
    assert item.id in store.contents.items
    assert again.outbox.messages()[-1].id < next(again.outbox._ids)


@pytest.mark.parametrize("patch, where", [
    (lambda d: d["users"][0].__setitem__("consumer_key", "nope"), "/users/0/consumer_key"),
    (lambda d: d["clients"][0].__setitem__("owner", "mallory"), "/clients/0/owner"),
    (lambda d: d["clients"][0].__setitem__("kind", "fax"), "/clients/0/kind"),
    (lambda d: d["clients"][0].__setitem__("published", "yesterday"), "/clients/0/published"),
    (lambda d: d["clients"][0].__setitem__("colour", "red"), "/clients/0"),
    (lambda d: d["bindings"][0].__setitem__("source", "00000000-0000-0000-0000-000000000000"), "/bindings/0/source"),
    (lambda d: d["outbox"][0].__setitem__("kind", "fax"), "/outbox/0/kind"),
    (lambda d: d.__setitem__("version", 99), "/version"),
    (lambda d: d.__setitem__("surprise", 1), "/"),
    (lambda d: d["handsets"].__setitem__("+47", 999999), "/handsets/+47"),
])
def test_bad_documents_name_the_path(app, patch, where):
    world = busy_world(app)
    data = copy.deepcopy(world.to_dict())
    patch(data)
    with pytest.raises(Invalid) as error:
        World.from_dict(data, world.phones)
    assert f"state {where}:" in str(error.value)


def test_phone_actions_in_a_loaded_world_fall_due(app):
    world = busy_world(app)
    again = World.from_dict(world.to_dict(), world.phones)
    again.clock.advance(30)
    with again.lock:
        assert again.simulated_phones.run_due() == 1
