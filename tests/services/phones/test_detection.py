"""Handset detection over real HTTP (routes I5–I8; SyncServer API Python interface,
"Models": detect_auto, detect_manual, detect_poll).

detect/manual answers 201 with a code and sends the phone an SMS holding `{base}/d/{code}`; the
phone's browser opens it (a plain GET with its User-Agent) and polling then says pending,
detected (with the model) or failed. detect/auto needs the user's may_detect_auto flag. Driven by
requests and requests-oauthlib; every XML body is validated against its response schema, and
every refused request leaves the world exactly as it was.
"""
from __future__ import annotations

import re

import pytest
import requests
from lxml import etree
from requests_oauthlib import OAuth1

from ocss_testkit.services.phones.state import DEFAULT_CODE_LIFETIME
from tests.helpers import assert_error, unchanged
from tests.helpers import find_text as text
from tests.helpers import valid_atom as xml

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
NS = {"a": ATOM, "oc": OC}
MANUAL = "/v2/phones/detect/manual/"
AUTO = "/v2/phones/detect/auto/"
NUMBER = "+4798765432"
NOKIA_6233_UA = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"
NOKIA_6233_UUID = "02978288-537f-102b-beff-000ea60275d1"
FIREFOX_UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"
# (model id, name, uuid, a User-Agent of it) from fixtures/phones.json
HANDSETS = [
    ("242", "Nokia 6233", NOKIA_6233_UUID, NOKIA_6233_UA),
    ("112", "Nokia 5310 XpressMusic", "8f8b541e-7f92-5196-918a-c86f4ba03af8",
     "Nokia5310XpressMusic/2.0 (05.80) Profile/MIDP-2.1 Configuration/CLDC-1.1"),
    ("56", "Nokia 5800 XpressMusic", "2d7fa47b-5522-50d1-b5f9-8257ec6ae832",
     "Mozilla/5.0 (SymbianOS/9.4; U; Series60/5.0 Nokia5800d-1/21.0.025; Profile/MIDP-2.1 "
     "Configuration/CLDC-1.1 ) AppleWebKit/413 (KHTML, like Gecko) Safari/413"),
    ("401", "Samsung SGH-E250", "42e21575-efc7-558a-ba3a-cc41def47404",
     "SAMSUNG-SGH-E250/1.0 Profile/MIDP-2.0 Configuration/CLDC-1.1 UP.Browser/6.2.3.3.c.1.101 (GUI) MMP/2.0"),
    ("501", "HTC Touch Diamond", "226e8cec-b5f0-5dbd-ae45-8f36e46986e7",
     "HTC_Touch_Diamond/1.0 Mozilla/4.0 (compatible; MSIE 6.0; Windows CE; IEMobile 7.11)"),
]


def auth(user: str) -> OAuth1:
    return OAuth1("demo-consumer-key", "demo-consumer-secret", f"{user}-access-token", f"{user}-access-secret")


def detect_body(number: str = NUMBER) -> bytes:
    return f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>{number}</oc:phone_number></entry>'.encode()


def post(fake, path: str, body: bytes | None, user: str | None = "alice",
         content_type: str | None = "application/atom+xml") -> requests.Response:
    headers = {"Content-Type": content_type} if content_type and body is not None else {}
    return requests.post(fake.url + path, data=body, headers=headers, auth=auth(user) if user else None,
                         timeout=30)


def poll(fake, code: str, user: str | None = "alice", slash: bool = True) -> requests.Response:
    return requests.get(fake.url + MANUAL + code + ("/" if slash else ""), auth=auth(user) if user else None,
                        timeout=30)


def control(fake, method: str, path: str, **kw) -> requests.Response:
    return requests.request(method, fake.url + "/_fake/" + path, timeout=30, **kw)






def links(entry: etree._Element, rel: str) -> list[etree._Element]:
    return entry.findall(f"a:link[@rel='{rel}']", NS)


def start(fake, number: str = NUMBER, user: str = "alice") -> tuple[str, etree._Element]:
    """detect/manual: (code, the 201 entry)."""
    entry = xml(post(fake, MANUAL, detect_body(number), user), "detection", 201, "Created")
    return text(entry, "oc:code"), entry


def sms_link(fake, number: str, code: str) -> str:
    reply = control(fake, "GET", "outbox", params={"to": number, "kind": "detection-link"})
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "application/json"
    messages = [m for m in reply.json()["messages"] if m["code"] == code]
    assert len(messages) == 1, reply.json()
    found = re.findall(r"https?://\S+", messages[0]["body"])
    assert len(found) == 1, messages[0]["body"]
    return found[0].rstrip(".,;")


