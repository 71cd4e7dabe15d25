"""requests and httpx (sync and async) on the in-process fake: the plugin's `ocss_requests`,
`ocss_httpx` and `ocss_httpx_async` fixtures and the transports of ocss_testkit.inprocess.

Each client is driven through the same checks: a signed read and write, signatures over a
non-ASCII query and path, an unsigned request refused, the fake's reason phrases kept,
another origin refused, faults that look like a broken connection, and not one socket
opened. The async client runs under asyncio.run inside sync tests (no pytest-asyncio).
The plugin tests run a downstream project with pytester; the documentation's examples
(docs/in-process-clients.md) run the same way.
"""
from __future__ import annotations

import asyncio
import importlib
import os
import re
import socket
import sys
import threading
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest
import requests
from lxml import etree

from ocss_testkit import make_app
from ocss_testkit.client import Credentials
from ocss_testkit.inprocess import (
    AsyncHttpxTransport,
    HttpxOAuth1,
    HttpxTransport,
    RequestsAdapter,
    WrongOrigin,
    WSGIGateway,
    authorization,
    httpx_async_client,
    httpx_client,
    requests_session,
)

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "in-process-clients.md"
ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
NS = {"a": ATOM, "oc": OC}
ATOM_XML = {"Content-Type": "application/atom+xml"}
ADMIN_SYNCML = {"2fb295cc-0e50-11de-81c8-002215064801", "bfb81234-30a9-11de-b930-002215064801"}
PHONE = (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client><oc:phone_number>+4798765432</oc:phone_number>'
         '<oc:model_uuid>242</oc:model_uuid><oc:timezone>Europe/Paris</oc:timezone></oc:client></entry>')
STORE = f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client><oc:name>Café backup</oc:name></oc:client></entry>'


# --- one way to drive each client ---------------------------------------------------------------
@dataclass
class Got:
    status: int
    reason: str
    headers: dict
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def xml(self):
        return etree.fromstring(self.body)


class Driver:
    """Sends a request through one client library made by the plugin's fixture."""

    def __init__(self, name: str, make) -> None:
        self.name, self.make = name, make

    def send(self, user, method, url, body=None, headers=None, params=None) -> Got:
        raise NotImplementedError

    @property
    def wire_errors(self) -> tuple[type[Exception], ...]:
        """What this library raises for a connection that breaks or never opens."""
        return (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) if self.name == "requests" \
            else (httpx.TransportError,)


class RequestsDriver(Driver):
    def send(self, user, method, url, body=None, headers=None, params=None) -> Got:
        url = url if url.startswith("http") else "http://localhost" + url
        r = self.make(user).request(method, url, data=body, headers=headers, params=params)
        return Got(r.status_code, r.reason, dict(r.headers), r.content)


class HttpxDriver(Driver):
    def send(self, user, method, url, body=None, headers=None, params=None) -> Got:
        r = self.make(user).request(method, url, content=body, headers=headers, params=params)
        return Got(r.status_code, r.reason_phrase, dict(r.headers), r.content)


class AsyncHttpxDriver(Driver):
    def send(self, user, method, url, body=None, headers=None, params=None) -> Got:
        async def go():
            async with self.make(user) as client:
                r = await client.request(method, url, content=body, headers=headers, params=params)
                return Got(r.status_code, r.reason_phrase, dict(r.headers), r.content)
        return asyncio.run(go())


@pytest.fixture(params=["requests", "httpx", "httpx-async"])
def driver(request) -> Driver:
    if request.param == "requests":
        return RequestsDriver("requests", request.getfixturevalue("ocss_requests"))
    if request.param == "httpx":
        return HttpxDriver("httpx", request.getfixturevalue("ocss_httpx"))
    return AsyncHttpxDriver("httpx-async", request.getfixturevalue("ocss_httpx_async"))


class SocketOpened(AssertionError):
    """Raised instead of connecting: nothing in these tests may reach a socket."""


@pytest.fixture
def no_sockets(monkeypatch):
    """Every socket connect fails loudly; proven armed by a plain request that trips it."""
    def refuse(self, *args, **kwargs):
        raise SocketOpened(f"a socket tried to connect to {args}")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    with pytest.raises(SocketOpened):
        requests.get("http://127.0.0.1:9/", timeout=5)
    with pytest.raises(SocketOpened):
        httpx.get("http://127.0.0.1:9/", timeout=5)


