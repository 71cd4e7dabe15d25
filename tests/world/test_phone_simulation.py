"""The simulated phone, the virtual clock and the SyncML session flow, over real HTTP.

docs/decisions.md ("Simulated world", "Control plane"), with the SyncML API's routes
(setup D10, server-alerted sync D11, sessions D12, chatlog D13): a first sync driven step by
step as alice (create the client, send the setup, the phone accepts it, request a sync, the
phone accepts the alert), the ways it goes wrong (no setup, rejected setup, rejected alert),
the autopilot on a frozen clock, and the clock itself. API calls are signed with
requests-oauthlib; every XML body is validated against its response schema.
"""
from __future__ import annotations

import time

import pytest
import requests
from lxml import etree
from requests_oauthlib import OAuth1

import ocss_testkit.world.clock as clock_module
from tests.helpers import assert_error, unchanged
from tests.helpers import find_text as text
from tests.helpers import valid_atom as xml

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
NS = {"a": ATOM, "oc": OC}
S = "/v2/services/syncml/"
NUMBER = "+4798765432"
NOKIA_6233_UA = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"
NOKIA_6233_UUID = "02978288-537f-102b-beff-000ea60275d1"
# Model 242's phone-side stores (fixtures/phones.json), as 003's client 3fe85584… lists them.
NOKIA_6233_STORES = [("Calendar", "Calendar"), ("Contacts", "Contacts"), ("Calendar", "cal.vcs")]  # as 003 shows
T0 = "2009-11-01T12:30:00Z"


# --- HTTP helpers -------------------------------------------------------------------------

def auth(user: str) -> OAuth1:
    return OAuth1("demo-consumer-key", "demo-consumer-secret", f"{user}-access-token", f"{user}-access-secret")


def api(fake, method: str, path: str, user: str = "alice", body: str | None = None) -> requests.Response:
    headers = {"Content-Type": "application/atom+xml"} if body is not None else {}
    return requests.request(method, fake.url + path, data=body.encode() if body is not None else None,
                            headers=headers, auth=auth(user), timeout=30)


def control(fake, method: str, path: str, **kw) -> requests.Response:
    return requests.request(method, fake.url + "/_fake/" + path, timeout=30, **kw)


def ok_json(reply: requests.Response) -> dict:
    assert (reply.status_code, reply.reason) == (200, "OK"), (reply.status_code, reply.text)
    assert reply.headers["Content-Type"] == "application/json"
    return reply.json()






# --- the steps of a sync ------------------------------------------------------------------

def create_client(fake, number: str = NUMBER, model: str = "242", user: str = "alice") -> str:
    body = (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client>'
            f"<oc:phone_number>{number}</oc:phone_number><oc:model_uuid>{model}</oc:model_uuid>"
            "<oc:timezone>Europe/Oslo</oc:timezone></oc:client></entry>")
    entry = xml(api(fake, "POST", S, user, body), "syncml", 201, "Created")
    return text(entry, "oc:client/oc:uuid")


def send_setup(fake, client: str, pincode: str = "1234", user: str = "alice") -> etree._Element:
    body = f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:pincode>{pincode}</oc:pincode></entry>'
    entry = xml(api(fake, "POST", f"{S}{client}/setup/", user, body), "syncml-setup", 201, "Created")
    assert text(entry, "oc:pincode") == pincode
    return entry


def request_sync(fake, client: str, user: str = "alice") -> None:
    reply = api(fake, "POST", f"{S}{client}/sync/", user)
    assert (reply.status_code, reply.reason) == (200, "Ok"), (reply.status_code, reply.text)
    assert reply.content == b""


def phone(fake, action: str, number: str = NUMBER) -> dict:
    return ok_json(control(fake, "POST", f"phone/{number}/{action}"))


def client_entry(fake, client: str, user: str = "alice") -> etree._Element:
    return xml(api(fake, "GET", f"{S}{client}", user), "syncml")


