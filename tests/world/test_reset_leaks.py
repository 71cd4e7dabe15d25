"""Resets never leak (issue 13, item 4): a request that began before a world was swapped
(reset, state PUT/PATCH, a tenant replaced or dropped; in-process and over HTTP, the
default tenant and a named one) does not change the world that replaced it: it is not
journaled there, takes none of its fault rules, is not persisted over it, and answers
409 saying why (FakeApp's class doc, "Generations").

The ordering is deterministic: the request is held at the door of its dispatch (after
it was bound to its world and took its fault rule) until the swap is done.
"""
from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from oauthlib.oauth1 import Client as OAuthClient
from requests_oauthlib import OAuth1
from werkzeug.test import Client

from ocss_testkit.app import FakeApp
from ocss_testkit.server import FakeServer
from ocss_testkit.tenants import TenantsApp
from tests.tenants.test_tenants import ADMIN, DATASTORES, Fleet, datastore_entry


def _signed(client: Client, method: str, path: str, body: bytes):
    signer = OAuthClient(ADMIN[0], client_secret=ADMIN[1], resource_owner_key=ADMIN[2],
                         resource_owner_secret=ADMIN[3])
    headers = {"Content-Type": "application/atom+xml"}
    _, headers, _ = signer.sign("http://localhost" + path, http_method=method, headers=headers)
    return client.open(path, method=method, data=body, headers=headers)


class Held:
    """Holds the first POST of a datastore client in `app` at the door of its dispatch."""

    def __init__(self, app: FakeApp) -> None:
        self.entered, self.release = threading.Event(), threading.Event()
        original = app._dispatch

        def held(request, trace=None, world=None):
            if request.method == "POST" and request.path == DATASTORES and not self.entered.is_set():
                self.entered.set()
                assert self.release.wait(30)
            return original(request, trace, world)
        app._dispatch = held


def _app(fleet: Fleet, tenant: str | None) -> FakeApp:
    if tenant is None:
        return fleet.app.default
    fleet.control("GET", f"/t/{tenant}/_fake/health")  # created on first use
    return fleet.app.tenant(tenant)


def _http(fleet, prefix, method, path, data=None, content_type="application/json"):
    body = None if data is None else json.dumps(data)
    reply = fleet.call(method, prefix + path, body, sign=None, content_type=content_type)
    assert reply.status_code < 300, reply.get_data(as_text=True)


SWAPS = {
    "reset in-process": lambda fleet, prefix, app: app.reset(),
    "reset over HTTP": lambda fleet, prefix, app: _http(fleet, prefix, "POST", "/_fake/reset"),
    "replace_state in-process": lambda fleet, prefix, app: app.replace_state(app.world.to_dict()),
    "state PUT over HTTP": lambda fleet, prefix, app: _http(fleet, prefix, "PUT", "/_fake/state",
                                                            app.world.to_dict()),
    "patch_state in-process": lambda fleet, prefix, app: app.patch_state([]),
    "state PATCH over HTTP": lambda fleet, prefix, app: _http(fleet, prefix, "PATCH", "/_fake/state", [],
                                                              "application/json-patch+json"),
}
TENANT_SWAPS = {
    "tenant PUT": lambda fleet, prefix, app: _http(fleet, "", "PUT", "/_fake/tenants/ci-1"),
    "tenant DELETE": lambda fleet, prefix, app: _http(fleet, "", "DELETE", "/_fake/tenants/ci-1"),
}
CASES = [(name, None) for name in SWAPS] + [(name, "ci-1") for name in [*SWAPS, *TENANT_SWAPS]]


@pytest.mark.parametrize("swap,tenant", CASES, ids=[f"{s}-{t or 'default'}" for s, t in CASES])
def test_a_request_in_flight_during_a_swap_changes_nothing_in_the_new_world(swap, tenant):
    fleet = Fleet()
    prefix = f"/t/{tenant}" if tenant else ""
    app = _app(fleet, tenant)
    old_world = app.world
    persisted = []
    app.on_change = persisted.append  # what a state file would write
    held = Held(app)
    answers = []
    stale = threading.Thread(target=lambda: answers.append(
        _signed(Client(fleet.app), "POST", prefix + DATASTORES, datastore_entry("stale"))))
    stale.start()
    try:
        assert held.entered.wait(30)
        {**SWAPS, **TENANT_SWAPS}[swap](fleet, prefix, app)
        # a rule of the new world: the stale request took its rule (none) before the swap
        _http(fleet, prefix, "POST", "/_fake/faults",
              {"action": "status", "status": 503, "method": "POST", "path": DATASTORES, "times": 1})
    finally:
        held.release.set()
        stale.join(30)
    reply = answers[0]
    assert reply.status_code == 409, reply.get_data(as_text=True)
    assert "while this request was in flight" in reply.get_data(as_text=True)
    assert old_world not in persisted  # never persisted over its successor
    assert "stale" not in fleet.datastores(prefix)
    journal = fleet.call("GET", prefix + "/_fake/journal", sign=None).get_json()
    assert [e for e in journal["entries"] if e["method"] == "POST"] == []
    rules = fleet.call("GET", prefix + "/_fake/faults", sign=None).get_json()["faults"]
    assert [r["status"] for r in rules] == [503]  # still there, untaken


def test_requests_after_a_swap_run_in_the_new_world():
    fleet = Fleet()
    app = fleet.app.default
    app.reset()
    fleet.create("", "fresh")
    assert fleet.datastores("") == ["fresh"]
    assert [e.method for e in app.journal.entries()] == ["POST", "GET"]


def test_a_tenant_with_a_request_in_flight_is_not_dropped_as_idle():
    fleet = Fleet(tenant_idle=60)
    app = _app(fleet, "ci-1")
    held = Held(app)
    stale = threading.Thread(target=lambda: _signed(Client(fleet.app), "POST", "/t/ci-1" + DATASTORES,
                                                    datastore_entry("kept")))
    stale.start()
    try:
        assert held.entered.wait(30)
        fleet.clock.advance(3600)
        assert fleet.app.sweep() == []
    finally:
        held.release.set()
        stale.join(30)
    assert fleet.app.tenant("ci-1") is app and fleet.datastores("/t/ci-1") == ["kept"]


@pytest.mark.parametrize("prefix", ["", "/t/ci-1"])
def test_the_failing_input_a_delayed_post_then_a_reset_over_http(prefix):
    """issue 13: a delay fault of 1.5 s, a POST given up after 0.5 s, a reset, 2 s later."""
    with FakeServer(TenantsApp(FakeApp("demo"))) as server:
        base = server.url + prefix
        fault = {"action": "delay", "delay": 1.5, "method": "POST", "path": DATASTORES, "times": 1}
        assert requests.post(base + "/_fake/faults", json=fault, timeout=10).status_code == 201
        with pytest.raises(requests.Timeout):
            requests.post(base + DATASTORES, data=datastore_entry("stale"), auth=OAuth1(*ADMIN), timeout=0.5,
                          headers={"Content-Type": "application/atom+xml"})
        assert requests.post(base + "/_fake/reset", timeout=10).status_code == 200
        time.sleep(2)  # the stale POST has ended meanwhile
        listed = requests.get(base + DATASTORES, auth=OAuth1(*ADMIN), timeout=10)
        assert listed.status_code == 200 and "stale" not in listed.text
        assert "<entry" not in listed.text  # the demo world has no datastore client
        entries = requests.get(base + "/_fake/journal", timeout=10).json()["entries"]
        assert [e["method"] for e in entries] == ["GET"]  # the list only, not the old POST
