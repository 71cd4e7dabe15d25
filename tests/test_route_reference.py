"""`ocss-fake routes` and docs/api-reference.md: every route with its provenance (the API
documentation cited by title and section), its auth, a valid example request and the
answer a fresh in-process fake gives it."""
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from contracts.doc_examples import load_message
from ocss_testkit import route_examples
from ocss_testkit.atom import safe
from ocss_testkit.atom.schemas import schemas
from ocss_testkit.route_examples import EXAMPLES, example_for
from ocss_testkit.routes import CONTROL_ROUTES, ROUTES

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "api-reference.md"
ALL = ROUTES + CONTROL_ROUTES
OUTSIDE = re.compile(r"\d{3}_[0-9a-f]{16}\.txt|\bSPEC\b|shared/|\bseeds?\b")
# The examples that answer an error, on purpose: the route exists to say it.
DOCUMENTED_ERRORS = {
    ("DELETE", "/v2/services/google/"): (400, "No client ID provided"),
    ("POST", "/v2/services/syncml/setup/"): (400, "No client ID provided"),
    ("POST", "/v2/services/syncml/sync/"): (400, "No client ID provided"),
    ("GET", "/v2/services/syncml/datastores/"): (501, "Not implemented yet"),
}


def run(*args):
    result = subprocess.run([sys.executable, "-m", "ocss_testkit", "routes", *args],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _id(route):
    return f"{route.method} {route.path}"


def test_json_reference_lists_every_route_with_provenance():
    rows = json.loads(run("--format", "json"))
    assert len(rows) == len(ALL)
    assert {(r["method"], r["path"]) for r in rows} == {(r.method, r.path) for r in ALL}
    documented = {r["spec"] for r in rows if r["provenance"] == "documented"}
    assert documented == {f"D{i}" for i in range(1, 16)}
    assert all(r["provenance"] in ("documented", "inferred", "control") for r in rows)
    docs = {(r["doc_key"], r["doc"]) for r in rows}
    assert docs == {("gdata-api", "Google Data Client API"), ("syncml-api", "SyncML API"),
                    ("ocss-library", "SyncServer API Python interface"), ("decisions", "docs/decisions.md")}
    assert {r["doc"] for r in rows if r["provenance"] == "documented"} == {"Google Data Client API", "SyncML API"}


def test_markdown_reference_cites_documents_by_title_and_section():
    text = run()
    assert ("| D11 | POST | `/v2/services/syncml/{uuid}/sync/` | documented | "
            "SyncML API, 'Server Initiated Synchronization' | OAuth | — |") in text
    assert ("| I12 | POST | `/v2/services/activesync/` | inferred | SyncServer API Python interface, "
            "'ActiveSync' | OAuth | `activesync-client` |") in text
    assert "| — | GET | `/_fake/health` | control | docs/decisions.md, 'Control plane' | none | — |" in text


def test_nothing_cites_a_file_outside_the_repository():
    rows = json.loads(run("--format", "json"))
    for row in rows:
        assert not OUTSIDE.search(f"{row['doc']} {row['section']}"), row
    assert not OUTSIDE.search(REFERENCE.read_text(encoding="utf-8").split("\n## ", 1)[0])


def test_every_route_has_an_example_and_every_example_a_route():
    routes = {(r.method, r.path) for r in ALL}
    missing = sorted(routes - set(EXAMPLES))
    assert not missing, (f"routes without an example: {missing}; add one to EXAMPLES in "
                         "ocss_testkit/route_examples/examples.py")
    assert set(EXAMPLES) <= routes, f"examples of no route: {sorted(set(EXAMPLES) - routes)}"
    with pytest.raises(KeyError, match=r"no example for GET /nowhere: add one to EXAMPLES"):
        example_for(type(ROUTES[0])("GET", "/nowhere", ROUTES[0].handler, ROUTES[0].provenance))


def _has_body(route) -> bool:
    example = EXAMPLES.get((route.method, route.path))  # a missing one is the test above's to name
    return example is not None and bool(example.body)


@pytest.mark.parametrize("route", [r for r in ALL if r.request_schema or _has_body(r)], ids=_id)
def test_example_bodies_are_valid(route):
    """An API route's example body is valid against the route's own request schema (the
    one the fake checks first, xsd/request/); a control route's is JSON; the OAuth
    approval form is a form."""
    example = example_for(route)
    body = example.body
    assert body, f"{_id(route)} takes a body ({route.request_schema}) but its example has none"
    if route.path.startswith("/_fake"):
        json.loads(body)
        return
    if example.content_type == "application/x-www-form-urlencoded":
        assert route.path.startswith("/oauth/") and parse_qsl(body.decode(), strict_parsing=True)
        return
    assert route.request_schema, f"{_id(route)} takes no body, but its example sends one"
    root = schemas("request").parse_valid(route.request_schema, body, safe.DEFAULT_MAX_DEPTH)
    if root is None:  # the schema refused it: say why
        schemas("request").validate(route.request_schema, safe.parse(body, safe.DEFAULT_MAX_DEPTH))
    assert root is not None


def test_documented_bodies_are_the_documentations_own():
    for exchange, body in (("gdata-create", route_examples.GDATA_CREATE),
                           ("gdata-update", route_examples.GDATA_UPDATE),
                           ("syncml-create", route_examples.SYNCML_CREATE),
                           ("syncml-setup", route_examples.SYNCML_SETUP)):
        assert body == load_message(exchange, "request")[2], exchange


@pytest.mark.parametrize("route", ALL, ids=_id)
def test_every_example_gets_the_answer_its_route_exists_for(route):
    """A refusing route answers its 405 with Allow; a documented error its own phrase;
    every other example succeeds, so each body shown is one the fake accepts."""
    exchange = route_examples.run(route)
    if route.refuses:
        assert exchange.status == 405, exchange.response
        assert "\nAllow: " in exchange.response
    elif (route.method, route.path) in DOCUMENTED_ERRORS:
        assert (exchange.status, exchange.reason) == DOCUMENTED_ERRORS[(route.method, route.path)]
    else:
        assert 200 <= exchange.status < 400, exchange.response


def test_values_the_fake_makes_up_are_shown_as_stand_ins():
    by_path = {(r.method, r.path): r for r in ALL}
    manual = route_examples.run(by_path[("POST", "/v2/phones/detect/manual/")])
    assert "<oc:code><new code 1></oc:code>" in manual.response, manual.response
    created = route_examples.run(by_path[("POST", "/v2/services/syncml/")])
    assert "00000000-0000-4000-8000-000000000001" in created.response
    assert "02978288-537f-102b-beff-000ea60275d1" in created.response  # a known uuid (a model's) stays
    tokens = route_examples.run(by_path[("POST", "/oauth/access_token")])
    assert tokens.response.endswith("oauth_token=<new token 1>&oauth_token_secret=<new secret 1>"
                                    "&oauth_authorized_realms=")


def test_committed_reference_is_what_the_generator_prints():
    text = REFERENCE.read_text(encoding="utf-8")
    assert route_examples.REGENERATE in text.split("\n", 4)[2], "the regenerate command heads the file"
    assert text == route_examples.reference(), (
        f"docs/api-reference.md is stale: regenerate it with `{route_examples.REGENERATE}`")


def test_cli_prints_the_reference():
    assert run("--examples") == REFERENCE.read_text(encoding="utf-8")


def test_examples_need_nothing_outside_the_package():
    """`ocss-fake routes --examples` works from an installed wheel: no import of the
    contract suite (which is not installed)."""
    probe = ("import sys, ocss_testkit.route_examples as r; r.run(r.ALL_ROUTES[0]); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('contracts', 'tests')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_reference_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """`--output` replaces the file once the text is whole: a generator that fails (a route
    without an example) leaves the committed reference as it was, where `>` empties it."""
    from ocss_testkit import cli

    target = tmp_path / "api-reference.md"
    target.write_text("the committed reference\n", encoding="utf-8")

    def no_example():
        raise KeyError("no example for GET /x: add one to EXAMPLES")
    monkeypatch.setattr(route_examples, "reference", no_example)
    with pytest.raises(KeyError):
        cli.main(["routes", "--examples", "--output", str(target)])
    assert target.read_text(encoding="utf-8") == "the committed reference\n"
    assert [p.name for p in tmp_path.iterdir()] == ["api-reference.md"]
    monkeypatch.undo()
    assert cli.main(["routes", "--examples", "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == route_examples.reference()