def client_stores(fake, client: str) -> list[tuple[str, str]]:
    entry = client_entry(fake, client)
    stores = entry.findall("oc:client/oc:datastore", NS)
    for d in stores:
        assert d.get("href") == f"{fake.url}/v2/services/syncml/datastores/{d.get('dataclass')}"
    return [(d.get("dataclass"), d.text) for d in stores]


def sessions(fake, user: str = "alice") -> list[etree._Element]:
    feed = xml(api(fake, "GET", S + "sessions/", user), "sessions")
    assert text(feed, "a:id") == f"{fake.url}/v2/services/syncml/sessions/"
    return feed.findall("a:entry", NS)


def session_stores(entry: etree._Element) -> list[tuple[str, str, str]]:
    return [(d.get("dataclass"), d.get("name"), d.get("sync_type"))
            for d in entry.findall("oc:session/oc:datastore", NS)]


def outbox(fake, **filters) -> list[dict]:
    return ok_json(control(fake, "GET", "outbox", params=filters))["messages"]


def clock(fake, **body) -> dict:
    return ok_json(control(fake, "POST", "clock", json=body))


def freeze_at(fake, at: str = T0) -> dict:
    now = clock(fake, freeze=True, set=at)
    assert now["now"] == at and now["frozen"] is True
    return now


def phone_state(fake, number: str = NUMBER) -> dict:
    return ok_json(control(fake, "GET", f"phone/{number}"))


# --- a full first sync, step by step ------------------------------------------------------

def test_a_first_sync_step_by_step(fake):
    client = create_client(fake)
    assert client_stores(fake, client) == []
    assert text(client_entry(fake, client), "oc:client/oc:model_uuid") == "242"

    send_setup(fake, client, "1234")
    sms = outbox(fake, to=NUMBER, kind="setup-sms")
    assert len(sms) == 1 and sms[0]["client"] == client
    assert "1234" in sms[0]["body"]
    assert phone(fake, "accept-setup") == {"client": client, "answer": "accepted"}
    assert phone_state(fake)["installed"] == [client]

    request_sync(fake, client)
    alerts = outbox(fake, to=NUMBER, kind="server-alert")
    assert len(alerts) == 1 and alerts[0]["client"] == client
    answer = phone(fake, "accept-sync")
    assert answer["answer"] == "accepted" and answer["outcome"] == "ok" and answer["reason"] == ""
    assert answer["datastores"] == [name for _, name in NOKIA_6233_STORES]

    listed = sessions(fake)
    assert len(listed) == 1
    session = listed[0]
    session_id = text(session, "oc:session/oc:id")
    assert session_id == str(answer["session"])
    url = f"{fake.url}/v2/services/syncml/sessions/{session_id}/"
    assert text(session, "a:id") == url
    assert text(session, "oc:session/oc:outcome") == "ok"
    assert text(session, "oc:session/oc:client") == client
    assert session.find("oc:session/oc:reason", NS) is None
    assert session_stores(session) == [(dc, name, "slow") for dc, name in NOKIA_6233_STORES]
    related = session.findall("a:link[@rel='related']", NS)
    assert [r.get("href") for r in related] == [f"{fake.url}/v2/services/syncml/{client}"]

    # "These datastores are generated on the first synchronization of the phone" (003)
    assert client_stores(fake, client) == NOKIA_6233_STORES

    # the session alone, by its owner; others are refused, the admin may look
    one = xml(api(fake, "GET", S + f"sessions/{session_id}/"), "sessions")
    assert text(one, "a:id") == url and session_stores(one) == session_stores(session)
    assert_error(api(fake, "GET", S + f"sessions/{session_id}/", "bob"), 403, "Forbidden")
    xml(api(fake, "GET", S + f"sessions/{session_id}", "admin"), "sessions")
    assert sessions(fake, "bob") == []

    # the chatlog: administrators only (003)
    for path in ("sessions/chatlog/", f"sessions/{session_id}/chatlog/"):
        assert_error(api(fake, "GET", S + path, "alice"), 403, "Forbidden", "administrators")
        feed = xml(api(fake, "GET", S + path, "admin"), "sessions")
        assert text(feed, "a:id") == f"{fake.url}{S}{path}"
        mine = [e for e in feed.findall("a:entry", NS) if text(e, "oc:session_id") == session_id]
        assert len(mine) == len(feed.findall("a:entry", NS)) == 4
        assert [text(e, "oc:direction") for e in mine] == ["from-phone", "to-phone"] * 2
        for e in mine:
            content = e.find("a:content", NS)
            assert content.get("type") == "application/vnd.syncml+xml"
            message = etree.fromstring(content.text.encode())
            assert message.tag == "SyncML"
            assert message.findtext("SyncHdr/SessionID") == session_id
        first = etree.fromstring(mine[0].find("a:content", NS).text.encode())
        assert [a.findtext("Item/Source/LocURI") for a in first.iter("Alert")] == \
            [name for _, name in NOKIA_6233_STORES]


