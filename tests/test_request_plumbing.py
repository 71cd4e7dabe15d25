"""The quick paths of the request plumbing (issue 14, lever 5) give what the library code
they stand in for gives, on any input (hypothesis, fixed seed, bounded examples).

Each quick path skips work for the common case and hands every other case to the library
function it replaces; these tests compare the two on generated text that reaches both the
quick and the fallback branches.
"""
from __future__ import annotations

import io
from urllib.request import parse_http_list

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder

from ocss_testkit import http_rules, public_url, route_matching
from ocss_testkit.answers import ApiError, Prepared
from ocss_testkit.app import ApiRequest, FakeApp
from ocss_testkit.auth import params
from ocss_testkit.auth.params import split_list
from ocss_testkit.request_body import read_body
from ocss_testkit.response_cache import ResponseCache
from tests.helpers import SYNCML, signed_headers

EXAMPLES = 400
# Text made mostly of what a header list is made of: separators, quotes, escapes, spaces.
LIST_TEXT = st.text(alphabet=st.sampled_from(list(',"\\ =\t') + list("ab%2C") + ["é", "\u2028"]), max_size=40)
ANY_TEXT = st.text(max_size=30)


@seed(14)
@settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(st.one_of(LIST_TEXT, ANY_TEXT))
def test_split_list_is_parse_http_list(text):
    assert split_list(text) == parse_http_list(text)


def test_split_list_takes_the_quick_path_for_a_signed_header(monkeypatch):
    """An OAuth header of percent-encoded values is split without urllib's character loop."""
    header = ('realm="http://h/", oauth_consumer_key="k", oauth_nonce="n%2C1", oauth_signature="a%2Bb%3D", '
              'oauth_signature_method="HMAC-SHA1", oauth_timestamp="1700000000", oauth_token="t", '
              'oauth_version="1.0"')
    expected = parse_http_list(header)
    monkeypatch.setattr(params.oauth_utils, "parse_http_list", _never)
    assert split_list(header) == expected
    with pytest.raises(AssertionError):  # and the fallback is that function
        split_list('a="x,y"')


def _never(text):
    raise AssertionError(f"urllib's parse_http_list was called for {text!r}")


# --- an Authorization header read in one pass ---------------------------------------------------
NAMES = st.sampled_from(["oauth_consumer_key", "oauth_nonce", "oauth_signature", "oauth_token", "oauth_timestamp",
                         "realm", "foo", "oauth_nonce ", "oauth_", "oauth", "Oauth_token", ""])
VALUES = st.one_of(st.sampled_from(["", '""', '"a%2Bb%3D"', "%zz", '"x"', "plain", '"unclosed', '"%E2%82%AC"',
                                    '"a\\"b"', '"1,2"']), st.text(max_size=8))
GOOD = st.tuples(NAMES.filter(bool), st.just("="),
                 st.sampled_from(['"a%2Bb%3D"', '"x"', "plain", '"%E2%82%AC"'])).map("".join)
ODD = st.one_of(st.tuples(NAMES, st.sampled_from(["=", "", " = "]), VALUES).map("".join), st.text(max_size=10))
ITEMS = st.one_of(GOOD, GOOD, GOOD, ODD)  # mostly well formed: every outcome comes up
HEADERS = st.lists(ITEMS, max_size=8).flatmap(
    lambda items: st.sampled_from([", ", ",", " ,  ", ",,"]).map(lambda sep: "OAuth " + sep.join(items)))


def _outcome(read):
    try:
        return "read", read()
    except ApiError as error:
        return "ApiError", error.status, error.detail
    except ValueError as error:
        return "ValueError", str(error)


def _in_places(authorization):
    """The reading of any request: split, every place located, duplicates refused, read."""
    located = params.locate(params.header_items(authorization), "http://localhost/v2/services/syncml/", None)
    params.refuse_duplicates(located.found)
    assert len({where for _, where in located.found}) <= 1
    return params.read(located, authorization, None)


@seed(14)
@settings(max_examples=EXAMPLES * 2, deadline=None, database=None)
@given(HEADERS)
def test_read_header_is_the_reading_of_any_place(authorization):
    """Same Read (protocol parameters unescaped, signed parameters, realm left out), or the
    same refusal: a parameter twice (400), a header that cannot be parsed (ValueError)."""
    assert _outcome(lambda: params.read_header(authorization)) == _outcome(lambda: _in_places(authorization))


def test_read_header_reads_a_signed_request_and_refuses_a_duplicate():
    header = ('OAuth realm="http://h/", oauth_consumer_key="k", oauth_nonce="n1", oauth_signature="a%2Bb%3D", '
              'oauth_signature_method="HMAC-SHA1", oauth_timestamp="1700000000", oauth_token="t"')
    read = params.read_header(header)
    assert read.oauth["oauth_signature"] == "a+b=" and read.header_has_oauth
    assert ("oauth_signature", "a+b=") not in read.params and not any(k == "realm" for k, _ in read.params)
    with pytest.raises(ApiError) as refused:
        params.read_header(header + ', oauth_nonce ="n2"')
    assert refused.value.status == 400 and "'oauth_nonce' is given 2 times" in refused.value.detail


# --- answers sent again, and what is remembered -----------------------------------------------
def _wsgi(app, method: str, path: str, headers: dict | None = None, body: bytes = b"") -> tuple:
    """(status, header list, body) as the WSGI server gets them."""
    environ = EnvironBuilder(path=path, base_url="http://localhost", method=method, headers=headers,
                             data=body or None).get_environ()
    got: dict = {}

    def start_response(status, header_list, exc_info=None):
        got["status"], got["headers"] = status, header_list

    chunks = app(environ, start_response)
    try:
        sent = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return got["status"], got["headers"], sent


