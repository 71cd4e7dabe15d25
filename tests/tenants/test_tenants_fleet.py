"""The fleet test (issue 13, item 6): 16 tenants of one standalone fake driven at once over
real HTTP, each by requests of its own — creates, deletes, resets (`POST /t/{x}/_fake/reset`
and `PUT /_fake/tenants/{x}`), injected faults and moves of its virtual clock — and
afterwards every tenant holds exactly what its own requests made.

Bounded: 4 client threads (each drives 4 tenants, interleaving them, over keep-alive
connections), a fixed seed, a fixed number of steps, and a budget of BUDGET seconds after
which no new step starts. The expected state of every tenant is tracked from the answers
its requests got; a 5xx is allowed only where a fault injected it.
"""
from __future__ import annotations

import random
import threading
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

import requests
from requests_oauthlib import OAuth1

from ocss_testkit.server import FakeServer
from ocss_testkit.tenants import TenantsApp

SEED = 20261130
TENANTS = 16
THREADS = 4
STEPS = 30  # per tenant
BUDGET = 25.0  # seconds: no step starts after this (the whole test stays within 30 s)
ATOM = "{http://www.w3.org/2005/Atom}"
OC_NS = "http://schemas.obexcode.com/syncserver/2009"
OC = "{%s}" % OC_NS
ADMIN = ("demo-consumer-key", "demo-consumer-secret", "admin-access-token", "admin-access-secret")
DATASTORES = "/v2/services/datastore/"
START = datetime(2009, 11, 1, 12, 0, tzinfo=timezone.utc).timestamp()
OPERATIONS = ["create"] * 8 + ["delete"] * 3 + ["reset", "drop"] + ["fault"] * 4 + ["clock"] * 2 + ["read"]


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Tenant:
    """What one tenant must hold, from the answers its own requests got."""

    def __init__(self, name: str, index: int) -> None:
        self.name = name
        self.frozen_at = START + index * 86400  # each tenant's clock a day apart
        self.clients: dict[str, str] = {}  # uuid -> name
        self.clock = self.frozen_at
        self.faults_fired = 0  # since the last reset: the journal must show exactly these
        self.made = 0


class Driver(threading.Thread):
    def __init__(self, url: str, tenants: list[Tenant], seed: int, deadline: float) -> None:
        super().__init__(daemon=True)
        self.url, self.tenants, self.rng, self.deadline = url, tenants, random.Random(seed), deadline
        self.failures: list[str] = []
        self.steps = 0

    # --- helpers -----------------------------------------------------------------------
    def expect(self, reply: requests.Response, status: int, what: str) -> requests.Response:
        if reply.status_code != status:
            self.failures.append(f"{what}: expected {status}, got {reply.status_code} {reply.text[:200]}")
        return reply

    def control(self, method: str, path: str, **kw) -> requests.Response:
        return self.plain.request(method, self.url + path, timeout=30, **kw)

    def api(self, method: str, tenant: Tenant, path: str, **kw) -> requests.Response:
        return self.signed.request(method, f"{self.url}/t/{tenant.name}{path}", timeout=30, **kw)

    def freeze(self, tenant: Tenant) -> None:
        tenant.clock = tenant.frozen_at
        self.expect(self.control("POST", f"/t/{tenant.name}/_fake/clock",
                                 json={"freeze": True, "set": _iso(tenant.clock)}), 200, f"{tenant.name} freeze")

    def fresh(self, tenant: Tenant) -> None:
        tenant.clients.clear()
        tenant.faults_fired = 0
        self.freeze(tenant)

    def create(self, tenant: Tenant, fault_status: int | None = None) -> None:
        tenant.made += 1
        name = f"{tenant.name}-{tenant.made}"
        body = (f'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="{OC_NS}">'
                f"<oc:client><oc:name>{name}</oc:name></oc:client></entry>")
        reply = self.api("POST", tenant, DATASTORES, data=body, headers={"Content-Type": "application/atom+xml"})
        if fault_status is not None:
            self.expect(reply, fault_status, f"{tenant.name} POST with a fault")
            return
        if self.expect(reply, 201, f"{tenant.name} create").status_code == 201:
            uuid = ET.fromstring(reply.content).find(f"{OC}client/{OC}uuid").text
            tenant.clients[uuid] = name

    def listed(self, tenant: Tenant, status: int = 200) -> dict[str, str] | None:
        reply = self.expect(self.api("GET", tenant, DATASTORES), status, f"{tenant.name} list")
        if reply.status_code != 200:
            return None
        return {e.find(f"{OC}client/{OC}uuid").text: e.findtext(f"{ATOM}title")
                for e in ET.fromstring(reply.content).iter(f"{ATOM}entry")}

    # --- one step -------------------------------------------------------------------------
    def step(self, tenant: Tenant) -> None:
        operation = self.rng.choice(OPERATIONS)
        if operation == "create":
            self.create(tenant)
        elif operation == "delete" and tenant.clients:
            uuid = self.rng.choice(sorted(tenant.clients))
            self.expect(self.api("DELETE", tenant, f"{DATASTORES}{uuid}/"), 200, f"{tenant.name} delete")
            del tenant.clients[uuid]
        elif operation == "reset":
            self.expect(self.control("POST", f"/t/{tenant.name}/_fake/reset"), 200, f"{tenant.name} reset")
            self.fresh(tenant)
        elif operation == "drop":  # a new tenant of the same name: replaced by PUT, or dropped then used
            if self.rng.random() < 0.5:
                self.expect(self.control("PUT", f"/_fake/tenants/{tenant.name}"), 200, f"{tenant.name} PUT")
            else:
                self.expect(self.control("DELETE", f"/_fake/tenants/{tenant.name}"), 200, f"{tenant.name} drop")
            self.fresh(tenant)  # (after a drop, this first use builds it again)
        elif operation == "fault":
            kind = self.rng.choice(["GET", "POST", "delay"])
            rule = {"action": "status", "status": 503, "method": "GET", "path": DATASTORES, "times": 1}
            if kind == "POST":
                rule.update(status=500, method="POST")
            elif kind == "delay":
                rule = {"action": "delay", "delay": 0.01, "method": "GET", "path": DATASTORES, "times": 1}
            if self.expect(self.control("POST", f"/t/{tenant.name}/_fake/faults", json=rule), 201,
                           f"{tenant.name} add fault").status_code != 201:
                return
            tenant.faults_fired += 1
            if kind == "POST":
                self.create(tenant, fault_status=500)
            elif kind == "GET":
                self.listed(tenant, status=503)
            else:
                self.check_listing(tenant)
        elif operation == "clock":
            seconds = self.rng.randrange(1, 3600)
            reply = self.expect(self.control("POST", f"/t/{tenant.name}/_fake/clock", json={"advance": seconds}),
                                200, f"{tenant.name} clock")
            tenant.clock += seconds
            if reply.status_code == 200 and reply.json()["now"] != _iso(tenant.clock):
                self.failures.append(f"{tenant.name} clock: {reply.json()['now']} != {_iso(tenant.clock)}")
        else:
            self.check_listing(tenant)

    def check_listing(self, tenant: Tenant) -> None:
        listed = self.listed(tenant)
        if listed is not None and listed != tenant.clients:
            self.failures.append(f"{tenant.name} listed {sorted(listed.values())} != {sorted(tenant.clients.values())}")

    def run(self) -> None:
        with requests.Session() as self.signed, requests.Session() as self.plain:
            self.signed.auth = OAuth1(*ADMIN)
            try:
                for tenant in self.tenants:
                    self.fresh(tenant)  # first use builds the tenant
                for _ in range(STEPS):
                    order = list(self.tenants)
                    self.rng.shuffle(order)
                    for tenant in order:
                        if time.monotonic() > self.deadline:
                            return
                        self.step(tenant)
                        self.steps += 1
            except Exception as exc:  # noqa: BLE001 - reported as a failure of this driver
                self.failures.append(f"driver stopped: {exc!r}")