def test_a_sync_without_the_setup_accepted_fails(fake):
    client = create_client(fake)
    send_setup(fake, client)  # sent, never answered
    request_sync(fake, client)
    answer = phone(fake, "accept-sync")
    assert answer["answer"] == "accepted" and answer["outcome"] == "failed"
    assert "setup" in answer["reason"] and answer["datastores"] == []
    [session] = sessions(fake)
    assert text(session, "oc:session/oc:outcome") == "failed"
    assert "setup" in text(session, "oc:session/oc:reason")
    assert session_stores(session) == []
    assert client_stores(fake, client) == []


def test_a_sync_without_any_setup_fails(fake):
    client = create_client(fake)
    request_sync(fake, client)
    assert phone(fake, "accept-sync")["outcome"] == "failed"
    assert client_stores(fake, client) == []


def test_a_rejected_alert_runs_no_session(fake):
    client = create_client(fake)
    send_setup(fake, client)
    phone(fake, "accept-setup")
    request_sync(fake, client)
    assert phone(fake, "reject-sync") == {"answer": "rejected"}
    assert sessions(fake) == []
    assert ok_json(control(fake, "GET", "health"))["world"]["sessions"] == 0
    assert client_stores(fake, client) == []
    answers = phone_state(fake)["answers"]
    alert = outbox(fake, kind="server-alert")[0]
    assert answers[str(alert["id"])] == "rejected"


def test_a_rejected_setup_then_an_accepted_alert_fails(fake):
    client = create_client(fake)
    send_setup(fake, client)
    assert phone(fake, "reject-setup") == {"client": client, "answer": "rejected"}
    assert phone_state(fake)["installed"] == []
    request_sync(fake, client)
    assert phone(fake, "accept-sync")["outcome"] == "failed"
    [session] = sessions(fake)
    assert text(session, "oc:session/oc:outcome") == "failed"
    assert client_stores(fake, client) == []


def test_a_second_sync_is_two_way_and_keeps_the_datastores(fake):
    client = create_client(fake)
    send_setup(fake, client)
    phone(fake, "accept-setup")
    request_sync(fake, client)
    phone(fake, "accept-sync")
    first_stores = client_stores(fake, client)
    request_sync(fake, client)
    assert phone(fake, "accept-sync")["outcome"] == "ok"
    listed = sessions(fake)
    assert len(listed) == 2
    by_id = sorted(listed, key=lambda e: int(text(e, "oc:session/oc:id")))
    assert session_stores(by_id[0]) == [(dc, name, "slow") for dc, name in NOKIA_6233_STORES]
    assert session_stores(by_id[1]) == [(dc, name, "two-way") for dc, name in NOKIA_6233_STORES]
    assert client_stores(fake, client) == first_stores == NOKIA_6233_STORES


def test_a_failed_first_sync_leaves_the_next_one_slow(fake):
    client = create_client(fake)
    request_sync(fake, client)
    phone(fake, "accept-sync")  # fails: no setup
    send_setup(fake, client)
    phone(fake, "accept-setup")
    request_sync(fake, client)
    assert phone(fake, "accept-sync")["outcome"] == "ok"
    ok = [e for e in sessions(fake) if text(e, "oc:session/oc:outcome") == "ok"]
    assert len(ok) == 1 and {t for _, _, t in session_stores(ok[0])} == {"slow"}