def freeze(fake, **more) -> dict:
    reply = control(fake, "POST", "clock", json={"freeze": True, **more})
    assert reply.status_code == 200, reply.text
    return reply.json()


# --- I6: detect/manual ------------------------------------------------------------------

def test_manual_detection_end_to_end(fake):
    reply = post(fake, MANUAL, detect_body())
    entry = xml(reply, "detection", 201, "Created")
    code = text(entry, "oc:code")
    assert re.fullmatch(r"[A-Za-z0-9_\-]{6,64}", code)
    url = f"{fake.url}{MANUAL}{code}/"
    assert reply.headers["Location"] == url
    assert text(entry, "a:id") == url
    assert [lk.get("href") for lk in links(entry, "self")] == [url]
    assert text(entry, "oc:phone_number") == NUMBER
    assert text(entry, "oc:status") == "pending"
    assert entry.find("oc:model_uuid", NS) is None and not links(entry, "related")

    # the SMS: one detection-link message to the number, holding the absolute link
    outbox = control(fake, "GET", "outbox", params={"to": NUMBER, "kind": "detection-link"}).json()["messages"]
    assert len(outbox) == 1
    assert outbox[0]["to"] == NUMBER and outbox[0]["kind"] == "detection-link" and outbox[0]["code"] == code
    assert f"{fake.url}/d/{code}" in outbox[0]["body"]
    link = sms_link(fake, NUMBER, code)
    assert link == f"{fake.url}/d/{code}"

    # not visited yet: pending (detect_poll answers None)
    pending = xml(poll(fake, code), "detection")
    assert text(pending, "oc:status") == "pending"
    assert pending.find("oc:model_uuid", NS) is None and not links(pending, "related")

    # the phone opens the link in its browser
    page = requests.get(link, headers={"User-Agent": NOKIA_6233_UA}, timeout=30)
    assert (page.status_code, page.reason) == (200, "OK")
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Nokia 6233" in page.text

    detected = xml(poll(fake, code), "detection")
    assert text(detected, "oc:status") == "detected"
    assert text(detected, "oc:code") == code
    assert text(detected, "oc:model_uuid") == NOKIA_6233_UUID
    related = links(detected, "related")
    assert len(related) == 1
    assert related[0].get("href") == f"{fake.url}/v2/phones/models/242"
    assert related[0].get("title") == "Nokia 6233"
    model = xml(requests.get(related[0].get("href"), timeout=30), "phones")
    assert text(model, "oc:model/oc:name") == "Nokia 6233"
    assert text(model, "oc:model/oc:uuid") == NOKIA_6233_UUID


@pytest.mark.parametrize("model_id, name, model_uuid, user_agent", HANDSETS, ids=[h[1] for h in HANDSETS])
def test_the_user_agent_names_the_model(fake, model_id, name, model_uuid, user_agent):
    code, _ = start(fake)
    page = requests.get(sms_link(fake, NUMBER, code) + "/", headers={"User-Agent": user_agent}, timeout=30)
    assert (page.status_code, page.reason) == (200, "OK")
    assert name in page.text
    detected = xml(poll(fake, code, slash=False), "detection")
    assert text(detected, "oc:status") == "detected"
    assert text(detected, "oc:model_uuid") == model_uuid
    assert links(detected, "related")[0].get("href") == f"{fake.url}/v2/phones/models/{model_id}"


@pytest.mark.parametrize("user_agent", [FIREFOX_UA, "", "Nokia/2.0", "python-requests/2.0"])
def test_an_unrecognised_browser_fails_the_detection(fake, user_agent):
    code, _ = start(fake)
    page = requests.get(sms_link(fake, NUMBER, code), headers={"User-Agent": user_agent}, timeout=30)
    assert (page.status_code, page.reason) == (200, "OK")
    assert page.headers["Content-Type"].startswith("text/html")
    assert "could not recognise" in page.text
    failed = xml(poll(fake, code), "detection")
    assert text(failed, "oc:status") == "failed"  # detect_poll answers False
    assert failed.find("oc:model_uuid", NS) is None and not links(failed, "related")
    # a failed detection teaches automatic detection nothing
    reply = post(fake, AUTO, detect_body())
    assert (reply.status_code, reply.reason) == (204, "No Content")


