"""Absurd numbers in any request input: never a 5xx, never a state change (issue 10, item 1).

Python's int() refuses strings of more than 4,300 digits (ValueError), a float overflows
past 1e308, and Python's json reads 1e999 as infinity. Every id in a URL, every numeric
query parameter and every number in a control-plane JSON body is met with such values:
ids answer 404 (no such thing), parameters and JSON members 400 naming the culprit.
"""
from __future__ import annotations

import json

import pytest

from ocss_testkit.answers import ApiError
from ocss_testkit.app import FakeApp
from ocss_testkit.client import Credentials, SignedClient
from ocss_testkit.faults import FaultError
from ocss_testkit.strict_json import MAX_INT

BIG = "9" * 5000  # past int()'s limit
JSON_TYPE = {"Content-Type": "application/json"}
PATCH_TYPE = {"Content-Type": "application/json-patch+json"}
SOURCE = "2fb295cc-0e50-11de-81c8-002215064801"  # admin's SyncML clients in the demo fixtures
TARGET = "bfb81234-30a9-11de-b930-002215064801"


@pytest.fixture
def app():
    return FakeApp()


@pytest.fixture
def admin(app):
    return SignedClient(app, Credentials.of(app, "admin"))


@pytest.fixture
def anonymous(app):
    return SignedClient(app, None)


def assert_refused(app, reply, status: int, *needles: str) -> None:
    text = reply.body.decode("utf-8")
    assert reply.status == status, (reply.status, text[:300])
    assert text.startswith(f"{status} "), text[:300]
    assert "Traceback" not in text and len(text) < 2000, text[:300]
    for needle in needles:
        assert needle in text, (needle, text[:300])


def dump(app) -> dict:
    with app.world.lock:
        return app.world.to_dict()


def binding(app) -> int:
    world = app.world
    with world.lock:
        return world.bindings.create(world.users["admin"], SOURCE, TARGET).id


def session(app) -> int:
    world = app.world
    alice = world.users["alice"]
    with world.lock:
        client = world.syncml.create_client(alice, "+4798765432", "242", "Europe/Oslo")
        world.syncml.send_setup(alice, client.uuid, "1234")
        world.syncml.request_sync(alice, client.uuid)
        world.simulated_phones.answer_setup("+4798765432")
        return world.simulated_phones.answer_sync("+4798765432").id


# --- ids in URLs: 404, whatever their size ----------------------------------------------------
@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("value", [BIG, "0" * 5000 + "1" + "0" * 4999, str(MAX_INT + 1)])
def test_a_binding_id_past_any_stored_id_is_404(app, admin, method, value):
    binding(app)
    before = dump(app)
    reply = admin.request(method, f"/v2/clients/bindings/{value}/")
    assert_refused(app, reply, 404, "no binding", "integers up to")
    assert dump(app) == before


def test_leading_zeros_name_the_same_binding_without_any_limit(app, admin):
    number = binding(app)
    reply = admin.get(f"/v2/clients/bindings/{'0' * 5000}{number}/")
    assert reply.status == 200, reply.text
    assert f"/v2/clients/bindings/{number}" in reply.text


def test_put_on_a_binding_id_past_the_limit_is_404_and_changes_nothing(app, admin):
    binding(app)
    body = ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
            "<oc:binding><oc:dominant>target</oc:dominant></oc:binding></entry>")
    before = dump(app)
    assert_refused(app, admin.put(f"/v2/clients/bindings/{BIG}/", body), 404, "no binding")
    assert dump(app) == before


@pytest.mark.parametrize("path", [f"/v2/services/syncml/sessions/{BIG}/",
                                  f"/v2/services/syncml/sessions/{BIG}/chatlog/",
                                  f"/v2/services/syncml/sessions/{MAX_INT + 1}/"])
def test_a_session_id_past_the_limit_is_404(app, admin, path):
    session(app)
    before = dump(app)
    assert_refused(app, admin.get(path), 404, "no SyncML session")
    assert dump(app) == before


def test_an_existing_session_still_answers(app, admin):
    number = session(app)
    assert admin.get(f"/v2/services/syncml/sessions/{number}/chatlog/").status == 200


@pytest.mark.parametrize("value", [BIG, str(MAX_INT + 1), "-1", "1.0", "١"])
def test_a_fault_id_that_is_no_fault_is_404_and_the_rules_stay(app, anonymous, value):
    app.faults.add({"action": "status", "status": 503, "path": "/v2/phones/*"})
    reply = anonymous.delete(f"/_fake/faults/{value}")
    assert_refused(app, reply, 404, "no fault")
    assert len(app.faults.rules()) == 1