def test_a_model_without_server_alert_gets_no_alert(fake):
    client = create_client(fake, model="401")  # Samsung SGH-E250: server_alert false
    with unchanged(fake):
        reply = api(fake, "POST", f"{S}{client}/sync/")
    assert_error(reply, 400, "Server initiated sync not supported", "Samsung SGH-E250")
    assert outbox(fake, kind="server-alert") == []


@pytest.mark.parametrize("path, needle", [("sessions/999/", "999"), ("sessions/abc/", "abc"),
                                         ("sessions/abc/chatlog/", "abc")])
def test_an_unknown_session_is_404(fake, path, needle):
    with unchanged(fake):
        assert_error(api(fake, "GET", S + path, "admin"), 404, "Not Found", needle)


def test_the_chatlog_of_an_unknown_session_is_404(fake):
    # regression: chatlog() never checked the session existed and answered an empty feed
    reply = api(fake, "GET", S + "sessions/999/chatlog/", "admin")
    assert_error(reply, 404, "Not Found", "999")


@pytest.mark.parametrize("action, kind", [("accept-setup", "setup-sms"), ("reject-setup", "setup-sms"),
                                          ("accept-sync", "server-alert"), ("reject-sync", "server-alert")])
def test_answering_with_nothing_pending_is_404(fake, action, kind):
    client = create_client(fake)
    reply = control(fake, "POST", f"phone/{NUMBER}/{action}")
    assert (reply.status_code, reply.reason) == (404, "Not Found"), reply.text
    assert kind in reply.text and NUMBER in reply.text
    # an answered message is no longer pending either
    send_setup(fake, client)
    phone(fake, "accept-setup")
    request_sync(fake, client)
    phone(fake, "accept-sync")
    again = control(fake, "POST", f"phone/{NUMBER}/{action}")
    assert (again.status_code, again.reason) == (404, "Not Found"), again.text


@pytest.mark.parametrize("method, action", [("GET", ""), ("POST", "/accept-setup"), ("POST", "/reject-sync")])
def test_looking_at_a_phone_or_a_refused_answer_changes_nothing(fake, method, action):
    # regression: PhoneService.phone() created a PhoneState for any number it was asked about
    with unchanged(fake):
        reply = control(fake, method, f"phone/+4700000009{action}")
    assert reply.status_code == (200 if method == "GET" else 404), reply.text


def test_the_phone_state(fake):
    empty = phone_state(fake, "+4700000009")
    assert empty == {"number": "+4700000009", "installed": [], "answers": {}, "messages": []}
    client = create_client(fake)
    send_setup(fake, client)
    phone(fake, "accept-setup")
    request_sync(fake, client)
    phone(fake, "reject-sync")
    state = phone_state(fake)
    assert state["number"] == NUMBER
    assert state["installed"] == [client]
    setup, alert = state["messages"]
    assert (setup["kind"], alert["kind"]) == ("setup-sms", "server-alert")
    assert state["answers"] == {str(setup["id"]): "accepted", str(alert["id"]): "rejected"}


def test_outbox_kinds_and_filters(fake):
    detect = requests.post(fake.url + "/v2/phones/detect/manual/",
                           data=f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>{NUMBER}'
                                "</oc:phone_number></entry>",
                           headers={"Content-Type": "application/atom+xml"}, auth=auth("alice"), timeout=30)
    assert detect.status_code == 201
    client = create_client(fake)
    send_setup(fake, client)
    request_sync(fake, client)
    everything = outbox(fake)
    assert [m["kind"] for m in everything] == ["detection-link", "setup-sms", "server-alert"]
    assert all(m["to"] == NUMBER for m in everything)
    assert [m["kind"] for m in outbox(fake, to=NUMBER)] == [m["kind"] for m in everything]
    for kind in ("detection-link", "setup-sms", "server-alert"):
        assert [m["kind"] for m in outbox(fake, kind=kind)] == [kind]
    assert outbox(fake, to="+4700000009") == []
    reply = control(fake, "GET", "outbox", params={"number": NUMBER})
    assert (reply.status_code, reply.reason) == (400, "Bad Request")
    assert "number" in reply.text