def test_each_detection_has_its_own_code_and_message(fake):
    first, _ = start(fake)
    second, _ = start(fake)
    third, _ = start(fake, "+4711223344")
    assert len({first, second, third}) == 3
    assert len(control(fake, "GET", "outbox", params={"to": NUMBER, "kind": "detection-link"})
               .json()["messages"]) == 2
    requests.get(sms_link(fake, NUMBER, second), headers={"User-Agent": NOKIA_6233_UA}, timeout=30)
    assert text(xml(poll(fake, first), "detection"), "oc:status") == "pending"
    assert text(xml(poll(fake, second), "detection"), "oc:status") == "detected"
    assert text(xml(poll(fake, third), "detection"), "oc:status") == "pending"


def test_the_control_plane_visit_completes_a_detection(fake):
    code, _ = start(fake)
    reply = control(fake, "POST", f"phone/{NUMBER}/visit", json={"user_agent": NOKIA_6233_UA})
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"code": code, "status": "detected", "model": "Nokia 6233"}
    assert text(xml(poll(fake, code), "detection"), "oc:status") == "detected"
    # the link was answered: nothing is left to visit
    with unchanged(fake):
        again = control(fake, "POST", f"phone/{NUMBER}/visit", json={"user_agent": NOKIA_6233_UA})
    assert (again.status_code, again.reason) == (404, "Not Found")
    assert "detection-link" in again.text


# --- I7: unknown, expired, foreign codes ------------------------------------------------------

def test_unknown_code_is_400_on_poll_and_404_on_the_page(fake):
    start(fake)
    with unchanged(fake):
        assert_error(poll(fake, "no-such-code"), 400, "Bad Request", "no-such-code")
        assert_error(poll(fake, "no-such-code", slash=False), 400, "Bad Request", "no-such-code")
        page = requests.get(f"{fake.url}/d/no-such-code", headers={"User-Agent": NOKIA_6233_UA}, timeout=30)
    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith("text/html")
    assert "unknown or has expired" in page.text


def test_the_unknown_code_page_has_the_usual_reason_phrase(fake):
    # regression: a bare Response(status=404) made werkzeug send "404 NOT FOUND"
    page = requests.get(f"{fake.url}/d/no-such-code", timeout=30)
    assert (page.status_code, page.reason) == (404, "Not Found")


def test_an_expired_code_is_400_mentioning_expiry(fake):
    freeze(fake, set="2009-11-01T12:30:00Z")
    code, entry = start(fake)
    assert text(entry, "a:updated") == "2009-11-01T12:30:00Z"
    link = sms_link(fake, NUMBER, code)
    control(fake, "POST", "clock", json={"advance": DEFAULT_CODE_LIFETIME - 1})
    assert text(xml(poll(fake, code), "detection"), "oc:status") == "pending"
    control(fake, "POST", "clock", json={"advance": 1})
    with unchanged(fake):
        assert_error(poll(fake, code), 400, "Bad Request", "expired", code)
        page = requests.get(link, headers={"User-Agent": NOKIA_6233_UA}, timeout=30)
    assert page.status_code == 404
    assert "expired" in page.text
    # too late to teach automatic detection anything
    assert post(fake, AUTO, detect_body()).status_code == 204


def test_another_users_code_is_403(fake):
    code, _ = start(fake, user="alice")
    with unchanged(fake):
        assert_error(poll(fake, code, user="bob"), 403, "Forbidden", code)
        assert_error(poll(fake, code, user="admin"), 403, "Forbidden")
    assert text(xml(poll(fake, code, user="alice"), "detection"), "oc:status") == "pending"


def test_polling_needs_authentication(fake):
    code, _ = start(fake)
    with unchanged(fake):
        reply = poll(fake, code, user=None)
    assert_error(reply, 401, "Unauthorized")
    assert reply.headers["WWW-Authenticate"] == f'OAuth realm="{fake.url}/"'


# --- I5: detect/auto ----------------------------------------------------------------------

def test_auto_detection_of_an_unknown_number_is_204(fake):
    with unchanged(fake):
        reply = post(fake, AUTO, detect_body("+4700000001"))
    assert (reply.status_code, reply.reason) == (204, "No Content")
    assert reply.content == b""


def test_auto_detection_knows_a_number_detected_before(fake):
    code, _ = start(fake, "+4712345678")
    requests.get(sms_link(fake, "+4712345678", code), headers={"User-Agent": NOKIA_6233_UA}, timeout=30)
    entry = xml(post(fake, AUTO, detect_body("+4712345678")), "phones")
    assert entry.tag == f"{{{ATOM}}}entry"
    assert text(entry, "a:title") == "Nokia 6233"
    assert text(entry, "a:id") == f"{fake.url}/v2/phones/models/242"
    assert text(entry, "oc:model/oc:uuid") == NOKIA_6233_UUID
    assert text(entry, "oc:model/oc:name") == "Nokia 6233"
    assert links(entry, "related")[0].get("href") == f"{fake.url}/v2/phones/vendors/1"
    # other numbers are still unknown
    assert post(fake, AUTO, detect_body("+4712345679")).status_code == 204


