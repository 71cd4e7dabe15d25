"""The OCSS library's contracts (contracts/test_ocss_library.py) run against a URL, as the
conformance run uses them: a child pytest with `--ocss-base-url` against the standalone
fake (`ocss-fake serve`) and the demo credentials in the OCSS_* variables.

Every read-only contract passes over real HTTP; the only ones skipped are the fake-only
ones, for that reason; the server's state is the same afterwards, and it saw nothing
but GETs, all of them answered. The request guard the contracts put around the library
stops a write before it leaves.
"""
from __future__ import annotations

import importlib
import re

import pytest
import requests

import ocss
from contracts.harness.plugin import MARKERS
from contracts.harness.target import UnsafeRequest
from ocss.transport import WSGITransport
from ocss_testkit.app import FakeApp
from ocss_testkit.fake_handle import FakeHandle
from tests.contracts_harness.test_contract_suite import _seed_pre_existing, report, run_suite
from tests.test_cli import serve

LIBRARY_CONTRACTS = "contracts/test_ocss_library.py"
FAKE_ONLY = {"test_the_clients_of_a_populated_account", "test_the_contents_of_a_populated_datastore"}


def test_library_contracts_pass_over_http_against_the_standalone_fake(tmp_path):
    with serve("console-script", "--port", "0", cwd=tmp_path) as fake:
        url, _ = fake.wait_ready()
        # alice's account holds GData, SyncML and datastore clients, and content: the
        # contracts that read any account have something to read over HTTP too
        _seed_pre_existing(url)
        before = requests.get(url + "/_fake/state", timeout=10).json()
        seeded = requests.get(url + "/_fake/journal", timeout=10).json()["entries"]
        result = run_suite(url, tmp_path / "report", files=(LIBRARY_CONTRACTS,))
        after = requests.get(url + "/_fake/state", timeout=10).json()
        journal = requests.get(url + "/_fake/journal", params={"after": seeded[-1]["id"]},
                               timeout=10).json()["entries"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    summary = report(tmp_path / "report")
    contracts = summary["contracts"]
    assert contracts and all(c["nodeid"].startswith(LIBRARY_CONTRACTS + "::") for c in contracts)
    assert summary["behaviour"]["failed"] == 0
    skipped = [c for c in contracts if c["behaviour"] == "skipped"]
    passed = [c for c in contracts if c["behaviour"] == "passed"]
    assert len(passed) + len(skipped) == len(contracts)
    # skipped only because they need the in-process fake, never for a missing flag or user
    assert {c["nodeid"].split("::")[1] for c in skipped} == FAKE_ONLY
    assert all(c["fake_only"] and re.match(r"(Skipped: )?fake only \(", c["skip"]) for c in skipped), skipped
    assert len(passed) >= 60 and all(not c["fake_only"] for c in passed)
    assert {c["safety"] for c in contracts} == {"read-only"}
    assert {c["provenance"] for c in passed} == {"documented", "inferred"}
    # read-only on the wire, too: the server changed nothing and saw only answered GETs
    assert after == before
    assert journal, "the library reached the server over HTTP"
    assert journal[0]["id"] == seeded[-1]["id"] + 1, "the journal dropped some of the run's requests"
    assert {e["method"] for e in journal} == {"GET"}
    assert {e["user"] for e in journal} == {"alice", None}
    assert not [e for e in journal if e["problem"]], [e for e in journal if e["problem"]][:3]
    read = {(e["route"], e["user"]) for e in journal}
    for route in ("/v2/clients/", "/v2/clients/bindings/", "/v2/services/syncml/", "/v2/services/google/",
                  "/v2/services/datastore/{uuid}/contents/"):
        assert (route, "alice") in read, route
    for route in ("/v2/phones/vendors/", "/v2/phones/vendors/{vendor}/models/", "/v2/phones/models/{model}/"):
        assert (route, None) in read, route  # the phones API records no user, signed or not


@pytest.fixture(scope="module")
def wire_class(pytestconfig):
    """The contracts' `Wire`. Their module declares the contract markers, which only the
    contract harness registers (and this suite's markers are strict): registered here
    first, then the module is imported."""
    for line in MARKERS:
        pytestconfig.addinivalue_line("markers", line)
    return importlib.import_module("contracts.test_ocss_library").Wire


def signed_api(wire_class, app: FakeApp, allowed: str):
    creds = FakeHandle(app).credentials("alice")
    wire = wire_class(WSGITransport(app), "http://localhost", allowed)
    auth = ocss.SyncServerAuth(creds.consumer_key, creds.consumer_secret, creds.token, creds.token_secret)
    return ocss.SyncServerAPI(auth, base_url="http://localhost", transport=wire), wire


@pytest.mark.parametrize("allowed, call", [
    ("read-only", lambda api: api.clients.datastore.new(name="never")),
    ("read-only", lambda api: api.clients.gdata.new("never@example.com")),
    ("mutating", lambda api: api.phones.models.detect_manual("+447700900001")),
], ids=["create-datastore", "create-gdata", "sms-under-mutating"])
def test_the_guard_stops_a_request_beyond_the_contracts_class(wire_class, allowed, call):
    app = FakeApp()
    handle = FakeHandle(app)
    before = handle.state.get()
    api, wire = signed_api(wire_class, app, allowed)
    with pytest.raises(UnsafeRequest, match=f"but the contract is marked {allowed}"):
        call(api)
    assert wire.sent == [] and handle.journal == [] and handle.state.get() == before
    assert list(handle.outbox) == []


def test_the_guard_lets_reads_through(wire_class):
    app = FakeApp()
    api, wire = signed_api(wire_class, app, "read-only")
    assert len(api.clients) == 0 and len(api.phones.vendors) > 0
    assert wire.paths() == ["GET /v2/clients/", "GET /v2/phones/vendors/"]
    assert [(e.method, e.path, e.status) for e in FakeHandle(app).journal] == [
        ("GET", "/v2/clients/", 200), ("GET", "/v2/phones/vendors/", 200)]