# --- autopilot ------------------------------------------------------------------------------

def test_the_autopilot_waits_for_virtual_time(fake):
    freeze_at(fake)
    config = {"setup": "accept", "setup_after": 30, "sync": "accept", "sync_after": 10}
    assert ok_json(control(fake, "PUT", f"phone/{NUMBER}/autopilot", json=config)) == \
        {"number": NUMBER, "autopilot": config}
    client = create_client(fake)
    send_setup(fake, client)
    assert phone_state(fake)["installed"] == []
    assert clock(fake, advance=29)["phone_actions_run"] == 0
    assert phone_state(fake)["installed"] == []
    moved = clock(fake, advance=1)
    assert moved["now"] == "2009-11-01T12:30:30Z" and moved["phone_actions_run"] == 1
    assert phone_state(fake)["installed"] == [client]

    request_sync(fake, client)
    assert clock(fake, advance=9)["phone_actions_run"] == 0
    assert sessions(fake) == []
    assert clock(fake, advance=1)["phone_actions_run"] == 1
    [session] = sessions(fake)
    assert text(session, "oc:session/oc:outcome") == "ok"
    assert text(session, "a:published") == "2009-11-01T12:30:40Z"
    assert client_stores(fake, client) == NOKIA_6233_STORES


def test_due_actions_also_run_on_any_api_request(fake):
    freeze_at(fake)
    control(fake, "PUT", f"phone/{NUMBER}/autopilot", json={"setup": "accept", "setup_after": 5})
    client = create_client(fake)
    send_setup(fake, client)
    # move the clock without running the schedule: only a later request notices
    fake.app.world.clock.advance(5)
    assert len(fake.app.world.simulated_phones.schedule) == 1
    xml(requests.get(fake.url + "/v2/phones/models/242", timeout=30), "phones")
    assert fake.app.world.simulated_phones.schedule == []
    assert phone_state(fake)["installed"] == [client]


def test_the_autopilot_can_reject(fake):
    freeze_at(fake)
    control(fake, "PUT", f"phone/{NUMBER}/autopilot", json={"setup": "reject", "sync": "accept"})
    client = create_client(fake)
    send_setup(fake, client)  # no delay: answered at once
    state = phone_state(fake)
    assert state["installed"] == [] and list(state["answers"].values()) == ["rejected"]
    request_sync(fake, client)
    [session] = sessions(fake)
    assert text(session, "oc:session/oc:outcome") == "failed"


def test_a_hand_answer_before_the_autopilot_wins(fake):
    freeze_at(fake)
    control(fake, "PUT", f"phone/{NUMBER}/autopilot", json={"setup": "accept", "setup_after": 30})
    client = create_client(fake)
    send_setup(fake, client)
    phone(fake, "reject-setup")
    assert clock(fake, advance=60)["phone_actions_run"] == 0
    assert phone_state(fake)["installed"] == []


def test_deleting_the_autopilot_switches_it_off(fake):
    freeze_at(fake)
    control(fake, "PUT", f"phone/{NUMBER}/autopilot", json={"setup": "accept"})
    assert ok_json(control(fake, "DELETE", f"phone/{NUMBER}/autopilot")) == {"number": NUMBER, "autopilot": None}
    client = create_client(fake)
    send_setup(fake, client)
    assert clock(fake, advance=3600)["phone_actions_run"] == 0
    assert phone_state(fake)["installed"] == []


