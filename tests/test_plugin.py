"""The pytest plugin, as a downstream project meets it: run with pytester in a fresh
directory holding nothing but test files."""
from __future__ import annotations

import json
import os
from importlib.metadata import entry_points
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = any(ep.value == "ocss_testkit.plugin" for ep in entry_points(group="pytest11"))


@pytest.fixture
def run(pytester, monkeypatch):
    """Run pytest in a subprocess, with the plugin as an installed package would load it."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

    def go(*args):
        extra = [] if INSTALLED else ["-p", "ocss_testkit.plugin"]
        return pytester.runpytest_subprocess(*extra, "-p", "no:cacheprovider", *args, timeout=240)
    return go


def test_state_from_one_test_is_gone_in_the_next(pytester, run):
    pytester.makepyfile(test_isolation="""
        import re

        BODY = ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
                '<oc:client><oc:phone_number>+4798765432</oc:phone_number><oc:model_uuid>242</oc:model_uuid>'
                '</oc:client></entry>')

        def alice_clients(fake):
            return re.findall(r"<uuid>", fake.client("alice").get("/v2/services/syncml/").text)

        def test_create(ocss_fake):
            assert ocss_fake.url.startswith("http://127.0.0.1:")
            reply = ocss_fake.client("alice").post("/v2/services/syncml/", BODY)
            assert reply.status == 201
            assert len(alice_clients(ocss_fake)) == 1

        def test_gone(ocss_fake):
            assert alice_clients(ocss_fake) == []
    """)
    result = run("-v")
    result.assert_outcomes(passed=2)


def test_fixtures_markers_and_handles(pytester, run, tmp_path_factory):
    extra = tmp_path_factory.mktemp("fixture-set")
    (extra / "patch.json").write_text(json.dumps({"base": "demo", "patch": [
        {"op": "replace", "path": "/users/2/may_detect_auto", "value": True}]}))  # bob
    pytester.makepyfile(test_surface=f"""
        import pytest
        from datetime import datetime, timezone

        BODY = ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
                '<oc:client><oc:phone_number>+4798765432</oc:phone_number><oc:model_uuid>242</oc:model_uuid>'
                '</oc:client></entry>')
        SETUP = ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
                 '<oc:pincode>1234</oc:pincode></entry>')

        def test_outbox_phone_clock(ocss_fake):
            ocss_fake.clock.freeze(datetime(2009, 11, 1, 12, 30, tzinfo=timezone.utc))
            api = ocss_fake.client("alice")
            uuid = api.post("/v2/services/syncml/", BODY).text.split("<uuid>")[1].split("<")[0]
            assert api.post(f"/v2/services/syncml/{{uuid}}/setup/", SETUP).status == 201
            sms = ocss_fake.outbox.last(to="+4798765432", kind="setup-sms")
            assert "1234" in sms.body and sms.time.year == 2009
            assert ocss_fake.phone("+4798765432").accept_setup() == uuid
            assert api.post(f"/v2/services/syncml/{{uuid}}/sync/").status == 200
            assert ocss_fake.phone("+4798765432").accept_sync().outcome == "ok"

        def test_faults_and_journal(ocss_fake):
            ocss_fake.faults.add("status", status=503, path="/v2/services/syncml/*", times=1)
            api = ocss_fake.client("bob")
            assert api.get("/v2/services/syncml/").status == 503
            assert api.get("/v2/services/syncml/").status == 200
            assert [e.status for e in ocss_fake.journal] == [503, 200]

        @pytest.mark.ocss_patch([{{"op": "replace", "path": "/users/1/admin", "value": True}}])
        def test_patch_marker(ocss_fake):
            assert ocss_fake.state.get()["users"][1]["admin"] is True

        def test_patch_marker_is_undone(ocss_fake):
            assert ocss_fake.state.get()["users"][1]["admin"] is False

        @pytest.mark.ocss_fixtures({str(extra)!r})
        def test_fixtures_marker(ocss_fake):
            bob = ocss_fake.state.get()["users"][2]
            assert (bob["name"], bob["may_detect_auto"]) == ("bob", True)

        def test_in_process(ocss_fake_wsgi):
            assert ocss_fake_wsgi.url == "http://localhost"
            assert ocss_fake_wsgi.client("admin").get("/v2/services/google/").status == 200
            assert ocss_fake_wsgi.credentials("bob").token == "bob-access-token"
    """)
    result = run("-v")
    result.assert_outcomes(passed=6)


PROBLEMS = """
    import pytest

    def test_sends_garbage(ocss_fake):
        assert ocss_fake.client("alice").post("/v2/services/syncml/", "<nope/>").status == 400
        assert ocss_fake.client(None).get("/v2/services/syncml/").status == 401

    @pytest.mark.ocss_allow_problems
    def test_sends_garbage_on_purpose(ocss_fake):
        assert ocss_fake.client("alice").get("/v2/services/googel/").status == 404
