"""The pytest plugin on a shared fake (issue 13, item 2): two pytest runs of
examples/downstream, `-n 2` each, share one `ocss-fake serve` at the same time with
`--ocss-fake-url`; both pass, each worker in a tenant of its own, and the server holds no
tenant afterwards. Subprocesses, each bounded in time; the server is killed at the end.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import requests

from .test_cli import REPO, serve

EXAMPLE = REPO / "examples" / "downstream"
FILES = ("phonesetup.py", "test_phonesetup.py")
RUN_TIMEOUT = 240  # seconds for one pytest run
INSTALLED = any(ep.value == "ocss_testkit.plugin" for ep in entry_points(group="pytest11"))
TENANT = re.compile(r"/t/(pytest-[0-9a-f]+-(gw[0-9]+))/")

pytest.importorskip("xdist")


def _tests() -> int:
    source = (EXAMPLE / "test_phonesetup.py").read_text("utf-8")
    return sum(1 for line in source.splitlines() if line.startswith("def test_"))


def _pytest(folder: Path, url: str) -> subprocess.Popen:
    for name in FILES:
        shutil.copy(EXAMPLE / name, folder / name)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    env.pop("PYTEST_XDIST_WORKER", None)  # this run's workers name themselves
    plugin = [] if INSTALLED else ["-p", "ocss_testkit.plugin"]
    argv = [sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", "-n", "2", "-q",
            f"--ocss-fake-url={url}", "test_phonesetup.py"]
    return subprocess.Popen(argv, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_two_xdist_runs_share_one_fake_each_worker_in_its_own_tenant(tmp_path):
    with serve("python-m", "--port", "0", cwd=tmp_path) as server:
        url, port = server.wait_ready()
        runs = []
        for n in (1, 2):
            folder = tmp_path / f"run{n}"
            folder.mkdir()
            runs.append(_pytest(folder, url))
        outputs = []
        deadline = time.monotonic() + RUN_TIMEOUT
        try:
            for run in runs:
                outputs.append(run.communicate(timeout=max(1, deadline - time.monotonic()))[0])
        finally:
            for run in runs:
                if run.poll() is None:
                    run.kill()
                    run.wait(10)
        for run, output in zip(runs, outputs):
            assert run.returncode == 0, output
            assert f"{_tests()} passed" in output, output
        listing = requests.get(f"{url}/_fake/tenants", timeout=10).json()
        assert listing["tenants"] == [] and listing["count"] == 0  # every session dropped its tenant
        log = server.stderr()
    tenants = {name: worker for name, worker in TENANT.findall(log)}
    assert sorted(tenants.values()) == ["gw0", "gw0", "gw1", "gw1"], log[-2000:]  # 4 workers, 4 tenants
    for name in tenants:
        assert f"DELETE /_fake/tenants/{name}" in log and f"PUT /_fake/tenants/{name}" in log


def test_the_contract_suite_passes_against_a_tenant_url(tmp_path):
    """`--ocss-base-url` takes a tenant's URL: the suite's requests, signatures and link
    checks all live below `/t/{tenant}`, and the tenant's world is the one it changes."""
    from tests.contracts_harness.test_contract_suite import ALL_FLAGS, report, run_suite

    with serve("python-m", "--port", "0", cwd=tmp_path) as server:
        url, _ = server.wait_ready()
        result = run_suite(f"{url}/t/contracts-1", tmp_path / "report", *ALL_FLAGS)
        root_clients = requests.get(f"{url}/_fake/state", timeout=10).json()["clients"]
        fresh_clients = requests.get(f"{url}/t/fresh/_fake/state", timeout=10).json()["clients"]
        tenants = [t["name"] for t in requests.get(f"{url}/_fake/tenants", timeout=10).json()["tenants"]]
    assert result.returncode == 0, result.stdout[-3000:]
    found = report(tmp_path / "report")
    assert found["behaviour"]["passed"] > 0 and found["behaviour"]["failed"] == 0
    assert found["drift"]["drift"] == 0
    assert root_clients == fresh_clients  # the default tenant is as a fresh one: untouched
    assert tenants == ["contracts-1", "fresh"]


def test_a_remote_handle_offers_what_the_in_process_one_does(tmp_path):
    """remote.RemoteHandle on its own: each part over the tenant's control plane, the same
    return types and errors as FakeHandle's."""
    from datetime import datetime

    from ocss_testkit.answers import ApiError
    from ocss_testkit.app import FakeApp
    from ocss_testkit.faults import FaultError
    from ocss_testkit.remote import RemoteHandle
    from ocss_testkit.server import FakeServer
    from ocss_testkit.services.phones.state import Detection
    from ocss_testkit.tenants import TenantsApp
    from ocss_testkit.world.fixtures import FixtureSet
    from tests.tenants.test_tenants import NOKIA_6233, OC_NS

    number = "+4798765432"
    demo = FixtureSet.load("demo")
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "patch.json").write_text('{"base": "demo", "patch": [{"op": "replace", '
                                                 '"path": "/users/1/admin", "value": true}]}')
    with FakeServer(TenantsApp(FakeApp(demo))) as server:
        handle = RemoteHandle.claim(server.url, "direct-1", demo)
        assert server.tenants.names() == ["direct-1"] and handle.url == f"{server.url}/t/direct-1"
        body = f'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="{OC_NS}"><oc:phone_number>{number}' \
               '</oc:phone_number></entry>'
        assert handle.client("admin").post("/v2/phones/detect/manual/", body).status == 201
        detection = handle.phone(number).visit(NOKIA_6233)
        assert isinstance(detection, Detection) and detection.status == "detected"
        assert detection.model.name == "Nokia 6233"
        assert [m.kind for m in handle.phone(number).messages] == ["detection-link"]
        handle.phone(number).autopilot(setup="accept", setup_after=5)
        handle.phone(number).autopilot()
        with pytest.raises(ValueError, match="setup"):
            handle.phone(number).autopilot(setup="maybe")
        assert handle.clock.set("2009-11-01T12:30:00Z") == 0 and handle.clock.now().year == 2009
        with pytest.raises(ValueError, match="naive"):
            handle.clock.set(datetime(2009, 1, 1))
        with pytest.raises(TypeError):
            handle.clock.advance("10")
        with pytest.raises(ValueError, match="advance"):
            handle.clock.advance(-1)
        rule = handle.faults.add("delay", delay=0.01)
        assert handle.faults.remove(rule.id) is True and handle.faults.remove(rule.id) is False
        with pytest.raises(FaultError):
            handle.faults.add("status", status=99)
        assert len(handle.journal) == 1  # the POST
        handle.journal.clear()
        assert len(handle.journal) == 0
        handle.state.patch([{"op": "replace", "path": "/users/0/email", "value": "a@example.test"}])
        assert handle.state.get()["users"][0]["email"] == "a@example.test"
        with pytest.raises(ApiError) as refused:
            handle.state.patch([{"op": "test", "path": "/users/0/email", "value": "nope"}])
        assert refused.value.status == 409
        handle.reset(FixtureSet.load(str(tmp_path / "set")))  # a folder: sent as a state document
        assert handle.state.get()["users"][1]["admin"] is True
        handle.reset()
        assert handle.state.get()["users"][1]["admin"] is True  # reset goes to the tenant's own set
        assert server.app.journal.entries() == []  # the default tenant saw none of it
        handle.drop()
        handle.drop()  # gone already: fine
        assert server.tenants.names() == []
