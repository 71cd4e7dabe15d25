"""Tenants (issue 13, items 1 and 5): `/t/{tenant}/…` selects a world of its own on one
standalone fake (ocss_testkit/tenants.py); `--state-dir` keeps one state file per tenant.

Most rules are checked in-process (werkzeug's test client on a TenantsApp, whose idle
clock is a fake one: no sleeps); OAuth, the dashboard and persistence also over real HTTP.
"""
from __future__ import annotations

import gc
import json
import logging
import os
import re
import signal
import threading
import time
import tracemalloc
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests
from oauthlib.oauth1 import Client as OAuthClient
from requests_oauthlib import OAuth1
from werkzeug.test import Client

from ocss_testkit import cli, request_log
from ocss_testkit.app import FakeApp
from ocss_testkit.persistence import StateFileError, read_state
from ocss_testkit.server import FakeServer
from ocss_testkit.tenants import MIN_TENANT_NONCES, TenantsApp
from tests.test_cli import STOP_TIMEOUT, run, serve

ATOM = "{http://www.w3.org/2005/Atom}"
OC_NS = "http://schemas.obexcode.com/syncserver/2009"
OC = "{%s}" % OC_NS
ADMIN = ("demo-consumer-key", "demo-consumer-secret", "admin-access-token", "admin-access-secret")
DATASTORES = "/v2/services/datastore/"
VENDORS = "/v2/phones/vendors/"
SYNCML = "/v2/services/syncml/"
ADMIN_SYNCML = "2fb295cc-0e50-11de-81c8-002215064801"  # +4790981948, in the demo world
ADMIN_PHONE = "+4790981948"
NOKIA_6233 = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"
CAROL_STATE = {"consumers": [{"key": "demo-consumer-key", "secret": "demo-consumer-secret"}],
               "users": [{"name": "carol", "account_id": 7, "email": "carol@example.com",
                          "consumer_key": "demo-consumer-key", "token": "carol-access-token",
                          "token_secret": "carol-access-secret"}]}
CAROL = ("demo-consumer-key", "demo-consumer-secret", "carol-access-token", "carol-access-secret")
WALL0 = 1_700_000_000.0  # the fake wall clock at fake monotonic 0
IDLE_TENANT_TARGET = 256 * 1024


def datastore_entry(name: str) -> bytes:
    return (f'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="{OC_NS}">'
            f"<oc:client><oc:name>{name}</oc:name></oc:client></entry>").encode()


def setup_entry(pincode: str = "1234") -> bytes:
    return (f'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="{OC_NS}">'
            f'<oc:pincode>{pincode}</oc:pincode></entry>').encode()


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Fleet:
    """A TenantsApp in-process, on a fake clock, with a signing test client."""

    def __init__(self, default: FakeApp | None = None, **options) -> None:
        self.clock = FakeClock()
        self.app = TenantsApp(default, clock=self.clock, wall=lambda: WALL0 + self.clock.now, **options)
        self.client = Client(self.app)

    def call(self, method: str, path: str, body: bytes | str | None = None, *, sign=ADMIN,
             content_type: str | None = None, headers: dict | None = None):
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Type"] = content_type or "application/atom+xml"
        if sign is not None:
            signer = OAuthClient(sign[0], client_secret=sign[1], resource_owner_key=sign[2],
                                 resource_owner_secret=sign[3])
            _, headers, _ = signer.sign("http://localhost" + path, http_method=method, headers=headers)
        return self.client.open(path, method=method, data=body, headers=headers)

    def control(self, method: str, path: str, data=None):
        body = None if data is None else json.dumps(data)
        return self.call(method, path, body, sign=None, content_type="application/json")

    def listing(self) -> dict:
        reply = self.control("GET", "/_fake/tenants")
        assert reply.status_code == 200, reply.get_data(as_text=True)
        return reply.get_json()

    def names(self) -> list[str]:
        return [t["name"] for t in self.listing()["tenants"]]

    def datastores(self, prefix: str = "", sign=ADMIN) -> list[str]:
        reply = self.call("GET", prefix + DATASTORES, sign=sign)
        assert reply.status_code == 200, reply.get_data(as_text=True)
        return sorted(e.findtext(f"{ATOM}title") for e in ET.fromstring(reply.get_data()).iter(f"{ATOM}entry"))

    def create(self, prefix: str, name: str) -> str:
        reply = self.call("POST", prefix + DATASTORES, datastore_entry(name))
        assert reply.status_code == 201, reply.get_data(as_text=True)
        return ET.fromstring(reply.get_data()).find(f"{OC}client/{OC}uuid").text


def text(reply) -> str:
    return reply.get_data(as_text=True)


# --- the default tenant and the prefix --------------------------------------------------------
def test_unprefixed_paths_are_the_default_tenant_and_tenants_do_not_see_it():
    fleet = Fleet()
    fleet.create("", "at the root")
    assert fleet.datastores() == ["at the root"]
    assert fleet.datastores("/t/x") == []  # a new tenant: the fixture set's world
    fleet.create("/t/x", "in x")
    assert fleet.datastores() == ["at the root"] and fleet.datastores("/t/x") == ["in x"]
    assert fleet.app.default.world is not fleet.app.tenant("x").world
    assert fleet.names() == ["x"]  # the default tenant is not listed