def entries(got: Got) -> list:
    return got.xml().findall("a:entry", NS)


def new_store(driver: Driver) -> str:
    got = driver.send("alice", "POST", "/v2/services/datastore/", STORE.encode(), ATOM_XML)
    assert (got.status, got.reason) == (201, "Created"), got.text
    return got.xml().findtext("a:id", namespaces=NS)


# --- each client, the same checks ---------------------------------------------------------------
def test_signed_get_as_admin_lists_the_two_syncml_clients(driver):
    got = driver.send("admin", "GET", "/v2/services/syncml/")
    assert (got.status, got.reason) == (200, "OK"), got.text
    found = {e.findtext("oc:client/oc:uuid", namespaces=NS) for e in entries(got)}
    assert found == ADMIN_SYNCML
    assert got.xml().findtext("a:id", namespaces=NS) == "http://localhost/v2/services/syncml/"


def test_signed_post_creates_a_client_the_handle_then_sees(driver, ocss_fake_wsgi):
    got = driver.send("alice", "POST", "/v2/services/syncml/", PHONE.encode(), ATOM_XML)
    assert (got.status, got.reason) == (201, "Created"), got.text
    uuid = got.xml().findtext("oc:client/oc:uuid", namespaces=NS)
    mine = [c for c in ocss_fake_wsgi.state.get()["clients"] if c["owner"] == "alice"]
    assert [(c["uuid"], c["phone_number"]) for c in mine] == [(uuid, "+4798765432")]
    listed = driver.send("alice", "GET", "/v2/services/syncml/")
    assert [e.findtext("oc:client/oc:uuid", namespaces=NS) for e in entries(listed)] == [uuid]


def test_non_ascii_query_and_path_are_signed_and_verified(driver):
    store = new_store(driver)
    as_sent = driver.send("alice", "GET", f"{store}/contents/?dataclass=Caf%C3%A9")
    assert (as_sent.status, as_sent.reason) == (200, "OK"), as_sent.text
    encoded_by_the_library = driver.send("alice", "GET", f"{store}/contents/", params={"dataclass": "Café"})
    assert encoded_by_the_library.status == 200, encoded_by_the_library.text
    # verified, then looked up under its UTF-8 decoding: 404, not 401
    path = driver.send("alice", "GET", f"{store}/contents/caf%C3%A9/")
    assert (path.status, path.text.strip()) == (404, "404 Not Found: no content item café")


@pytest.mark.ocss_allow_problems
def test_unsigned_request_is_refused(driver, ocss_fake_wsgi):
    before = ocss_fake_wsgi.state.get()
    got = driver.send(None, "POST", "/v2/services/syncml/", PHONE.encode(), ATOM_XML)
    assert (got.status, got.reason) == (401, "Unauthorized")
    assert ocss_fake_wsgi.state.get() == before
    assert ocss_fake_wsgi.journal[-1].problem == "unauthorized"


@pytest.mark.ocss_allow_problems
def test_the_fakes_reason_phrase_reaches_the_client(driver):
    got = driver.send("admin", "POST", "/v2/services/google/", b"", ATOM_XML)
    assert (got.status, got.reason) == (400, "No Entry provided")


def test_no_socket_is_opened(driver, no_sockets):
    assert driver.send("admin", "GET", "/v2/services/syncml/").status == 200
    assert driver.send("alice", "POST", "/v2/services/syncml/", PHONE.encode(), ATOM_XML).status == 201


def test_another_origin_is_refused_without_a_socket(driver, no_sockets):
    with pytest.raises(driver.wire_errors) as refused:
        driver.send("alice", "GET", "http://127.0.0.1:8080/v2/services/syncml/")
    assert "answers http://localhost only, not http://127.0.0.1:8080" in str(refused.value)


def test_a_dropped_connection_is_the_libraries_own_error(driver, ocss_fake_wsgi):
    ocss_fake_wsgi.faults.add("drop", path="/v2/services/syncml/", times=1)
    with pytest.raises(driver.wire_errors) as dropped:
        driver.send("alice", "GET", "/v2/services/syncml/")
    if driver.name != "requests":
        assert isinstance(dropped.value, httpx.RemoteProtocolError)
    assert driver.send("alice", "GET", "/v2/services/syncml/").status == 200  # the rule was used up