def test_a_fault_id_with_leading_zeros_removes_it(app, anonymous):
    fault = app.faults.add({"action": "status", "status": 503, "path": "/v2/phones/*"})
    reply = anonymous.delete(f"/_fake/faults/{'0' * 5000}{fault.id}")
    assert reply.status == 200 and json.loads(reply.body)["id"] == fault.id
    assert app.faults.rules() == []


# --- numeric query parameters: 400 naming the parameter ------------------------------------------
@pytest.mark.parametrize("value", [BIG, str(MAX_INT + 1), "-1", "1e3", "%D9%A1"])
def test_journal_after_out_of_range_is_400_naming_after(app, anonymous, value):
    anonymous.get("/v2/phones/vendors/")
    reply = anonymous.get(f"/_fake/journal?after={value}")
    assert_refused(app, reply, 400, "after", "entry id")
    assert len(app.journal.entries()) == 1


def test_journal_after_in_range_still_reads(app, anonymous):
    anonymous.get("/v2/phones/vendors/")
    anonymous.get("/v2/phones/models/")
    entries = json.loads(anonymous.get("/_fake/journal?after=0001").body)["entries"]
    assert [e["path"] for e in entries] == ["/v2/phones/models/"]


# --- numbers in control-plane JSON bodies: 400 naming the member -------------------------------
ABSURD = [BIG, "-" + BIG, "1e999", "-1e999", str(MAX_INT + 1), "1" + "0" * 400 + ".5"]


CASES = {
    "fault times": lambda v: ("POST", "/_fake/faults", JSON_TYPE, f'{{"action": "status", "times": {v}}}', "/times"),
    "fault status": lambda v: ("POST", "/_fake/faults", JSON_TYPE, f'{{"action": "status", "status": {v}}}', "/status"),
    "fault delay": lambda v: ("POST", "/_fake/faults", JSON_TYPE, f'{{"action": "delay", "delay": {v}}}', "/delay"),
    "clock advance": lambda v: ("POST", "/_fake/clock", JSON_TYPE, f'{{"advance": {v}}}', "/advance"),
    "phone message": lambda v: ("POST", "/_fake/phone/+4798765432/accept-setup", JSON_TYPE,
                                f'{{"message": {v}}}', "/message"),
    "visit message": lambda v: ("POST", "/_fake/phone/+4798765432/visit", JSON_TYPE,
                                f'{{"message": {v}, "user_agent": "Nokia6233"}}', "/message"),
    "sync message": lambda v: ("POST", "/_fake/phone/+4798765432/reject-sync", JSON_TYPE,
                               f'{{"message": {v}}}', "/message"),
    "autopilot delay": lambda v: ("PUT", "/_fake/phone/+4798765432/autopilot", JSON_TYPE,
                                  f'{{"setup": "accept", "setup_after": {v}}}', "/setup_after"),
    "state patch": lambda v: ("PATCH", "/_fake/state", PATCH_TYPE,
                              f'[{{"op": "replace", "path": "/settings/detection_code_lifetime", "value": {v}}}]',
                              "/0/value"),
    "state put": lambda v: ("PUT", "/_fake/state", JSON_TYPE, f'{{"version": 1, "users": [{{"account_id": {v}}}]}}',
                            "/users/0/account_id"),
}


