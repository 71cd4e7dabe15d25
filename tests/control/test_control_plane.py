"""The control plane over real HTTP: state, journal and faults (docs/decisions.md, "Control plane")."""
from __future__ import annotations

import json
import time

import pytest
import requests

from ocss_testkit.answers import ApiError
from ocss_testkit.app import FakeApp
from ocss_testkit.client import SignedClient
from ocss_testkit.faults import MAX_SPENT, MAX_SPENT_CHARS
from tests.helpers import oauth1, syncml_create, unchanged

SYNCML = "/v2/services/syncml/"
PATCH_TYPE = {"Content-Type": "application/json-patch+json"}


def control(fake, method: str, path: str, **kw) -> requests.Response:
    return requests.request(method, f"{fake.url}/_fake/{path}", timeout=30, **kw)


# --- state ------------------------------------------------------------------------------------
def test_patch_seeds_and_get_reads_back(fake):
    ops = [{"op": "replace", "path": "/users/2/may_detect_auto", "value": True},  # users by account id
           {"op": "add", "path": "/handsets/+4798765432", "value": 242}]
    r = control(fake, "PATCH", "state", data=json.dumps(ops), headers=PATCH_TYPE)
    assert (r.status_code, r.json()) == (200, {"operations": 2, "status": "patched"})
    state = control(fake, "GET", "state").json()
    assert state["users"][2]["name"] == "bob" and state["users"][2]["may_detect_auto"] is True
    # the seeded handset answers auto detection for bob now
    body = ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
            '<oc:phone_number>+4798765432</oc:phone_number></entry>')
    reply = requests.post(fake.url + "/v2/phones/detect/auto/", data=body, auth=oauth1("bob"),
                          headers={"Content-Type": "application/atom+xml"}, timeout=30)
    assert reply.status_code == 200 and "Nokia 6233" in reply.text


@pytest.mark.parametrize("ops, status, needle", [
    ([{"op": "test", "path": "/version", "value": 2}], 409,
     "operation 0 (test /version) failed: the value is 1, not 2"),
    ([{"op": "remove", "path": "/clients/0"}, {"op": "remove", "path": "/nope"}], 400,
     "invalid JSON Patch: operation 1 (remove /nope) failed: there is no value at /nope"),
    ([{"op": "replace", "path": "/clients/0/owner", "value": "mallory"}], 422, "/clients/0/owner"),
    ([{"op": "add", "path": "/clients/-", "value": {"kind": "fax"}}], 422, "/clients/3/kind"),
    ({"op": "remove", "path": "/clients/0"}, 400, "list of operations"),
])
def test_a_bad_patch_changes_nothing_and_says_why(fake, ops, status, needle):
    with unchanged(fake):
        r = control(fake, "PATCH", "state", data=json.dumps(ops), headers=PATCH_TYPE)
    assert r.status_code == status and needle in r.text, r.text


def test_a_failed_test_operation_names_the_operation_and_both_values(fake):
    ops = [{"op": "test", "path": "/users/1/name", "value": "alice"},
           {"op": "replace", "path": "/users/1/admin", "value": True},
           {"op": "test", "path": "/users/2/name", "value": "alice"}]
    with unchanged(fake):  # all or nothing: operation 1 was applied to a copy only
        r = control(fake, "PATCH", "state", data=json.dumps(ops), headers=PATCH_TYPE)
    assert r.status_code == 409, r.text
    assert "operation 2 (test /users/2/name) failed: the value is 'bob', not 'alice'" in r.text, r.text
    assert "<class" not in r.text
    # in-process, as a failing @pytest.mark.ocss_patch reports it (handle.State.patch)
    app = FakeApp()
    before = app.world.to_dict()
    with pytest.raises(ApiError) as error:
        app.patch_state([{"op": "test", "path": "/users/1/name", "value": "bob"}])
    assert str(error.value) == "409 Conflict: operation 0 (test /users/1/name) failed: the value is 'alice', not 'bob'"
    with pytest.raises(ApiError) as error:  # the string "1" is not the number 1: both are shown as typed
        app.patch_state([{"op": "test", "path": "/version", "value": "1"}])
    assert error.value.detail == "operation 0 (test /version) failed: the value is 1, not '1'"
    with pytest.raises(ApiError) as error:  # a test of a path that does not exist fails too (RFC 6902 §4.6)
        app.patch_state([{"op": "test", "path": "/users/9/name", "value": "x"}])
    assert error.value.detail == "operation 0 (test /users/9/name) failed: there is no value at /users/9/name"
    assert app.world.to_dict() == before