def test_a_truncated_body_is_the_libraries_own_error(driver, ocss_fake_wsgi):
    ocss_fake_wsgi.faults.add("truncate", path="/v2/services/syncml/", times=1)
    with pytest.raises(driver.wire_errors) as cut:
        driver.send("admin", "GET", "/v2/services/syncml/")
    expected = requests.exceptions.ChunkedEncodingError if driver.name == "requests" else httpx.RemoteProtocolError
    assert isinstance(cut.value, expected)


# --- fixtures: users, handles, closing ----------------------------------------------------------
@pytest.mark.parametrize("fixture", ["ocss_requests", "ocss_httpx", "ocss_httpx_async"])
def test_an_unknown_user_names_the_users_there_are(request, fixture):
    make = request.getfixturevalue(fixture)
    with pytest.raises(LookupError, match="no user 'carol' in the fake's world; its users: admin, alice, bob"):
        make("carol")


def test_fixtures_share_the_world_of_ocss_fake_wsgi(ocss_requests, ocss_httpx, ocss_fake_wsgi):
    assert ocss_fake_wsgi.url == "http://localhost"
    created = ocss_requests("bob").post(f"{ocss_fake_wsgi.url}/v2/services/syncml/", data=PHONE, headers=ATOM_XML)
    assert created.status_code == 201
    uuid = etree.fromstring(created.content).findtext("oc:client/oc:uuid", namespaces=NS)
    listed = ocss_httpx("bob").get("/v2/services/syncml/")
    assert f"<uuid>{uuid}</uuid>" in listed.text
    assert ocss_fake_wsgi.journal[-1].user == "bob"


def test_httpx_options_reach_the_client(ocss_httpx):
    seen = []
    client = ocss_httpx("admin", headers={"X-Trace": "t1"}, event_hooks={"request": [seen.append]})
    assert client.get("/v2/services/syncml/").status_code == 200
    assert [r.headers["X-Trace"] for r in seen] == ["t1"]
    assert seen[0].headers["Authorization"].startswith("OAuth ")


def test_async_client_runs_the_app_off_the_event_loop(ocss_fake_wsgi):
    threads = []

    def watched(environ, start_response):
        threads.append(threading.get_ident())
        return ocss_fake_wsgi.app(environ, start_response)

    async def main():
        loop_thread = threading.get_ident()
        async with httpx_async_client(watched, ocss_fake_wsgi.credentials("admin")) as client:
            replies = await asyncio.gather(*(client.get("/v2/services/syncml/") for _ in range(4)))
        return loop_thread, [r.status_code for r in replies]

    loop_thread, statuses = asyncio.run(main())
    assert statuses == [200] * 4
    assert len(threads) == 4 and loop_thread not in threads


def test_an_async_client_left_open_is_closed_even_from_inside_a_running_loop():
    from ocss_testkit.plugin import _aclose

    outside, inside = httpx_async_client(make_app()), httpx_async_client(make_app())
    _aclose(outside)

    async def main():
        _aclose(inside)  # a sync teardown run while this thread's loop runs (pytest-asyncio)
    asyncio.run(main())
    assert outside.is_closed and inside.is_closed


# --- the gateway: the environ a server would build ----------------------------------------------
def echo(environ, start_response):
    """An app answering with what a test needs to see of its environ."""
    keys = ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "REQUEST_URI", "RAW_URI", "HTTP_HOST",
            "HTTP_X_TWICE", "CONTENT_TYPE", "CONTENT_LENGTH", "wsgi.url_scheme")
    body = environ["wsgi.input"].read()
    lines = [f"{k}={environ.get(k)}" for k in keys] + [f"body={body!r}"]
    start_response("299 Seen It", [("Content-Type", "text/plain; charset=utf-8"), ("X-Twice", "a"), ("X-Twice", "b")])
    return ["\n".join(lines).encode("utf-8")]


