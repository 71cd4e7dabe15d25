"""A 401 for a bad signature says what the fake signed over (issue 12): the method, the URL
and the signature base string of RFC 5849 §3.4.1, never a secret nor the signature, cut
to a bound. The expected base string is computed here with oauthlib's own functions from
what was sent, not read back from the fake."""
from __future__ import annotations

import http.client
from urllib.parse import quote, unquote

import pytest
from oauthlib.oauth1 import Client
from oauthlib.oauth1.rfc5849 import signature as rfc5849
from oauthlib.oauth1.rfc5849 import utils

from ocss_testkit.auth import MAX_BASE_STRING
from ocss_testkit.server import FakeServer

SYNCML = "/v2/services/syncml/"
SECRETS = ("demo-consumer-secret", "alice-access-secret", "bob-access-secret", "admin-access-secret")


@pytest.fixture
def fake():
    server = FakeServer(port=0).start()
    yield server
    server.stop()


def signed_for(url: str, method: str = "GET", token_secret: str = "alice-access-secret") -> str:
    client = Client("demo-consumer-key", client_secret="demo-consumer-secret",
                    resource_owner_key="alice-access-token", resource_owner_secret=token_secret)
    return dict(client.sign(url, http_method=method)[1])["Authorization"]


def send(fake: FakeServer, path: str, authorization: str, method: str = "GET") -> tuple[int, str]:
    """To 127.0.0.1:PORT, whose Host header http.client sets to that."""
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    try:
        conn.request(method, path, headers={"Authorization": authorization})
        reply = conn.getresponse()
        return reply.status, reply.read().decode("utf-8")
    finally:
        conn.close()


def expected_base_string(method: str, url: str, authorization: str) -> str:
    """RFC 5849 §3.4.1 for the request as it arrived: its URL, the header's parameters
    (without oauth_signature) and the query's."""
    params = [(k, v) for k, v in utils.parse_authorization_header(authorization) if k != "oauth_signature"]
    params += rfc5849.collect_parameters(uri_query=url.partition("?")[2])
    return rfc5849.signature_base_string(method, rfc5849.base_string_uri(url),
                                         rfc5849.normalize_parameters(params))


def assert_no_secret_nor_signature(text: str, authorization: str) -> None:
    for secret in SECRETS:
        assert secret not in text
    signature = dict(utils.parse_authorization_header(authorization))["oauth_signature"]
    for form in {signature, unquote(signature), quote(signature, safe=""), quote(quote(signature, safe=""), safe="")}:
        assert form not in text, form


def test_signed_for_localhost_sent_to_127_0_0_1(fake):
    path = f"{SYNCML}?q=a%2Fb"
    authorization = signed_for(f"http://localhost:{fake.port}{path}")
    status, body = send(fake, path, authorization)
    assert status == 401, body
    base = expected_base_string("GET", f"http://127.0.0.1:{fake.port}{path}", authorization)
    assert base.startswith(f"GET&http%3A%2F%2F127.0.0.1%3A{fake.port}%2Fv2%2Fservices%2Fsyncml%2F&")
    assert "oauth_token%3Dalice-access-token" in base and "q%3Da%252Fb" in base
    assert f" {base} " in body, body  # whole, exactly as the fake verified it
    assert body.startswith(f"401 Unauthorized: invalid signature: the fake verified GET "
                           f"http://127.0.0.1:{fake.port}{SYNCML} ")
    assert "RFC 5849 §3.4.1" in body
    assert "localhost and 127.0.0.1 differ" in body and "Host header" in body  # the hint
    assert_no_secret_nor_signature(body, authorization)
    # the journal keeps the same sentence the client got
    (entry,) = [e for e in fake.app.journal.entries() if e.path == SYNCML]
    assert entry.auth == body.split(": ", 1)[1].rstrip("\n")
    assert entry.problem == "unauthorized"


def test_a_wrong_secret_shows_the_same_base_string_and_says_so(fake):
    authorization = signed_for(f"{fake.url}{SYNCML}", method="POST", token_secret="a-wrong-secret")
    status, body = send(fake, SYNCML, authorization, method="POST")
    assert status == 401
    # nothing differs but the secret: the base string is the one the client signed
    assert f" {expected_base_string('POST', fake.url + SYNCML, authorization)} " in body
    assert "consumer secret or the token secret does not match" in body
    assert_no_secret_nor_signature(body, authorization)
    assert "a-wrong-secret" not in body


def test_a_long_query_is_cut_to_the_bound(fake):
    path = f"{SYNCML}?filler=" + "x" * 6000
    authorization = signed_for(f"http://localhost:{fake.port}{path}")
    status, body = send(fake, path, authorization)
    assert status == 401
    base = expected_base_string("GET", f"http://127.0.0.1:{fake.port}{path}", authorization)
    assert len(base) > 6000
    assert f" {base[:MAX_BASE_STRING]}…(+{len(base) - MAX_BASE_STRING} characters) " in body
    assert len(body) < MAX_BASE_STRING + 1200, len(body)
    assert_no_secret_nor_signature(body, authorization)


def test_other_refusals_do_not_quote_a_base_string(fake):
    client = Client("not-a-consumer", client_secret="x", resource_owner_key="alice-access-token",
                    resource_owner_secret="alice-access-secret")
    status, body = send(fake, SYNCML, dict(client.sign(f"{fake.url}{SYNCML}")[1])["Authorization"])
    assert (status, body) == (401, "401 Unauthorized: unknown consumer key\n")


def test_a_correct_signature_still_passes(fake):
    assert send(fake, SYNCML, signed_for(f"{fake.url}{SYNCML}"))[0] == 200