"""


def test_refused_requests_fail_the_test_readably(pytester, run):
    pytester.makepyfile(test_problems=PROBLEMS)
    result = run()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines([
        "*the fake refused 2 request(s) during this test*",
        "*POST /v2/services/syncml/ -> 400 Bad Request [[]invalid[]]*",
        "*GET /v2/services/syncml/ -> 401 Unauthorized [[]unauthorized[]]: no OAuth credentials*",
    ])


def test_problem_checks_can_be_switched_off(pytester, run):
    pytester.makepyfile(test_problems=PROBLEMS)
    run("--ocss-problems=ignore").assert_outcomes(passed=2)
    pytester.makeini("[pytest]\nocss_problems = warn\n")
    result = run("-W", "default")
    result.assert_outcomes(passed=2, warnings=1)


def test_each_xdist_worker_gets_its_own_fake(pytester, run, tmp_path):
    ports = tmp_path / "ports"
    ports.mkdir()
    pytester.makepyfile(test_workers=f"""
        import os, pathlib, pytest

        @pytest.mark.parametrize("n", range(8))
        def test_fresh_world_on_my_own_port(ocss_fake, n):
            worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
            pathlib.Path({str(ports)!r}, worker).write_text(ocss_fake.url)
            assert len(ocss_fake.state.get()["clients"]) == 3  # the demo world, untouched
            ocss_fake.state.patch([{{"op": "remove", "path": "/clients/0"}}])
    """)
    result = run("-n", "2")
    result.assert_outcomes(passed=8)
    urls = {p.name: p.read_text() for p in ports.iterdir()}
    assert set(urls) == {"gw0", "gw1"} and len(set(urls.values())) == 2


def test_the_listing_carries_the_sentence_the_client_read(pytester, run):
    pytester.makepyfile(test_refusals="""
        BODY = ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
                '<oc:client><oc:phone_number>+4798765432</oc:phone_number><oc:model_uuid>999999</oc:model_uuid>'
                '</oc:client></entry>')

        def test_unknown_model(ocss_fake):
            assert ocss_fake.client("alice").post("/v2/services/syncml/", BODY).status == 400

        def test_too_large(ocss_fake_wsgi):  # in-process: the app itself refuses the body
            assert ocss_fake_wsgi.client("alice").post("/v2/services/syncml/", "x" * (1024 * 1024 + 1)).status == 413
    """)
    result = run()
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines([
        "*POST /v2/services/syncml/ -> 400 Bad Request [[]invalid[]]: unknown phone model '999999'",
        "*POST /v2/services/syncml/ -> 413 Request Entity Too Large [[]invalid[]]: body of 1048577 bytes; "
        "the limit is 1048576 bytes",
    ], consecutive=False)


def test_a_downstream_project_verifies_requests_and_sets_the_clock_with_strings(pytester, run):
    pytester.makepyfile(test_verify="""
        import pytest

        BODY = ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
                '<oc:client><oc:phone_number>+4798765432</oc:phone_number><oc:model_uuid>242</oc:model_uuid>'
                '</oc:client></entry>')

        def register(fake):
            return fake.client("alice").post("/v2/services/syncml/", BODY)

        def test_registered_once(ocss_fake):
            ocss_fake.clock.freeze("2009-11-01T13:30:00+01:00")
            assert "2009-11-01T12:30:00Z" in register(ocss_fake).text
            ocss_fake.assert_requested(method="POST", path="/v2/services/syncml/", user="alice", status=201, times=1)
            ocss_fake.journal.assert_no_requests(status="4xx")
            with pytest.raises(ValueError, match="setup-sms"):
                ocss_fake.outbox.messages(kind="setup_sms")

        def test_expects_a_second_registration(ocss_fake):
            register(ocss_fake)
            ocss_fake.assert_requested(method="POST", path="/v2/services/syncml/*", times=2)
    """)
    result = run()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "E*AssertionError: expected exactly 2 request(s) matching POST /v2/services/syncml/[*]; the fake received 1 "
        "such request(s) among 1:",
        "E*#* POST /v2/services/syncml/ as alice -> 201 Created  [[]matches[]]",
    ])


def test_a_misspelt_problems_mode_stops_the_run(pytester, run):
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    pytester.makeini("[pytest]\nocss_problems = wran\n")
    result = run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*ocss_problems = 'wran': use one of fail, warn, ignore*"])
    result = run("--ocss-problems=wran")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--ocss-problems*invalid choice*'wran'*"])


# --- on a shared fake (--ocss-fake-url): a tenant per session, every fixture the same --------------
REMOTE_SURFACE = """
    import pytest
    from datetime import datetime, timezone
    from ocss_testkit.faults import Fault, FaultError
    from ocss_testkit.journal import Entry
    from ocss_testkit.world.errors import NotFound

    BODY = ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
            '<oc:client><oc:phone_number>+4798765432</oc:phone_number><oc:model_uuid>242</oc:model_uuid>'
            '</oc:client></entry>')
    SETUP = ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
             '<oc:pincode>1234</oc:pincode></entry>')

    def test_a_tenant_of_the_shared_fake(ocss_fake):
        assert ocss_fake.url.startswith("{url}/t/pytest-")
        with pytest.raises(AttributeError, match="another process"):
            ocss_fake.world
        assert ocss_fake.credentials("bob").token == "bob-access-token"
        with pytest.raises(LookupError, match="its users"):
            ocss_fake.credentials("mallory")

    def test_outbox_phone_clock(ocss_fake):
        ocss_fake.clock.freeze(datetime(2009, 11, 1, 12, 30, tzinfo=timezone.utc))
        assert ocss_fake.clock.frozen and ocss_fake.clock.now().year == 2009
        assert ocss_fake.clock.advance(60) == 0 and ocss_fake.clock.now().minute == 31
        api = ocss_fake.client("alice")
        uuid = api.post("/v2/services/syncml/", BODY).text.split("<uuid>")[1].split("<")[0]
        assert api.post(f"/v2/services/syncml/{{uuid}}/setup/", SETUP).status == 201
        sms = ocss_fake.outbox.last(to="+4798765432", kind="setup-sms")
        assert "1234" in sms.body and sms.time.year == 2009 and len(ocss_fake.outbox) == 1
        phone = ocss_fake.phone("+4798765432")
        assert phone.accept_setup() == uuid
        assert api.post(f"/v2/services/syncml/{{uuid}}/sync/").status == 200
        session = phone.accept_sync()
        assert session.outcome == "ok" and session.client_uuid == uuid
        with pytest.raises(NotFound, match="setup-sms"):
            phone.accept_setup()
        with pytest.raises(ValueError, match="kind must be one of"):
            ocss_fake.outbox.messages(kind="sms")

    def test_faults_and_journal(ocss_fake):
        rule = ocss_fake.faults.add("status", status=503, path="/v2/services/syncml/*", times=1)
        assert isinstance(rule, Fault) and ocss_fake.faults.rules == [rule]
        with pytest.raises(FaultError, match="action"):
            ocss_fake.faults.add("explode")
        api = ocss_fake.client("bob")
        assert api.get("/v2/services/syncml/").status == 503
        assert api.get("/v2/services/syncml/").status == 200
        assert [e.status for e in ocss_fake.journal] == [503, 200]
        assert all(isinstance(e, Entry) for e in ocss_fake.journal)
        ocss_fake.assert_requested(method="GET", user="", status=503, times=1)  # refused before OAuth
        assert [(r.id, r.spent, r.hits) for r in ocss_fake.faults.rules] == [(rule.id, True, 1)]  # used up, listed

    def test_the_next_test_starts_fresh(ocss_fake):
        assert list(ocss_fake.journal) == [] and ocss_fake.faults.rules == [] and len(ocss_fake.outbox) == 0
        assert not ocss_fake.clock.frozen

    @pytest.mark.ocss_patch([{{"op": "replace", "path": "/users/1/admin", "value": True}}])
    def test_patch_marker(ocss_fake):
        assert ocss_fake.state.get()["users"][1]["admin"] is True

    @pytest.mark.ocss_fixtures({extra!r})
    def test_fixtures_marker(ocss_fake):
        bob = ocss_fake.state.get()["users"][2]
        assert (bob["name"], bob["may_detect_auto"]) == ("bob", True)

    def test_patch_and_fixtures_are_undone(ocss_fake):
        users = ocss_fake.state.get()["users"]
        assert users[1]["admin"] is False and users[2]["may_detect_auto"] is False

    def test_the_ocss_library(ocss_api, ocss_fake):
        assert len(list(ocss_api.phones.vendors)) > 0
        ocss_fake.assert_requested(method="GET", path="/v2/phones/*", status=200)

    def test_in_process(ocss_fake_wsgi):
        raise AssertionError("skipped under --ocss-fake-url")
