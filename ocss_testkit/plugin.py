"""The pytest plugin (entry point `pytest11`): a running fake per test session, reset
before every test.

Installed with the package, it needs no conftest. Under pytest-xdist each worker is its
own process, so each gets its own fake on its own free port: nothing is shared.

With `--ocss-fake-url URL` (or ini `ocss_fake_url`) no fake is started: each session
(each xdist worker) claims a tenant of its own on the shared `ocss-fake serve` at URL
(`PUT /_fake/tenants/pytest-{random}-{worker}`), resets it before every test and drops it
at the end; `ocss_fake` is then a remote.RemoteHandle, with the same methods and return
types (but no `world`). The in-process fixtures (`ocss_fake_wsgi`, `ocss_requests`,
`ocss_httpx`, `ocss_httpx_async`) are skipped, saying why.

    def test_register(ocss_fake):
        api = ocss_fake.client("alice")
        ...
        assert ocss_fake.outbox.last(kind="setup-sms").to == "+4798765432"
        ocss_fake.assert_requested(method="POST", path="/v2/services/syncml/*", status=201, times=1)
"""
from __future__ import annotations

import os
import secrets
import warnings
from urllib.parse import urlsplit

import pytest

from ocss_testkit.app import FakeApp
from ocss_testkit.fake_handle import FakeHandle
from ocss_testkit.server import FakeServer
from ocss_testkit.world.fixtures import FixtureSet

PROBLEM_MODES = ("fail", "warn", "ignore")


def pytest_addoption(parser) -> None:
    group = parser.getgroup("ocss", "ObexCode SyncServer fake (ocss-testkit)")
    group.addoption("--ocss-fixtures", default=None, metavar="NAME|DIR",
                    help="fixture set the fake starts from and resets to (default: ini ocss_fixtures, or demo)")
    group.addoption("--ocss-problems", default=None, choices=PROBLEM_MODES,
                    help="what to do when the fake received requests it could not route, or refused as "
                         "unauthenticated or invalid, during a test (default: ini ocss_problems, or fail)")
    group.addoption("--ocss-fake-url", default=None, metavar="URL",
                    help="use a tenant of this shared `ocss-fake serve` (one per session, per xdist worker) "
                         "instead of starting a fake (default: ini ocss_fake_url, or start one)")
    parser.addini("ocss_fixtures", "default fixture set of the fake", default="demo")
    parser.addini("ocss_fake_url", "URL of a shared `ocss-fake serve` to claim tenants on", default="")
    parser.addini("ocss_problems", "fail | warn | ignore: requests the fake refused during a test",
                  default="fail")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "ocss_fixtures(name): start this test from another fixture set "
                                       "(a name under fixtures/ or a folder)")
    config.addinivalue_line("markers", "ocss_patch(operations): apply an RFC 6902 JSON Patch to the "
                                       "fake's state before this test")
    config.addinivalue_line("markers", "ocss_allow_problems: this test sends requests the fake refuses, "
                                       "on purpose")
    _option(config, "problems")  # a misspelt ini value stops the run now, not after the first test
    _fake_url(config)  # likewise a URL that is none


def _option(config, name: str) -> str:
    value = config.getoption(f"--ocss-{name}") or config.getini(f"ocss_{name}")
    if name == "problems" and value not in PROBLEM_MODES:  # the command line's choices= covers only itself
        raise pytest.UsageError(f"ocss_problems = {value!r:.40}: use one of {', '.join(PROBLEM_MODES)}")
    return value


def _fake_url(config) -> str | None:
    """The shared fake's URL (--ocss-fake-url, ini ocss_fake_url), or None: start one."""
    url = (config.getoption("--ocss-fake-url") or config.getini("ocss_fake_url") or "").strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise pytest.UsageError(f"ocss fake URL {url!r:.80}: give the root of a running `ocss-fake serve`, "
                                "like http://fake:8080")
    return url.rstrip("/")


REMOTE_ONLY = ("runs the fake in this process, and with --ocss-fake-url (ini ocss_fake_url) this session "
               "uses the shared fake instead: use ocss_fake")

_sets: dict[str, FixtureSet] = {}


def _fixture_set(name: str) -> FixtureSet:
    """Fixture sets are parsed once per process; building a World from one is the reset."""
    if name not in _sets:
        _sets[name] = FixtureSet.load(name)
    return _sets[name]


