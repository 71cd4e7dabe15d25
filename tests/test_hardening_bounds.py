"""What grows with traffic is bounded in entries and bytes, and what anyone can make the
fake compute stays cheap (issue 10, items 7, 8 and 11).

- Phones bodies are rendered once, host-free: a thousand distinct `Host` headers add no
  cache entry, and the spliced bytes equal a direct render for any base URL.
- Every string a journal entry keeps is cut to 1 KiB, whatever the request carried.
- Error sentences cut long echoes of client input (one place: `wire.ApiError`).
- The 404 near-miss hint does bounded work whatever the path, and still names the route.

In-process (werkzeug's test client), no sockets: nothing here is about the wire.
"""
from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree
from oauthlib.oauth1 import Client as OAuthClient
from werkzeug.test import Client

from ocss_testkit import journal as journal_module
from ocss_testkit import near_miss
from ocss_testkit.answers import MAX_DETAIL, MAX_ECHO, ApiError, bounded_detail
from ocss_testkit.app import FakeApp
from ocss_testkit.journal import MAX_TEXT, Journal
from ocss_testkit.services.phones import cached_bodies as phones
from ocss_testkit.services.phones.database import Model, PhonesDB, Vendor

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
NS = {"a": ATOM, "oc": OC}
# A cut string: MAX_TEXT characters, then "…(+N)" naming what went (N < 10**7 here).
CUT_TEXT = MAX_TEXT + len("…(+9999999)")


@pytest.fixture(scope="module")
def app():
    return FakeApp()


@pytest.fixture
def client(app):
    app.reset()
    return Client(app)


def signed(user: str, method: str, path: str, body: bytes = b"", host: str = "localhost",
           content_type: str | None = "application/atom+xml") -> dict:
    signer = OAuthClient("demo-consumer-key", client_secret="demo-consumer-secret",
                         resource_owner_key=f"{user}-access-token", resource_owner_secret=f"{user}-access-secret")
    _, headers, _ = signer.sign(f"http://{host}{path}", http_method=method)
    headers = {"Authorization": headers["Authorization"], "Host": host}
    if body and content_type:
        headers["Content-Type"] = content_type
    return headers


# --- item 7: phones bodies, whatever the Host ------------------------------------------------
PHONES_PATHS = ["/v2/phones/models/", "/v2/phones/vendors/", "/v2/phones/vendors/4/", "/v2/phones/models/501/",
                "/v2/phones/vendors/4/models/"]


def test_distinct_hosts_add_no_cached_body(client):
    for path in PHONES_PATHS:  # every body rendered once, for the first Host
        assert client.get(path, headers={"Host": "first.example"}).status_code == 200
    before = phones._templates.stats()
    for i in range(100):
        path = PHONES_PATHS[i % len(PHONES_PATHS)]
        host = f"h{i}.example:{8000 + i}"
        r = client.get(path, headers={"Host": host})
        assert r.status_code == 200
        body = r.data
        if body.startswith(b"<feed"):  # its own head is enough: parsing 350 KB a hundred times is not
            body = body[:body.index(b"<entry")] + b"</feed>"
        self_link = etree.fromstring(body).find("a:link[@rel='self']", NS).get("href")
        assert self_link in (f"http://{host}{path}", f"http://{host}{path.rstrip('/')}"), self_link
    assert phones._templates.stats() == before  # not one entry, not one byte more
    assert before["bytes"] <= phones.TEMPLATE_BYTES and before["entries"] <= phones.TEMPLATE_LIMIT


# Every character lxml escapes somewhere (text: & < > \r; attributes also " \n \t), the
# quote it does not, non-ASCII, and the stand-in's own private-use characters.
BASE_CHARS = st.sampled_from(list("&<>\"'\t\n\r aZ09:/.-_%?#[]@é€\ue000\ue001😀"))


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.text(BASE_CHARS, max_size=30).map(lambda t: f"http://{t}/"),
       what=st.sampled_from([("vendors", ""), ("vendor", "4"), ("vendor-models", "4"), ("model", "501"),
                             ("model", "112")]))
def test_a_spliced_body_is_the_direct_render_byte_for_byte(app, base, what):
    db = app.world.phones
    assert phones._cached(db, base, *what) == phones._render(db, base, *what)


def test_the_models_feed_spliced_is_the_direct_render(app):
    db = app.world.phones
    for base in ("http://localhost/", 'http://a&b<c>"d\'\te\r\n€/'):
        assert phones._cached(db, base, "models") == phones._render(db, base, "models", "")