@pytest.mark.parametrize("op, detail", [
    ({"op": "copy", "from": "/nope", "path": "/settings/x"}, "(copy /settings/x) failed: there is no value at "
                                                             "/nope (its from)"),
    ({"op": "add", "path": "/nope/x", "value": 1},
     "(add /nope/x) failed: there is no value at /nope to add /nope/x to"),
    ({"op": "replace", "path": "/users/x/name", "value": 1}, "(replace /users/x/name) failed: there is no value at "
                                                             "/users/x/name"),
    ({"op": "frob", "path": "/version"}, "(frob /version) failed: Unknown operation 'frob'"),
    ({"op": "add", "path": "/settings/x"}, "(add /settings/x) failed: The operation does not contain a 'value' member"),
    (5, "failed: an operation is a JSON object"),
])
def test_an_operation_that_cannot_be_applied_is_named_with_the_reason(fake, op, detail):
    ops = [{"op": "test", "path": "/version", "value": 1}, op]
    with unchanged(fake):
        r = control(fake, "PATCH", "state", data=json.dumps(ops), headers=PATCH_TYPE)
    assert r.status_code == 400, r.text
    assert f"invalid JSON Patch: operation 1 {detail}" in r.text, r.text


def test_state_media_types_are_enforced(fake):
    with unchanged(fake):
        as_json = {"Content-Type": "application/json"}
        assert control(fake, "PATCH", "state", data="[]", headers=as_json).status_code == 415
        assert control(fake, "PUT", "state", data="{}", headers={"Content-Type": "text/plain"}).status_code == 415
        assert control(fake, "PUT", "state", data="{nope", headers=as_json).status_code == 400


def test_put_replaces_the_whole_state(fake):
    state = control(fake, "GET", "state").json()
    state["clients"] = [c for c in state["clients"] if c["kind"] != "syncml"]
    r = control(fake, "PUT", "state", json=state)
    assert r.status_code == 200
    listing = requests.get(fake.url + SYNCML, auth=oauth1("admin"), timeout=30)
    assert listing.status_code == 200 and "<entry>" not in listing.text
    assert control(fake, "GET", "state").json() == state


# --- faults -----------------------------------------------------------------------------------
def add_fault(fake, **rule) -> dict:
    r = control(fake, "POST", "faults", json=rule)
    assert r.status_code == 201, r.text
    return r.json()


def test_status_fault_for_the_next_n_matches(fake):
    add_fault(fake, action="status", status=503, method="GET", path="/v2/services/syncml/*", times=2)
    s = requests.Session()
    s.auth = oauth1("admin")
    answers = [s.get(fake.url + SYNCML, timeout=30) for _ in range(3)]
    assert [(a.status_code, a.reason) for a in answers] == [(503, "Service Unavailable")] * 2 + [(200, "OK")]
    # a spent rule stays listed, so its hits can be checked, but matches nothing more
    [rule] = control(fake, "GET", "faults").json()["faults"]
    assert (rule["spent"], rule["hits"], rule["remaining"]) == (True, 2, 0), rule
    # a POST did not match the GET-only rule
    created = s.post(fake.url + SYNCML, data=syncml_create(), headers={"Content-Type": "application/atom+xml"})
    assert created.status_code == 201


def test_status_fault_with_own_reason_and_body_always(fake):
    add_fault(fake, action="status", status=500, reason="Server Error", body="boom", path="/v2/*")
    for _ in range(3):
        r = requests.get(fake.url + SYNCML, auth=oauth1("admin"), timeout=30)
        assert (r.status_code, r.reason) == (500, "Server Error") and "boom" in r.text
    assert control(fake, "GET", "faults").json()["faults"][0]["hits"] == 3