def test_sixteen_tenants_driven_at_once_each_hold_exactly_what_their_own_requests_made():
    tenants = [Tenant(f"fleet-{i:02d}", i) for i in range(TENANTS)]
    with FakeServer(TenantsApp(max_tenants=TENANTS * 2, tenant_idle=0), port=0, threads=6) as server:
        url = server.url
        deadline = time.monotonic() + BUDGET
        drivers = [Driver(url, tenants[k::THREADS], SEED + k, deadline) for k in range(THREADS)]
        for driver in drivers:
            driver.start()
        for driver in drivers:
            driver.join(timeout=BUDGET + 30)
            assert not driver.is_alive(), "a driver hung"
        failures = [f for driver in drivers for f in driver.failures]
        assert failures == [], failures[:10]
        assert sum(driver.steps for driver in drivers) >= TENANTS * 5, "too few steps ran to mean anything"
        print(f"fleet: {sum(driver.steps for driver in drivers)} steps of {TENANTS * STEPS}")

        plain = requests.Session()
        signed = requests.Session()
        signed.auth = OAuth1(*ADMIN)
        listing = plain.get(f"{url}/_fake/tenants", timeout=30).json()
        assert sorted(t["name"] for t in listing["tenants"]) == [t.name for t in tenants]
        for tenant in tenants:
            prefix = f"{url}/t/{tenant.name}"
            reply = signed.get(prefix + DATASTORES, timeout=30)
            assert reply.status_code == 200, reply.text
            listed = {e.find(f"{OC}client/{OC}uuid").text: e.findtext(f"{ATOM}title")
                      for e in ET.fromstring(reply.content).iter(f"{ATOM}entry")}
            assert listed == tenant.clients, tenant.name  # exactly its own: nothing lost, nothing crossed
            assert plain.get(f"{prefix}/_fake/clock", timeout=30).json() == {"now": _iso(tenant.clock), "frozen": True}
            rules = plain.get(f"{prefix}/_fake/faults", timeout=30).json()["faults"]
            # each fired once: all used up, kept listed (the last faults.MAX_SPENT = 100 of them)
            assert all(r["spent"] and r["hits"] == 1 for r in rules), rules
            assert len(rules) == min(tenant.faults_fired, 100), tenant.name
            entries = plain.get(f"{prefix}/_fake/journal", timeout=30).json()["entries"]
            assert all(e["path"].startswith(DATASTORES) for e in entries), tenant.name
            assert all(e["fault"] is not None for e in entries if e["status"] >= 500), tenant.name
            # the last entry is the check above, made after the fleet stopped
            assert sum(e["fault"] is not None for e in entries) == tenant.faults_fired, tenant.name
        # the default tenant saw none of it
        reply = signed.get(url + DATASTORES, timeout=30)
        assert reply.status_code == 200 and ET.fromstring(reply.content).find(f"{ATOM}entry") is None
        assert [e["path"] for e in plain.get(f"{url}/_fake/journal", timeout=30).json()["entries"]] == [DATASTORES]
        plain.close()
        signed.close()