def test_a_phones_file_holding_the_stand_in_is_rendered_per_request():
    vendor = Vendor(1, "u-1", phones._STAND_IN + "v2/x", "http://img.example/v.jpg")
    model = Model(2, "u-2", f"name {phones._STAND_IN}", 1, "http://img.example/m.jpg", ("Ua/1",), False, ())
    db = PhonesDB([vendor], [model])
    for what, key in (("vendors", ""), ("vendor", "1"), ("models", ""), ("model", "2")):
        assert phones._cached(db, "http://h.example/", what, key) == phones._render(db, "http://h.example/", what, key)
    assert phones._templates.get((db, "vendors", ""), lambda: None).spliceable is False


def test_the_template_cache_is_bounded_in_entries_and_in_bytes():
    body = b"<a href=\"" + phones._STAND_IN_BYTES + b"v2/phones/x\">" + b"y" * 1000 + b"</a>"
    by_count = phones._Templates(limit=3, max_bytes=10**9)
    by_bytes = phones._Templates(limit=1000, max_bytes=2500)
    for i in range(10):
        for cache in (by_count, by_bytes):
            assert cache.get(("k", i), lambda: phones._Template(body)).fill("http://h/").startswith(b"<a href=")
    assert by_count.stats()["entries"] == 3
    assert by_bytes.stats()["bytes"] <= 2500 and by_bytes.stats()["entries"] == 2
    too_big = phones._Templates(limit=10, max_bytes=100)
    too_big.get("k", lambda: phones._Template(body))
    assert too_big.stats() == {"entries": 0, "bytes": 0}


# --- item 8: journal entries, whatever the request carried ----------------------------------
def test_every_text_field_of_an_entry_is_cut():
    journal = Journal(limit=10)
    huge = "é" * 200_000
    entry = journal.start("r1", "GET" * 1000, "/" + huge, huge)
    entry.route, entry.user, entry.auth, entry.validation = huge, huge, huge, huge
    journal.record(entry, 401, huge, 0.0)
    (kept,) = journal.entries()
    texts = {f.name: getattr(kept, f.name) for f in dataclasses.fields(kept) if isinstance(getattr(kept, f.name), str)}
    assert set(texts) >= {"method", "path", "query", "route", "user", "auth", "validation", "reason"}
    for name, value in texts.items():
        assert len(value) <= CUT_TEXT, name
    assert kept.auth.startswith("é" * MAX_TEXT) and kept.auth.endswith(f"…(+{200_000 - MAX_TEXT})")
    assert kept.path.endswith(f"…(+{200_001 - MAX_TEXT})")  # cut as it came in, and not cut again
    assert journal_module._TEXT_FIELDS == tuple(f.name for f in dataclasses.fields(journal_module.Entry)
                                                if f.type in ("str", "str | None"))


def test_hostile_refusals_leave_small_entries(client, app):
    app.journal.clear()
    method = "H" * 7_000  # the header stays under auth.MAX_AUTHORIZATION, so the refusal quotes it
    header = ('OAuth oauth_consumer_key="demo-consumer-key", oauth_token="bob-access-token", '
              f'oauth_signature_method="{method}", oauth_signature="x", oauth_timestamp="1700000000", '
              'oauth_nonce="n1", oauth_version="1.0"')
    assert client.get("/v2/services/syncml/", headers={"Authorization": header}).status_code == 401
    name = "x" * 40_000
    body = (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:client><oc:name>a</oc:name><oc:{name}/>'
            f"</oc:client></entry>").encode()
    r = client.post("/v2/services/datastore/", data=body, headers=signed("admin", "POST", "/v2/services/datastore/",
                                                                         body))
    assert r.status_code == 400 and b"This element is not expected" in r.data
    assert client.open("/v2/services/syncml/" + "y" * 100_000, method="PATCH").status_code in (404, 405)
    entries = app.journal.entries()
    assert len(entries) == 3
    for entry in entries:
        for field in dataclasses.fields(entry):
            value = getattr(entry, field.name)
            if isinstance(value, str):
                assert len(value) <= CUT_TEXT, (field.name, len(value))
    assert entries[0].problem == "unauthorized" and "signature method" in entries[0].auth
    assert entries[1].problem == "invalid" and "This element is not expected" in entries[1].validation


# --- error sentences: echoes of client input cut in one place --------------------------------
def test_a_long_echo_is_cut_in_its_middle_and_the_sentence_kept():
    detail = f"unsupported signature method '{'H' * 200_000}': use HMAC-SHA1"
    cut = bounded_detail(detail)
    assert cut.startswith("unsupported signature method 'HHH") and cut.endswith("HHH': use HMAC-SHA1")
    assert len(cut) < 2 * MAX_ECHO
    # The cut piece is the quoted value with its colon (200,003 characters): kept + dropped.
    head, dropped, tail = re.search(r"'(H+)…\(\+(\d+)\)…(H+)':", cut).groups()
    assert 1 + len(head) + int(dropped) + len(tail) + 2 == 200_003


