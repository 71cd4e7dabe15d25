"""Proof that the contract suite does its job over real HTTP, as the nightly run uses it.

The suite runs in a child pytest (the way CI runs it) against the standalone fake and
passes; against deliberately drifted versions of the fake it fails, and the drift report
names each difference; it never touches data it did not create; no secret reaches a
report or a snapshot; snapshots are re-recorded only from a passing run.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from lxml import etree
from requests_oauthlib import OAuth1

from ocss_testkit.app import FakeApp
from ocss_testkit.routes import ROUTES
from ocss_testkit.server import FakeServer
from ocss_testkit.world.state import dump
from tests.test_cli import serve

ROOT = Path(__file__).resolve().parents[2]
CREDENTIALS = {
    "OCSS_CONSUMER_KEY": "demo-consumer-key", "OCSS_CONSUMER_SECRET": "demo-consumer-secret",
    "OCSS_ACCESS_TOKEN": "alice-access-token", "OCSS_ACCESS_SECRET": "alice-access-secret",
    "OCSS_OTHER_ACCESS_TOKEN": "bob-access-token", "OCSS_OTHER_ACCESS_SECRET": "bob-access-secret",
}
ALL_FLAGS = ("--ocss-allow-mutating", "--ocss-allow-sms", "--ocss-test-phone", "+4790000001")
# contract.secret() values: "<name>-<16 hex>"; none may be written anywhere
GENERATED_SECRET = re.compile(r"[a-z]+(?:-[a-z]+)*-[0-9a-f]{16}\b")
ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
G = "/v2/services/google/"


def run_suite(url: str, report_dir: Path, *flags: str, files=("contracts",)) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OCSS_", "PYTEST_"))}
    env.update(CREDENTIALS, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "pytest", *files, "-q", "-p", "no:cacheprovider", "--ocss-base-url", url,
           "--ocss-report-dir", str(report_dir), *flags]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def report(report_dir: Path) -> dict:
    return json.loads((report_dir / "drift-report.json").read_text())


def written(*directories: Path) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for d in directories for p in sorted(d.rglob("*")) if p.is_file()}


def assert_no_secrets(files: dict[Path, str]) -> None:
    assert files, "nothing was written"
    for path, content in files.items():
        for name, value in CREDENTIALS.items():
            assert value not in content, f"{path.name} holds {name}"
        leaked = GENERATED_SECRET.findall(content)
        assert not leaked, f"{path.name} holds generated secrets {leaked[:3]}"
        assert not re.search(r"Authorization['\"]?:\s*['\"]?OAuth|oauth_signature=", content), \
            f"{path.name} holds an Authorization header"


# --- the standalone fake passes ----------------------------------------------------------------
def test_suite_passes_over_http_against_the_standalone_fake_read_only_and_fully(tmp_path):
    with serve("python-m", "--port", "0", cwd=tmp_path) as fake:
        url, _ = fake.wait_ready()
        read_only = run_suite(url, tmp_path / "read-only")
        full = run_suite(url, tmp_path / "full", *ALL_FLAGS, "-n", "2")
        clients_after = requests.get(url + "/_fake/state", timeout=10).json()["clients"]
    assert read_only.returncode == 0, read_only.stdout[-3000:]
    ro = report(tmp_path / "read-only")
    assert ro["behaviour"]["passed"] > 0 and ro["behaviour"]["failed"] == 0
    skipped = [c for c in ro["contracts"] if c["behaviour"] == "skipped"]
    assert {c["safety"] for c in ro["contracts"] if c["behaviour"] == "passed"} == {"read-only"}
    assert skipped and all("--ocss-allow" not in c["skip"] for c in skipped if c["safety"] == "read-only")

    assert full.returncode == 0, full.stdout[-3000:]
    everything = report(tmp_path / "full")
    ran = {c["safety"] for c in everything["contracts"] if c["behaviour"] == "passed"}
    assert ran == {"read-only", "mutating", "side-effecting"}
    assert all(c["fake_only"] for c in everything["contracts"] if c["behaviour"] == "skipped")
    assert everything["drift"]["drift"] == 0 and everything["drift"]["match"] >= 11
    uncovered = [spec for spec, c in everything["coverage"].items() if not c["contracts"]]
    assert not uncovered, (f"route ids without contracts: {uncovered}; add one to contracts/test_<api>.py marked "
                           "@pytest.mark.inferred(<id>, …) or documented(…) (contracts/README.md)")
    assert set(everything["coverage"]) == {r.spec_id for r in ROUTES if r.spec_id}
    assert {c["provenance"] for c in everything["coverage"].values()} == {"documented", "inferred"}
    # the ledger cleaned up: only the demo world's clients are left
    assert sorted(c["uuid"] for c in clients_after) == sorted(c["uuid"] for c in dump(FakeApp().world)["clients"])
    ledger = [json.loads(line) for line in (tmp_path / "full" / "ledger.jsonl").read_text().splitlines()]
    created = [e for e in ledger if e["event"] == "created"]
    assert created and all(e["name"].startswith(everything["run"]) or e["kind"] in ("syncml", "binding", "content")
                           for e in created)
    assert_no_secrets(written(tmp_path / "read-only", tmp_path / "full"))
    assert "junit.xml" in {p.name for p in (tmp_path / "full").iterdir()}


# --- deliberately drifted fakes -------------------------------------------------------------------
def _drop_published(root):
    for el in root.iter(f"{{{ATOM}}}published"):
        el.getparent().remove(el)


def _rename_user_id(root):
    for el in root.iter(f"{{{OC}}}user_id"):
        el.tag = f"{{{OC}}}userid"


def _leak_token_secrets(app, root):
    """The listing shows each token's key and secret, which 001 says it never reveals."""
    with app.world.lock:
        for entry in root.iter(f"{{{ATOM}}}entry"):
            uuid = entry.findtext(f"{{{OC}}}client/{{{OC}}}uuid")
            client = app.world.clients.get(uuid)
            for element, store in zip(entry.iter(f"{{{OC}}}token"), getattr(client, "datastores", [])):
                token = getattr(store, "token", None)
                if token is None:
                    continue
                for name, value in (("secret", token.secret), ("key", token.key)):
                    added = etree.Element(f"{{{OC}}}{name}")
                    added.text = value
                    element.insert(1, added)