@pytest.mark.parametrize("client", ["requests", "httpx", "httpx-async"])
def test_the_environ_is_what_a_server_builds(client):
    url = "http://localhost//v2/caf%C3%A9/a%2Fb?q=Caf%C3%A9&x=%20"
    headers = [("X-Twice", "1"), ("X-Twice", "2"), ("Content-Type", "text/plain")]
    if client == "requests":
        session = requests_session(echo)
        prepared = requests.Request("PUT", url, data=b"\x00body").prepare()
        for name, value in headers:  # requests keeps one value per name: send through the gateway
            prepared.headers[name] = value
        r = session.send(prepared)
        status, reason, text, twice = r.status_code, r.reason, r.text, r.raw.headers.getlist("X-Twice")
    else:
        request = httpx.Request("PUT", url, content=b"\x00body", headers=headers)
        if client == "httpx":
            r = httpx_client(echo).send(request)
        else:
            async def go():
                async with httpx_async_client(echo) as c:
                    return await c.send(request)
            r = asyncio.run(go())
        status, reason, text, twice = r.status_code, r.reason_phrase, r.text, r.headers.get_list("X-Twice")
    seen = dict(line.split("=", 1) for line in text.splitlines())
    assert (status, reason, twice) == (299, "Seen It", ["a", "b"])
    assert seen["REQUEST_URI"] == seen["RAW_URI"] == "//v2/caf%C3%A9/a%2Fb?q=Caf%C3%A9&x=%20"
    assert seen["PATH_INFO"] == "//v2/café/a/b".encode().decode("latin-1")  # PEP 3333
    assert seen["QUERY_STRING"] == "q=Caf%C3%A9&x=%20"
    assert (seen["REQUEST_METHOD"], seen["HTTP_HOST"], seen["wsgi.url_scheme"]) == ("PUT", "localhost", "http")
    assert (seen["CONTENT_TYPE"], seen["CONTENT_LENGTH"], seen["body"]) == ("text/plain", "5", repr(b"\x00body"))
    assert seen["HTTP_X_TWICE"] == ("2" if client == "requests" else "1, 2")


def test_gateway_origins():
    gateway = WSGIGateway(echo, "https://sync.example:8443/")
    assert gateway.origin == "https://sync.example:8443"
    got = gateway.call("GET", "https://SYNC.example:8443/x", [])
    assert got.status == 299 and b"HTTP_HOST=sync.example:8443" in got.body
    for url in ("http://sync.example:8443/x", "https://sync.example/x", "https://other.example:8443/x",
                "https://sync.example:port/x"):
        with pytest.raises(WrongOrigin, match="answers https://sync.example:8443 only"):
            gateway.call("GET", url, [])
    assert WSGIGateway(echo).call("GET", "http://localhost:80/", []).status == 299
    for bad in ("localhost", "ftp://localhost", "http://", "http://localhost:x", "http://localhost/v2"):
        with pytest.raises(ValueError, match="origin must be"):
            WSGIGateway(echo, bad)


def test_transports_mount_on_clients_people_already_have():
    app = make_app()
    bob = Credentials.of(app, "bob")
    with requests.Session() as session:
        session.mount("http://localhost/", RequestsAdapter(app))
        assert session.get("http://localhost/v2/services/syncml/", auth=None).status_code == 401
    with httpx.Client(transport=HttpxTransport(app), auth=HttpxOAuth1(bob)) as client:
        assert client.get("http://localhost/v2/services/syncml/").status_code == 200

    async def main():
        async with httpx.AsyncClient(transport=AsyncHttpxTransport(app), auth=HttpxOAuth1(bob)) as client:
            return (await client.get("http://localhost/v2/services/syncml/")).status_code
    assert asyncio.run(main()) == 200


def test_httpx_signing_covers_a_form_body():
    """RFC 5849 §3.4.1.3.1: a form body's parameters are signed, and the fake checks them."""
    app = make_app()
    alice = Credentials.of(app, "alice")
    with httpx_client(app, alice) as client:
        signed = client.post("/v2/services/syncml/", data={"note": "Café"})
        # verified; then refused for what it is: no Atom entry
        assert (signed.status_code, signed.reason_phrase) == (415, "Unsupported Media Type")
        request = client.build_request("POST", "/v2/services/syncml/", data={"note": "Café"})
        request.headers["Authorization"] = authorization(alice, "POST", str(request.url))  # body left out
        assert client.send(request, auth=None).status_code == 401