def test_drop_fault_is_a_connection_error(fake):
    add_fault(fake, action="drop", path="/v2/services/syncml/", times=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(fake.url + SYNCML, auth=oauth1("admin"), timeout=30)
    assert requests.get(fake.url + SYNCML, auth=oauth1("admin"), timeout=30).status_code == 200


def test_truncate_fault_is_an_incomplete_body(fake):
    add_fault(fake, action="truncate", path="/v2/services/syncml/", times=1)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(fake.url + SYNCML, auth=oauth1("admin"), timeout=30)


def test_garbage_fault_is_not_xml(fake):
    add_fault(fake, action="garbage", path="/v2/services/syncml/", times=1)
    r = requests.get(fake.url + SYNCML, auth=oauth1("admin"), timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/atom+xml"
    assert not r.content.lstrip().startswith(b"<")


def test_delay_fault_then_the_normal_answer(fake):
    add_fault(fake, action="delay", delay=0.4, path="/v2/services/syncml/", times=1)
    started = time.monotonic()
    r = requests.get(fake.url + SYNCML, auth=oauth1("admin"), timeout=30)
    assert r.status_code == 200 and time.monotonic() - started >= 0.4


@pytest.mark.parametrize("rule, needle", [
    ({"action": "explode"}, "action"),
    ({"action": "status", "status": 700}, "status"),
    ({"action": "delay"}, "delay"),
    ({"action": "delay", "delay": 99}, "delay"),
    ({"action": "status", "times": 0}, "times"),
    ({"action": "status", "path": "/_fake/*"}, "control plane"),
    ({"action": "status", "colour": "red"}, "colour"),
])
def test_bad_fault_rules_are_refused(fake, rule, needle):
    r = control(fake, "POST", "faults", json=rule)
    assert r.status_code == 400 and needle in r.text, r.text
    assert control(fake, "GET", "faults").json() == {"faults": []}


def test_faults_can_be_removed_and_reset_clears_them(fake):
    rule = add_fault(fake, action="status", path="/v2/*")
    assert control(fake, "DELETE", f"faults/{rule['id']}").status_code == 200
    assert control(fake, "DELETE", f"faults/{rule['id']}").status_code == 404
    add_fault(fake, action="status", path="/v2/*")
    assert control(fake, "POST", "reset").status_code == 200
    assert control(fake, "GET", "faults").json() == {"faults": []}


def test_spent_rules_stay_listed_until_removed_or_cleared(fake):
    once = add_fault(fake, action="status", status=503, path=SYNCML, times=1)
    always = add_fault(fake, action="status", status=502, path="/v2/phones/*")
    assert (once["spent"], once["remaining"], always["spent"], always["remaining"]) == (False, 1, False, None)
    s = requests.Session()
    s.auth = oauth1("admin")
    assert [s.get(fake.url + SYNCML, timeout=30).status_code for _ in range(2)] == [503, 200]
    listed = {r["id"]: r for r in control(fake, "GET", "faults").json()["faults"]}
    assert list(listed) == [once["id"], always["id"]]  # by id, spent or not
    assert listed[once["id"]] == dict(once, spent=True, hits=1, remaining=0)
    assert listed[always["id"]]["spent"] is False
    assert control(fake, "DELETE", f"faults/{once['id']}").status_code == 200  # a spent rule can be removed
    assert [r["id"] for r in control(fake, "GET", "faults").json()["faults"]] == [always["id"]]
    again = add_fault(fake, action="status", status=503, path=SYNCML, times=1)
    assert s.get(fake.url + SYNCML, timeout=30).status_code == 503
    assert control(fake, "DELETE", "faults").status_code == 200  # clearing removes spent rules too
    assert control(fake, "GET", "faults").json() == {"faults": []}
    add_fault(fake, action="status", path=SYNCML, times=1)
    assert s.get(fake.url + SYNCML, timeout=30).status_code == 500
    assert control(fake, "POST", "reset").status_code == 200  # and so does a reset
    assert control(fake, "GET", "faults").json() == {"faults": []}
    assert again["id"] > once["id"]


def test_spent_rules_are_bounded_in_count_and_characters():
    app = FakeApp()
    client = SignedClient(app)
    for _ in range(MAX_SPENT + 5):
        app.faults.add({"action": "status", "status": 503, "path": "/v2/phones/models/*", "times": 1})
        assert client.get("/v2/phones/models/242").status == 503
    rules = app.faults.rules()
    assert len(rules) == MAX_SPENT and all(r.spent and r.hits == 1 for r in rules)
    assert [r.id for r in rules] == list(range(6, MAX_SPENT + 6))  # the oldest left first
    assert client.get("/v2/phones/models/242").status == 200  # none of them matches any more
    big = "x" * (MAX_SPENT_CHARS // 3)
    for _ in range(4):
        app.faults.add({"action": "status", "body": big, "path": "/v2/phones/models/*", "times": 1})
        assert client.get("/v2/phones/models/242").status == 500
    rules = app.faults.rules()
    assert sum(len(r.body) for r in rules) <= MAX_SPENT_CHARS and len([r for r in rules if r.body]) == 2
    app.faults.add({"action": "status", "body": "y" * (MAX_SPENT_CHARS + 1), "path": "/v2/*", "times": 1})
    assert client.get("/v2/phones/models/242").status == 500
    [last] = app.faults.rules()  # alone over the bound: the newest is kept, all older leave
    assert last.spent and len(last.body) == MAX_SPENT_CHARS + 1


# --- journal ----------------------------------------------------------------------------------
def test_journal_records_verdicts(fake):
    requests.get(fake.url + SYNCML, auth=oauth1("admin"), timeout=30)
    requests.get(fake.url + SYNCML, timeout=30)
    requests.post(fake.url + SYNCML, data="<feed xmlns='http://www.w3.org/2005/Atom'/>", auth=oauth1("admin"),
                  headers={"Content-Type": "application/atom+xml"}, timeout=30)
    requests.get(fake.url + "/v2/services/googel/", timeout=30)
    entries = control(fake, "GET", "journal").json()["entries"]
    assert [(e["method"], e["status"], e["problem"]) for e in entries] == [
        ("GET", 200, None), ("GET", 401, "unauthorized"), ("POST", 400, "invalid"), ("GET", 404, "unmatched")]
    ok, unauthorized, invalid, unmatched = entries
    assert (ok["user"], ok["auth"], ok["route"]) == ("admin", "ok", "/v2/services/syncml/")
    assert "no OAuth credentials" in unauthorized["auth"]
    assert "atom:entry" in invalid["validation"] or "feed" in invalid["validation"]
    assert unmatched["route"] is None
    # each refusal's sentence as the client read it; a success has none
    assert ok["detail"] is None and unauthorized["detail"] == unauthorized["auth"]
    assert invalid["validation"] == f"Bad Request: {invalid['detail']}"
    assert unmatched["detail"].startswith("no route for /v2/services/googel/. Closest:")
    problems = control(fake, "GET", "journal", params={"problems": "1", "after": ok["id"]}).json()["entries"]
    assert [e["id"] for e in problems] == [e["id"] for e in entries[1:]]
    assert control(fake, "DELETE", "journal").status_code == 200
    assert control(fake, "GET", "journal").json()["entries"] == []


def test_journal_is_a_bounded_ring_buffer():
    app = FakeApp(journal_limit=50)
    client = SignedClient(app)
    for _ in range(120):
        assert client.get("/v2/phones/models/242").status == 200
    entries = app.journal.entries()
    assert len(entries) == 50 and entries[-1].id - entries[0].id == 49
    assert [e.id for e in entries] == sorted(e.id for e in entries)


def test_control_requests_are_not_journaled(fake):
    control(fake, "GET", "health")
    control(fake, "GET", "state")
    assert control(fake, "GET", "journal").json()["entries"] == []


def test_a_huge_unknown_path_is_cheap_and_journaled_short(fake):
    path = "/v2/" + "x" * 100_000
    started = time.monotonic()
    r = requests.get(fake.url + path, timeout=30)
    assert r.status_code == 404 and "Closest:" in r.text and len(r.text) < 2000
    assert time.monotonic() - started < 2
    (entry,) = control(fake, "GET", "journal").json()["entries"]
    assert len(entry["path"]) < 1100 and entry["path"].endswith(f"…(+{len(path) - 1024})")


def test_the_phone_can_answer_an_older_message_by_id(fake):
    world, alice = fake.app.world, fake.app.world.users["alice"]
    with world.lock:
        first = world.syncml.create_client(alice, "+4798765432", "242", "Europe/Oslo")
        second = world.syncml.create_client(alice, "+4798765432", "56", "Europe/Oslo")
        world.syncml.send_setup(alice, first.uuid, "1111")
        world.syncml.send_setup(alice, second.uuid, "2222")
    older = next(m for m in world.outbox.messages(kind="setup-sms") if m.client == first.uuid)
    r = control(fake, "POST", "phone/+4798765432/accept-setup", json={"message": older.id})
    assert r.status_code == 200 and r.json()["client"] == first.uuid
    with unchanged(fake):
        assert control(fake, "POST", "phone/+4798765432/accept-setup", json={"message": older.id}).status_code == 404
        assert control(fake, "POST", "phone/+4798765432/accept-setup", json={"message": "x"}).status_code == 400
    r = control(fake, "POST", "phone/+4798765432/reject-setup")  # the newest still unanswered
    assert r.json() == {"answer": "rejected", "client": second.uuid}