def test_the_wildcard_autopilot_drives_every_phone(fake):
    freeze_at(fake)
    control(fake, "PUT", "phone/*/autopilot", json={"setup": "accept", "sync": "accept"})
    first = create_client(fake, "+4711111111")
    second = create_client(fake, "+4722222222", model="112")
    for client in (first, second):
        send_setup(fake, client)
        request_sync(fake, client)
    listed = sessions(fake)
    assert sorted(text(e, "oc:session/oc:client") for e in listed) == sorted([first, second])
    assert {text(e, "oc:session/oc:outcome") for e in listed} == {"ok"}


def test_the_autopilot_completes_a_manual_detection(fake):
    freeze_at(fake)
    control(fake, "PUT", f"phone/{NUMBER}/autopilot", json={"user_agent": NOKIA_6233_UA, "visit_after": 20})
    body = f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>{NUMBER}</oc:phone_number></entry>'
    created = xml(api(fake, "POST", "/v2/phones/detect/manual/", body=body), "detection", 201, "Created")
    assert text(created, "oc:status") == "pending"
    poll_url = "/v2/phones/detect/manual/" + text(created, "oc:code") + "/"
    clock(fake, advance=19)
    assert text(xml(api(fake, "GET", poll_url), "detection"), "oc:status") == "pending"
    assert clock(fake, advance=1)["phone_actions_run"] == 1
    detected = xml(api(fake, "GET", poll_url), "detection")
    assert text(detected, "oc:status") == "detected"
    assert text(detected, "oc:model_uuid") == NOKIA_6233_UUID
    assert text(detected, "a:updated") == "2009-11-01T12:30:20Z"
    # automatic detection knows the number from now on
    auto = xml(api(fake, "POST", "/v2/phones/detect/auto/", body=body), "phones")
    assert text(auto, "oc:model/oc:name") == "Nokia 6233"


def test_an_autopilot_without_delay_answers_at_once(fake):
    control(fake, "PUT", f"phone/{NUMBER}/autopilot", json={"user_agent": NOKIA_6233_UA})
    body = f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>{NUMBER}</oc:phone_number></entry>'
    created = xml(api(fake, "POST", "/v2/phones/detect/manual/", body=body), "detection", 201, "Created")
    assert text(created, "oc:status") == "detected"


BAD_AUTOPILOTS = {
    "unknown key": ({"setup": "accept", "answer": "yes"}, "answer"),
    "setup word": ({"setup": "maybe"}, "setup"),
    "sync not a string": ({"sync": True}, "sync"),
    "negative delay": ({"setup": "accept", "setup_after": -1}, "setup_after"),
    "delay as text": ({"sync": "accept", "sync_after": "10"}, "sync_after"),
    "delay as boolean": ({"sync": "accept", "sync_after": True}, "sync_after"),
    "delay null": ({"setup": "accept", "setup_after": None}, "setup_after"),
    "visit without user agent": ({"visit_after": 10}, "user_agent"),
    "array": ([], "object"),
    "string": ("accept", "object"),
}


@pytest.mark.parametrize("case", list(BAD_AUTOPILOTS))
def test_invalid_autopilot_configs_are_400(fake, case):
    config, needle = BAD_AUTOPILOTS[case]
    with unchanged(fake):
        reply = control(fake, "PUT", f"phone/{NUMBER}/autopilot", json=config)
    assert_error(reply, 400, "Bad Request", needle)


@pytest.mark.parametrize("body", [b"{", b"setup=accept", b"\xff\xfe"])
def test_an_autopilot_body_that_is_not_json_is_400(fake, body):
    with unchanged(fake):
        reply = control(fake, "PUT", f"phone/{NUMBER}/autopilot", data=body)
    assert_error(reply, 400, "Bad Request", "JSON")


@pytest.mark.parametrize("raw", ['{"setup": "accept", "setup_after": NaN}',
                                 '{"setup": "accept", "setup_after": Infinity}',
                                 '{"setup": "accept", "setup_after": -Infinity}',
                                 '{"setup": "accept", "setup_after": 1e400}'])
