"""Routing, authentication gate and the route table (docs/decisions.md, "Route ids").

Item URLs answer with and without the trailing slash and nothing ever redirects (a
redirect breaks OAuth signatures); unknown paths name the closest route; a wrong method is
a 405 with `Allow`; a missing or bad signature is a 401 with `WWW-Authenticate: OAuth
realm="…"`; every response carries `X-Request-Id`; and every route says where it comes from.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests
from authlib.integrations.requests_client import OAuth1Session
from requests_oauthlib import OAuth1

from ocss_testkit import routes as routes_module
from ocss_testkit.app import FakeApp
from ocss_testkit.client import Credentials, SignedClient
from ocss_testkit.routes import CONTROL_ROUTES, ROUTES
from ocss_testkit.services.clients import handlers as clients_handlers
from ocss_testkit.services.phones import handlers as phones_handlers
from ocss_testkit.services.syncml import handlers as syncml_handlers
from tests.helpers import (
    ADMIN_GDATA,
    ADMIN_SYNCML_5310,
    ADMIN_SYNCML_5800,
    CONSUMER_KEY,
    GOOGLE,
    SYNCML,
    authlib_session,
    call,
    gdata_create,
    gdata_update,
    oauth1,
    run_a_session,
    setup_body,
    signed_headers,
    syncml_create,
    text,
    token,
    xml,
)

# A folder holding the API documents as text (each names its title in its first lines), for
# checking that every section a route cites exists; the documents are not part of the repository.
API_DOCS = Path(os.environ["OCSS_API_DOCS"]) if os.environ.get("OCSS_API_DOCS") else None
G_ITEM = GOOGLE + ADMIN_GDATA
S_ITEM = SYNCML + ADMIN_SYNCML_5310


def _freeze(fake, at: str = "2012-01-02T03:04:05Z") -> None:
    r = requests.post(fake.url + "/_fake/clock", json={"freeze": True, "set": at}, timeout=30)
    assert r.status_code == 200, r.text


def _allowed(r) -> set[str]:
    return {m.strip() for m in r.headers["Allow"].split(",") if m.strip()}


# --- trailing slash, never a redirect ----------------------------------------------------------
@pytest.mark.parametrize("path", [
    GOOGLE, G_ITEM + "/", SYNCML, S_ITEM + "/", SYNCML + ADMIN_SYNCML_5800 + "/",
    SYNCML + "sessions/", SYNCML + "sessions/chatlog/", SYNCML + "sessions/1/chatlog/",
])
def test_get_answers_the_same_with_and_without_trailing_slash(fake, path):
    _freeze(fake)  # empty feeds are dated "now": keep both answers byte-identical
    run_a_session(fake)
    with_slash = call(fake, "GET", path, "admin")
    without = call(fake, "GET", path.rstrip("/"), "admin")
    assert (with_slash.status_code, with_slash.reason) == (200, "OK")
    assert (without.status_code, without.reason) == (200, "OK")
    assert with_slash.history == [] and without.history == []
    assert with_slash.content == without.content


@pytest.mark.parametrize("slash", ["", "/"])
def test_writes_answer_with_and_without_trailing_slash(fake, slash):
    def url(path: str) -> str:
        return path.rstrip("/") + slash

    r = call(fake, "POST", url(GOOGLE), "alice", gdata_create("slash@gmail.com"))
    assert (r.status_code, r.reason) == (201, "Created")
    uuid = text(xml(r), "oc:client/oc:uuid")
    r = call(fake, "PUT", url(GOOGLE + uuid), "alice", gdata_update())
    assert (r.status_code, r.reason) == (200, "Updated")
    r = call(fake, "DELETE", url(GOOGLE + uuid), "alice")
    assert (r.status_code, r.reason) == (200, "Deleted")

    r = call(fake, "POST", url(SYNCML), "alice", syncml_create(model="242"))
    assert (r.status_code, r.reason) == (201, "Created")
    uuid = text(xml(r), "oc:client/oc:uuid")
    r = call(fake, "POST", url(f"{SYNCML}{uuid}/setup"), "alice", setup_body())
    assert (r.status_code, r.reason) == (201, "Created")
    r = call(fake, "POST", url(f"{SYNCML}{uuid}/sync"), "alice")
    assert (r.status_code, r.reason) == (200, "Ok")
    r = call(fake, "GET", url(SYNCML + "datastores"), "alice")
    assert (r.status_code, r.reason) == (501, "Not implemented yet")
    r = call(fake, "DELETE", url(SYNCML + uuid), "alice")
    assert (r.status_code, r.reason) == (200, "OK")


def test_trailing_slash_variants_with_authlib(fake):
    with authlib_session("admin") as s:
        for path in (GOOGLE, G_ITEM, G_ITEM + "/", SYNCML, SYNCML.rstrip("/"), S_ITEM, S_ITEM + "/"):
            r = s.get(fake.url + path, allow_redirects=False)
            assert (r.status_code, r.reason) == (200, "OK"), path
            assert r.history == [] and "Location" not in r.headers


def _concrete(path: str) -> str:
    values = {"uuid": ADMIN_SYNCML_5310, "session": "1", "vendor": "4", "model": "242", "binding": "1",
              "item": "1", "code": "nosuchcode", "number": "+4790981948", "fault": "1", "tenant": "ci-job-42"}
    if path.startswith(GOOGLE):
        values["uuid"] = ADMIN_GDATA
    # Any other placeholder gets "1": an id that need not exist (a 404 still shows the route).
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


INTENTIONAL_405 = {syncml_handlers.not_editable, phones_handlers.read_only, clients_handlers.read_only}


@pytest.mark.parametrize("route", ROUTES + CONTROL_ROUTES,
                         ids=lambda r: f"{r.method} {r.path}")
def test_every_route_is_reachable_in_both_slash_forms_without_redirect(fake, route):
    """Each route of the table answers its method on both URL forms: never "no route", never
    a 3xx (under /v2/ and /_fake/), never a 5xx, and a 405 only where the handler means it."""
    run_a_session(fake)
    path = _concrete(route.path)
    other = path[:-1] if path.endswith("/") else path + "/"
    for p in (path, other):
        r = requests.request(route.method, fake.url + p, auth=oauth1("admin"), allow_redirects=False, timeout=30)
        assert "no route for" not in r.text, (p, r.text)
        if route.handler is not syncml_handlers.datastores:  # D14 is "501 Not implemented yet" by design
            assert r.status_code < 500, (p, r.status_code, r.text)
        if p.startswith(("/v2/", "/_fake/")):
            assert not 300 <= r.status_code < 400, (p, r.status_code, r.headers.get("Location"))
        if r.status_code == 405:
            assert route.handler in INTENTIONAL_405, (p, r.text)
        assert r.headers.get("X-Request-Id")


# --- unknown paths: 404 naming the closest route ----------------------------------------------
@pytest.mark.parametrize("path,closest", [
    ("/v2/services/googel/", "/v2/services/google/"),
    ("/v2/service/syncml/", "/v2/services/syncml/"),
    (G_ITEM + "/edti", "/v2/services/google/{uuid}/edit"),
    (S_ITEM + "/setpu/", "/v2/services/syncml/{uuid}/setup/"),
])
@pytest.mark.parametrize("user", [None, "admin"], ids=["anonymous", "signed"])
def test_unknown_path_is_404_naming_the_closest_route(fake, path, closest, user):
    r = call(fake, "GET", path, user)
    assert (r.status_code, r.reason) == (404, "Not Found")
    assert r.headers["Content-Type"].startswith("text/plain")
    assert f"no route for {path}" in r.text
    hints = r.text.split("Closest:", 1)[1].split(";")
    assert hints[0].strip().endswith(" " + closest), r.text
    assert "WWW-Authenticate" not in r.headers


# --- wrong method: 405 with Allow ----------------------------------------------------------------
@pytest.mark.parametrize("method,path,allowed", [
    ("PATCH", GOOGLE, {"GET", "HEAD", "POST", "PUT", "DELETE"}),
    ("POST", G_ITEM + "/", {"GET", "HEAD", "PUT", "DELETE"}),
    ("DELETE", SYNCML, {"GET", "HEAD", "POST"}),
    ("PUT", SYNCML + "sessions/chatlog/", {"GET", "HEAD"}),
    ("GET", S_ITEM + "/setup/", {"POST"}),
    ("DELETE", S_ITEM + "/sync", {"POST"}),
    ("POST", "/_fake/health", {"GET", "HEAD"}),
    pytest.param("POST", SYNCML + "sessions/", {"GET", "HEAD"}, id="POST-sessions"),
    pytest.param("DELETE", SYNCML + "sessions/", {"GET", "HEAD"}, id="DELETE-sessions"),
    pytest.param("POST", SYNCML + "datastores/", {"GET", "HEAD"}, id="POST-datastores"),
    pytest.param("GET", SYNCML + "setup/", {"POST"}, id="GET-setup"),
])
@pytest.mark.parametrize("user", [None, "bob"], ids=["anonymous", "signed"])
def test_wrong_method_is_405_with_allow(fake, method, path, allowed, user):
    before = fake.app.world.to_dict()
    r = call(fake, method, path, user)
    assert (r.status_code, r.reason) == (405, "Method Not Allowed")
    assert _allowed(r) == allowed
    assert method in r.text
    assert fake.app.world.to_dict() == before


@pytest.mark.parametrize("path", [
    GOOGLE, G_ITEM + "/", SYNCML, SYNCML + "sessions/chatlog/",
    pytest.param(SYNCML + "sessions/", id="syncml-sessions"),
    pytest.param(S_ITEM, id="syncml-item"),
    pytest.param("/v2/phones/vendors/", id="phones-vendors"),
    pytest.param("/v2/clients/", id="clients"),
])
def test_every_method_in_allow_is_really_allowed(fake, path):
    """RFC 9110 §15.5.6: Allow lists the methods the resource supports, so none of them
    may itself answer 405."""
    r = call(fake, "PATCH", path, "admin")
    assert (r.status_code, r.reason) == (405, "Method Not Allowed")
    answers = {}
    for method in sorted(_allowed(r) - {"HEAD"}):
        answers[method] = call(fake, method, path, "admin").status_code
    assert 405 not in answers.values(), answers


# --- authentication gate ------------------------------------------------------------------------
PROTECTED = [
    ("GET", GOOGLE, None), ("POST", GOOGLE, gdata_create("anon@gmail.com")),
    ("PUT", GOOGLE, gdata_update(uuid=ADMIN_GDATA)),
    ("DELETE", GOOGLE, None), ("GET", G_ITEM + "/", None), ("PUT", G_ITEM + "/", gdata_update()),
    ("DELETE", G_ITEM + "/", None), ("GET", SYNCML, None), ("POST", SYNCML, syncml_create()),
    ("GET", S_ITEM, None), ("DELETE", S_ITEM, None), ("PUT", S_ITEM, syncml_create()),
    ("POST", S_ITEM + "/setup/", setup_body()), ("POST", S_ITEM + "/sync/", None),
    ("GET", SYNCML + "sessions/", None), ("GET", SYNCML + "sessions/chatlog/", None),
    ("GET", SYNCML + "sessions/1/chatlog/", None), ("GET", SYNCML + "datastores/", None),
]


@pytest.mark.parametrize("method,path,body", PROTECTED, ids=[f"{m} {p}" for m, p, _ in PROTECTED])
def test_unauthenticated_is_401_with_an_oauth_challenge(fake, method, path, body):
    before = fake.app.world.to_dict()
    r = call(fake, method, path, None, body)
    assert (r.status_code, r.reason) == (401, "Unauthorized")
    challenge = r.headers["WWW-Authenticate"]
    m = re.fullmatch(r'OAuth realm="([^"]+)"', challenge)
    assert m, challenge
    assert m.group(1) == fake.url + "/"
    assert b"<feed" not in r.content and b"<entry" not in r.content
    assert fake.app.world.to_dict() == before


@pytest.mark.parametrize("auth", [
    OAuth1(CONSUMER_KEY, "wrong-consumer-secret", *token("admin")),
    OAuth1(CONSUMER_KEY, "demo-consumer-secret", "admin-access-token", "bob-access-secret"),
    OAuth1("unknown-consumer", "demo-consumer-secret", *token("admin")),
    OAuth1(CONSUMER_KEY, "demo-consumer-secret", "nobody-access-token", "nobody-access-secret"),
], ids=["consumer-secret", "token-secret", "consumer-key", "token"])
def test_bad_signature_is_401_and_changes_nothing(fake, auth):
    before = fake.app.world.to_dict()
    r = requests.delete(fake.url + G_ITEM + "/", auth=auth, allow_redirects=False, timeout=30)
    assert (r.status_code, r.reason) == (401, "Unauthorized")
    assert r.headers["WWW-Authenticate"].startswith('OAuth realm="')
    assert fake.app.world.to_dict() == before


def test_bad_signature_from_authlib_is_401(fake):
    key, _ = token("alice")
    with OAuth1Session(CONSUMER_KEY, "demo-consumer-secret", token=key, token_secret="not-alices-secret") as s:
        r = s.get(fake.url + SYNCML, allow_redirects=False)
    assert (r.status_code, r.reason) == (401, "Unauthorized")
    assert r.headers["WWW-Authenticate"] == f'OAuth realm="{fake.url}/"'


def test_realm_follows_the_host_header(fake):
    r = requests.get(fake.url + GOOGLE, headers={"Host": "api.obexcode.com"}, timeout=30)
    assert (r.status_code, r.reason) == (401, "Unauthorized")
    assert r.headers["WWW-Authenticate"] == 'OAuth realm="http://api.obexcode.com/"'
    headers = signed_headers("admin", "GET", "http://api.obexcode.com" + GOOGLE)
    r = requests.get(fake.url + GOOGLE, headers={**headers, "Host": "api.obexcode.com"}, timeout=30)
    assert (r.status_code, r.reason) == (200, "OK")


def test_health_needs_no_auth(fake):
    r = call(fake, "GET", "/_fake/health", None)
    assert (r.status_code, r.reason) == (200, "OK")
    assert r.headers["Content-Type"] == "application/json"
    data = r.json()
    assert data["status"] == "ok"
    assert data["world"]["clients"] == {"gdata": 1, "syncml": 2}
    assert "WWW-Authenticate" not in r.headers
    assert r.headers["X-Request-Id"]


# --- X-Request-Id on every response ----------------------------------------------------------------
def test_every_response_carries_a_distinct_request_id(fake):
    replies = [
        call(fake, "GET", GOOGLE, "admin"),                                       # 200
        call(fake, "POST", GOOGLE, "alice", gdata_create("rid@gmail.com")),       # 201
        call(fake, "POST", GOOGLE, "alice", b""),                                 # 400
        call(fake, "GET", GOOGLE, None),                                          # 401
        call(fake, "GET", G_ITEM, "bob"),                                         # 403
        call(fake, "GET", "/v2/services/googel/", None),                          # 404
        call(fake, "PUT", S_ITEM, "admin", syncml_create()),                      # 405 (handler)
        call(fake, "PATCH", GOOGLE, None),                                        # 405 (router)
        call(fake, "GET", SYNCML + "datastores/", "admin"),                       # 501
        call(fake, "POST", S_ITEM + "/sync/", "admin"),                           # 200, empty body
        call(fake, "DELETE", S_ITEM, "admin"),                                    # 200, empty body
        call(fake, "GET", "/_fake/health", None),
        call(fake, "GET", "/_fake/outbox", None),
    ]
    assert [r.status_code for r in replies] == [200, 201, 400, 401, 403, 404, 405, 405, 501, 200, 200, 200, 200]
    ids = [r.headers.get("X-Request-Id") for r in replies]
    assert all(ids), ids
    assert len(set(ids)) == len(ids)


def test_in_process_responses_carry_a_request_id_too(wsgi):
    c, anon = wsgi("admin"), wsgi(None)
    replies = [c.get(GOOGLE), anon.get(GOOGLE), c.get("/v2/nowhere/"), c.request("PATCH", SYNCML),
               c.get(SYNCML + "datastores/"), c.post(GOOGLE, b"")]
    assert [(r.status, r.reason) for r in replies] == [
        (200, "OK"), (401, "Unauthorized"), (404, "Not Found"), (405, "Method Not Allowed"),
        (501, "Not implemented yet"), (400, "No Entry provided")]
    ids = [r.headers.get("X-Request-Id") for r in replies]
    assert all(ids) and len(set(ids)) == len(ids)
    assert replies[1].headers["WWW-Authenticate"] == 'OAuth realm="http://localhost/"'


def test_in_process_oversized_body_is_413_with_a_request_id():
    app = FakeApp(max_body=256)
    c = SignedClient(app, Credentials.of(app, "alice"))
    before = app.world.to_dict()
    r = c.post(GOOGLE, gdata_create("big@gmail.com", scopes=tuple(f"http://x/{i}" for i in range(40))))
    assert (r.status, r.reason) == (413, "Request Entity Too Large")
    assert r.headers.get("X-Request-Id")
    assert app.world.to_dict() == before


# --- the route table -----------------------------------------------------------------------------
API_DOCUMENTS = {routes_module.GDATA_API, routes_module.SYNCML_API, routes_module.LIBRARY_API}


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_is_documented_with_its_document_or_inferred(route):
    p = route.provenance
    assert p.kind in ("documented", "inferred"), p
    assert p.section.strip(), p
    if p.kind == "documented":
        assert p.doc in (routes_module.GDATA_API, routes_module.SYNCML_API), p  # the two REST API docs
        assert route.spec_id.startswith("D"), (route.method, route.path, route.spec_id)
    else:
        assert p.doc in API_DOCUMENTS, p
        assert not route.spec_id.startswith("D"), (route.method, route.path, route.spec_id)
    assert route.path.startswith("/")


def _api_documents() -> dict[str, str]:
    """Title -> text of every document in OCSS_API_DOCS (the title is one of its first lines)."""
    texts = {}
    for path in sorted(API_DOCS.iterdir()):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            for doc in API_DOCUMENTS:
                if doc.title in text.splitlines()[:5]:
                    texts[doc.title] = text
    return texts


def test_documented_sections_exist_in_their_document():
    if API_DOCS is None:
        pytest.skip("set OCSS_API_DOCS to a folder holding the API documents as text to check this")
    texts = _api_documents()
    assert set(texts) == {d.title for d in API_DOCUMENTS}, sorted(texts)
    for route in ROUTES:
        p = route.provenance
        if p.kind == "documented":
            assert p.section in {line.strip() for line in texts[p.title].splitlines()}, (route.method, route.path, p)


SPEC_D = {
    "D1": {("GET", "/v2/services/google/")},
    "D2": {("POST", "/v2/services/google/")},
    "D3": {("GET", "/v2/services/google/{uuid}/")},
    "D4": {("PUT", "/v2/services/google/{uuid}/"), ("PUT", "/v2/services/google/")},
    "D5": {("DELETE", "/v2/services/google/{uuid}/"), ("DELETE", "/v2/services/google/")},
    "D6": {("GET", "/v2/services/syncml/")},
    "D7": {("POST", "/v2/services/syncml/")},
    "D8": {("GET", "/v2/services/syncml/{uuid}")},
    "D9": {("DELETE", "/v2/services/syncml/{uuid}")},
    "D10": {("POST", "/v2/services/syncml/{uuid}/setup/")},
    "D11": {("POST", "/v2/services/syncml/{uuid}/sync/")},
    "D12": {("GET", "/v2/services/syncml/sessions/")},
    "D13": {("GET", "/v2/services/syncml/sessions/chatlog/"),
            ("GET", "/v2/services/syncml/sessions/{session}/chatlog/")},
    "D14": {("GET", "/v2/services/syncml/datastores/")},
    "D15": {("PUT", "/v2/services/syncml/{uuid}")},
}


def test_spec_d1_to_d15_are_all_in_the_table_where_spec_puts_them():
    by_id: dict[str, set] = {}
    for route in ROUTES:
        by_id.setdefault(route.spec_id, set()).add((route.method, route.path))
    assert {f"D{i}" for i in range(1, 16)} <= set(by_id)
    for spec_id, expected in SPEC_D.items():
        assert by_id[spec_id] == expected, spec_id
    for spec_id in by_id:
        if spec_id.startswith("D"):
            assert spec_id in SPEC_D, spec_id


def test_every_route_id_is_recorded_in_the_decisions():
    """docs/decisions.md, "Route ids", names every id of the route table (I1–I4 names I1…I4)."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "decisions.md").read_text(encoding="utf-8")
    section = text.split("\n## Route ids\n", 1)[1].split("\n## ", 1)[0]
    named = set()
    for kind, first, last in re.findall(r"\b([DI])(\d+)(?:–[DI](\d+))?", section):
        named |= {f"{kind}{n}" for n in range(int(first), int(last or first) + 1)}
    missing = {r.spec_id for r in ROUTES if r.spec_id} - named
    assert not missing, f"docs/decisions.md, 'Route ids', does not name {sorted(missing)}"


