"""`ocss-fake routes`: the generated API reference shows every route and its provenance."""
import json
import subprocess
import sys

from ocss_testkit.routes import CONTROL_ROUTES, ROUTES


def run(*args):
    result = subprocess.run([sys.executable, "-m", "ocss_testkit", "routes", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_json_reference_lists_every_route_with_provenance():
    rows = json.loads(run("--format", "json"))
    assert len(rows) == len(ROUTES) + len(CONTROL_ROUTES)
    assert {(r["method"], r["path"]) for r in rows} == {(r.method, r.path) for r in ROUTES + CONTROL_ROUTES}
    documented = {r["spec"] for r in rows if r["provenance"] == "documented"}
    assert documented == {f"D{i}" for i in range(1, 16)}
    assert all(r["provenance"] in ("documented", "inferred", "control") for r in rows)


def test_markdown_reference_marks_inferred_routes():
    text = run()
    assert "| D11 | POST | `/v2/services/syncml/{uuid}/sync/` | documented | 003_45e3725206d2c929.txt" in text
    assert "| inferred |" in text