@pytest.mark.parametrize("value", ABSURD, ids=["5000-digits", "minus-5000-digits", "1e999", "-1e999",
                                               "2**53", "huge-decimal"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_an_absurd_number_in_a_control_body_is_400_naming_the_member(app, anonymous, case, value):
    method, path, headers, body, pointer = CASES[case](value)
    before, rules = dump(app), app.faults.rules()  # the dump holds the clock's offset
    reply = anonymous.request(method, path, body, headers=headers)
    assert_refused(app, reply, 400, f"at {pointer} is out of range")
    assert dump(app) == before and app.faults.rules() == rules


def test_the_same_members_in_range_are_accepted(app, anonymous):
    assert anonymous.post("/_fake/faults", '{"action": "status", "times": 9007199254740991}',
                          headers=JSON_TYPE).status == 201
    assert anonymous.post("/_fake/clock", '{"advance": 1.5}', headers=JSON_TYPE).status == 200
    assert anonymous.request("PUT", "/_fake/phone/+4798765432/autopilot", '{"setup": "accept", "setup_after": 2}',
                             headers=JSON_TYPE).status == 200


@pytest.mark.parametrize("body, needle", [
    ('{"action": "status", "action": "drop"}', "the member 'action' twice"),
    ("[" * 100_000, "nests too deep"),
    ('{"action": "status", "times": NaN}', "NaN is not a number"),
    ('{"action": "status", "times": Infinity}', "Infinity is not a number"),
])
def test_a_json_body_that_has_no_single_meaning_is_400(app, anonymous, body, needle):
    reply = anonymous.post("/_fake/faults", body, headers=JSON_TYPE)
    assert_refused(app, reply, 400, needle)
    assert app.faults.rules() == []


def test_a_deep_state_patch_is_400_not_500(app, anonymous):
    before = dump(app)
    reply = anonymous.request("PATCH", "/_fake/state", "[" * 100_000, headers=PATCH_TYPE)
    assert_refused(app, reply, 400, "nests too deep")
    assert dump(app) == before


def test_faults_added_from_python_are_bounded_too(app):
    with pytest.raises(FaultError, match="times must be an integer from 1 to"):
        app.faults.add({"action": "status", "times": 10 ** 5000})
    with pytest.raises(FaultError, match="delay must be seconds"):
        app.faults.add({"action": "delay", "delay": float("nan")})
    assert app.faults.rules() == []


# --- state documents (PUT/PATCH /_fake/state, state files): refused whole, never half-loaded -----
def _document(app, change) -> dict:
    doc = dump(app)
    change(doc)
    return doc


STATE_CASES = {
    "huge binding id": (lambda d: d["bindings"].append({
        "id": 10 ** 4299, "owner": "admin", "source": SOURCE, "target": TARGET,
        "published": "2009-11-01T00:00:00Z", "updated": "2009-11-01T00:00:00Z"}), "/bindings/0/id"),
    "clock offset 1e308": (lambda d: d.__setitem__("clock", {"frozen": False, "offset": 1e308}), "/clock/offset"),
    "clock offset infinity": (lambda d: d.__setitem__("clock", {"frozen": False, "offset": float("inf")}),
                              "/clock/offset"),
    "code lifetime 1e308": (lambda d: d["settings"].__setitem__("detection_code_lifetime", 1e308),
                            "/settings/detection_code_lifetime"),
    "code lifetime text": (lambda d: d["settings"].__setitem__("detection_code_lifetime", "an hour"),
                           "/settings/detection_code_lifetime"),
    "schedule due text": (lambda d: d["schedule"].append(["soon", 1, "setup-sms", "+4798765432", "accept", None]),
                          "/schedule/0/0"),
    "schedule due nan": (lambda d: d["schedule"].append([float("nan"), 1, "setup-sms", "+4798765432", "accept",
                                                         None]), "/schedule/0/0"),
    "answer keyed by 5000 digits": (lambda d: d["phone_states"].__setitem__(
        "+4798765432", {"installed": [], "answers": {BIG: "accepted"}}), "/phone_states/+4798765432/answers"),
    "answer keyed by a superscript": (lambda d: d["phone_states"].__setitem__(
        "+4798765432", {"installed": [], "answers": {"²": "accepted"}}), "/phone_states/+4798765432/answers"),
    "schedule kind": (lambda d: d["schedule"].append([1.0, 1, "fax", "+4798765432", "accept", None]),
                      "/schedule/0/2"),
    "schedule twice": (lambda d: d["schedule"].extend([[1.0, 1, "setup-sms", "+4798765432", "accept", None],
                                                       [1.0, 1, "setup-sms", "+4798765432", "accept", "x"]]),
                       "/schedule/1/1"),
}


@pytest.mark.parametrize("case", sorted(STATE_CASES))
def test_a_state_document_with_an_absurd_number_is_422_and_the_fake_keeps_serving(app, admin, anonymous, case):
    change, pointer = STATE_CASES[case]
    before = dump(app)
    with pytest.raises(ApiError) as refused:
        app.replace_state(_document(app, change))  # as a state file or PUT /_fake/state gives it
    assert refused.value.status == 422 and pointer in refused.value.detail, refused.value.detail
    assert dump(app) == before
    for reply in (anonymous.get("/_fake/health"), anonymous.get("/_fake/state"), admin.get("/v2/clients/bindings/"),
                  anonymous.post("/_fake/clock", '{"advance": 1}', headers=JSON_TYPE)):
        assert reply.status == 200, reply.text


def test_a_state_document_at_the_limits_loads(app, admin):
    doc = _document(app, lambda d: (d["bindings"].append({
        "id": MAX_INT, "owner": "admin", "source": SOURCE, "target": TARGET,
        "published": "2009-11-01T00:00:00Z", "updated": "2009-11-01T00:00:00Z"}),
        d["schedule"].append([4e9, 7, "setup-sms", "+4798765432", "accept", None]),  # due in 2096
        d["schedule"].append([3e9, 8, "server-alert", "+4798765432", "reject", None])))
    app.replace_state(doc)
    assert app.world.simulated_phones.schedule[0][1] == 8  # a hand-written schedule is put in heap order
    reply = admin.get(f"/v2/clients/bindings/{MAX_INT}/")
    assert reply.status == 200, reply.text