class DriftedApp(FakeApp):
    """The fake with one deliberate difference from the recorded API, on GData routes."""

    def __init__(self, drift: str) -> None:
        super().__init__()
        self.drift = drift

    def __call__(self, environ, start_response):
        seen = {}

        def capture(status, headers, exc_info=None):
            seen["status"], seen["headers"] = status, list(headers)
            return lambda data: None
        body = b"".join(super().__call__(environ, capture))
        status, headers = seen["status"], seen["headers"]
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        if path.startswith(G):
            status, headers, body = self.change(method, path, status, headers, body)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        start_response(status, headers + [("Content-Length", str(len(body)))])
        return [body]

    def change(self, method, path, status, headers, body):
        d = self.drift
        if d == "status" and method == "POST" and status.startswith("201"):
            status = "200 Created"
        elif d == "reason" and method == "PUT" and status == "200 Updated":
            status = "200 OK"
        elif d == "content-type":
            headers = [(k, "application/xml" if k.lower() == "content-type" and "atom" in v else v)
                       for k, v in headers]
        elif d in ("missing-element", "renamed-element", "leaked-secret") and body.strip():
            root = etree.fromstring(body)
            if d == "missing-element":
                _drop_published(root)
            elif d == "renamed-element":
                _rename_user_id(root)
            elif method == "GET" and root.tag == f"{{{ATOM}}}feed":
                _leak_token_secrets(self, root)
            body = etree.tostring(root)
        return status, headers, body


DRIFTS = {  # drift -> a difference the report must name
    "status": "gdata-create", "reason": "gdata-update", "content-type": "gdata-get",
    "missing-element": "gdata-get", "renamed-element": "gdata-create", "leaked-secret": "gdata-list",
}
EXPECTED = {
    "status": "status: 201 → 200",
    "reason": 'reason: "Updated" → "OK"',
    "content-type": 'header Content-Type: "application/atom+xml" → "application/xml"',
    "missing-element": "/entry/published: present → missing",
    "renamed-element": "/entry/client/user_id: element oc:user_id → oc:userid",
    "leaked-secret": "/feed/entry/client/datastore[0]/token/key: missing → present",
}


