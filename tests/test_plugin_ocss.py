"""The plugin's OCSS library fixtures, `ocss_api` and `ocss_api_for`, as a downstream
project meets them: pytest in a subprocess, in a fresh directory holding only test files
(the same way as test_plugin.py)."""
from __future__ import annotations

import os
from importlib.metadata import entry_points
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = any(ep.value == "ocss_testkit.plugin" for ep in entry_points(group="pytest11"))


@pytest.fixture
def run(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

    def go(*args):
        extra = [] if INSTALLED else ["-p", "ocss_testkit.plugin"]
        return pytester.runpytest_subprocess(*extra, "-p", "no:cacheprovider", *args, timeout=240)
    return go


def test_ocss_api_is_alice_on_this_tests_fake(pytester, run):
    pytester.makepyfile(test_api="""
        import ocss

        def test_registers_as_alice(ocss_api, ocss_fake):
            assert isinstance(ocss_api, ocss.SyncServerAPI)
            phone = ocss_api.clients.syncml.new(phone_number="+4798765432", model="242", timezone="Europe/Oslo")
            [client] = [c for c in ocss_fake.state.get()["clients"] if c["uuid"] == phone.id]
            assert (client["owner"], client["phone_number"]) == ("alice", "+4798765432")
            assert [(e.method, e.path, e.user) for e in ocss_fake.journal][0] == (
                "POST", "/v2/services/syncml/", "alice")

        def test_the_next_test_starts_afresh(ocss_api):
            assert len(ocss_api.clients.syncml) == 0

        def test_the_same_fake_through_both_fixtures(ocss_api, ocss_fake):
            ocss_fake.faults.add("status", status=503, path="/v2/services/syncml/", times=1)
            try:
                len(ocss_api.clients.syncml)
            except ocss.exceptions.ServerError as error:
                assert error.status == 503
            else:
                raise AssertionError("the fault did not reach the library")
            assert [(r.spent, r.hits) for r in ocss_fake.faults.rules] == [(True, 1)]  # used up, still listed
    """)
    result = run("-v")
    result.assert_outcomes(passed=3)


def test_ocss_api_for_other_users_and_anonymous(pytester, run):
    pytester.makepyfile(test_users="""
        import time

        import pytest
        import ocss

        def test_admin_sees_the_demo_clients(ocss_api_for):
            admin = ocss_api_for("admin")
            assert sorted(admin.clients.syncml.keys()) == [
                "2fb295cc-0e50-11de-81c8-002215064801", "bfb81234-30a9-11de-b930-002215064801"]
            assert len(ocss_api_for("bob").clients.syncml) == 0

        def test_options_reach_the_api(ocss_api_for, ocss_fake):
            ocss_fake.faults.add("delay", delay=2, path="/v2/phones/vendors/", times=1)
            with pytest.raises(ocss.exceptions.ConnectionError):
                len(ocss_api_for("alice", timeout=0.5).phones.vendors)
            deadline = time.monotonic() + 15  # the fake answers late: let it, inside this test
            while not ocss_fake.journal and time.monotonic() < deadline:
                time.sleep(0.05)
            assert [(e.path, e.fault is not None) for e in ocss_fake.journal] == [("/v2/phones/vendors/", True)]

        def test_anonymous_reads_phones_and_sends_no_protected_call(ocss_api_for, ocss_fake):
            anonymous = ocss_api_for(None)
            assert anonymous.phones.models["242"].name == "Nokia 6233"
            with pytest.raises(ocss.exceptions.NotAllowedError):
                len(anonymous.clients)
            assert [e.path for e in ocss_fake.journal if e.path.startswith("/v2/clients")] == []
    """)
    result = run("-v")
    result.assert_outcomes(passed=3)


def test_the_library_is_imported_only_by_the_tests_that_use_it(pytester, run):
    pytester.makepyfile(test_lazy="""
        import sys

        def test_plain_fake(ocss_fake):
            assert "ocss" not in sys.modules

        def test_with_the_library(ocss_api):
            assert "ocss" in sys.modules
    """)
    result = run("-v")
    result.assert_outcomes(passed=2)