def test_a_sentence_of_many_words_is_cut_whole():
    cut = bounded_detail(" ".join(["w" * 150] * 10_000))
    assert len(cut) <= MAX_DETAIL + len(" …(+9999999)") and cut.startswith("w" * 150 + " ")


# Runs of every length around the bound, separated by single spaces (the split point).
PIECES = st.lists(st.one_of(st.text(max_size=40), st.integers(MAX_ECHO - 5, MAX_ECHO + 30).map(lambda n: "r" * n),
                            st.integers(1, 3000).map(lambda n: "é" * n)), max_size=30).map(" ".join)


@given(PIECES)
@example("x " * 1923 + "r" * 256 + " " + "y" * 200)  # the whole cut lands in a run near the bound
@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_bounded_detail_never_grows_and_keeps_short_sentences(text):
    cut = bounded_detail(text)
    assert len(cut) <= len(text) and len(cut) <= MAX_DETAIL + len(" …(+9999999)")
    if len(cut) <= MAX_DETAIL:  # not cut as a whole: every run is within the bound
        assert all(len(piece) <= MAX_ECHO for piece in cut.split(" "))
    if all(len(piece) <= MAX_ECHO for piece in text.split(" ")) and len(text) <= MAX_DETAIL:
        assert cut == text
    assert bounded_detail(cut) == cut  # a cut sentence is not cut again


def test_api_error_bounds_its_sentence_unless_verbatim():
    long = "z" * 100_000
    assert len(ApiError(404, "Not Found", f"no vendor with id {long!r}").detail) < 2 * MAX_ECHO
    assert len(str(ApiError(404, "Not Found", long))) < 2 * MAX_ECHO
    assert ApiError(500, "Database Gone", long, verbatim=True).detail == long


@pytest.mark.parametrize("method,path,status,needle", [
    ("PATCH", "/v2/services/syncml/" + "y" * 100_000, 405, b"allowed: "),
    ("GET", "/v2/phones/vendors/" + "z" * 100_000, 404, b"no vendor with id 'zzz"),
    ("GET", "/v2/phones/models/" + "9" * 100_000, 404, b"no model with id"),
])
def test_error_answers_do_not_echo_100_kb(client, method, path, status, needle):
    r = client.open(path, method=method)
    assert r.status_code == status and needle in r.data
    assert len(r.data) < 1000, len(r.data)


# --- item 11: the near-miss hint does bounded work -------------------------------------------
HOSTILE_PATHS = [
    "/v2/" + "x" * 300,
    "/v2/" + "x" * 200_000,
    "/v2/" + "a/" * 50_000,
    "/" + "/".join("segment%d" % i for i in range(10_000)),
    "/" + "é😀" * 5_000,
    "/" + "/" * 10_000 + "x",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS, ids=lambda p: f"{len(p)}chars")
def test_the_hint_compares_a_bounded_part_of_any_path(path):
    work = near_miss.Work()
    hints = near_miss.closest(path, work)
    assert len(hints) == near_miss.HINTS
    assert work.segments <= near_miss.MAX_SEGMENTS
    assert work.longest <= near_miss.MAX_SEGMENT
    assert work.lookups <= near_miss.MAX_SEGMENTS * (near_miss.MAX_SEGMENT + 1)


@pytest.mark.parametrize("path,closest", [
    ("/v2/phones/model/242", "/v2/phones/models/{model}/"),
    ("/v2/phones/detect/manul/", "/v2/phones/detect/manual/"),
    ("/v2/services/syncml/sesions/", "/v2/services/syncml/sessions/"),
    ("/v2/services/Google/", "/v2/services/google/"),
    ("/v2/clients/bindngs/7", "/v2/clients/bindings/{binding}/"),
    ("/_fake/jounral", "/_fake/journal"),
    ("/oauth/request-token", "/oauth/request_token"),
    ("/v2/services/datastore/4f1d2dd0-49e4-11de-b387-002215064801/content/", "/v2/services/datastore/{uuid}/contents/"),
])
def test_the_hint_names_the_intended_route_first(path, closest):
    assert near_miss.closest(path)[0][1] == closest


def test_a_300_character_unknown_path_gets_its_hints(client):
    path = "/v2/phones/" + "m" * 300
    r = client.get(path)
    assert r.status_code == 404
    text = r.data.decode()
    assert f"no route for {path[:200]}…" in text
    assert len(text.split("Closest: ", 1)[1].split("; ")) == near_miss.HINTS