@pytest.fixture(scope="session")
def ocss_fake_server(pytestconfig):
    """The session's fake on real HTTP (127.0.0.1, a free port); prefer `ocss_fake`.
    Under --ocss-fake-url there is none (the test errors, saying so)."""
    if _fake_url(pytestconfig):
        pytest.fail("ocss_fake_server is a fake this session starts, and with --ocss-fake-url (ini "
                    "ocss_fake_url) it starts none: use ocss_fake, whose url is this session's tenant",
                    pytrace=False)
    server = FakeServer(FakeApp(_fixture_set(_option(pytestconfig, "fixtures")))).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def ocss_fake_tenant(pytestconfig):
    """Under --ocss-fake-url: this session's tenant of the shared fake (a
    remote.RemoteHandle), claimed at the first test that needs it, dropped at the end."""
    from ocss_testkit.remote import RemoteError, RemoteHandle

    url = _fake_url(pytestconfig)
    if not url:
        pytest.fail("ocss_fake_tenant needs --ocss-fake-url (ini ocss_fake_url): the URL of a shared "
                    "`ocss-fake serve`", pytrace=False)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"pytest-{secrets.token_hex(4)}-{worker}"[:64]
    try:
        handle = RemoteHandle.claim(url, name, _fixture_set(_option(pytestconfig, "fixtures")))
    except RemoteError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield handle
    try:
        handle.drop()
    except RemoteError as exc:  # the tests ran; a tenant left behind goes idle and is dropped
        warnings.warn(pytest.PytestWarning(str(exc)), stacklevel=1)


@pytest.fixture(scope="session")
def ocss_fake_app(pytestconfig):
    """The session's in-process fake (no sockets); prefer `ocss_fake_wsgi`. Skipped under
    --ocss-fake-url."""
    if _fake_url(pytestconfig):
        pytest.skip(f"ocss_fake_wsgi {REMOTE_ONLY}")
    return FakeApp(_fixture_set(_option(pytestconfig, "fixtures")))


def _prepared(handle: FakeHandle, request):
    config = request.config
    marker = request.node.get_closest_marker("ocss_fixtures")
    name = marker.args[0] if marker else _option(config, "fixtures")
    handle.reset(_fixture_set(name))
    patch = request.node.get_closest_marker("ocss_patch")
    if patch:
        handle.state.patch(patch.args[0] if patch.args else patch.kwargs["operations"])
    handle.journal_mark = handle.app.journal.last_id()
    yield handle
    handle.close_clients()
    mode = _option(config, "problems")
    if mode == "ignore" or request.node.get_closest_marker("ocss_allow_problems"):
        return
    problems = handle.app.journal.entries(after=handle.journal_mark, problems_only=True)
    if problems:
        report = _report(problems)
        if mode == "fail":
            pytest.fail(report, pytrace=False)
        request.node.warn(pytest.PytestWarning(report))


def _report(problems) -> str:
    """One line per refused request: method, path and query, status, the problem, and the
    sentence the client read (the journal's `detail`, at most journal.MAX_TEXT characters)."""
    lines = [f"the fake refused {len(problems)} request(s) during this test "
             "(mark it ocss_allow_problems if that is intended):"]
    for e in problems:
        why = e.detail or (e.auth if e.problem == "unauthorized" else e.validation if e.problem == "invalid" else "")
        line = f"  {e.method} {e.path}{'?' + e.query if e.query else ''} -> {e.status} {e.reason} [{e.problem}]"
        lines.append(line + (f": {why}" if why and why != "ok" else ""))
    return "\n".join(lines)


@pytest.fixture
def ocss_fake(request):
    """A fake SyncServer on real HTTP, with a fresh world for this test: the session's
    own, or under --ocss-fake-url its tenant of the shared one."""
    if _fake_url(request.config):
        handle = request.getfixturevalue("ocss_fake_tenant")
    else:
        handle = FakeHandle(request.getfixturevalue("ocss_fake_server"))
    yield from _prepared(handle, request)


@pytest.fixture
def ocss_fake_wsgi(ocss_fake_app, request):
    """The same, in-process: `client()` talks WSGI directly, no sockets."""
    yield from _prepared(FakeHandle(ocss_fake_app), request)


