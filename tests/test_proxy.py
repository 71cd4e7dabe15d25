"""Behind a reverse proxy (issue 13, item 3): the public URL a client used decides both
what OAuth verifies and what links say (ocss_testkit/forwarded.py).

`--base-url` fixes it; `--trust-forwarded` takes it from `Forwarded` (RFC 7239, the last
element) or `X-Forwarded-Proto/Host/Port/Prefix`, which are ignored without the flag.
Every combination is checked for the default tenant and a named one: the request signed
for the public URL answers 200, and its entry's self link IS that URL.
"""
from __future__ import annotations

import pytest
import requests
from lxml import etree
from werkzeug.test import Client

from ocss_testkit.app import FakeApp
from ocss_testkit.forwarded import ForwardedError, parse_forwarded
from ocss_testkit.server import FakeServer
from ocss_testkit.tenants import TenantsApp

from .helpers import signed_headers
from .test_cli import run, serve

ATOM = "{http://www.w3.org/2005/Atom}"
ADMIN_SYNCML = "2fb295cc-0e50-11de-81c8-002215064801"  # +4790981948's client in the demo world
ENTRY = f"/v2/services/syncml/{ADMIN_SYNCML}"
INTERNAL = "http://127.0.0.1:8080"

# (name, FakeApp options, headers the proxy sends, the public root the client used)
COMBOS = [
    ("base-url", {"base_url": "https://api.example.test/"}, {}, "https://api.example.test"),
    ("base-url, forwarded headers ignored", {"base_url": "https://api.example.test/"},
     {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.test"}, "https://api.example.test"),
    ("base-url with a path prefix", {"base_url": "https://api.example.test/ci/sync"}, {},
     "https://api.example.test/ci/sync"),
    ("base-url with a port", {"base_url": "http://api.example.test:8443/"}, {}, "http://api.example.test:8443"),
    ("no flag: headers ignored", {}, {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.test",
                                      "Forwarded": "proto=https;host=evil.test", "X-Forwarded-Prefix": "/x"},
     INTERNAL),
    ("x-forwarded-proto", {"trust_forwarded": True}, {"X-Forwarded-Proto": "https", "Host": "api.example.test"},
     "https://api.example.test"),
    ("x-forwarded-proto and host", {"trust_forwarded": True},
     {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.test"}, "https://api.example.test"),
    ("x-forwarded-host with a port", {"trust_forwarded": True},
     {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.test:8443"}, "https://api.example.test:8443"),
    ("x-forwarded-port, default", {"trust_forwarded": True},
     {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.test", "X-Forwarded-Port": "443"},
     "https://api.example.test"),
    ("x-forwarded-port, other", {"trust_forwarded": True},
     {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.test:99", "X-Forwarded-Port": "8443"},
     "https://api.example.test:8443"),
    ("x-forwarded-prefix", {"trust_forwarded": True},
     {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.test", "X-Forwarded-Prefix": "/ci/"},
     "https://api.example.test/ci"),
    ("x-forwarded lists: the last", {"trust_forwarded": True},
     {"X-Forwarded-Proto": "http, https", "X-Forwarded-Host": "evil.test, api.example.test"},
     "https://api.example.test"),
    ("forwarded", {"trust_forwarded": True}, {"Forwarded": "for=192.0.2.60;proto=https;host=api.example.test"},
     "https://api.example.test"),
    ("forwarded, the last element", {"trust_forwarded": True},
     {"Forwarded": 'proto=http;host=evil.test, for="[2001:db8::1]:4711";Proto=https;host="api.example.test:8443"'},
     "https://api.example.test:8443"),
    ("forwarded wins, x-forwarded-prefix adds", {"trust_forwarded": True},
     {"Forwarded": "proto=https;host=api.example.test", "X-Forwarded-Proto": "http",
      "X-Forwarded-Host": "evil.test", "X-Forwarded-Prefix": "/ci"}, "https://api.example.test/ci"),
    ("forwarded without host: Host", {"trust_forwarded": True},
     {"Forwarded": "for=192.0.2.60;proto=https", "Host": "api.example.test"}, "https://api.example.test"),
]


def _fake(options: dict, tenant: str | None):
    app = FakeApp("demo", **options)
    if tenant is None:
        return Client(app)
    return Client(TenantsApp(app))


def _get(client: Client, public: str, path: str, headers: dict, signed_for: str | None = None):
    headers = dict(headers)
    host = headers.pop("Host", "127.0.0.1:8080")
    auth = signed_headers("admin", "GET", signed_for or public + path)
    return client.get(path, base_url=f"http://{host}", headers={**headers, **auth})


@pytest.mark.parametrize("tenant", [None, "ci-1"])
@pytest.mark.parametrize("name,options,headers,public", COMBOS, ids=[c[0] for c in COMBOS])
def test_the_url_the_client_signed_verifies_and_is_the_self_link(name, options, headers, public, tenant):
    client = _fake(options, tenant)
    path = (f"/t/{tenant}" if tenant else "") + ENTRY
    reply = _get(client, public, path, headers)
    assert reply.status_code == 200, reply.get_data(as_text=True)
    entry = etree.fromstring(reply.get_data())
    self_link = entry.find(f"{ATOM}link[@rel='self']").get("href")
    assert self_link == public + path  # links and OAuth agree
    if public != INTERNAL:  # the URL the fake is reached at is not the one clients sign
        refused = _get(client, public, path, headers, signed_for=INTERNAL + path)
        assert refused.status_code == 401
        assert "signature" in refused.get_data(as_text=True)


@pytest.mark.parametrize("tenant", [None, "ci-1"])
def test_a_query_is_signed_below_the_base_urls_prefix(tenant):
    client = _fake({"base_url": "https://api.example.test/ci/"}, tenant)
    path = (f"/t/{tenant}" if tenant else "") + "/v2/services/syncml/?max-results=1"
    reply = _get(client, "https://api.example.test/ci", path, {})
    assert reply.status_code == 200, reply.get_data(as_text=True)


MALFORMED = [
    ({"Forwarded": "proto=https;;host=a.test"}, "Forwarded"),
    ({"Forwarded": "proto="}, "Forwarded"),
    ({"Forwarded": "proto=https host=a.test"}, "Forwarded"),
    ({"Forwarded": "proto=https;proto=http"}, "twice"),
    ({"Forwarded": "proto=ftp"}, "Forwarded proto="),
    ({"Forwarded": 'host="a b.test"'}, "Forwarded host="),
    ({"X-Forwarded-Proto": "gopher"}, "X-Forwarded-Proto"),
    ({"X-Forwarded-Host": "exa mple.test"}, "X-Forwarded-Host"),
    ({"X-Forwarded-Host": "a.test:99999"}, "X-Forwarded-Host"),
    ({"X-Forwarded-Port": "https"}, "X-Forwarded-Port"),
    ({"X-Forwarded-Port": "70000"}, "X-Forwarded-Port"),
    ({"X-Forwarded-Prefix": "ci"}, "X-Forwarded-Prefix"),
    ({"X-Forwarded-Prefix": "/ci?x=1"}, "X-Forwarded-Prefix"),
]


@pytest.mark.parametrize("tenant", [None, "ci-1"])
@pytest.mark.parametrize("headers,needle", MALFORMED, ids=[str(m[0]) for m in MALFORMED])
def test_a_malformed_forwarded_header_is_a_400_naming_it_and_ignored_without_the_flag(headers, needle, tenant):
    path = (f"/t/{tenant}" if tenant else "") + ENTRY
    trusting = _fake({"trust_forwarded": True}, tenant)
    reply = _get(trusting, INTERNAL, path, headers)
    assert reply.status_code == 400
    text = reply.get_data(as_text=True)
    assert text.startswith("400 Bad Request: ") and needle in text  # a sentence naming the header
    journal = trusting.get((f"/t/{tenant}" if tenant else "") + "/_fake/journal").get_json()
    assert journal["entries"][-1]["status"] == 400  # journaled, and nothing else ran
    assert _get(_fake({}, tenant), INTERNAL, path, headers).status_code == 200  # not trusted: not read


def test_parse_forwarded_elements():
    assert parse_forwarded('for=a;proto=HTTPS, For="[::1]:80";host="h\\"x"') == [
        {"for": "a", "proto": "HTTPS"}, {"for": "[::1]:80", "host": 'h"x'}]
    with pytest.raises(ForwardedError, match="at character 7"):
        parse_forwarded("for=a,,proto=http")


def test_a_base_url_and_trusted_headers_together_are_refused():
    with pytest.raises(ValueError, match="not both"):
        FakeApp("demo", base_url="https://api.example.test/", trust_forwarded=True)


def test_the_failing_input_behind_a_tls_proxy_answers_200(tmp_path):
    """issue 13: `--base-url https://api.example.test/`, a GET signed for the https URL, sent
    to the fake's own port with the proxy's Host and X-Forwarded-Proto."""
    with serve("python-m", "--port", "0", "--base-url", "https://api.example.test/", cwd=tmp_path) as p:
        url, port = p.wait_ready()
        for prefix in ("", "/t/ci-7"):
            signed = f"https://api.example.test{prefix}/v2/services/syncml/"
            reply = requests.get(f"http://127.0.0.1:{port}{prefix}/v2/services/syncml/", timeout=30,
                                 headers={"Host": "api.example.test", "X-Forwarded-Proto": "https",
                                          **signed_headers("admin", "GET", signed)})
            assert reply.status_code == 200, reply.text
            assert f'href="{signed}"' in reply.text


@pytest.mark.parametrize("trust", [False, True])
def test_over_http_waitress_passes_forwarded_headers_only_when_trusted(trust):
    with FakeServer(TenantsApp(FakeApp("demo", trust_forwarded=trust))) as server:
        for prefix in ("", "/t/ci-1"):
            signed = f"https://api.example.test/ci{prefix}{ENTRY}"
            reply = requests.get(f"{server.url}{prefix}{ENTRY}", timeout=30, headers={
                "Forwarded": "for=192.0.2.60;proto=https;host=api.example.test", "X-Forwarded-Prefix": "/ci",
                **signed_headers("admin", "GET", signed)})
            assert reply.status_code == (200 if trust else 401), reply.text
            bad = requests.get(f"{server.url}{prefix}{ENTRY}", headers={"X-Forwarded-Port": "x"}, timeout=30)
            assert bad.status_code == (400 if trust else 401)


def test_the_cli_trusts_forwarded_headers_only_when_told(tmp_path):
    both = run("python-m", "--port", "0", "--base-url", "https://a.test/", "--trust-forwarded", cwd=tmp_path)
    assert both.returncode == 2 and "not both" in both.stderr
    with serve("python-m", "--port", "0", "--trust-forwarded", cwd=tmp_path) as p:
        url, port = p.wait_ready()
        signed = f"https://api.example.test/ci/t/ci-2{ENTRY}"
        reply = requests.get(f"http://127.0.0.1:{port}/t/ci-2{ENTRY}", timeout=30, headers={
            "X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.test", "X-Forwarded-Prefix": "/ci",
            **signed_headers("admin", "GET", signed)})
        assert reply.status_code == 200, reply.text
        assert f'href="{signed}"' in reply.text