"""


def test_every_fixture_works_on_a_tenant_of_a_shared_fake(pytester, run, tmp_path_factory):
    from ocss_testkit.app import FakeApp
    from ocss_testkit.server import FakeServer
    from ocss_testkit.tenants import TenantsApp

    extra = tmp_path_factory.mktemp("fixture-set")
    (extra / "patch.json").write_text(json.dumps({"base": "demo", "patch": [
        {"op": "replace", "path": "/users/2/may_detect_auto", "value": True}]}))  # bob
    with FakeServer(TenantsApp(FakeApp("demo"))) as server:
        pytester.makepyfile(test_remote=REMOTE_SURFACE.format(url=server.url, extra=str(extra)))
        result = run("-v", "-rs", f"--ocss-fake-url={server.url}/")
        tenants_after = server.tenants.names()
        root_journal = server.app.journal.entries()
    result.assert_outcomes(passed=8, skipped=1)
    result.stdout.fnmatch_lines(["*ocss_fake_wsgi runs the fake in this process*use ocss_fake*"])
    assert tenants_after == []  # dropped at the end
    assert root_journal == []  # the default tenant saw none of it


def test_the_shared_fake_url_from_the_ini_and_a_bad_one(pytester, run):
    from ocss_testkit.app import FakeApp
    from ocss_testkit.server import FakeServer
    from ocss_testkit.tenants import TenantsApp

    pytester.makepyfile(test_url="""
        def test_url(ocss_fake):
            assert "/t/pytest-" in ocss_fake.url

        def test_no_local_server(ocss_fake_server):
            pass
    """)
    with FakeServer(TenantsApp(FakeApp("demo"))) as server:
        pytester.makeini(f"[pytest]\nocss_fake_url = {server.url}\n")
        result = run("-v")
        assert server.tenants.names() == []
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ocss_fake_server is a fake this session starts*use ocss_fake*"])
    result = run("--ocss-fake-url=fake:8080")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*ocss fake URL 'fake:8080': give the root of a running `ocss-fake serve`*"])


def test_a_body_the_server_refuses_from_its_headers_is_in_the_listing_with_its_sentence(pytester, run):
    """The 413 comes from the HTTP server, before the app reads the request (server.py):
    the listing still names it, with the sentence the client read."""
    pytester.makepyfile(test_too_large="""
        import http.client
        from urllib.parse import urlsplit

        def test_uploads_too_much(ocss_fake):
            url = urlsplit(ocss_fake.url)
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
            conn.request("POST", "/v2/services/syncml/?note=big", body=b"x" * (2 * 1024 * 1024),
                         headers={"Content-Type": "application/atom+xml"})
            reply = conn.getresponse()
            print("answer:", reply.status, reply.getheader("X-Request-Id"), reply.read().decode())
            conn.close()
            assert reply.status == 413
    """)
    result = run("-s")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*answer: 413 r* 413 Request Entity Too Large: body of 2097152 bytes; the limit is 1048576 bytes",
        "*the fake refused 1 request(s) during this test*",
        "*POST /v2/services/syncml/?note=big -> 413 Request Entity Too Large [[]invalid[]]: "
        "body of 2097152 bytes; the limit is 1048576 bytes",
    ])