def test_ids_links_location_and_sms_links_carry_the_tenant_prefix():
    fleet = Fleet()
    reply = fleet.call("POST", "/t/ci-1" + DATASTORES, datastore_entry("Notes"))
    assert reply.status_code == 201
    entry = ET.fromstring(reply.get_data())
    assert entry.findtext(f"{ATOM}id").startswith("http://localhost/t/ci-1/v2/services/datastore/")
    assert all(link.get("href").startswith("http://localhost/t/ci-1/") for link in entry.iter(f"{ATOM}link"))
    feed = fleet.call("GET", "/t/ci-1" + SYNCML)
    assert ET.fromstring(feed.get_data()).findtext(f"{ATOM}id") == "http://localhost/t/ci-1/v2/services/syncml/"
    # the detection link the phone gets points into the tenant, and works there only
    number = "+4798765432"
    detect = fleet.call("POST", "/t/ci-1/v2/phones/detect/manual/",
                        f'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="{OC_NS}">'
                        f"<oc:phone_number>{number}</oc:phone_number></entry>")
    assert detect.status_code == 201, text(detect)
    assert detect.headers["Location"].startswith("http://localhost/t/ci-1/v2/phones/detect/manual/")
    sms = fleet.control("GET", "/t/ci-1/_fake/outbox?to=%2B4798765432").get_json()["messages"][-1]
    code = re.search(r"http://localhost/t/ci-1/d/(\S+)", sms["body"]).group(1)
    assert fleet.call("GET", f"/t/ci-1/d/{code}", sign=None, headers={"User-Agent": NOKIA_6233}).status_code == 200
    assert fleet.call("GET", f"/d/{code}", sign=None, headers={"User-Agent": NOKIA_6233}).status_code >= 400


def test_a_base_url_gets_the_tenant_prefix_in_tenant_links():
    fleet = Fleet(FakeApp(base_url="https://api.example.test/"))
    feed = ET.fromstring(fleet.call("GET", "/t/x" + VENDORS, sign=None).get_data())
    assert feed.findtext(f"{ATOM}id") == "https://api.example.test/t/x/v2/phones/vendors/"
    root = ET.fromstring(fleet.call("GET", VENDORS, sign=None).get_data())
    assert root.findtext(f"{ATOM}id") == "https://api.example.test/v2/phones/vendors/"
    assert fleet.listing()["tenants"][0]["url"] == "https://api.example.test/t/x/"


@pytest.mark.parametrize("uri", [True, False], ids=["REQUEST_URI", "SCRIPT_NAME+PATH_INFO"])
def test_oauth_verifies_the_url_signed_with_the_prefix_in_process(uri):
    """Whether the server passes the raw request URI or not (then the app rebuilds it from
    SCRIPT_NAME, where the prefix went, and PATH_INFO), the signature covers /t/x/."""
    fleet = Fleet()
    app = fleet.app

    def without_raw_uri(environ, start_response):
        environ.pop("REQUEST_URI", None)
        environ.pop("RAW_URI", None)
        return app(environ, start_response)

    if not uri:
        fleet.client = Client(without_raw_uri)
    assert fleet.call("GET", "/t/x" + SYNCML).status_code == 200
    assert fleet.call("GET", "/t/x/v2/services/datastore/?x=%C3%A9").status_code == 200


def test_oauth_under_the_prefix_over_http():
    with FakeServer(TenantsApp(), port=0) as server:
        url = server.url
        auth = OAuth1(*ADMIN)
        assert requests.get(f"{url}/t/x{SYNCML}", auth=auth, timeout=10).status_code == 200
        # one signed request, then the very same bytes sent elsewhere
        signed = requests.Request("GET", f"{url}/t/x{DATASTORES}", auth=auth).prepare()
        with requests.Session() as session:
            assert session.send(signed, timeout=10).status_code == 200
            again = session.send(signed, timeout=10)  # a replay in the same tenant: its nonce is spent
            assert again.status_code == 401
            elsewhere = signed.copy()
            elsewhere.url = f"{url}/t/y{DATASTORES}"  # signed for x: another tenant's URL
            refused = session.send(elsewhere, timeout=10)
            assert refused.status_code == 401
            assert "/t/y/v2/services/datastore/" in refused.text  # the URL the fake verified
            root = requests.Request("GET", f"{url}{DATASTORES}", auth=auth).prepare()
            root.url = f"{url}/t/x{DATASTORES}"  # signed for the default tenant, sent to x
            assert session.send(root, timeout=10).status_code == 401


# --- names ------------------------------------------------------------------------------------
GOOD_NAMES = ["a", "ci-job-42", "A.b_C-9", "x" * 64, ".hidden", "...", "-"]
BAD_NAMES = ["x" * 65, "a b", "é", "a+b", "a:b", "a%b", "~x", "a'b"]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_good_tenant_names_are_served(name):
    fleet = Fleet()
    assert fleet.control("GET", f"/t/{name}/_fake/health").status_code == 200
    assert fleet.names() == [name]


@pytest.mark.parametrize("name", BAD_NAMES + [".", ".."])
def test_bad_tenant_names_are_a_400_with_a_sentence_and_create_nothing(name):
    fleet = Fleet()
    reply = fleet.control("GET", f"/t/{name}/_fake/health")
    assert reply.status_code == 400
    assert "is not a tenant name: use 1 to 64 letters, digits" in text(reply), text(reply)
    assert reply.headers["X-Request-Id"].startswith("t")
    put = fleet.control("PUT", f"/_fake/tenants/{name}")
    assert put.status_code == 400 and "is not a tenant name" in text(put), text(put)
    assert fleet.control("DELETE", f"/_fake/tenants/{name}").status_code == 400
    assert fleet.names() == []