@pytest.mark.parametrize("drift", sorted(DRIFTS))
def test_each_drift_is_caught_and_named(drift, tmp_path):
    app = DriftedApp(drift)
    demo_clients = sorted(app.world.clients)
    server = FakeServer(app, host="127.0.0.1", port=0).start()
    try:
        result = run_suite(server.url, tmp_path, "--ocss-allow-mutating")
    finally:
        server.stop()
    assert result.returncode == 1, result.stdout[-3000:]
    assert sorted(app.world.clients) == demo_clients, "failing contracts left what they created behind"
    data = report(tmp_path)
    named = [d["difference"] for d in data["differences"] if d["snapshot"] == DRIFTS[drift]]
    assert EXPECTED[drift] in named, named or data["differences"]
    markdown = (tmp_path / "drift-report.md").read_text()
    html = (tmp_path / "drift-report.html").read_text()
    assert EXPECTED[drift] in markdown
    assert EXPECTED[drift].replace('"', "&quot;").replace(">", "&gt;") in html
    junit = (tmp_path / "junit.xml").read_text()
    assert "API drift" in junit or "failures=\"0\"" not in junit
    assert_no_secrets(written(tmp_path))
    if drift == "leaked-secret":  # named by the behaviour verdict too, without the secret itself
        assert "the listing reveals the token's key, secret" in result.stdout


# --- pre-existing data stays byte-identical -------------------------------------------------------
def _signed(user):
    return OAuth1("demo-consumer-key", "demo-consumer-secret", f"{user}-access-token", f"{user}-access-secret")


def _seed_pre_existing(url: str) -> None:
    """alice's own clients, one named like another run's, and bob's: none made by the run."""
    other_run = "ocss-20200101000000-dead-gw0"
    alice = requests.Session()
    alice.auth = _signed("alice")
    atom = {"Content-Type": "application/atom+xml"}
    entry = '<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">{}</entry>'
    for user_id in (f"{other_run}-gdata1@example.com", "alice.personal@example.com"):
        body = entry.format(f"<oc:client><oc:user_id>{user_id}</oc:user_id><oc:datastore dataclass='Calendar' "
                            f"href='http://www.google.com/calendar/feeds/x' name='Cal'><oc:token><oc:token_type>2"
                            f"</oc:token_type><oc:key>k</oc:key><oc:secret>s</oc:secret><oc:scope>"
                            f"http://www.google.com/calendar/feeds/</oc:scope></oc:token></oc:datastore></oc:client>")
        assert alice.post(url + G, body, headers=atom).status_code == 201
    r = alice.post(url + "/v2/services/syncml/", entry.format(
        "<oc:client><oc:phone_number>+4790000001</oc:phone_number><oc:model_uuid>56</oc:model_uuid>"
        "<oc:timezone>Europe/Oslo</oc:timezone></oc:client>"), headers=atom)
    assert r.status_code == 201
    r = alice.post(url + "/v2/services/datastore/",
                   entry.format(f"<oc:client><oc:name>{other_run}-datastore1</oc:name></oc:client>"), headers=atom)
    assert r.status_code == 201, r.text
    store = etree.fromstring(r.content).findtext(f"{{{ATOM}}}id").rstrip("/").rsplit("/", 1)[-1]
    r = alice.post(f"{url}/v2/services/datastore/{store}/contents/", entry.format(
        '<title>card</title><content type="text/x-vcard">BEGIN:VCARD\nEND:VCARD</content>'), headers=atom)
    assert r.status_code == 201, r.text
    bob = requests.Session()
    bob.auth = _signed("bob")
    r = bob.post(url + "/v2/services/activesync/", entry.format(
        "<oc:client><oc:username>bob-phone</oc:username><oc:password>pw</oc:password></oc:client>"), headers=atom)
    assert r.status_code == 201, r.text