def test_an_autopilot_delay_that_is_not_a_finite_number_is_400(fake, raw):
    # regression: NaN passed `value < 0`, and a NaN due time at the head of the schedule heap
    # is never <= now, which blocked every phone action queued behind it
    with unchanged(fake):
        reply = control(fake, "PUT", f"phone/{NUMBER}/autopilot", data=raw)
    assert_error(reply, 400, "Bad Request")


@pytest.mark.parametrize("user_agent", [6233, ["Nokia6233/2.0"], {"ua": "x"}])
def test_an_autopilot_user_agent_must_be_a_string(fake, user_agent):
    # regression: only its truthiness was checked; the due visit then raised TypeError in
    # run_due and the request that moved the clock answered 500
    with unchanged(fake):
        reply = control(fake, "PUT", f"phone/{NUMBER}/autopilot", json={"user_agent": user_agent, "visit_after": 10})
    assert_error(reply, 400, "Bad Request", "user_agent")


# --- the virtual clock ----------------------------------------------------------------------

def test_the_clock(fake):
    now = ok_json(control(fake, "GET", "clock"))
    assert set(now) == {"now", "frozen"} and now["frozen"] is False
    frozen = clock(fake, freeze=True)
    assert frozen["frozen"] is True
    assert ok_json(control(fake, "GET", "clock"))["now"] == frozen["now"]
    at = clock(fake, set=T0)
    assert (at["now"], at["frozen"]) == (T0, True)
    assert ok_json(control(fake, "GET", "clock")) == {"now": T0, "frozen": True}
    assert clock(fake, advance=90)["now"] == "2009-11-01T12:31:30Z"
    assert clock(fake, advance=0.5)["now"] == "2009-11-01T12:31:30Z"  # second precision
    assert clock(fake, advance=0.5)["now"] == "2009-11-01T12:31:31Z"
    # everything in one body: freeze, then set, then advance
    both = clock(fake, set="2010-01-01T00:00:00Z", advance=60)
    assert both["now"] == "2010-01-01T00:01:00Z"
    thawed = clock(fake, freeze=False)
    assert thawed["frozen"] is False and thawed["now"] >= "2010-01-01T00:01:00Z"


def test_a_set_clock_dates_what_the_fake_writes(fake):
    freeze_at(fake)
    client = create_client(fake)
    entry = client_entry(fake, client)
    assert text(entry, "a:published") == T0 and text(entry, "a:updated") == T0
    clock(fake, advance=75)
    setup = send_setup(fake, client)
    assert setup.find("oc:setup", NS).get("sent") == "2009-11-01T12:31:15Z"
    assert client_entry(fake, client).find("oc:client/oc:setup", NS).get("sent") == "2009-11-01 12:31:15"
    assert outbox(fake, kind="setup-sms")[0]["time"] == "2009-11-01T12:31:15Z"


def test_a_set_clock_without_freezing_keeps_running_from_there(fake):
    at = clock(fake, set=T0)
    assert at["frozen"] is False and at["now"] in (T0, "2009-11-01T12:30:01Z")
    client = create_client(fake)
    assert text(client_entry(fake, client), "a:published").startswith("2009-11-01T12:30:0")


def test_a_reset_restores_the_real_clock(fake):
    freeze_at(fake)
    ok_json(control(fake, "POST", "reset"))
    now = ok_json(control(fake, "GET", "clock"))
    assert now["frozen"] is False and now["now"] > "2020"


BAD_CLOCKS = {
    "unknown field": ({"freeze": True, "speed": 2}, "speed"),
    "set as a number": ({"set": 1257078600}, "set"),
    "set with fractions": ({"set": "2009-11-01T12:30:00.5Z"}, "set"),
    "set without Z": ({"set": "2009-11-01T12:30:00"}, "set"),
    "set as a date": ({"set": "2009-11-01"}, "set"),
    "set null": ({"set": None}, "set"),
    "negative advance": ({"advance": -1}, "advance"),
    "advance as text": ({"advance": "30"}, "advance"),
    "advance as boolean": ({"advance": True}, "advance"),
    "freeze as text": ({"freeze": "yes"}, "freeze"),
    "freeze as number": ({"freeze": 1}, "freeze"),
    "array": ([{"advance": 1}], "object"),
}