@pytest.mark.parametrize("path", ["/t", "/t/", "/t//_fake/health"])
def test_a_missing_tenant_name_is_a_400(path):
    fleet = Fleet()
    reply = fleet.control("GET", path)
    assert reply.status_code == 400 and "the tenant name is missing" in text(reply), text(reply)
    assert fleet.names() == []


def test_an_unknown_path_inside_a_tenant_is_a_404_of_that_tenant():
    fleet = Fleet()
    reply = fleet.call("GET", "/t/x/v2/services/googel/")
    assert reply.status_code == 404 and "Closest" in text(reply)
    assert fleet.call("GET", "/tx/_fake/health").status_code == 404  # not a prefix: the default tenant's 404


# --- bounds -----------------------------------------------------------------------------------
def test_a_new_tenant_on_a_full_server_gets_503_with_retry_after_and_nothing_is_evicted():
    fleet = Fleet(max_tenants=2, tenant_idle=100)
    assert fleet.control("GET", "/t/a/_fake/health").status_code == 200
    fleet.clock.advance(30)
    assert fleet.control("GET", "/t/b/_fake/health").status_code == 200
    fleet.clock.advance(20)  # a was used 50 s ago, b 20 s ago: both within the idle window
    for reply in (fleet.control("GET", "/t/c/_fake/health"), fleet.control("PUT", "/_fake/tenants/c")):
        assert reply.status_code == 503
        assert reply.headers["Retry-After"] == "50"  # when a goes idle
        body = text(reply)
        assert "no room for tenant 'c': the server holds its maximum of 2 tenants (--max-tenants)" in body, body
        assert "retry after 50 s" in body and "DELETE /_fake/tenants/{tenant}" in body
    assert fleet.names() == ["a", "b"]
    assert fleet.control("GET", "/t/a/_fake/health").status_code == 200  # the tenants in use carry on
    assert fleet.control("PUT", "/_fake/tenants/b", {"fixtures": "demo"}).status_code == 200  # replacing is no new one
    assert fleet.names() == ["a", "b"]


def test_without_an_idle_limit_a_full_server_keeps_its_tenants_until_dropped():
    fleet = Fleet(max_tenants=1, tenant_idle=0)
    assert fleet.control("GET", "/t/a/_fake/health").status_code == 200
    fleet.clock.advance(10 * 365 * 86400)
    reply = fleet.control("GET", "/t/b/_fake/health")
    assert reply.status_code == 503 and reply.headers["Retry-After"] == "60"
    assert "kept until dropped (--tenant-idle 0)" in text(reply)
    assert fleet.names() == ["a"]
    assert fleet.control("DELETE", "/_fake/tenants/a").status_code == 200
    assert fleet.control("GET", "/t/b/_fake/health").status_code == 200


def test_idle_tenants_are_dropped_least_recently_used_first():
    fleet = Fleet(max_tenants=3, tenant_idle=100)
    for name in ("a", "b", "c"):
        assert fleet.control("GET", f"/t/{name}/_fake/health").status_code == 200
        fleet.clock.advance(40)
    # now: a used 120 s ago, b 80 s, c 40 s
    assert fleet.control("GET", "/t/d/_fake/health").status_code == 200
    assert fleet.names() == ["b", "c", "d"]  # only a was idle
    fleet.clock.advance(30)  # b 110 s, c 70 s, d 30 s
    assert fleet.names() == ["c", "d"]  # the listing drops idle ones too
    fleet.clock.advance(5)
    assert fleet.control("GET", "/t/c/_fake/health").status_code == 200  # a use restarts the window
    fleet.clock.advance(99)  # c 99 s, d 134 s
    assert fleet.app.sweep() == ["d"]
    assert fleet.names() == ["c"]


def test_a_tenant_with_a_request_in_flight_is_never_evicted():
    fleet = Fleet(max_tenants=1, tenant_idle=100)
    fault = {"action": "delay", "delay": 1.0, "method": "GET", "path": VENDORS, "times": 1}
    assert fleet.control("POST", "/t/a/_fake/faults", fault).status_code == 201
    answers = []
    slow = threading.Thread(target=lambda: answers.append(Client(fleet.app).get("/t/a" + VENDORS).status_code))
    slow.start()
    try:
        deadline = time.monotonic() + 10
        while fleet.app.listing("/")["tenants"][0]["in_flight"] == 0:
            assert time.monotonic() < deadline, "the delayed request never started"
            time.sleep(0.01)
        fleet.clock.advance(1000)  # a was last used long ago, but a request is in flight
        refused = fleet.control("GET", "/t/b/_fake/health")
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "100"
        assert fleet.names() == ["a"]
    finally:
        slow.join(timeout=30)
    assert answers == [200]
    assert fleet.control("GET", "/t/b/_fake/health").status_code == 503  # a was used just now: in its window
    fleet.clock.advance(100)
    assert fleet.control("GET", "/t/b/_fake/health").status_code == 200
    assert fleet.names() == ["b"]


