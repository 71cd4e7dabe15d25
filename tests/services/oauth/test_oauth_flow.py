"""The OAuth 1.0a three-legged flow (route I16), driven as the SmartFile Python client drives it:
get a request token, send the user to the authorization page, read the verifier off the
callback, exchange it for an access token, then use that token on the API; or the user denies
(RFC 5849 §2.2 leaves how open: the fake answers a denial as Twitter's provider does).

The consumer side is requests-oauthlib's `OAuth1Session` (and authlib's, for the same flow);
the "user" is plain requests filling in the HTML form. Only the demo consumer
(`demo-consumer-key`) exists; the approving user is picked on the page.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
import requests
from authlib.integrations.requests_client import OAuth1Session as AuthlibSession
from lxml import etree
from requests_oauthlib import OAuth1, OAuth1Session

from ocss_testkit.atom.schemas import schemas
from tests.helpers import unchanged

CONSUMER_KEY, CONSUMER_SECRET = "demo-consumer-key", "demo-consumer-secret"
CALLBACK = "http://127.0.0.1:9/callback"
ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
NS = {"a": ATOM, "oc": OC}
SYNCML = "/v2/services/syncml/"
ATOM_XML = {"Content-Type": "application/atom+xml"}


def syncml_body(phone: str) -> bytes:
    return (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client><oc:phone_number>{phone}</oc:phone_number>'
            "<oc:model_uuid>112</oc:model_uuid><oc:timezone>Europe/Oslo</oc:timezone></oc:client></entry>").encode()


def signed(token: str, secret: str) -> OAuth1:
    return OAuth1(CONSUMER_KEY, CONSUMER_SECRET, token, secret)


def demo(user: str) -> OAuth1:
    return signed(f"{user}-access-token", f"{user}-access-secret")


def syncml_feed(fake, auth) -> list[str]:
    reply = requests.get(fake.url + SYNCML, auth=auth, timeout=10)
    assert (reply.status_code, reply.reason) == (200, "OK"), reply.text
    root = etree.fromstring(reply.content)
    schemas("response").validate("syncml", root)
    return [e.findtext("oc:client/oc:uuid", namespaces=NS) for e in root.findall("a:entry", NS)]


def assert_401(fake, reply: requests.Response) -> None:
    assert (reply.status_code, reply.reason) == (401, "Unauthorized"), (reply.status_code, reply.reason, reply.text)
    assert reply.headers["WWW-Authenticate"] == f'OAuth realm="{fake.url}/"'


@pytest.fixture
def consumer():
    sessions = []

    def make(callback: str = CALLBACK) -> OAuth1Session:
        s = OAuth1Session(CONSUMER_KEY, client_secret=CONSUMER_SECRET, callback_uri=callback)
        sessions.append(s)
        return s
    yield make
    for s in sessions:
        s.close()


def request_token(fake, session: OAuth1Session) -> dict:
    token = session.fetch_request_token(fake.url + "/oauth/request_token")
    assert token["oauth_callback_confirmed"] == "true"
    assert token["oauth_token"] and token["oauth_token_secret"]
    return token


def authorization_form(fake, url: str) -> tuple[str, dict, list[str], dict[str, dict]]:
    """GET the page a browser would show: (form action, hidden fields, users on offer, the
    field each submit button adds, by its label)."""
    page = requests.get(url, timeout=10)
    assert (page.status_code, page.reason) == (200, "OK"), page.text
    assert page.headers["Content-Type"].startswith("text/html")
    doc = lxml.html.fromstring(page.content)
    (form,) = doc.forms
    assert form.method.upper() == "POST"
    hidden = {i.name: i.value for i in form.inputs if getattr(i, "type", None) == "hidden"}
    users = list(form.inputs["user"].value_options)
    buttons = {b.text_content().strip(): {b.get("name"): b.get("value")}
               for b in form.xpath(".//button[@type='submit']")}
    return form.action, hidden, users, buttons


def click(fake, url: str, user: str, button: str) -> requests.Response:
    """What a browser sends when the user picks `user` and clicks `button`."""
    action, hidden, users, buttons = authorization_form(fake, url)
    assert user in users
    return requests.post(action, data={**hidden, "user": user, **buttons[button]}, allow_redirects=False,
                         timeout=10)


def approve(fake, url: str, user: str) -> requests.Response:
    return click(fake, url, user, "Approve")


def deny(fake, url: str, user: str = "bob") -> requests.Response:
    return click(fake, url, user, "Deny")


def three_legs(fake, session: OAuth1Session, user: str = "bob") -> tuple[dict, dict, dict]:
    """(request token, verifier response, access token), through every leg."""
    rt = request_token(fake, session)
    url = session.authorization_url(fake.url + "/oauth/authorize")
    reply = approve(fake, url, user)
    assert reply.status_code == 302, (reply.status_code, reply.text)
    verifier = session.parse_authorization_response(reply.headers["Location"])
    access = session.fetch_access_token(fake.url + "/oauth/access_token")
    return rt, verifier, access


# --- the flow works end to end ---------------------------------------------------------------
def test_three_legged_flow_with_requests_oauthlib(fake, consumer):
    session = consumer()
    rt = request_token(fake, session)

    url = session.authorization_url(fake.url + "/oauth/authorize")
    assert urlsplit(url).path == "/oauth/authorize"
    assert parse_qs(urlsplit(url).query)["oauth_token"] == [rt["oauth_token"]]
    action, hidden, users, buttons = authorization_form(fake, url)
    assert action == fake.url + "/oauth/authorize"
    assert hidden["oauth_token"] == rt["oauth_token"]
    assert {"alice", "bob", "admin"} <= set(users)
    assert buttons == {"Approve": {"approve": "yes"}, "Deny": {"approve": "no"}}

    reply = requests.post(action, data={**hidden, "user": "bob", "approve": "yes"}, allow_redirects=False,
                          timeout=10)
    assert reply.status_code == 302, reply.text
    location = reply.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["oauth_token"] == [rt["oauth_token"]] and len(query["oauth_verifier"]) == 1

    verifier = session.parse_authorization_response(location)
    assert verifier["oauth_verifier"] == query["oauth_verifier"][0]
    access = session.fetch_access_token(fake.url + "/oauth/access_token")
    token, secret = access["oauth_token"], access["oauth_token_secret"]
    assert token and secret
    assert token not in (rt["oauth_token"], "bob-access-token") and secret != rt["oauth_token_secret"]

    # The new token works on the API and acts as bob.
    assert syncml_feed(fake, signed(token, secret)) == []
    created = requests.post(fake.url + SYNCML, data=syncml_body("+4798700001"), headers=ATOM_XML,
                            auth=signed(token, secret), timeout=10)
    assert (created.status_code, created.reason) == (201, "Created"), created.text
    entry = etree.fromstring(created.content)
    schemas("response").validate("syncml", entry)
    assert entry.findtext("a:author/a:name", namespaces=NS) == "bob"
    uuid = entry.findtext("oc:client/oc:uuid", namespaces=NS)
    assert syncml_feed(fake, demo("bob")) == [uuid]
    assert uuid not in syncml_feed(fake, demo("alice"))
    # the session itself, now holding the access token, signs API calls too
    assert session.get(fake.url + SYNCML, timeout=10).status_code == 200
    # and the new token works on the other APIs, as bob
    other = requests.get(fake.url + "/v2/clients/" + uuid, auth=signed(token, secret), timeout=10)
    assert other.status_code == 200, other.text


def test_three_legged_flow_with_authlib(fake):
    with AuthlibSession(CONSUMER_KEY, CONSUMER_SECRET, redirect_uri=CALLBACK) as session:
        rt = session.fetch_request_token(fake.url + "/oauth/request_token")
        assert rt["oauth_callback_confirmed"] == "true"
        url = session.create_authorization_url(fake.url + "/oauth/authorize")
        assert parse_qs(urlsplit(url).query)["oauth_token"] == [rt["oauth_token"]]
        reply = approve(fake, url, "alice")
        assert reply.status_code == 302, reply.text
        session.parse_authorization_response(reply.headers["Location"])
        access = session.fetch_access_token(fake.url + "/oauth/access_token")
    auth = signed(access["oauth_token"], access["oauth_token_secret"])
    created = requests.post(fake.url + SYNCML, data=syncml_body("+4798700002"), headers=ATOM_XML, auth=auth,
                            timeout=10)
    assert created.status_code == 201, created.text
    uuid = etree.fromstring(created.content).findtext("oc:client/oc:uuid", namespaces=NS)
    assert uuid in syncml_feed(fake, demo("alice"))
    assert uuid not in syncml_feed(fake, demo("bob"))


def test_request_token_with_authlib_then_requests_oauthlib(fake, consumer):
    """The request-token step by authlib, the rest by requests-oauthlib: the legs are independent."""
    with AuthlibSession(CONSUMER_KEY, CONSUMER_SECRET, redirect_uri=CALLBACK) as first:
        rt = first.fetch_request_token(fake.url + "/oauth/request_token")
    assert rt["oauth_callback_confirmed"] == "true"
    session = OAuth1Session(CONSUMER_KEY, client_secret=CONSUMER_SECRET,
                            resource_owner_key=rt["oauth_token"], resource_owner_secret=rt["oauth_token_secret"])
    try:
        reply = approve(fake, session.authorization_url(fake.url + "/oauth/authorize"), "admin")
        session.parse_authorization_response(reply.headers["Location"])
        access = session.fetch_access_token(fake.url + "/oauth/access_token")
    finally:
        session.close()
    admin_demo = syncml_feed(fake, demo("admin"))
    assert syncml_feed(fake, signed(access["oauth_token"], access["oauth_token_secret"])) == admin_demo
    assert len(admin_demo) == 2  # the demo world's two SyncML clients of admin


def test_out_of_band_callback_shows_the_verifier(fake, consumer):
    session = consumer("oob")
    rt = request_token(fake, session)
    reply = approve(fake, session.authorization_url(fake.url + "/oauth/authorize"), "bob")
    assert reply.status_code == 200, reply.text
    shown = parse_qs(reply.text)
    assert shown["oauth_token"] == [rt["oauth_token"]]
    access = session.fetch_access_token(fake.url + "/oauth/access_token", verifier=shown["oauth_verifier"][0])
    assert syncml_feed(fake, signed(access["oauth_token"], access["oauth_token_secret"])) == []


# --- refusals --------------------------------------------------------------------------------
def test_request_token_cannot_be_used_twice(fake, consumer):
    session = consumer()
    rt, verifier, _ = three_legs(fake, session)
    again = OAuth1(CONSUMER_KEY, CONSUMER_SECRET, rt["oauth_token"], rt["oauth_token_secret"],
                   verifier=verifier["oauth_verifier"])
    with unchanged(fake):
        assert_401(fake, requests.post(fake.url + "/oauth/access_token", auth=again, timeout=10))
    # nor is a request token an access token
    assert_401(fake, requests.get(fake.url + SYNCML, auth=signed(rt["oauth_token"], rt["oauth_token_secret"]),
                                  timeout=10))


def test_wrong_verifier_is_401(fake, consumer):
    session = consumer()
    rt = request_token(fake, session)
    reply = approve(fake, session.authorization_url(fake.url + "/oauth/authorize"), "bob")
    assert reply.status_code == 302
    wrong = OAuth1(CONSUMER_KEY, CONSUMER_SECRET, rt["oauth_token"], rt["oauth_token_secret"],
                   verifier="not-the-verifier")
    with unchanged(fake):
        assert_401(fake, requests.post(fake.url + "/oauth/access_token", auth=wrong, timeout=10))


def test_access_token_before_approval_is_401(fake, consumer):
    session = consumer()
    rt = request_token(fake, session)
    early = OAuth1(CONSUMER_KEY, CONSUMER_SECRET, rt["oauth_token"], rt["oauth_token_secret"], verifier="guess")
    with unchanged(fake):
        assert_401(fake, requests.post(fake.url + "/oauth/access_token", auth=early, timeout=10))


def test_request_token_needs_a_valid_signature(fake):
    bad = OAuth1(CONSUMER_KEY, "not-the-consumer-secret", callback_uri=CALLBACK)
    reply = requests.post(fake.url + "/oauth/request_token", auth=bad, timeout=10)
    assert_401(fake, reply)
    assert "oauth_token" not in parse_qs(reply.text)
    unknown = OAuth1("no-such-consumer", CONSUMER_SECRET, callback_uri=CALLBACK)
    assert_401(fake, requests.post(fake.url + "/oauth/request_token", auth=unknown, timeout=10))


@pytest.mark.parametrize("token", ["no-such-token", ""])
def test_unknown_request_token_on_the_authorization_page_is_400(fake, token):
    reply = requests.get(fake.url + "/oauth/authorize", params={"oauth_token": token}, timeout=10)
    assert (reply.status_code, reply.reason) == (400, "Bad Request"), reply.text
    assert reply.text.startswith("400 Bad Request: ")
    for decision in ("yes", "no"):
        with unchanged(fake):
            reply = requests.post(fake.url + "/oauth/authorize",
                                  data={"oauth_token": token, "user": "bob", "approve": decision},
                                  allow_redirects=False, timeout=10)
        assert (reply.status_code, reply.reason) == (400, "Bad Request"), reply.text


def test_approving_twice_is_400(fake, consumer):
    session = consumer()
    rt = request_token(fake, session)
    url = session.authorization_url(fake.url + "/oauth/authorize")
    first = approve(fake, url, "bob")
    assert first.status_code == 302
    second = requests.post(fake.url + "/oauth/authorize",
                           data={"oauth_token": rt["oauth_token"], "user": "alice", "approve": "yes"},
                           allow_redirects=False, timeout=10)
    assert (second.status_code, second.reason) == (400, "Bad Request"), second.text
    assert "approved" in second.text
    # the first approval stands: the token acts as bob
    session.parse_authorization_response(first.headers["Location"])
    access = session.fetch_access_token(fake.url + "/oauth/access_token")
    reply = requests.post(fake.url + SYNCML, data=syncml_body("+4798700003"), headers=ATOM_XML,
                          auth=signed(access["oauth_token"], access["oauth_token_secret"]), timeout=10)
    assert etree.fromstring(reply.content).findtext("a:author/a:name", namespaces=NS) == "bob"


def test_approving_as_an_unknown_user_is_400(fake, consumer):
    session = consumer()
    rt = request_token(fake, session)
    for decision in ("yes", "no"):
        with unchanged(fake):
            reply = requests.post(fake.url + "/oauth/authorize",
                                  data={"oauth_token": rt["oauth_token"], "user": "mallory", "approve": decision},
                                  allow_redirects=False, timeout=10)
        assert (reply.status_code, reply.reason) == (400, "Bad Request"), reply.text
        assert "mallory" in reply.text
    assert approve(fake, session.authorization_url(fake.url + "/oauth/authorize"), "bob").status_code == 302


def test_callback_query_is_kept(fake, consumer):
    session = consumer(CALLBACK + "?state=abc&n=1")
    rt = request_token(fake, session)
    reply = approve(fake, session.authorization_url(fake.url + "/oauth/authorize"), "bob")
    assert reply.status_code == 302
    query = parse_qs(urlsplit(reply.headers["Location"]).query)
    assert query["state"] == ["abc"] and query["n"] == ["1"] and query["oauth_token"] == [rt["oauth_token"]]
    assert "oauth_verifier" in query


# --- the user denies ----------------------------------------------------------------------------
def exchange_refused(fake, rt: dict, verifier: str) -> None:
    """The access-token step with this request token is refused (401) and changes nothing."""
    auth = OAuth1(CONSUMER_KEY, CONSUMER_SECRET, rt["oauth_token"], rt["oauth_token_secret"], verifier=verifier)
    with unchanged(fake):
        assert_401(fake, requests.post(fake.url + "/oauth/access_token", auth=auth, timeout=10))


def request_tokens(fake) -> list[str]:
    return [t["token"] for t in requests.get(fake.url + "/_fake/state", timeout=10).json()["request_tokens"]]


@pytest.mark.parametrize("decision", [{"approve": "no"}, {"approve": "deny"}, {"approve": ""},
                                      {"approve": "YES"}, {}], ids=["no", "deny", "empty", "YES", "missing"])
def test_anything_but_approve_yes_denies_with_a_callback(fake, consumer, decision):
    session = consumer(CALLBACK + "?state=abc")
    rt = request_token(fake, session)
    reply = requests.post(fake.url + "/oauth/authorize", data={"oauth_token": rt["oauth_token"], "user": "bob",
                                                               **decision}, allow_redirects=False, timeout=10)
    # Twitter's provider: back to the callback with `denied=<request token>` instead of
    # oauth_token, and no verifier; the consumer's own query is kept.
    assert (reply.status_code, reply.reason) == (302, "Found"), reply.text
    location = reply.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    assert parse_qs(urlsplit(location).query) == {"state": ["abc"], "denied": [rt["oauth_token"]]}
    # the request token is spent: nothing can exchange, approve or show it any more
    assert rt["oauth_token"] not in request_tokens(fake)
    exchange_refused(fake, rt, "any-verifier")
    again = approve_directly(fake, rt["oauth_token"], "bob")
    assert (again.status_code, again.reason) == (400, "Bad Request"), again.text
    page = requests.get(fake.url + "/oauth/authorize", params={"oauth_token": rt["oauth_token"]}, timeout=10)
    assert (page.status_code, page.reason) == (400, "Bad Request"), page.text


def approve_directly(fake, token: str, user: str) -> requests.Response:
    return requests.post(fake.url + "/oauth/authorize", data={"oauth_token": token, "user": user, "approve": "yes"},
                         allow_redirects=False, timeout=10)


def test_the_deny_button_denies_and_a_consumer_library_sees_no_approval(fake, consumer):
    session = consumer()
    rt = request_token(fake, session)
    reply = deny(fake, session.authorization_url(fake.url + "/oauth/authorize"))
    assert reply.status_code == 302, reply.text
    query = parse_qs(urlsplit(reply.headers["Location"]).query)
    assert query == {"denied": [rt["oauth_token"]]}
    # requests-oauthlib finds no oauth_token (and no verifier) on the callback: no approval to act on
    with pytest.raises(ValueError):
        session.parse_authorization_response(reply.headers["Location"])
    exchange_refused(fake, rt, "guessed-verifier")


def test_out_of_band_denial_says_so_and_shows_no_verifier(fake, consumer):
    session = consumer("oob")
    rt = request_token(fake, session)
    reply = deny(fake, session.authorization_url(fake.url + "/oauth/authorize"), "alice")
    # 200: the page recorded the user's decision, as Twitter's denial page does; the
    # sentence is for the person who would have copied a verifier.
    assert (reply.status_code, reply.reason) == (200, "OK"), reply.text
    assert reply.headers["Content-Type"].split(";")[0] == "text/plain"
    assert reply.text.startswith("Access denied: user 'alice' refused"), reply.text
    assert "oauth_verifier" not in reply.text and "no verifier" in reply.text.lower()
    assert rt["oauth_token"] not in request_tokens(fake)
    exchange_refused(fake, rt, "guessed-verifier")


def test_denying_needs_no_signed_in_user(fake, consumer):
    session = consumer("oob")
    rt = request_token(fake, session)
    reply = requests.post(fake.url + "/oauth/authorize", data={"oauth_token": rt["oauth_token"], "approve": "no"},
                          timeout=10)
    assert (reply.status_code, reply.reason) == (200, "OK"), reply.text
    assert reply.text.startswith("Access denied: the user refused"), reply.text
    exchange_refused(fake, rt, "guessed-verifier")


def test_denying_an_approved_token_is_400_and_the_approval_stands(fake, consumer):
    session = consumer()
    rt = request_token(fake, session)
    url = session.authorization_url(fake.url + "/oauth/authorize")
    first = approve(fake, url, "bob")
    assert first.status_code == 302
    with unchanged(fake):
        second = requests.post(fake.url + "/oauth/authorize",
                               data={"oauth_token": rt["oauth_token"], "user": "bob", "approve": "no"},
                               allow_redirects=False, timeout=10)
    assert (second.status_code, second.reason) == (400, "Bad Request"), second.text
    assert "approved" in second.text and "Location" not in second.headers
    session.parse_authorization_response(first.headers["Location"])
    assert session.fetch_access_token(fake.url + "/oauth/access_token")["oauth_token"]


def advance_clock(fake, seconds: int) -> None:
    reply = requests.post(fake.url + "/_fake/clock", json={"advance": seconds}, timeout=10)
    assert reply.status_code == 200, reply.text


def test_expired_request_token_cannot_be_approved(fake, consumer):
    session = consumer()
    rt = request_token(fake, session)
    advance_clock(fake, 601)  # request tokens live 600 s of the fake's clock
    reply = requests.get(fake.url + "/oauth/authorize", params={"oauth_token": rt["oauth_token"]}, timeout=10)
    assert (reply.status_code, reply.reason) == (400, "Bad Request"), reply.text
    assert "expired" in reply.text


def test_expired_request_token_cannot_be_exchanged(fake, consumer):
    session = consumer()
    rt = request_token(fake, session)
    reply = approve(fake, session.authorization_url(fake.url + "/oauth/authorize"), "bob")
    verifier = session.parse_authorization_response(reply.headers["Location"])["oauth_verifier"]
    advance_clock(fake, 601)
    late = OAuth1(CONSUMER_KEY, CONSUMER_SECRET, rt["oauth_token"], rt["oauth_token_secret"], verifier=verifier)
    assert_401(fake, requests.post(fake.url + "/oauth/access_token", auth=late, timeout=10))


def test_reset_forgets_issued_tokens_but_not_the_demo_ones(fake, consumer):
    _, _, access = three_legs(fake, consumer(), "bob")
    issued = signed(access["oauth_token"], access["oauth_token_secret"])
    assert syncml_feed(fake, issued) == []
    reset = requests.post(fake.url + "/_fake/reset", timeout=10)
    assert reset.status_code == 200, reset.text
    assert_401(fake, requests.get(fake.url + SYNCML, auth=issued, timeout=10))
    assert syncml_feed(fake, demo("bob")) == []
    assert len(syncml_feed(fake, demo("admin"))) == 2


# --- reason phrases of the token endpoints ---------------------------------------------------
@pytest.mark.parametrize("step", ["access_token", "request_token"])
def test_refused_token_step_says_why(fake, consumer, step):
    if step == "access_token":  # a spent request token
        rt, verifier, _ = three_legs(fake, consumer())
        auth = OAuth1(CONSUMER_KEY, CONSUMER_SECRET, rt["oauth_token"], rt["oauth_token_secret"],
                      verifier=verifier["oauth_verifier"])
    else:  # a wrong consumer secret
        auth = OAuth1(CONSUMER_KEY, "not-the-consumer-secret", callback_uri=CALLBACK)
    reply = requests.post(f"{fake.url}/oauth/{step}", auth=auth, timeout=10)
    assert (reply.status_code, reply.reason) == (401, "Unauthorized")
    assert len(reply.text.strip()) > 10, f"no reason given: {reply.text!r}"


def test_authorization_redirect_reason_phrase(fake, consumer):
    session = consumer()
    request_token(fake, session)
    reply = approve(fake, session.authorization_url(fake.url + "/oauth/authorize"), "bob")
    assert (reply.status_code, reply.reason) == (302, "Found")