def test_no_two_routes_share_method_and_path():
    seen = [(r.method, r.rule) for r in ROUTES + CONTROL_ROUTES]
    assert len(seen) == len(set(seen))


def test_table_rows_carry_provenance():
    rows = routes_module.table()
    assert len(rows) == len(ROUTES + CONTROL_ROUTES)
    api_rows = [row for row in rows if row["path"].startswith("/v2/")]
    assert api_rows and all(row["provenance"] in ("documented", "inferred") for row in api_rows)
    assert {row["spec"] for row in rows if row["provenance"] == "documented"} == set(SPEC_D)


@pytest.mark.parametrize("path, status", [("/v2/phones/vendors/", 200), ("/v2/phones/vendorz/", 404),
                                          ("/v2/phones/vendors/", 405)], ids=["known", "unknown", "wrong-method"])
def test_a_websocket_upgrade_header_routes_as_any_request(path, status):
    """The route table is matched on method and path alone: a client's `Upgrade:
    websocket` once made werkzeug's per-request binding refuse every HTTP route (a 500)."""
    client = SignedClient(FakeApp())
    method = "DELETE" if status == 405 else "GET"
    r = client.request(method, path, headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    assert r.status == status, r.text
    if status == 405:
        assert r.headers["Allow"] == "GET, HEAD"