@pytest.mark.parametrize("user", ["bob", "admin"])
def test_auto_detection_needs_the_permission(fake, user):
    code, _ = start(fake, "+4712345678")
    requests.get(sms_link(fake, "+4712345678", code), headers={"User-Agent": NOKIA_6233_UA}, timeout=30)
    for number in ("+4712345678", "+4700000001"):
        with unchanged(fake):
            assert_error(post(fake, AUTO, detect_body(number), user=user), 403, "Forbidden",
                         user, "automatic detection")


# --- bad requests ---------------------------------------------------------------------------

BAD_BODIES = {
    "no body": (None, "No Entry provided"),
    "blank body": (b"  \n", "No Entry provided"),
    "missing phone_number": (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><title>x</title></entry>'.encode(),
                             "Bad Request"),
    "empty phone_number": (detect_body(""), "Bad Request"),
    "letters": (detect_body("not-a-number"), "Bad Request"),
    "too short": (detect_body("1234"), "Bad Request"),
    "too long": (detect_body("+1234567890123456"), "Bad Request"),
    "inner spaces": (detect_body("+47 987 65 432"), "Bad Request"),
    "two numbers": (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>+4798765432</oc:phone_number>'
                    f"<oc:phone_number>+4798765433</oc:phone_number></entry>".encode(), "Bad Request"),
    "wrong root": (f'<feed xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>{NUMBER}</oc:phone_number></feed>'
                   .encode(), "Bad Request"),
    "no namespace": (f"<entry><phone_number>{NUMBER}</phone_number></entry>".encode(), "Bad Request"),
    "atom phone_number": (f'<entry xmlns="{ATOM}"><phone_number>{NUMBER}</phone_number></entry>'.encode(),
                          "Bad Request"),
    "unknown oc element": (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>{NUMBER}</oc:phone_number>'
                           f"<oc:model_uuid>242</oc:model_uuid></entry>".encode(), "Bad Request"),
    "malformed": (b"<entry><oc:phone_number>", "Bad Request"),
    "not xml": (b"phone_number=+4798765432", "Bad Request"),
}


@pytest.mark.parametrize("path", [MANUAL, AUTO])
@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_bad_bodies_are_400_and_change_nothing(fake, path, case):
    body, reason = BAD_BODIES[case]
    with unchanged(fake):
        reply = post(fake, path, body)
    assert_error(reply, 400, reason)
    assert control(fake, "GET", "outbox").json()["messages"] == []


def test_a_non_xml_content_type_is_415(fake):
    with unchanged(fake):
        reply = post(fake, MANUAL, detect_body(), content_type="application/json")
    assert_error(reply, 415, "Unsupported Media Type")


@pytest.mark.parametrize("path", [MANUAL, AUTO])
def test_detection_needs_authentication(fake, path):
    with unchanged(fake):
        reply = post(fake, path, detect_body(), user=None)
    assert_error(reply, 401, "Unauthorized")
    assert reply.headers["WWW-Authenticate"] == f'OAuth realm="{fake.url}/"'


@pytest.mark.parametrize("path", [MANUAL, AUTO])
def test_a_bad_signature_is_401(fake, path):
    bad = OAuth1("demo-consumer-key", "demo-consumer-secret", "alice-access-token", "wrong-secret")
    with unchanged(fake):
        reply = requests.post(fake.url + path, data=detect_body(),
                              headers={"Content-Type": "application/atom+xml"}, auth=bad, timeout=30)
    assert_error(reply, 401, "Unauthorized")


@pytest.mark.parametrize("user_agent", [6233, ["Nokia6233/2.0"], {"ua": "x"}, True])
def test_the_control_plane_visit_refuses_a_non_string_user_agent(fake, user_agent):
    # regression: a non-string reached PhonesDB.identify's re.search: TypeError, 500
    code, _ = start(fake)
    with unchanged(fake):
        reply = control(fake, "POST", f"phone/{NUMBER}/visit", json={"user_agent": user_agent})
    assert_error(reply, 400, "Bad Request", "user_agent")
    assert text(xml(poll(fake, code), "detection"), "oc:status") == "pending"