def _signed(method: str, path: str) -> dict:
    return signed_headers("admin", method, "http://localhost" + path)


@pytest.mark.parametrize("path, signed", [(SYNCML, True), ("/v2/phones/vendors/", False),
                                          ("/v2/phones/models/112/", False)])
def test_a_cache_hit_sends_the_bytes_of_the_first_answer(path, signed):
    """The first GET is rendered and sent by werkzeug; the next is the kept bytes
    (answers.Prepared): the same status line, headers in the same order (X-Request-Id last,
    its own), the same body."""
    app = FakeApp()
    app.responses = cache = ResponseCache()
    first = _wsgi(app, "GET", path, _signed("GET", path) if signed else None)
    again = _wsgi(app, "GET", path, _signed("GET", path) if signed else None)
    assert cache.stats()["hits"] == 1 and first[0] == "200 OK"
    assert first[1][-1][0] == again[1][-1][0] == "X-Request-Id" and first[1][-1] != again[1][-1]
    assert (first[0], first[1][:-1], first[2]) == (again[0], again[1][:-1], again[2])
    head = _wsgi(app, "HEAD", path, _signed("HEAD", path) if signed else None)
    assert head[:1] == first[:1] and head[2] == b""


def test_a_prepared_answer_sends_no_body_to_a_head():
    answer = Prepared("200 OK", (("Content-Type", "text/plain"), ("Content-Length", "2")), b"ok")
    answer.request_id = "r7"
    got = []
    assert list(answer({"REQUEST_METHOD": "HEAD"}, lambda status, headers: got.append((status, headers)))) == []
    assert got == [("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2"), ("X-Request-Id", "r7")])]
    assert list(answer({"REQUEST_METHOD": "GET"}, lambda *_: None)) == [b"ok"]
    assert (answer.status_code, answer.get_data(), answer.headers["Content-Length"]) == (200, b"ok", "2")


def test_a_fault_rule_reworks_a_cached_answer():
    """A truncate rule on a GET the cache answers: the full Content-Length, half the body."""
    app = FakeApp()
    app.responses = ResponseCache()
    whole = _wsgi(app, "GET", SYNCML, _signed("GET", SYNCML))[2]
    app.faults.add({"action": "truncate", "path": SYNCML, "times": 1})
    status, headers, sent = _wsgi(app, "GET", SYNCML, _signed("GET", SYNCML))
    assert app.responses.stats()["hits"] == 1 and status == "200 OK"
    assert dict(headers)["Content-Length"] == str(len(whole)) and sent == whole[:len(whole) // 2]


def test_a_request_without_length_or_coding_has_no_body():
    """RFC 9112 §6.3: neither Content-Length nor Transfer-Encoding, no body, whatever the
    input stream holds; with Content-Length, the body as sent."""
    for environ, expected in (({}, b""), ({"CONTENT_LENGTH": ""}, b""), ({"CONTENT_LENGTH": "5"}, b"<a/>\n")):
        environ = {"REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO(b"<a/>\n"), **environ}
        assert read_body(ApiRequest(environ), 1024) == expected


def test_remembered_verdicts_and_matches_are_bounded():
    """Host verdicts, route matches and public roots are remembered for short values only,
    a bounded number of them; a long value is worked out every time, to the same answer."""
    for i in range(http_rules.HOST_CACHED + 50):
        assert http_rules.host_problem({"HTTP_HOST": f"host-{i}.example:8080"}) is None
    assert http_rules._cached_host_value_problem.cache_info().currsize <= http_rules.HOST_CACHED
    short = "a" * 64 + ".example"  # a label of 64 characters
    for host in (short, short + "." + "b" * (http_rules.HOST_CACHED_LENGTH - len(short))):  # 301 characters
        before = http_rules._cached_host_value_problem.cache_info()
        verdict = http_rules.host_problem({"HTTP_HOST": host})
        assert verdict == http_rules._host_value_problem(host) and verdict is not None
        after = http_rules._cached_host_value_problem.cache_info()
        assert (after.hits + after.misses > before.hits + before.misses) == (len(host) <= http_rules.HOST_CACHED_LENGTH)
    app = FakeApp()
    for i in range(route_matching.MATCHES_KEPT + 50):
        route, args = app.routing.match("GET", f"{SYNCML}client-{i}/")
        assert route.path == SYNCML + "{uuid}" and args == {"client_id": f"client-{i}"}
        args["client_id"] = "changed"  # a copy: the remembered match is not touched
    assert app.routing.match("GET", f"{SYNCML}client-0/")[1] == {"client_id": "client-0"}
    assert route_matching._remembered.cache_info().currsize <= route_matching.MATCHES_KEPT
    long_path = SYNCML + "c" * route_matching.MATCHED_LENGTH + "/"
    before = route_matching._remembered.cache_info()
    assert app.routing.match("GET", long_path)[1] == {"client_id": "c" * route_matching.MATCHED_LENGTH}
    assert route_matching._remembered.cache_info() == before
    for i in range(public_url._REMEMBERED + 50):
        request = ApiRequest({"wsgi.url_scheme": "http", "HTTP_HOST": f"h{i}:80", "SCRIPT_NAME": "/t/x y",
                              "SERVER_NAME": "s", "SERVER_PORT": "80"})
        assert public_url.root(request, None, False) == f"http://h{i}/t/x%20y" == \
            f"{request.scheme}://{request.host}/t/x%20y"
    assert public_url._root.cache_info().currsize <= public_url._REMEMBERED