def test_many_first_requests_at_once_make_one_tenant():
    fleet = Fleet()
    statuses = []
    threads = [threading.Thread(target=lambda: statuses.append(Client(fleet.app).get("/t/same/_fake/health")
                                                               .status_code)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert statuses == [200] * 8
    [entry] = fleet.listing()["tenants"]
    assert (entry["name"], entry["requests"], entry["in_flight"]) == ("same", 8, 0)


def test_each_tenant_gets_a_share_of_the_nonce_budget():
    assert Fleet(max_tenants=16).call("GET", "/t/x" + SYNCML).status_code == 200
    fleet = Fleet(max_tenants=16)
    fleet.call("GET", "/t/x" + SYNCML)
    assert fleet.app.tenant("x").auth.nonces.limit == 100_000 // 16
    assert TenantsApp(max_tenants=256).tenant_nonces == MIN_TENANT_NONCES
    assert fleet.app.default.auth.nonces.limit == 100_000  # the default tenant keeps a whole fake's


# --- the control plane of tenants -------------------------------------------------------------
def test_listing_gives_requests_last_use_and_size_of_each_tenant():
    fleet = Fleet(max_tenants=8, tenant_idle=600)
    for _ in range(3):
        fleet.call("GET", "/t/x" + SYNCML)
    fleet.clock.advance(2.5)
    fleet.control("GET", "/t/y/_fake/health")
    fleet.clock.advance(1)
    listing = fleet.listing()
    assert (listing["count"], listing["max_tenants"], listing["tenant_idle"]) == (2, 8, 600)
    x, y = listing["tenants"]
    assert (x["name"], x["requests"], x["in_flight"], x["fixtures"]) == ("x", 3, 0, "demo")
    assert x["url"] == "http://localhost/t/x/"
    assert x["idle_seconds"] == 3.5 and y["idle_seconds"] == 1.0
    assert x["last_use"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(WALL0 + 1000))
    assert y["last_use"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(WALL0 + 1002.5))
    assert x["size_bytes"] == y["size_bytes"] > 1000  # both the demo world
    fleet.create("/t/x", "a datastore with a rather long name " * 6)
    assert fleet.listing()["tenants"][0]["size_bytes"] > y["size_bytes"] + 216


def test_drop_deletes_a_tenant_and_its_world():
    fleet = Fleet()
    fleet.create("/t/x", "kept?")
    reply = fleet.control("DELETE", "/_fake/tenants/x")
    assert reply.status_code == 200 and reply.get_json() == {"status": "dropped", "tenant": "x"}
    assert fleet.names() == []
    missing = fleet.control("DELETE", "/_fake/tenants/x")
    assert missing.status_code == 404 and "no tenant 'x'" in text(missing)
    assert fleet.datastores("/t/x") == []  # used again: a fresh world
    assert fleet.control("DELETE", "/_fake/tenants/x/").status_code == 200  # both slash forms


def test_put_creates_from_the_server_set_a_named_set_or_a_state_and_replaces():
    fleet = Fleet()
    created = fleet.control("PUT", "/_fake/tenants/x")
    assert created.status_code == 201 and created.headers["Location"] == "http://localhost/t/x/"
    assert created.get_json()["name"] == "x" and created.get_json()["fixtures"] == "demo"
    fleet.create("/t/x", "before")
    fault = {"action": "status", "status": 503, "path": VENDORS}
    assert fleet.control("POST", "/t/x/_fake/faults", fault).status_code == 201
    replaced = fleet.control("PUT", "/_fake/tenants/x", {"fixtures": "demo"})
    assert replaced.status_code == 200
    assert fleet.datastores("/t/x") == []  # a fresh world…
    assert fleet.control("GET", "/t/x/_fake/faults").get_json() == {"faults": []}  # …and fresh fault rules
    # a whole state document: the tenant's world, and what its reset goes back to
    assert fleet.control("PUT", "/_fake/tenants/s", {"state": CAROL_STATE}).status_code == 201
    assert fleet.call("GET", "/t/s" + SYNCML, sign=CAROL).status_code == 200
    assert fleet.call("GET", "/t/s" + SYNCML, sign=ADMIN).status_code == 401  # no admin in that world
    assert fleet.control("POST", "/t/s/_fake/reset").status_code == 200
    assert list(fleet.app.tenant("s").world.users) == ["carol"]


@pytest.mark.parametrize("body,content_type,status,words", [
    ({"fixtures": "no-such-set"}, "application/json", 400,
     "no fixture set 'no-such-set' on this server; available: demo"),
    ({"fixtures": "/etc"}, "application/json", 400, "no fixture set '/etc'"),
    ({"fixtures": "../fixtures/demo"}, "application/json", 400, "no fixture set"),
    ({"fixtures": 5}, "application/json", 400, "fixtures must be the name of a fixture set"),
    ({"fixtures": "demo", "state": {}}, "application/json", 400, "give fixtures or state, not both"),
    ({"colour": "red"}, "application/json", 400, "unknown tenant field(s): colour"),
    ({"state": [1]}, "application/json", 400, "state must be a state document"),
    ([1], "application/json", 400, "the body must be a JSON object"),
    ({"state": {"users": [{"name": 1}]}}, "application/json", 422, "the state does not load: state /users/0"),
    ({"fixtures": "demo"}, "text/plain", 415, "PUT a tenant with no body, or an application/json body"),
])
def test_a_refused_put_changes_nothing(body, content_type, status, words):
    fleet = Fleet()
    fleet.create("/t/x", "kept")
    for name in ("x", "new"):
        reply = fleet.call("PUT", f"/_fake/tenants/{name}", json.dumps(body), sign=None, content_type=content_type)
        assert reply.status_code == status, text(reply)
        assert words in text(reply), text(reply)
    assert fleet.names() == ["x"] and fleet.datastores("/t/x") == ["kept"]


def test_tenant_routes_where_there_are_no_tenants():
    one_world = Client(FakeApp())
    listing = one_world.get("/_fake/tenants")
    assert listing.status_code == 200
    assert {k: v for k, v in listing.get_json().items() if k != "note"} == {
        "tenants": [], "count": 0, "max_tenants": 0, "tenant_idle": 0}
    assert "this fake serves one world, without tenants" in listing.get_json()["note"]
    for method in ("PUT", "DELETE"):
        reply = one_world.open("/_fake/tenants/x", method=method)
        assert reply.status_code == 404
        assert "this fake serves one world, without tenants" in text(reply) and "ocss-fake serve" in text(reply)
    inside = Fleet().control("GET", "/t/x/_fake/tenants")
    assert inside.status_code == 404
    assert ("tenants are managed at the server's root (GET /_fake/tenants), not inside the tenant at /t/x/"
            in text(inside))


def test_a_wrong_method_on_the_tenants_routes_is_a_405_with_allow():
    fleet = Fleet()
    reply = fleet.control("POST", "/_fake/tenants")
    assert reply.status_code == 405 and reply.headers["Allow"] == "GET, HEAD"
    reply = fleet.control("GET", "/_fake/tenants/x")
    assert reply.status_code == 405 and reply.headers["Allow"] == "DELETE, PUT"


def test_a_default_app_serves_one_tenants_app_only():
    app = FakeApp()
    TenantsApp(app)
    with pytest.raises(ValueError, match="default tenant of another TenantsApp"):
        TenantsApp(app)
    with pytest.raises(ValueError, match="max_tenants"):
        TenantsApp(max_tenants=0)


# --- isolation --------------------------------------------------------------------------------
def test_journal_faults_clock_outbox_phones_and_reset_are_each_tenants_own():
    fleet = Fleet()
    fleet.create("/t/y", "y's")
    # faults
    fault = {"action": "status", "status": 503, "method": "GET", "path": VENDORS}
    assert fleet.control("POST", "/t/x/_fake/faults", fault).status_code == 201
    assert fleet.call("GET", "/t/x" + VENDORS, sign=None).status_code == 503
    assert fleet.call("GET", "/t/y" + VENDORS, sign=None).status_code == 200
    assert fleet.call("GET", VENDORS, sign=None).status_code == 200
    assert fleet.control("GET", "/t/y/_fake/faults").get_json() == {"faults": []}
    assert fleet.control("GET", "/_fake/faults").get_json() == {"faults": []}
    # journal: each tenant's own requests, with the paths as routed inside it
    journal = {prefix: [(e["method"], e["path"], e["status"]) for e in
                        fleet.control("GET", f"{prefix}/_fake/journal").get_json()["entries"]]
               for prefix in ("/t/x", "/t/y", "")}
    assert journal["/t/x"] == [("GET", VENDORS, 503)]
    assert journal["/t/y"] == [("POST", DATASTORES, 201), ("GET", VENDORS, 200)]
    assert journal[""] == [("GET", VENDORS, 200)]
    # the virtual clock
    frozen = fleet.control("POST", "/t/x/_fake/clock", {"freeze": True, "set": "2009-11-01T12:30:00Z"})
    assert frozen.get_json()["now"] == "2009-11-01T12:30:00Z"
    assert fleet.control("GET", "/t/y/_fake/clock").get_json()["frozen"] is False
    assert fleet.control("GET", "/_fake/clock").get_json()["frozen"] is False
    # the outbox and the simulated phone
    sent = fleet.call("POST", f"/t/x{SYNCML}{ADMIN_SYNCML}/setup/", setup_entry())
    assert sent.status_code == 201, text(sent)
    assert [m["kind"] for m in fleet.control("GET", "/t/x/_fake/outbox").get_json()["messages"]] == ["setup-sms"]
    assert fleet.control("GET", "/t/y/_fake/outbox").get_json()["messages"] == []
    assert fleet.control("GET", "/_fake/outbox").get_json()["messages"] == []
    assert fleet.control("POST", f"/t/y/_fake/phone/{ADMIN_PHONE}/accept-setup").status_code >= 400  # nothing sent in y
    assert fleet.control("POST", f"/t/x/_fake/phone/{ADMIN_PHONE}/accept-setup").status_code == 200
    # a reset of x leaves y and the default tenant alone
    assert fleet.control("POST", "/t/x/_fake/reset").status_code == 200
    assert fleet.control("GET", "/t/x/_fake/outbox").get_json()["messages"] == []
    assert fleet.datastores("/t/y") == ["y's"]
    assert len(fleet.control("GET", "/_fake/journal").get_json()["entries"]) == 1


def test_the_request_log_names_the_tenant(caplog):
    fleet = Fleet()
    with caplog.at_level(logging.INFO, logger=request_log.LOGGER_NAME):
        fleet.control("GET", "/t/x/_fake/health")
        fleet.control("GET", "/t/a b/_fake/health")
    paths = [(record.args["path"], record.args["status"]) for record in caplog.records
             if record.name == request_log.LOGGER_NAME]
    assert paths == [("/t/x/_fake/health", 200), ("/t/a%20b/_fake/health", 400)]


# --- the dashboard under the prefix -----------------------------------------------------------
CHROMIUM = Path("/usr/bin/chromium")


def test_the_dashboard_under_the_prefix_calls_only_its_own_tenant():
    with FakeServer(TenantsApp(), port=0) as server:
        page = requests.get(f"{server.url}/t/x/_fake/", timeout=10)
        assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
        script = page.text
        # every request the page makes is relative to its own location: no absolute path
        assert "location.pathname" in script
        assert not re.search(r"""fetch\(\s*["'`]/""", script)
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            sync_playwright = None
        if sync_playwright is None or not os.access(CHROMIUM, os.X_OK):
            if os.environ.get("CI"):
                pytest.fail("the dashboard's browser check needs playwright and /usr/bin/chromium under CI")
            pytest.skip("playwright or Chromium is missing: the browser half of this test is skipped")
        from tempfile import TemporaryDirectory

        with sync_playwright() as playwright, TemporaryDirectory() as profile:
            context = playwright.chromium.launch_persistent_context(
                profile, executable_path=str(CHROMIUM), headless=True, timeout=60_000,
                args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
            try:
                context.set_default_timeout(30_000)  # a busy machine: bounded, not tight
                browser_page = context.pages[0] if context.pages else context.new_page()
                requested = []
                browser_page.on("request", lambda request: requested.append(request.url))
                browser_page.goto(f"{server.url}/t/x/_fake/", wait_until="load")
                from playwright.sync_api import expect

                # Locator assertions, not wait_for_function: the dashboard's CSP forbids eval.
                expect(browser_page.get_by_test_id("refreshed")).to_have_attribute(
                    "data-generation", re.compile(r".+"), timeout=30_000)
                browser_page.locator("#clock-freeze").click()
                expect(browser_page.locator("#clock-state")).to_have_text("frozen", timeout=30_000)
            finally:
                context.close()
        api_calls = [u for u in requested if not u.startswith("data:")]
        assert api_calls and all(u.startswith(f"{server.url}/t/x/_fake/") for u in api_calls), api_calls
        assert any(u == f"{server.url}/t/x/_fake/clock" for u in api_calls), api_calls
        assert requests.get(f"{server.url}/t/x/_fake/clock", timeout=10).json()["frozen"] is True
        assert requests.get(f"{server.url}/_fake/clock", timeout=10).json()["frozen"] is False


# --- memory -----------------------------------------------------------------------------------
def test_an_idle_demo_tenant_costs_at_most_256_kib():
    """tracemalloc before and after 100 tenants, each made by one signed GET (its journal
    entry and nonce included): the shared phones database and schemas are not copied."""
    fleet = Fleet()
    fleet.call("GET", "/t/warm-up" + SYNCML)  # caches and lazy imports, not per tenant
    fleet.app.drop("warm-up")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(100):
            assert fleet.call("GET", f"/t/tenant-{i}" + SYNCML).status_code == 200
        gc.collect()
        per_tenant = (tracemalloc.get_traced_memory()[0] - before) / 100
    finally:
        tracemalloc.stop()
    assert len(fleet.names()) == 100
    assert per_tenant <= IDLE_TENANT_TARGET, f"{per_tenant / 1024:.1f} KiB per idle demo tenant"


# --- persistence per tenant (--state-dir) ------------------------------------------------------
def test_a_state_dir_brings_every_tenant_back_and_a_drop_deletes_its_file(tmp_path):
    folder = tmp_path / "tenants"
    fleet = Fleet(state_dir=folder, tenant_idle=100)
    fleet.create("/t/a", "a's")
    assert fleet.control("PUT", "/_fake/tenants/carol", {"state": CAROL_STATE}).status_code == 201
    fleet.create("/t/gone", "gone's")
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "a.state", "carol.state", "gone.state"]
    assert fleet.control("DELETE", "/_fake/tenants/gone").status_code == 200
    assert not (folder / "gone.state").exists()
    assert [c["name"] for c in read_state(folder / "a.state")["clients"] if c["kind"] == "datastore"] == ["a's"]
    fleet.app.close()

    again = Fleet(state_dir=folder, tenant_idle=100)
    assert again.names() == ["a", "carol"]
    assert again.datastores("/t/a") == ["a's"]
    assert again.call("GET", "/t/carol" + SYNCML, sign=CAROL).status_code == 200
    again.clock.advance(100)  # idle: dropped, and its file with it
    assert again.names() == []
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == []
    again.app.close()


def test_a_replaced_tenant_rewrites_its_file(tmp_path):
    fleet = Fleet(state_dir=tmp_path)
    fleet.create("/t/x", "old")
    assert fleet.control("PUT", "/_fake/tenants/x", {"state": CAROL_STATE}).status_code == 200
    state = read_state(tmp_path / "x.state")
    assert [u["name"] for u in state["users"]] == ["carol"] and state.get("clients", []) == []
    fleet.app.close()
    assert Fleet(state_dir=tmp_path).app.tenant("x").world.users.keys() == {"carol"}


def test_a_replayed_request_stays_refused_after_a_restart_per_tenant(tmp_path):
    fleet = Fleet(state_dir=tmp_path)
    signer = OAuthClient(ADMIN[0], client_secret=ADMIN[1], resource_owner_key=ADMIN[2], resource_owner_secret=ADMIN[3])
    _, headers, _ = signer.sign("http://localhost/t/x" + SYNCML, http_method="GET")
    assert fleet.client.get("/t/x" + SYNCML, headers=headers).status_code == 200
    fleet.app.close()
    again = Fleet(state_dir=tmp_path)
    assert again.client.get("/t/x" + SYNCML, headers=headers).status_code == 401


def test_one_server_per_state_dir_and_a_broken_tenant_file_refuses_the_start(tmp_path):
    first = TenantsApp(state_dir=tmp_path)
    try:
        with pytest.raises(StateFileError, match="in use by another ocss-fake server"):
            TenantsApp(state_dir=tmp_path)
    finally:
        first.close()
    (tmp_path / "broken.state").write_bytes(b"{not json")
    with pytest.raises(StateFileError, match=r"broken\.state"):
        TenantsApp(state_dir=tmp_path)
    assert (tmp_path / "broken.state").read_bytes() == b"{not json"  # left as it was
    (tmp_path / "broken.state").unlink()
    for name in ("a", "b"):
        app = TenantsApp(state_dir=tmp_path)
        app.put(name)
        app.close()
    with pytest.raises(StateFileError, match="holds 2 tenants, more than the limit of 1"):
        TenantsApp(state_dir=tmp_path, max_tenants=1)
    (tmp_path / "not a tenant.state").write_text("{}")  # not a tenant name: left alone
    app = TenantsApp(state_dir=tmp_path)
    assert app.names() == ["a", "b"]
    app.close()


def test_a_tenant_whose_file_cannot_be_written_is_a_503_and_is_not_kept(tmp_path, monkeypatch):
    from ocss_testkit import persistence

    fleet = Fleet(state_dir=tmp_path)

    def refuse(self, app, fresh=False):
        raise StateFileError(f"state file {self.path}: cannot write it: No space left on device")

    monkeypatch.setattr(persistence.StateFile, "install", refuse)
    for reply in (fleet.control("GET", "/t/x/_fake/health"), fleet.control("PUT", "/_fake/tenants/x")):
        assert reply.status_code == 503, text(reply)
        assert "tenant 'x' cannot be" in text(reply) and "No space left on device" in text(reply), text(reply)
    assert fleet.names() == []
    monkeypatch.undo()
    assert fleet.control("GET", "/t/x/_fake/health").status_code == 200
    assert (tmp_path / "x.state").is_file()
    fleet.app.close()


def test_a_state_dir_that_cannot_be_made_is_a_clear_error(tmp_path):
    with pytest.raises(StateFileError, match=r"state folder .*missing/tenants: cannot create it"):
        TenantsApp(state_dir=tmp_path / "missing" / "tenants")
    (tmp_path / "file").write_text("")
    with pytest.raises(StateFileError, match=r"state folder .*file: cannot create it"):
        TenantsApp(state_dir=tmp_path / "file")


def test_a_fixture_set_object_from_python_and_only_names_over_http():
    from ocss_testkit.world.fixtures import FixtureSet

    fleet = Fleet()
    hand_made = FixtureSet("hand-made", CAROL_STATE, fleet.app.default.fixtures.phones)
    entry, created = fleet.app.put("py", fixtures=hand_made)
    assert created and entry["fixtures"] == "hand-made"
    assert fleet.call("GET", "/t/py" + SYNCML, sign=CAROL).status_code == 200
    with pytest.raises(Exception, match="no fixture set './fixtures/demo' on this server"):
        fleet.app.put("folder", fixtures="./fixtures/demo")


def test_temporaries_of_killed_snapshots_are_removed_at_start(tmp_path):
    (tmp_path / ".a.state.abc123_x.tmp").write_text("half")
    (tmp_path / ".a.state.b.state.zz9.tmp").write_text("half")
    (tmp_path / "keep.tmp").write_text("not ours")
    TenantsApp(state_dir=tmp_path).close()
    assert sorted(os.listdir(tmp_path)) == [".ocss-fake.lock", "keep.tmp"]


# --- the command line -------------------------------------------------------------------------
@pytest.mark.parametrize("option,value,words", [
    ("--max-tenants", "0", "from 1 to 10000"), ("--max-tenants", "10001", "from 1 to 10000"),
    ("--max-tenants", "many", "from 1 to 10000"), ("--tenant-idle", "-1", "from 0 to 2592000"),
    ("--tenant-idle", "2592001", "from 0 to 2592000"), ("--tenant-idle", "1.5", "from 0 to 2592000"),
])
def test_tenant_numbers_out_of_range_are_usage_errors(option, value, words, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", option, value])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"ocss-fake serve: error: argument {option}: ") and words in err[-1], err


def test_serve_options_have_defaults_and_take_their_ends():
    args = cli._parser().parse_args(["serve"])
    assert (args.max_tenants, args.tenant_idle, args.state_dir) == (256, 3600, None)
    args = cli._parser().parse_args(["serve", "--max-tenants", "10000", "--tenant-idle", "0", "--state-dir", "d"])
    assert (args.max_tenants, args.tenant_idle, args.state_dir) == (10000, 0, "d")


def test_a_state_file_that_would_be_a_tenants_file_is_refused(tmp_path):
    result = run("python-m", "--port", "0", "--state-dir", str(tmp_path), "--state-file",
                 str(tmp_path / "main.state"), cwd=tmp_path)
    assert result.returncode == 2 and "ready at" not in result.stdout
    assert "is a tenant's file in --state-dir" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "main.state").exists()


def _ready(process) -> str:
    url, _ = process.wait_ready()
    deadline = time.monotonic() + 10
    while (line := process.readline(deadline)) is not None:
        if line.startswith("ocss-fake state dir "):
            return url
    raise AssertionError(process.seen)


class Writer(threading.Thread):
    """POSTs datastore clients to one tenant until the server goes away, recording the
    names acknowledged (201) and how many were in flight when it died."""

    def __init__(self, url: str, tenant: str) -> None:
        super().__init__(daemon=True)
        self.url, self.tenant = url, tenant
        self.acknowledged: list[str] = []
        self.unanswered = 0
        self.failures: list[str] = []
        self.first = threading.Event()

    def run(self) -> None:
        with requests.Session() as session:
            session.auth = OAuth1(*ADMIN)
            for i in range(10_000):
                name = f"{self.tenant}-{i}"
                try:
                    reply = session.post(f"{self.url}/t/{self.tenant}{DATASTORES}", data=datastore_entry(name),
                                         headers={"Content-Type": "application/atom+xml"}, timeout=10)
                except requests.RequestException:
                    self.unanswered += 1
                    return
                if reply.status_code != 201:
                    self.failures.append(f"{reply.status_code} {reply.text[:200]}")
                    return
                self.acknowledged.append(name)
                self.first.set()


def _listed(url: str, tenant: str) -> set[str]:
    reply = requests.get(f"{url}/t/{tenant}{DATASTORES}", auth=OAuth1(*ADMIN), timeout=10)
    assert reply.status_code == 200, reply.text
    return {e.findtext(f"{ATOM}title") for e in ET.fromstring(reply.content).iter(f"{ATOM}entry")}


def test_sigkill_mid_stream_loses_no_acknowledged_write_of_any_tenant(tmp_path):
    folder = tmp_path / "tenants"
    with serve("python-m", "--port", "0", "--state-dir", str(folder), cwd=tmp_path) as p:
        url = _ready(p)
        writers = [Writer(url, name) for name in ("a", "b")]
        for writer in writers:
            writer.start()
        for writer in writers:
            assert writer.first.wait(20), writer.failures
        time.sleep(0.5)  # mid-stream, whenever that falls
        os.kill(p.proc.pid, signal.SIGKILL)  # this server only, by pid
        assert p.proc.wait(timeout=10) == -signal.SIGKILL
        for writer in writers:
            writer.join(timeout=15)
            assert not writer.is_alive() and writer.failures == [], writer.failures
    for writer in writers:  # each file holds its tenant's acknowledged writes, and only its own
        in_file = {c["name"] for c in read_state(folder / f"{writer.tenant}.state")["clients"]
                   if c["kind"] == "datastore"}
        assert set(writer.acknowledged) <= in_file
        assert len(in_file - set(writer.acknowledged)) <= writer.unanswered
        assert all(name.startswith(f"{writer.tenant}-") for name in in_file)

    with serve("python-m", "--port", "0", "--state-dir", str(folder), cwd=tmp_path) as p:
        url = _ready(p)
        assert "(2 tenants loaded)" in p.seen[-1]
        listing = requests.get(f"{url}/_fake/tenants", timeout=10).json()
        assert [t["name"] for t in listing["tenants"]] == ["a", "b"]
        for writer in writers:
            assert set(writer.acknowledged) <= _listed(url, writer.tenant)
        assert requests.delete(f"{url}/_fake/tenants/a", timeout=10).status_code == 200
        assert not (folder / "a.state").exists()  # deleted before the answer
        second = run("python-m", "--port", "0", "--state-dir", str(folder), cwd=tmp_path)
        assert second.returncode == 2 and "in use by another ocss-fake server" in second.stderr, second.stderr
        p.proc.send_signal(signal.SIGTERM)
        assert p.proc.wait(timeout=STOP_TIMEOUT) == 0

    with serve("python-m", "--port", "0", "--state-dir", str(folder), cwd=tmp_path) as p:
        url = _ready(p)
        assert [t["name"] for t in requests.get(f"{url}/_fake/tenants", timeout=10).json()["tenants"]] == ["b"]
        assert set(writers[1].acknowledged) <= _listed(url, "b")


# --- requests that route nowhere make no tenant (found by a new user) --------------------------
@pytest.mark.parametrize("path, status", [
    ("/t/_fake/health", 400),          # a typo for /_fake/health: '_fake' is reserved
    ("/t/a%2Fb/_fake/health", 404),    # decoded to /t/a/b/…: no route below tenant a
    ("/t/stray/no/such/route", 404),
])
def test_a_request_that_routes_nowhere_makes_no_tenant(path, status):
    with FakeServer(TenantsApp(max_tenants=1), port=0) as server:
        answer = requests.get(server.url + path, timeout=10)
        assert answer.status_code == status, answer.text
        assert answer.text.strip(), "a sentence"
        assert requests.get(f"{server.url}/_fake/tenants", timeout=10).json()["tenants"] == []
        assert requests.get(f"{server.url}/t/ok/_fake/health", timeout=10).status_code == 200  # its place is free


def test_a_bad_tenant_name_is_quoted_as_sent():
    with FakeServer(TenantsApp(), port=0) as server:
        answer = requests.get(f"{server.url}/t/%C3%BCmlaut/_fake/health", timeout=10)
        assert answer.status_code == 400 and "'ümlaut' is not a tenant name" in answer.text, answer.text