def test_a_missing_client_library_is_named(monkeypatch):
    import ocss_testkit

    monkeypatch.setattr(ocss_testkit, "inprocess", ocss_testkit.inprocess)  # put back afterwards
    monkeypatch.delitem(sys.modules, "ocss_testkit.inprocess")
    monkeypatch.setitem(sys.modules, "httpx", None)
    fresh = importlib.import_module("ocss_testkit.inprocess")
    with pytest.raises(ImportError, match=r"httpx_client needs `pip install httpx`"):
        from ocss_testkit.inprocess import httpx_client as _  # noqa: F401
    monkeypatch.setitem(sys.modules, "requests_oauthlib", None)
    app = make_app()
    with pytest.raises(ImportError, match=r"pip install requests-oauthlib"):
        fresh.requests_session(app, Credentials.of(app, "alice"))
    unsigned = fresh.requests_session(app)  # needs only requests
    assert unsigned.get("http://localhost/v2/services/syncml/").status_code == 401
    unsigned.close()


# --- a downstream project: the fixtures as the installed plugin gives them ----------------------
INSTALLED = any(ep.value == "ocss_testkit.plugin" for ep in entry_points(group="pytest11"))


@pytest.fixture
def run(pytester, monkeypatch):
    """Run pytest in a subprocess, with the plugin as an installed package would load it."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

    def go(*args):
        extra = [] if INSTALLED else ["-p", "ocss_testkit.plugin"]
        return pytester.runpytest_subprocess(*extra, "-p", "no:cacheprovider", *args, timeout=240)
    return go


def test_downstream_project_uses_the_three_fixtures(pytester, run):
    pytester.makepyfile(test_downstream=f"""
        import asyncio
        import pytest

        PHONE = {PHONE!r}
        ATOM_XML = {{"Content-Type": "application/atom+xml"}}
        kept = {{}}

        def test_requests(ocss_requests, ocss_fake_wsgi):
            session = kept["session"] = ocss_requests("alice")
            reply = session.post(ocss_fake_wsgi.url + "/v2/services/syncml/", data=PHONE, headers=ATOM_XML)
            assert (reply.status_code, reply.reason) == (201, "Created")
            assert ocss_fake_wsgi.journal[-1].user == "alice"

        def test_httpx_sees_a_fresh_world(ocss_httpx):
            client = kept["client"] = ocss_httpx("alice")
            assert "<entry>" not in client.get("/v2/services/syncml/").text

        def test_httpx_async(ocss_httpx_async, ocss_fake_wsgi):
            kept["async"] = ocss_httpx_async("admin")
            async def main():
                return await kept["async"].get("/v2/services/syncml/")
            reply = asyncio.run(main())
            assert (reply.status_code, reply.text.count("<entry>")) == (200, 2)

        @pytest.mark.anyio  # anyio's pytest plugin comes with httpx (asyncio backend by default)
        async def test_httpx_async_in_an_async_test(ocss_httpx_async):
            reply = await ocss_httpx_async("admin").get("/v2/services/syncml/")
            assert reply.status_code == 200

        def test_clients_were_closed_after_their_tests():
            assert kept["client"].is_closed and kept["async"].is_closed

        @pytest.mark.ocss_allow_problems
        def test_unsigned(ocss_requests):
            assert ocss_requests(None).get("http://localhost/v2/services/syncml/").status_code == 401

        def test_refused_request_is_reported(ocss_httpx):
            assert ocss_httpx(None).get("/v2/services/syncml/").status_code == 401
    """)
    result = run("-v")
    result.assert_outcomes(passed=7, errors=1)  # the last one passes, then fails at teardown
    result.stdout.fnmatch_lines(["*test_refused_request_is_reported ERROR*",
                                 "*GET /v2/services/syncml/ -> 401 Unauthorized*"])


# --- the documentation's examples run -----------------------------------------------------------
def doc_blocks() -> list[str]:
    return re.findall(r"(?ms)^```python\n(.*?)^```", DOC.read_text("utf-8"))


def test_the_documented_examples_run(pytester, run):
    blocks = doc_blocks()
    tests = [t for b in blocks for t in re.findall(r"(?ms)^(?:@[^\n]*\n)*def test_.*?(?=^\S|\Z)", b)]
    for fixture in ("ocss_requests", "ocss_httpx", "ocss_httpx_async", "ocss_fake_wsgi"):
        assert any(re.search(rf"\b{fixture}\b", t) for t in tests), f"no example uses {fixture}"
    for test in tests:  # five lines each, past a marker
        assert len([ln for ln in test.strip().splitlines() if not ln.startswith("@")]) <= 5, test
    pytester.makepyfile(test_documented="\n\n".join(blocks))
    result = run("-v")
    result.assert_outcomes(passed=len(tests))
    assert len(tests) == 5
