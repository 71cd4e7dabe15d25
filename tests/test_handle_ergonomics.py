"""The handle and the control plane as a newcomer meets them (issue 12): a refusal's
sentence kept in the journal, the clock taking strings, every enumerated filter refusing
what is not in its set, and verification over the journal (in-process and over HTTP)."""
from __future__ import annotations

import re
from dataclasses import fields
from datetime import date, datetime, timedelta, timezone

import pytest
import requests

from ocss_testkit.app import FakeApp
from ocss_testkit.client import SignedClient
from ocss_testkit.controls import MESSAGE_KINDS
from ocss_testkit.fake_handle import FakeHandle
from ocss_testkit.faults import ACTIONS, METHODS, Fault, FaultError
from ocss_testkit.journal import Entry, RequestFilter
from tests.control.test_dashboard import expect, open_dashboard, page, playwright  # noqa: F401 (fixtures)
from tests.helpers import oauth1, syncml_create, unchanged

SYNCML = "/v2/services/syncml/"
NUMBER = "+4798765432"
T0 = datetime(2009, 11, 1, 12, 30, tzinfo=timezone.utc)
MAX_BODY = 4096


@pytest.fixture
def handle():
    """An in-process fake with a small body limit (a 413 costs 5 KB, not 1 MB)."""
    return FakeHandle(FakeApp(max_body=MAX_BODY))


def control(fake, method: str, path: str, **kw) -> requests.Response:
    return requests.request(method, f"{fake.url}/_fake/{path}", timeout=30, **kw)


def refused(reply: requests.Response, status: int, *needles: str) -> str:
    assert reply.status_code == status, reply.text
    for needle in needles:
        assert needle in reply.text, (needle, reply.text)
    return reply.text