# --- the OCSS library bound to the fake (SyncServer API Python interface) ----------------------
@pytest.fixture
def ocss_api_for(ocss_fake):
    """`ocss_api_for(user)`: an `ocss.SyncServerAPI` of this test's fake (`ocss_fake`, over
    real HTTP), signed as that user of the fake's world; `None` gives an anonymous one.
    Keyword arguments go to `SyncServerAPI` (e.g. `timeout=` in seconds). Each API
    object's connection is closed after the test."""
    import ocss  # here, not at import: the plugin loads in every pytest run of the venv

    made = []

    def api_for(user: str | None = "alice", **options):
        auth = None
        if user is not None:
            c = ocss_fake.credentials(user)
            auth = ocss.SyncServerAuth(c.consumer_key, c.consumer_secret, c.token, c.token_secret)
        api = ocss.SyncServerAPI(auth, base_url=ocss_fake.url, **options)
        made.append(api)
        return api

    yield api_for
    for api in made:
        api.close()


@pytest.fixture
def ocss_api(ocss_api_for):
    """An `ocss.SyncServerAPI` of this test's fake, signed as alice (`ocss_api_for("alice")`)."""
    return ocss_api_for("alice")


# --- requests and httpx on the in-process fake (ocss_testkit.inprocess) ------------------------
def _credentials_of(handle: FakeHandle, user: str | None):
    """The OAuth credentials of `user` in the handle's world; None for None (unsigned)."""
    if user is None:
        return None
    users = handle.world.users
    if user not in users:
        raise LookupError(f"no user {user!r} in the fake's world; its users: {', '.join(sorted(users))}")
    return handle.credentials(user)


def _aclose(client) -> None:
    """Close an httpx.AsyncClient from a sync teardown: on a loop of its own, in a thread of
    its own when this thread runs a loop already (pytest-asyncio and the like)."""
    import asyncio
    import threading

    if client.is_closed:
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(client.aclose())
        return
    closer = threading.Thread(target=asyncio.run, args=(client.aclose(),), name="ocss-aclose")
    closer.start()
    closer.join()


@pytest.fixture
def ocss_requests(ocss_fake_wsgi):
    """`ocss_requests(user="alice")`: a `requests.Session` on this test's in-process fake
    (`ocss_fake_wsgi`: the same fresh world; URLs on http://localhost, as its `url`), signed
    as that user of the world with requests-oauthlib's OAuth1; `None` gives an unsigned one.
    No socket is opened: a URL on another origin raises `requests.ConnectionError`. An
    unknown user raises LookupError naming the world's users. Sessions are closed after
    the test. Needs requests and requests-oauthlib (ImportError naming them otherwise)."""
    from ocss_testkit import inprocess  # here, not at import: requests is optional

    made = []

    def session_for(user: str | None = "alice"):
        session = inprocess.requests_session(ocss_fake_wsgi.app, _credentials_of(ocss_fake_wsgi, user),
                                             ocss_fake_wsgi.url)
        made.append(session)
        return session

    yield session_for
    for session in made:
        session.close()


@pytest.fixture
def ocss_httpx(ocss_fake_wsgi):
    """`ocss_httpx(user="alice", **options)`: an `httpx.Client` on this test's in-process fake
    (`ocss_fake_wsgi`), `base_url` http://localhost, signed as that user
    (`ocss_testkit.inprocess.HttpxOAuth1`, OAuth 1.0a HMAC-SHA1); `None` gives an unsigned
    one. `options` go to `httpx.Client` (`headers=`, `event_hooks=`, …). No socket is opened:
    another origin raises `httpx.ConnectError`. Closed after the test. Needs httpx."""
    from ocss_testkit import inprocess  # here, not at import: httpx is optional

    made = []

    def client_for(user: str | None = "alice", **options):
        client = inprocess.httpx_client(ocss_fake_wsgi.app, _credentials_of(ocss_fake_wsgi, user),
                                        ocss_fake_wsgi.url, **options)
        made.append(client)
        return client

    yield client_for
    for client in made:
        client.close()


@pytest.fixture
def ocss_httpx_async(ocss_fake_wsgi):
    """`ocss_httpx_async(user="alice", **options)`: the same as `ocss_httpx`, as an
    `httpx.AsyncClient`; the fake runs in a worker thread, so the event loop never waits
    on it. Usable from any loop (asyncio or trio); a client the test did not close is
    closed after it. Needs httpx."""
    from ocss_testkit import inprocess  # here, not at import: httpx is optional

    made = []

    def client_for(user: str | None = "alice", **options):
        client = inprocess.httpx_async_client(ocss_fake_wsgi.app, _credentials_of(ocss_fake_wsgi, user),
                                              ocss_fake_wsgi.url, **options)
        made.append(client)
        return client

    yield client_for
    for client in made:
        _aclose(client)