def test_the_run_never_touches_data_it_did_not_create(tmp_path):
    with serve("python-m", "--port", "0", cwd=tmp_path) as fake:
        url, _ = fake.wait_ready()
        _seed_pre_existing(url)
        before = requests.get(url + "/_fake/state", timeout=10).json()
        result = run_suite(url, tmp_path / "reports", *ALL_FLAGS)
        after = requests.get(url + "/_fake/state", timeout=10).json()
    assert result.returncode == 0, result.stdout[-3000:]
    assert report(tmp_path / "reports")["behaviour"]["passed"] > 50

    def by_uuid(state):
        return {c["uuid"]: json.dumps(c, sort_keys=True) for c in state["clients"]}
    assert by_uuid(after) == by_uuid(before)  # the same clients, each byte-identical
    assert after["bindings"] == before["bindings"]
    assert after["users"] == before["users"]


# --- snapshots are re-recorded only from a passing run ------------------------------------------
def test_snapshot_update_records_only_when_the_run_passes(tmp_path):
    snapshots = tmp_path / "snapshots"
    shutil.copytree(ROOT / "contracts" / "snapshots", snapshots)
    original = written(snapshots)
    drifted = FakeServer(DriftedApp("missing-element"), host="127.0.0.1", port=0).start()
    try:
        failed = run_suite(drifted.url, tmp_path / "r1", "--ocss-allow-mutating", "--ocss-snapshot-update",
                           "--ocss-snapshot-dir", str(snapshots))
    finally:
        drifted.stop()
    assert failed.returncode != 0
    assert written(snapshots) == original, "a failing run re-recorded snapshots"

    with serve("python-m", "--port", "0", cwd=tmp_path) as fake:
        url, _ = fake.wait_ready()
        passed = run_suite(url, tmp_path / "r2", *ALL_FLAGS, "--ocss-snapshot-update",
                           "--ocss-snapshot-dir", str(snapshots))
        assert passed.returncode == 0, passed.stdout[-3000:]
        recorded = written(snapshots)
        assert set(recorded) > set(original), "inferred contracts' snapshots were not recorded"
        assert all('"recorded": "from <base-url> on' in text
                   for text in recorded.values() if '"key": "gdata-get"' in text)
        assert_no_secrets(recorded)
        again = run_suite(url, tmp_path / "r3", *ALL_FLAGS, "--ocss-snapshot-dir", str(snapshots))
    assert again.returncode == 0, again.stdout[-3000:]
    first, data = report(tmp_path / "r2"), report(tmp_path / "r3")
    assert data["drift"]["drift"] == 0  # what was recorded from a run matches the next run (any worker, any run id)
    assert data["drift"]["match"] > first["drift"]["match"]
    assert data["drift"]["unrecorded"] < first["drift"]["unrecorded"]


# --- the nightly workflow and the command for other CI systems ----------------------------------
def test_nightly_workflow_passes_every_credential_and_uploads_the_reports():
    from contracts.harness.target import ENV
    workflow = (ROOT / ".github" / "workflows" / "nightly-conformance.yml").read_text()
    names = ["OCSS_BASE_URL", "OCSS_CONSUMER_KEY", "OCSS_CONSUMER_SECRET", *(v for pair in ENV.values() for v in pair)]
    for name in names:
        assert f"{name}: ${{{{ secrets.{name} }}}}" in workflow, name
    assert "run: .ci/conformance" in workflow
    assert "schedule:" in workflow and "upload-artifact" in workflow and "path: conformance-report/" in workflow
    script = (ROOT / ".ci" / "conformance").read_text()
    assert "pytest contracts" in script and "--ocss-report-dir" in script
    assert "OCSS_BASE_URL=https://api.obexcode.com OCSS_REPORT_DIR=report .ci/conformance" in \
        (ROOT / "README.md").read_text()


def test_conformance_command_refuses_to_run_without_a_target(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCSS_")}
    result = subprocess.run(["bash", str(ROOT / ".ci" / "conformance")], env=env, capture_output=True, text=True,
                            timeout=30)
    assert result.returncode != 0
    assert "set OCSS_BASE_URL to the server under test" in result.stderr