# --- defect 3: the journal keeps the sentence the client read --------------------------------------
REFUSALS = {
    "400 unknown model": ("alice", "POST", SYNCML, syncml_create(model="999999"), {}, 400,
                          "unknown phone model '999999'"),
    "400 schema": ("alice", "POST", SYNCML, "<nope/>", {}, 400, "nope"),
    "401": (None, "GET", SYNCML, "", {}, 401, "no OAuth credentials"),
    "403": ("alice", "GET", SYNCML + "sessions/chatlog/", "", {}, 403, "administrators"),
    "404 no route": ("alice", "GET", "/v2/services/googel/", "", {}, 404, "Closest"),
    "404 no client": ("alice", "GET", SYNCML + "no-such-client/", "", {}, 404, "no-such-client"),
    "405 no such method": ("alice", "PATCH", SYNCML, "", {}, 405, "allowed: GET, HEAD, POST"),
    "405 read-only": ("alice", "DELETE", "/v2/phones/vendors/", "", {}, 405, "read-only"),
    "413": ("alice", "POST", SYNCML, "x" * (MAX_BODY + 1), {}, 413, f"the limit is {MAX_BODY} bytes"),
    "415": ("alice", "POST", SYNCML, syncml_create(), {"Content-Type": "text/plain"}, 415, "text/plain"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refusal_keeps_the_clients_sentence_in_the_journal(handle, case):
    user, method, path, body, headers, status, needle = REFUSALS[case]
    client = handle.client(user)
    reply = client.request(method, path, body, headers)
    entry = handle.journal[-1]
    assert (reply.status, entry.status) == (status, status), reply.text
    # exactly what the client read after "<status> <reason>: "
    assert reply.text == f"{entry.status} {entry.reason}: {entry.detail}\n"
    assert needle in entry.detail


@pytest.mark.parametrize("status, rule, sentence", [
    (409, {"body": "the calendar is locked"}, "the calendar is locked"),
    (422, {}, "fault 1 injected by the test"),
    (503, {"reason": "Busy"}, "fault 1 injected by the test"),
])
def test_an_injected_status_keeps_its_sentence(handle, status, rule, sentence):
    handle.faults.add("status", status=status, path=SYNCML, **rule)
    reply = handle.client("alice").get(SYNCML)
    (entry,) = handle.journal
    assert (reply.status, entry.fault, entry.detail) == (status, 1, sentence)
    assert reply.text == f"{entry.status} {entry.reason}: {sentence}\n"
    assert (entry.injected, entry.problem) == (True, None)  # asked for: not the code's bug


@pytest.mark.parametrize("status", [400, 413, 415, 422, 500])
def test_an_injected_refusal_is_never_a_problem(handle, status):
    handle.faults.add("status", status=status, path=SYNCML, times=1)
    assert handle.client("alice").get(SYNCML).status == status
    assert handle.journal.problems() == []


@pytest.mark.parametrize("action, rule, status, sentence", [
    ("delay", {"delay": 0.01}, 200, "fault 1 delayed the answer by 0.01 s"),
    ("garbage", {}, 200, "fault 1 sent 512 random bytes instead of the answer"),
])
def test_a_fault_that_is_not_a_refusal_says_what_it_did(handle, action, rule, status, sentence):
    handle.faults.add(action, path=SYNCML, **rule)
    assert handle.client("alice").get(SYNCML).status == status
    assert handle.journal[-1].detail == sentence


def test_a_used_up_fault_stays_listed_so_its_hits_can_be_checked(handle):
    once = handle.faults.add("status", status=503, path=SYNCML, times=1)
    always = handle.faults.add("status", status=502, path="/v2/phones/*")
    client = handle.client("alice")
    assert [client.get(SYNCML).status for _ in range(2)] == [503, 200]  # spent: it matches no more
    assert handle.faults.rules == [once, always]
    assert (once.spent, once.hits, once.as_dict()["remaining"]) == (True, 1, 0)
    assert always.spent is False
    assert handle.faults.remove(once.id) is True and handle.faults.rules == [always]
    handle.faults.add("status", status=503, path=SYNCML, times=1)
    assert client.get(SYNCML).status == 503
    handle.faults.clear()
    assert handle.faults.rules == []


def test_a_spent_fault_reads_the_same_through_a_remote_handle():
    from ocss_testkit.remote import RemoteHandle
    from ocss_testkit.server import FakeServer
    from ocss_testkit.tenants import TenantsApp
    from ocss_testkit.world.fixtures import FixtureSet

    demo = FixtureSet.load("demo")
    with FakeServer(TenantsApp(FakeApp(demo))) as server:
        handle = RemoteHandle.claim(server.url, "spent-1", demo)
        rule = handle.faults.add("status", status=503, path=SYNCML, times=1)
        assert rule.spent is False
        assert [handle.client("alice").get(SYNCML).status for _ in range(2)] == [503, 200]
        [listed] = handle.faults.rules
        assert isinstance(listed, Fault) and (listed.id, listed.spent, listed.hits) == (rule.id, True, 1)


def test_a_delay_fault_before_a_refusal_keeps_the_refusals_sentence(handle):
    handle.faults.add("delay", delay=0.01, path=SYNCML)
    handle.client("alice").post(SYNCML, syncml_create(model="999999"))
    entry = handle.journal[-1]
    assert (entry.fault, entry.status, entry.detail) == (1, 400, "unknown phone model '999999'")
    assert (entry.injected, entry.problem) == (False, "invalid")  # the fake's own refusal


def test_drop_and_truncate_faults_say_what_they_did_over_http(fake):
    handle = FakeHandle(fake)
    drop = handle.faults.add("drop", path=SYNCML, times=1).id  # fault ids run on across resets
    truncate = handle.faults.add("truncate", path=SYNCML, times=1).id
    with pytest.raises(requests.ConnectionError):
        requests.get(fake.url + SYNCML, auth=oauth1("alice"), timeout=30)
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(fake.url + SYNCML, auth=oauth1("alice"), timeout=30)
    assert [(e.status, e.detail) for e in handle.journal] == [
        (0, f"fault {drop} closed the connection without an answer"),
        (200, f"fault {truncate} cut the answer's body to half")]
    assert [e.fault for e in handle.requests(status=0)] == [drop]  # 0: the dropped connection


def test_a_success_has_no_detail(handle):
    assert handle.client("alice").get(SYNCML).status == 200
    assert handle.journal[-1].detail is None


def test_the_detail_is_bounded_like_every_journal_string(handle):
    path = "/v2/" + "x" * 5000
    reply = handle.client("alice").get(path)
    assert reply.status == 404
    entry = handle.journal[-1]
    assert entry.detail.startswith("no route for /v2/xxx") and len(entry.detail) <= 1024 + 16


def test_the_journal_over_http_carries_the_detail(fake):
    requests.post(fake.url + SYNCML, data=syncml_create(model="999999"), auth=oauth1("alice"),
                  headers={"Content-Type": "application/atom+xml"}, timeout=30)
    (entry,) = control(fake, "GET", "journal").json()["entries"]
    assert (entry["status"], entry["problem"], entry["detail"]) == (400, "invalid", "unknown phone model '999999'")


# --- defect 4: the clock takes what POST /_fake/clock takes ----------------------------------------
@pytest.mark.parametrize("at", ["2009-11-01T12:30:00Z", "2009-11-01T13:30:00+01:00", "2009-11-01T07:30:00-05:00",
                                T0, datetime(2009, 11, 1, 13, 30, tzinfo=timezone(timedelta(hours=1)))])
def test_the_clock_is_set_with_a_string_or_an_aware_datetime(handle, at):
    assert handle.clock.freeze() == 0
    handle.clock.set(at)
    assert handle.clock.now() == T0 and handle.clock.frozen
    handle.clock.freeze(at)  # freeze takes the same forms
    assert handle.clock.now() == T0


def test_a_running_clock_set_with_a_string_runs_on_from_there(handle):
    handle.clock.set("2009-11-01T12:30:00Z")
    assert not handle.clock.frozen and T0 <= handle.clock.now() < T0 + timedelta(minutes=5)


@pytest.mark.parametrize("advance", [90, 90.0, timedelta(seconds=90), timedelta(minutes=1, seconds=30)])
def test_the_clock_advances_by_seconds_or_a_timedelta(handle, advance):
    handle.clock.freeze("2009-11-01T12:30:00Z")
    handle.clock.advance(advance)
    assert handle.clock.now() == T0 + timedelta(seconds=90)


@pytest.mark.parametrize("how, value, error, needle", [
    ("set", 1257078600, TypeError, "got int"),
    ("set", None, TypeError, "got NoneType"),
    ("set", date(2009, 11, 1), TypeError, "got date"),
    ("set", b"2009-11-01T12:30:00Z", TypeError, "got bytes"),
    ("freeze", 1257078600.0, TypeError, "got float"),
    ("set", datetime(2009, 11, 1, 12, 30), ValueError, "no timezone"),
    ("set", "2009-11-01T12:30:00", ValueError, "with its offset"),
    ("set", "2009-11-01", ValueError, "with its offset"),
    ("set", "2009-11-01T12:30:00.5Z", ValueError, "whole seconds"),
    ("set", "2009-13-01T12:30:00Z", ValueError, "month"),
    ("set", "1969-12-31T23:59:59Z", ValueError, "stays between"),
    ("set", "9999-12-31T23:59:59-05:00", ValueError, "stays between"),
    ("advance", "30", TypeError, "got str"),
    ("advance", True, TypeError, "got bool"),
    ("advance", None, TypeError, "got NoneType"),
    ("advance", -1, ValueError, "only moves forward"),
    ("advance", timedelta(seconds=-1), ValueError, "only moves forward"),
    ("advance", float("nan"), ValueError, "finite"),
])
def test_a_clock_argument_of_another_form_is_refused_and_moves_nothing(handle, how, value, error, needle):
    handle.clock.freeze(T0)
    with pytest.raises(error) as raised:
        getattr(handle.clock, how)(value)
    assert needle in str(raised.value)
    if error is TypeError:  # the message names every accepted form
        forms = ("timedelta", "seconds") if how == "advance" else ("2009-11-01T12:30:00Z", "+01:00", "aware datetime")
        assert all(form in str(raised.value) for form in forms), raised.value
    assert handle.clock.now() == T0 and handle.clock.frozen


def test_the_http_clock_takes_an_offset_too(fake):
    r = control(fake, "POST", "clock", json={"freeze": True, "set": "2009-11-01T13:30:00+01:00"})
    assert r.status_code == 200 and r.json()["now"] == "2009-11-01T12:30:00Z"
    with unchanged(fake):
        refused(control(fake, "POST", "clock", json={"set": "2009-11-01T12:30:00"}), 400, "set:", "offset")
        refused(control(fake, "POST", "clock", json={"set": 1257078600}), 400, "set:", "got int")


# --- defect 5: an enumerated filter or field refuses what is not in its set ------------------------
def test_an_unknown_message_kind_is_a_value_error_listing_the_kinds(handle):
    for call in (lambda: handle.outbox.messages(kind="setup_sms"), lambda: handle.outbox.last(kind="sms")):
        with pytest.raises(ValueError) as raised:
            call()
        assert all(kind in str(raised.value) for kind in MESSAGE_KINDS), raised.value
    with pytest.raises(TypeError, match="phone number"):
        handle.outbox.messages(to=4798765432)
    assert handle.outbox.messages(kind="setup-sms") == []  # a real kind with nothing sent


def test_an_unknown_message_kind_over_http_is_400_listing_the_kinds(fake):
    for kind in ("sms", "setup_sms", ""):
        text = refused(control(fake, "GET", "outbox", params={"kind": kind}), 400, *MESSAGE_KINDS)
        assert text.startswith("400 Bad Request: kind must be one of")
    assert control(fake, "GET", "outbox", params={"kind": "setup-sms"}).json() == {"messages": []}


@pytest.mark.parametrize("query, needles", [
    ({"problems": "yes"}, ["problems", "1, true, 0, false"]),
    ({"method": "GTE"}, ["method", *METHODS]),
    ({"status": "4oo"}, ["status", "1xx", "5xx", "100 to 599"]),
    ({"status": "600"}, ["status", "100 to 599"]),
    ({"user": "alcie"}, ["alcie", "admin, alice, bob"]),
    ({"path": "http://127.0.0.1/v2/services/syncml/"}, ["path", "not a URL"]),
    ({"verb": "GET"}, ["verb", "after, problems, method, path, user, status"]),
])
def test_a_bad_journal_filter_is_400_naming_the_valid_values(fake, query, needles):
    refused(control(fake, "GET", "journal", params=query), 400, *needles)


@pytest.mark.parametrize("rule, needles", [
    ({"action": "explode"}, list(ACTIONS)),
    ({"action": "status", "method": "GETT"}, ["method", *METHODS, "or *"]),
    ({"action": "status", "path": "v2/services/*"}, ["path", "/ or *"]),
    ({"action": "status", "colour": "red"}, ["colour", "action, body, delay, method, path, reason, status, times"]),
])
def test_a_bad_fault_rule_names_the_valid_values(fake, handle, rule, needles):
    refused(control(fake, "POST", "faults", json=rule), 400, *needles)
    rule = dict(rule)
    with pytest.raises(FaultError) as raised:  # a ValueError
        handle.faults.add(rule.pop("action"), **rule)
    assert all(needle in str(raised.value) for needle in needles), raised.value
    assert handle.faults.rules == [] and isinstance(raised.value, ValueError)


def test_a_fault_method_in_lower_case_is_that_method(handle):
    assert handle.faults.add("status", method="get", path=SYNCML).method == "GET"
    assert handle.client("alice").get(SYNCML).status == 500


@pytest.mark.parametrize("config, needles", [
    ({"setup": "yes"}, ["setup", "accept, reject"]),
    ({"sync": "accepted"}, ["sync", "accept, reject"]),
    ({"answer": "accept"}, ["answer", "setup, setup_after, sync, sync_after, user_agent, visit_after"]),
])
def test_a_bad_autopilot_names_the_valid_settings(fake, handle, config, needles):
    with unchanged(fake):
        refused(control(fake, "PUT", f"phone/{NUMBER}/autopilot", json=config), 400, *needles)
    with pytest.raises(ValueError) as raised:
        handle.phone(NUMBER).autopilot(**config)
    assert all(needle in str(raised.value) for needle in needles), raised.value
    assert handle.world.simulated_phones.autopilots == {}


def test_the_worlds_own_autopilot_checks_are_value_errors_from_python(handle):
    with pytest.raises(ValueError, match="setup_after"):
        handle.phone(NUMBER).autopilot(setup="accept", setup_after=-1)


def two_setup_messages(world) -> tuple:
    alice = world.users["alice"]
    with world.lock:
        first = world.syncml.create_client(alice, NUMBER, "242", "Europe/Oslo")
        second = world.syncml.create_client(alice, NUMBER, "56", "Europe/Oslo")
        world.syncml.send_setup(alice, first.uuid, "1111")
        world.syncml.send_setup(alice, second.uuid, "2222")
    return first, second


@pytest.mark.parametrize("action, body, needles", [
    ("accept-setup", {"mesage": 1}, ["mesage", "use message"]),
    ("reject-sync", {"message": 1, "why": "busy"}, ["why", "use message"]),
    ("visit", {"useragent": "Nokia6233/2.0"}, ["useragent", "use user_agent, message"]),
])
def test_a_misspelt_phone_action_field_is_400_not_ignored(fake, action, body, needles):
    two_setup_messages(fake.app.world)
    with unchanged(fake):  # ignored, `mesage` would have made the phone answer the newest message
        refused(control(fake, "POST", f"phone/{NUMBER}/{action}", json=body), 400, *needles)


def test_the_python_phone_can_answer_an_older_message_by_id(handle):
    first, second = two_setup_messages(handle.world)
    older = handle.outbox.messages(kind="setup-sms")[0]
    assert older.client == first.uuid
    phone = handle.phone(NUMBER)
    assert phone.accept_setup(message=older.id) == first.uuid
    with pytest.raises(TypeError, match="outbox message id"):
        phone.reject_setup(message=str(older.id))
    assert phone.reject_setup() == second.uuid  # the newest still unanswered


def test_an_unknown_user_is_a_lookup_error_naming_the_users(handle):
    for call in (lambda: handle.credentials("alcie"), lambda: handle.client("alcie")):
        with pytest.raises(LookupError, match="alcie.*admin, alice, bob"):
            call()


# --- verification over the journal ------------------------------------------------------------
def traffic(client_for) -> None:
    """#1 GET as alice 200, #2 POST as alice 201, #3 POST as alice 400, #4 unsigned GET 401,
    #5 an unknown path 404 (refused before OAuth: no user)."""
    alice = client_for("alice")
    assert alice.get(SYNCML).status == 200
    assert alice.post(SYNCML, syncml_create()).status == 201
    assert alice.post(SYNCML, syncml_create(model="999999")).status == 400
    assert client_for(None).get(SYNCML).status == 401
    assert alice.get("/v2/services/googel/").status == 404


@pytest.mark.parametrize("criteria, ids", [
    ({}, [1, 2, 3, 4, 5]),
    ({"method": "POST"}, [2, 3]),
    ({"method": "post"}, [2, 3]),
    ({"path": SYNCML}, [1, 2, 3, 4]),
    ({"path": "/v2/services/*"}, [1, 2, 3, 4, 5]),
    ({"path": "/v2/services/goo*"}, [5]),
    ({"user": "alice"}, [1, 2, 3]),
    ({"user": ""}, [4, 5]),
    ({"status": 201}, [2]),
    ({"status": "201"}, [2]),
    ({"status": "4xx"}, [3, 4, 5]),
    ({"status": "2XX"}, [1, 2]),
    ({"method": "POST", "path": SYNCML, "user": "alice", "status": "4xx"}, [3]),
    ({"method": "DELETE"}, []),
])
def test_requests_filters_the_journal(handle, criteria, ids):
    traffic(handle.client)
    assert [e.id for e in handle.journal.requests(**criteria)] == ids
    assert [e.id for e in handle.requests(**criteria)] == ids  # the handle's shortcut


def test_assert_requested_returns_the_matches_or_lists_what_came_instead(handle):
    traffic(handle.client)
    (created,) = handle.assert_requested(method="POST", path=SYNCML, status=201)
    assert created.user == "alice" and created.id == 2
    assert len(handle.journal.assert_requested(path=SYNCML, times=4)) == 4
    with pytest.raises(AssertionError) as raised:
        handle.assert_requested(method="POST", path=SYNCML, status=201, times=2)
    lines = str(raised.value).splitlines()
    assert lines[0] == ("expected exactly 2 request(s) matching POST /v2/services/syncml/ answered 201; "
                        "the fake received 1 such request(s) among 5:")
    # the match first, then the others closest first, each saying where it differs
    assert lines[1] == "  #2 POST /v2/services/syncml/ as alice -> 201 Created  [matches]"
    assert lines[2] == ("  #3 POST /v2/services/syncml/ as alice -> 400 Bad Request: unknown phone model "
                        "'999999'  [differs in status]")
    assert [re.search(r"\[(.*)\]$", line).group(1) for line in lines[3:]] == [
        "differs in method, status", "differs in method, status", "differs in method, path, status"]
    assert lines[3].startswith("  #4 GET /v2/services/syncml/ (no user) -> 401 Unauthorized: no OAuth credentials")


def test_assert_requested_with_nothing_received(handle):
    with pytest.raises(AssertionError, match=r"(?s)at least one request matching PUT any path.*among 0.*\(none\)"):
        handle.journal.assert_requested(method="PUT")


def test_assert_no_requests(handle):
    handle.assert_no_requests()
    traffic(handle.client)
    handle.assert_no_requests(status="5xx")
    handle.journal.assert_no_requests(method="DELETE")
    with pytest.raises(AssertionError) as raised:
        handle.assert_no_requests(user="")
    text = str(raised.value)
    assert text.startswith("expected exactly 0 request(s) matching any method any path without a user")
    assert "#4 GET /v2/services/syncml/ (no user) -> 401" in text and "[matches]" in text


@pytest.mark.parametrize("criteria, error, needle", [
    ({"method": "GTE"}, ValueError, "GET, HEAD, POST"),
    ({"method": 1}, TypeError, "method"),
    ({"status": "4oo"}, ValueError, "1xx, 2xx, 3xx, 4xx, 5xx"),
    ({"status": 4.5}, TypeError, "status"),
    ({"status": True}, TypeError, "status"),
    ({"user": "alcie"}, ValueError, "admin, alice, bob"),
    ({"user": None, "path": "v2/services/syncml/"}, ValueError, "/ or *"),
    ({"times": -1}, ValueError, "times"),
    ({"times": "2"}, TypeError, "times"),
])
def test_a_verification_with_a_bad_criterion_says_so(handle, criteria, error, needle):
    traffic(handle.client)
    with pytest.raises(error, match=re.escape(needle)):
        handle.assert_requested(**criteria)


def test_the_journal_is_a_sequence_of_the_tests_requests(handle):
    assert handle.journal == [] and len(handle.journal) == 0
    traffic(handle.client)
    assert len(handle.journal) == 5 and handle.journal[-1].status == 404
    assert [e.id for e in handle.journal] == [1, 2, 3, 4, 5]
    assert [e.id for e in handle.journal.problems()] == [3, 4, 5]
    handle.journal_mark = 3  # what the plugin sets when a test starts
    assert [e.id for e in handle.journal] == [4, 5] and handle.requests(method="POST") == []
    handle.journal.clear()
    assert handle.journal == []


def test_the_verification_over_http(fake):
    traffic(lambda user: SignedClient(fake.url, FakeHandle(fake).credentials(user) if user else None))

    def journal(**query):
        reply = control(fake, "GET", "journal", params=query)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["count"] == len(body["entries"])
        return [e["id"] for e in body["entries"]]

    first = journal()[0]
    assert [i - first for i in journal()] == [0, 1, 2, 3, 4]
    assert [i - first for i in journal(method="POST", status="4xx")] == [2]
    assert [i - first for i in journal(path="/v2/services/goo*")] == [4]
    assert [i - first for i in journal(user="")] == [3, 4]
    assert [i - first for i in journal(user="alice", status="200")] == [0]
    assert [i - first for i in journal(problems="1", method="GET")] == [3, 4]
    assert [i - first for i in journal(after=str(first + 1), user="alice")] == [2]
    assert journal(method="DELETE") == []


def test_a_filter_reads_as_a_sentence():
    assert str(RequestFilter.of()) == "any request"
    assert str(RequestFilter.of("post", "/v2/*", "", "4xx")) == "POST /v2/* without a user answered 4xx"


# --- public types: every field documented -----------------------------------------------------------
@pytest.mark.parametrize("cls", [Entry, Fault])
def test_every_field_of_the_public_types_is_documented(cls):
    missing = [f.name for f in fields(cls) if f"`{f.name}`" not in cls.__doc__]
    assert missing == []


def test_the_message_and_session_fields_are_documented_for_the_handle(handle):
    from ocss_testkit import controls as drive
    from ocss_testkit.services.phones.state import Detection
    from ocss_testkit.services.syncml.sessions import Session, SessionStore
    from ocss_testkit.world.outbox import Message

    for cls in (Message, Detection, Session, SessionStore):
        missing = [f.name for f in fields(cls) if f"`{f.name}`" not in drive.__doc__]
        assert missing == [], cls


# --- the dashboard shows the sentence ---------------------------------------------------------------
def test_the_dashboard_shows_the_refusals_sentence(fake, page):  # noqa: F811 - the fixture
    requests.post(fake.url + SYNCML, data=syncml_create(model="999999"), auth=oauth1("alice"),
                  headers={"Content-Type": "application/atom+xml"}, timeout=30)
    open_dashboard(page, fake)
    rows = page.get_by_test_id("journal-problem")
    expect(rows.filter(has_text="unknown phone model '999999'")).to_have_count(1)