@pytest.mark.parametrize("case", list(BAD_CLOCKS))
def test_invalid_clock_bodies_are_400_and_move_nothing(fake, case):
    body, needle = BAD_CLOCKS[case]
    freeze_at(fake)
    with unchanged(fake):
        reply = control(fake, "POST", "clock", json=body)
    assert_error(reply, 400, "Bad Request", needle)
    assert ok_json(control(fake, "GET", "clock")) == {"now": T0, "frozen": True}


@pytest.mark.parametrize("body", [b"{", b"advance=30", b"\xff"])
def test_a_clock_body_that_is_not_json_is_400(fake, body):
    freeze_at(fake)
    reply = control(fake, "POST", "clock", data=body)
    assert_error(reply, 400, "Bad Request", "JSON")
    assert ok_json(control(fake, "GET", "clock")) == {"now": T0, "frozen": True}


@pytest.mark.parametrize("raw", ['{"advance": NaN}', '{"advance": Infinity}', '{"advance": 1e400}',
                                 '{"advance": 1e15}'])
def test_an_advance_that_is_not_a_sane_number_is_400(fake, raw):
    # regression: these passed `advance < 0`, and every later clock.now() raised: 500 on every
    # request until a reset
    freeze_at(fake)
    with unchanged(fake):
        reply = control(fake, "POST", "clock", data=raw)
    assert_error(reply, 400, "Bad Request")
    assert ok_json(control(fake, "GET", "clock")) == {"now": T0, "frozen": True}
    ok_json(control(fake, "GET", "health"))


@pytest.mark.parametrize("body", [{"set": "9999-12-31T23:59:59Z", "advance": 86400},
                                  {"set": "9999-12-31T23:59:59Z", "advance": 1},
                                  {"set": "9999-12-31T23:59:00Z", "advance": 3600},
                                  {"set": "1969-12-31T23:59:59Z"},
                                  {"set": "0001-01-01T00:00:00Z"},
                                  {"freeze": False, "set": "0999-12-31T00:00:00Z"}])
def test_the_clock_stays_within_what_timestamps_can_say(fake, body):
    # regression: past year 9999 every later Clock.now() raised (500 until a reset); before
    # year 1000 iso_z wrote '1-01-01T00:00:00Z', which no response schema accepts
    freeze_at(fake)
    with unchanged(fake):
        reply = control(fake, "POST", "clock", json=body)
    assert_error(reply, 400, "Bad Request", "clock")
    assert ok_json(control(fake, "GET", "clock")) == {"now": T0, "frozen": True}
    ok_json(control(fake, "GET", "health"))


def test_the_last_second_of_year_9999_is_fine_on_a_frozen_clock(fake):
    assert clock(fake, freeze=True, set="9999-12-31T23:59:59Z")["now"] == "9999-12-31T23:59:59Z"
    client = create_client(fake)
    assert text(client_entry(fake, client), "a:published") == "9999-12-31T23:59:59Z"


class _Later:
    """Stands in for the `time` module of ocss_testkit.world.clock: real time, some seconds on."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    def time(self) -> float:
        return time.time() + self._seconds


def test_a_running_clock_set_to_the_last_second_keeps_working(fake, monkeypatch):
    reply = control(fake, "POST", "clock", json={"set": "9999-12-31T23:59:59Z"})
    if reply.status_code == 400:
        return  # refusing to run a clock into the end of time is fine too
    assert ok_json(reply)["frozen"] is False
    monkeypatch.setattr(clock_module, "time", _Later(2.0))  # two real seconds, without sleeping
    after, health = control(fake, "GET", "clock"), control(fake, "GET", "health")
    monkeypatch.undo()
    fake.app.reset()  # leave a working clock behind, whatever happened
    assert (after.status_code, health.status_code) == (200, 200), "the clock is broken until a reset"
