"""Absurd and duplicated OAuth protocol parameters (issue 10, items 2 and 5).

RFC 5849 §3.2 refuses a protocol parameter given twice with a 400, wherever the copies
travel (Authorization header, query, form body); oauthlib reads the header into a dict,
where the last copy silently wins, so the fake counts them itself before verifying. An
absurd value (a 400-digit timestamp, a float, a 600-character key) gets a 401 naming the
parameter, never a 5xx from the arithmetic of the refusal message.
"""
from __future__ import annotations

import re

import pytest
from oauthlib.oauth1 import SIGNATURE_TYPE_BODY, SIGNATURE_TYPE_QUERY, Client
from werkzeug.test import Client as WSGIClient

from ocss_testkit.app import FakeApp
from tests.helpers import ADMIN_SYNCML_5310, syncml_create

CONSUMER_KEY, CONSUMER_SECRET = "demo-consumer-key", "demo-consumer-secret"
BASE = "http://localhost"
SYNCML = "/v2/services/syncml/"
ATOM_XML = {"Content-Type": "application/atom+xml"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def app():
    return FakeApp()


@pytest.fixture
def wsgi(app):
    return WSGIClient(app)


def signer(user: str = "alice", **kw) -> Client:
    return Client(CONSUMER_KEY, client_secret=CONSUMER_SECRET, resource_owner_key=f"{user}-access-token",
                  resource_owner_secret=f"{user}-access-secret", **kw)


def header(user: str = "alice", method: str = "GET", path: str = SYNCML, body: str | None = None) -> str:
    _, headers, _ = signer(user).sign(BASE + path, http_method=method, body=body,
                                      headers=ATOM_XML if body else None)
    return headers["Authorization"]


def dump(app) -> dict:
    with app.world.lock:
        return app.world.to_dict()


def answer(reply) -> tuple[int, str]:
    text = reply.get_data(as_text=True)
    assert reply.status_code < 500 and "Traceback" not in text, text[:300]
    return reply.status_code, text


# --- absurd values: 401 naming the parameter --------------------------------------------------
@pytest.mark.parametrize("timestamp, needle", [
    ("9" * 400, "oauth_timestamp has 400 digits"),  # float(int(...)) overflowed: a 500 before
    ("9" * 5000, "oauth_timestamp has 5000 digits"),  # past int()'s limit
    ("99999999999", "oauth_timestamp has 11 digits"),
    ("-1700000000", "oauth_timestamp '-1700000000' is not a number"),
    ("1700000000.5", "oauth_timestamp '1700000000.5' is not a number"),
    ("1_700000000", "oauth_timestamp '1_700000000' is not a number"),  # int() would take it
    ("١٧٠٠٠٠٠٠٠٠", "is not a number"),  # Arabic-Indic digits: int() would take them too
    ("0", "oauth_timestamp is"),  # a number, far outside the window
])
def test_an_absurd_timestamp_is_401_naming_it(app, wsgi, timestamp, needle):
    before = dump(app)
    authorization = re.sub(r'oauth_timestamp="\d+"', f'oauth_timestamp="{timestamp}"',
                           header("alice", "POST", SYNCML, syncml_create()))
    reply = wsgi.post(SYNCML, data=syncml_create(), headers={**ATOM_XML, "Authorization": authorization})
    status, text = answer(reply)
    assert status == 401 and needle in text, text
    assert "oauth_timestamp" in text and "WWW-Authenticate" in reply.headers
    assert dump(app) == before


@pytest.mark.parametrize("name, value, needle", [
    ("oauth_consumer_key", "k" * 600, "oauth_consumer_key 'kkkk"),
    ("oauth_token", "t" * 600, "oauth_token 'tttt"),
    ("oauth_nonce", "n" * 600, "oauth_nonce 'nnnn"),
    ("oauth_signature_method", "X" * 7_000, "unsupported signature method 'XXXX"),  # longer: auth.MAX_AUTHORIZATION
    ("oauth_version", "9" * 5000, "oauth_version must be 1.0"),
])
def test_an_absurd_value_is_401_naming_it_in_a_short_sentence(app, wsgi, name, value, needle):
    authorization = re.sub(rf'{name}="[^"]*"', f'{name}="{value}"', header())
    status, text = answer(wsgi.get(SYNCML, headers={"Authorization": authorization}))
    assert status == 401 and needle in text, text[:300]
    assert len(text) < 500  # the value is shown cut, not echoed whole


# --- duplicated protocol parameters: 400 naming the parameter, before verification --------------
def test_the_reported_duplicate_in_the_header_is_400_and_changes_nothing(app, wsgi):
    body = syncml_create()
    authorization = header("alice", "POST", SYNCML, body)
    # the report's input: another user's token and a junk signature placed before a valid header
    forged = authorization.replace("OAuth ", 'OAuth oauth_token="bob-access-token", oauth_signature="AAAA", ', 1)
    before = dump(app)
    status, text = answer(wsgi.post(SYNCML, data=body, headers={**ATOM_XML, "Authorization": forged}))
    assert status == 400, text
    assert "oauth_token" in text and "2 times in the Authorization header" in text and "RFC 5849" in text
    assert dump(app) == before
    # the valid header alone is accepted: the refusal was the duplicate
    status, text = answer(wsgi.post(SYNCML, data=body, headers={**ATOM_XML, "Authorization": authorization}))
    assert status == 201, text


@pytest.mark.parametrize("name", ["oauth_nonce", "oauth_timestamp", "oauth_consumer_key", "oauth_signature",
                                  "oauth_signature_method", "oauth_version"])
def test_any_parameter_twice_in_the_header_is_400(app, wsgi, name):
    authorization = header()
    value = re.search(rf'{name}="([^"]*)"', authorization).group(1)
    doubled = f'{authorization}, {name}="{value}"'  # even the same value twice
    status, text = answer(wsgi.get(SYNCML, headers={"Authorization": doubled}))
    assert status == 400 and f"'{name}' is given 2 times in the Authorization header" in text, text


def test_the_same_parameters_in_header_and_query_are_400(app, wsgi):
    signed_url, _, _ = signer(signature_type=SIGNATURE_TYPE_QUERY).sign(BASE + SYNCML)
    status, text = answer(wsgi.get(signed_url[len(BASE):], headers={"Authorization": header()}))
    assert status == 400 and "in the Authorization header and in the query" in text, text


def test_a_parameter_twice_in_the_query_is_400(app, wsgi):
    signed_url, _, _ = signer(signature_type=SIGNATURE_TYPE_QUERY).sign(BASE + SYNCML)
    assert answer(wsgi.get(signed_url[len(BASE):]))[0] == 200  # signed in the query: fine
    status, text = answer(wsgi.get(signed_url[len(BASE):] + "&oauth_token=bob-access-token"))
    assert status == 400 and "'oauth_token' is given 2 times in the query" in text, text
    # percent-encoded, the name is still oauth_token
    status, text = answer(wsgi.get(signed_url[len(BASE):] + "&oauth%5Ftoken=bob-access-token"))
    assert status == 400 and "'oauth_token' is given 2 times in the query" in text, text


def _form_signed(path: str) -> tuple[str, dict, str]:
    url, headers, body = signer("admin", signature_type=SIGNATURE_TYPE_BODY).sign(
        BASE + path, http_method="POST", body="note=x", headers=FORM)
    return url, headers, body


def test_a_parameter_in_query_and_form_body_is_400_and_changes_nothing(app, wsgi):
    path = f"{SYNCML}{ADMIN_SYNCML_5310}/sync/"  # a write: a server alert to the phone
    _, headers, body = _form_signed(path)
    nonce = re.search(r"oauth_nonce=([^&]+)", body).group(1)
    before = dump(app)
    status, text = answer(wsgi.post(f"{path}?oauth_nonce={nonce}", data=body, headers=headers))
    assert status == 400 and "'oauth_nonce' is given 2 times in the query and in the form body" in text, text
    status, text = answer(wsgi.post(path, data=body + "&oauth_nonce=again", headers=headers))
    assert status == 400 and "'oauth_nonce' is given 2 times in the form body" in text, text
    assert dump(app) == before
    status, text = answer(wsgi.post(path, data=body, headers=headers))  # signed in the body: fine
    assert status == 200, text


def test_parameters_split_across_header_and_query_are_401_naming_both_places(app, wsgi):
    authorization = header()
    nonce = re.search(r'oauth_nonce="([^"]+)"', authorization).group(1)
    without = re.sub(r'oauth_nonce="[^"]+",?\s*', "", authorization)
    status, text = answer(wsgi.get(f"{SYNCML}?oauth_nonce={nonce}", headers={"Authorization": without}))
    assert status == 401 and "the Authorization header and the query" in text and "RFC 5849 §3.5" in text, text


def test_a_duplicate_on_the_token_endpoints_is_400(app, wsgi):
    before = dump(app)
    for path in ("/oauth/request_token", "/oauth/access_token"):
        _, headers, _ = Client(CONSUMER_KEY, client_secret=CONSUMER_SECRET, callback_uri="oob").sign(
            BASE + path, http_method="POST")
        doubled = headers["Authorization"].replace("OAuth ", 'OAuth oauth_consumer_key="other", ', 1)
        status, text = answer(wsgi.post(path, headers={"Authorization": doubled}))
        assert status == 400 and "'oauth_consumer_key' is given 2 times" in text, text
    assert dump(app) == before


@pytest.mark.parametrize("query", ["a=%zz", "a=<b>", "oauth_x=%zz"])
def test_an_unparsable_query_on_the_token_endpoint_is_400(app, wsgi, query):
    status, text = answer(wsgi.post(f"/oauth/request_token?{query}"))
    assert status == 400 and "malformed OAuth parameters" in text, text

