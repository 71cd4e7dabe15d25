"""The Python API for the simulated phone and clock (ocss_testkit.controls)."""
from datetime import datetime, timezone

from ocss_testkit.controls import ClockControl, Phone

NOKIA_6233 = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"


def test_first_sync_driven_from_python(app):
    world, alice = app.world, app.world.users["alice"]
    with world.lock:
        client = world.syncml.create_client(alice, "+4798765432", "242", "Europe/Oslo")
        world.syncml.send_setup(alice, client.uuid, "1234")
        world.syncml.request_sync(alice, client.uuid)
    phone = Phone(app, "+4798765432")
    assert [m.kind for m in phone.messages] == ["setup-sms", "server-alert"]
    assert phone.accept_setup() == client.uuid
    session = phone.accept_sync()
    assert session.outcome == "ok"
    assert [d.name for d in client.datastores] == ["Calendar", "Contacts", "cal.vcs"]  # as 003's GET shows


def test_detection_and_autopilot_on_a_frozen_clock(app):
    world, alice = app.world, app.world.users["alice"]
    clock = ClockControl(app)
    clock.freeze(datetime(2009, 11, 1, 12, 30, tzinfo=timezone.utc))
    phone = Phone(app, "+4798765432")
    phone.autopilot(user_agent=NOKIA_6233, visit_after=60)
    with world.lock:
        detection = world.detection.detect_manual(alice, "+4798765432", "http://x/d/{code}")
    assert detection.status == "pending"
    assert clock.advance(59) == 0 and detection.status == "pending"
    assert clock.advance(1) == 1
    assert (detection.status, detection.model.name) == ("detected", "Nokia 6233")
    assert world.detection.handsets["+4798765432"].id == 242
    phone.autopilot()
    assert "+4798765432" not in world.simulated_phones.autopilots
