"""Custom fixture sets, as a user writes them from docs/fixture-sets.md: a copied or
empty world.json loads from any folder (FakeApp, the plugin's option and marker, the
standalone server), phones default to the shipped database, relative paths resolve
against the set's own folder, and every refusal's first line names the set, the JSON
Pointer and what was expected (several schema problems follow, one per line). The JSON
Schema describes every state the fake dumps."""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import requests
from jsonschema import Draft202012Validator
from requests_oauthlib import OAuth1

from ocss_testkit import package_data as resources
from ocss_testkit.app import FakeApp
from ocss_testkit.fake_handle import FakeHandle
from ocss_testkit.world.errors import Invalid
from ocss_testkit.world.fixtures import MAX_LISTED, FixtureError, FixtureSet, UnknownFixtureSet, schema_problem
from ocss_testkit.world.world import World
from tests.world.test_state import busy_world

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "fixture-sets.md"
DEMO_WORLD = resources.fixtures_dir() / "demo" / "world.json"
INSTALLED = any(ep.value == "ocss_testkit.plugin" for ep in entry_points(group="pytest11"))

ERIN = {"name": "erin", "account_id": 9, "email": "erin@example.com", "consumer_key": "demo-consumer-key",
        "token": "erin-access-token", "token_secret": "erin-access-secret"}
ONE_USER = {"consumers": [{"key": "my-app", "secret": "my-app-secret"}],
            "users": [{"name": "carol", "account_id": 7, "email": "carol@example.com", "consumer_key": "my-app",
                       "token": "carol-token", "token_secret": "carol-secret"}]}
ACME_PHONES = {"vendors": [{"id": 1, "uuid": "3c1b2a9e-0d4f-4b7a-9e21-6f0a8d5c4b31", "name": "Acme", "models": [
    {"id": 1, "uuid": "9f8e7d6c-5b4a-4392-8d1e-0f1a2b3c4d5e", "name": "Acme One",
     "user_agents": ["AcmeOne/1.0 Profile/MIDP-2.0"]}]}]}


def make_set(folder: Path, world=None, patch=None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if world is not None:
        (folder / "world.json").write_text(world if isinstance(world, str) else json.dumps(world), "utf-8")
    if patch is not None:
        (folder / "patch.json").write_text(json.dumps(patch), "utf-8")
    return folder


def copied_demo(folder: Path, *extra_users: dict) -> Path:
    """fixtures/demo/world.json copied as a user would, optionally with more users."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(DEMO_WORLD, folder / "world.json")
    if extra_users:
        data = json.loads((folder / "world.json").read_text("utf-8"))
        data["users"] += list(extra_users)
        (folder / "world.json").write_text(json.dumps(data), "utf-8")
    return folder


def refusal(ref) -> str:
    with pytest.raises(FixtureError) as error:
        FixtureSet.load(ref)
    message = str(error.value)
    assert "\n" not in message, message
    return message


# --- a copied demo world and an empty world ----------------------------------------------
@pytest.mark.parametrize("as_type", [str, Path])
def test_a_copied_demo_world_loads_from_any_folder(tmp_path, monkeypatch, as_type):
    folder = copied_demo(tmp_path / "sets" / "mine")
    monkeypatch.chdir(tmp_path)  # neither the checkout nor the set's folder
    app = FakeApp(fixtures=as_type(folder))
    assert sorted(app.world.users) == ["admin", "alice", "bob"]
    assert app.fixtures.phones is FixtureSet.load("demo").phones  # the shipped database, shared
    assert app.fixtures.phones_path == resources.phones_path().resolve()
    reply = FakeHandle(app).client("admin").get("/v2/services/syncml/")
    assert reply.status == 200
    assert "2fb295cc-0e50-11de-81c8-002215064801" in reply.text and "bfb81234-30a9-11de-b930-002215064801" in reply.text


def test_relative_folder_names_resolve_against_the_current_directory(tmp_path, monkeypatch):
    copied_demo(tmp_path / "mine")
    monkeypatch.chdir(tmp_path)
    assert sorted(FixtureSet.load("./mine").build().users) == ["admin", "alice", "bob"]
    assert sorted(FixtureSet.load("mine").build().users) == ["admin", "alice", "bob"]  # no shipped set 'mine'


def test_a_bare_shipped_name_wins_over_a_folder_of_that_name(tmp_path, monkeypatch):
    make_set(tmp_path / "demo", {})  # a project folder that happens to be called demo
    monkeypatch.chdir(tmp_path)
    assert sorted(FixtureSet.load("demo").build().users) == ["admin", "alice", "bob"]
    assert FixtureSet.load("./demo").build().users == {}


def test_an_empty_world_has_no_users_and_the_shipped_phones(tmp_path):
    app = FakeApp(fixtures=make_set(tmp_path / "empty", "{}"))
    world = app.world
    assert (world.users, world.consumers, world.clients) == ({}, {}, {})
    assert not world.clock.frozen
    assert app.fixtures.phones is FixtureSet.load("demo").phones
    assert len(world.phones.models) == 369
    handle = FakeHandle(app)
    assert handle.client(None).get("/v2/services/syncml/").status == 401  # nobody to sign as
    assert handle.client(None).get("/v2/phones/vendors/").status == 200  # the phones, unsigned


def test_dollar_schema_is_accepted_and_ignored(tmp_path):
    world = dict(ONE_USER, **{"$schema": "../world.schema.json"})
    app = FakeApp(fixtures=make_set(tmp_path / "s", world))
    assert list(app.world.users) == ["carol"]
    handle = FakeHandle(app)
    document = handle.state.get()
    assert "$schema" not in document
    handle.state.replace(dict(document, **{"$schema": "https://example.com/any"}))  # PUT /_fake/state too
    assert list(app.world.users) == ["carol"]


# --- phones -------------------------------------------------------------------------------
def test_a_relative_phones_path_resolves_against_the_sets_own_folder(tmp_path, monkeypatch):
    (tmp_path / "vendor-data").mkdir()
    (tmp_path / "vendor-data" / "acme.json").write_text(json.dumps(ACME_PHONES))
    world = dict(ONE_USER, phones="../../vendor-data/acme.json", clients=[
        {"kind": "syncml", "uuid": "0b6e1f3a-7c2d-4e58-9a41-2d3c4b5a6f70", "owner": "carol",
         "phone_number": "+4798765432", "model_uuid": 1, "published": "2009-11-01T12:30:00Z"}])
    folder = make_set(tmp_path / "sets" / "acme", world)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    fixture_set = FixtureSet.load(folder)
    assert fixture_set.phones_path == (tmp_path / "vendor-data" / "acme.json").resolve()
    built = fixture_set.build()
    assert [m.name for m in built.phones.models.values()] == ["Acme One"]
    assert next(iter(built.clients.values())).model.name == "Acme One"


def test_a_missing_phones_file_is_one_line_naming_the_set(tmp_path):
    folder = make_set(tmp_path / "lonely", dict(ONE_USER, phones="phones.json"))
    message = refusal(folder)
    assert message.startswith(f"fixture set 'lonely' ({folder / 'world.json'}) at /phones: ")
    assert "no phones file 'phones.json'" in message and str(folder / "phones.json") in message


def test_the_demo_worlds_old_phones_path_fails_readably_when_copied_alone(tmp_path):
    folder = make_set(tmp_path / "old", dict(ONE_USER, phones="../phones.json"))
    message = refusal(folder)
    assert "'old'" in message and "no phones file '../phones.json'" in message


def test_a_broken_phones_file_is_named(tmp_path):
    folder = make_set(tmp_path / "broken", dict(ONE_USER, phones="phones.json"))
    (folder / "phones.json").write_text(json.dumps({"makers": []}))
    message = refusal(folder)
    assert "at /phones:" in message and "is not a phones database: missing field 'vendors'" in message


# --- names that are no set ----------------------------------------------------------------
def test_available_lists_the_shipped_sets():
    names = FixtureSet.available()
    assert "demo" in names and names == sorted(names)
    assert all((resources.fixtures_dir() / n).is_dir() for n in names)


def test_an_unknown_name_lists_the_sets_that_exist():
    with pytest.raises(UnknownFixtureSet) as error:
        FixtureSet.load("nosuch")
    assert str(error.value) == ("no fixture set 'nosuch'; available: " + ", ".join(FixtureSet.available())
                                + "; or a folder holding world.json or patch.json")
    assert error.value.available == FixtureSet.available()
    assert isinstance(error.value, ValueError)  # what the CLI reports as a one-line error


def test_a_folder_without_a_set_file_says_so(tmp_path):
    (tmp_path / "nothing").mkdir()
    message = refusal(tmp_path / "nothing")
    assert "holds neither world.json nor patch.json" in message and "available: demo" in message
    assert "no such folder" in refusal(tmp_path / "absent")


def test_a_folder_with_both_files_is_refused(tmp_path):
    folder = make_set(tmp_path / "both", {}, {"base": "demo"})
    assert "holds both world.json and patch.json" in refusal(folder)


def test_a_file_that_is_not_json_is_named(tmp_path):
    folder = make_set(tmp_path / "bad", '{"users": [')
    message = refusal(folder)
    assert message.startswith(f"fixture set 'bad' ({folder / 'world.json'}): not JSON: ")


# --- schema errors ------------------------------------------------------------------------
USER = ONE_USER["users"][0]


@pytest.mark.parametrize("world, pointer, expected", [
    ([], "/", "expected an object"),
    ({"users": [dict(USER, admin="yes")], "consumers": ONE_USER["consumers"]}, "/users/0/admin",
     "expected true or false"),
    ({"users": [{k: v for k, v in USER.items() if k != "token"}], "consumers": ONE_USER["consumers"]},
     "/users/0", "missing field 'token'"),
    ({"usres": []}, "/", "unknown field(s) usres"),
    ({"clock": {"frozen": True, "now": "1 Nov 2009"}}, "/clock/now", "expected a UTC time like 2009-11-01T12:30:00Z"),
    ({"users": [dict(USER, account_id=7.0)], "consumers": ONE_USER["consumers"]}, "/users/0/account_id",
     "expected an integer"),
    ({"clients": [{"kind": "fax"}]}, "/clients/0/kind", "expected one of syncml, gdata, activesync, datastore"),
    ({"version": 2}, "/version", "unsupported state version"),
    ({"phones": ""}, "/phones", "expected a non-empty string"),
    ({"handsets": {"+47/1": True}}, "/handsets/+47~11", "expected a phone model"),
    ({"phone_states": {"+47": {"answers": {"one": "visited"}}}}, "/phone_states/+47/answers/one",
     "answers are keyed by message id"),
])
def test_schema_errors_name_the_set_the_pointer_and_the_expectation(tmp_path, world, pointer, expected):
    folder = make_set(tmp_path / "typo", world)
    message = refusal(folder)
    assert message.startswith(f"fixture set 'typo' ({folder / 'world.json'}) at {pointer}: {expected}"), message


def test_cross_references_are_checked_in_the_same_form(tmp_path):
    folder = make_set(tmp_path / "typo", {"users": [USER]})  # its consumer is not listed
    assert refusal(folder) == (f"fixture set 'typo' ({folder / 'world.json'}) at /users/0/consumer_key: "
                               "names unknown consumer 'my-app'")


def several(ref) -> list[str]:
    """The lines of a refusal listing several problems."""
    with pytest.raises(FixtureError) as error:
        FixtureSet.load(ref)
    return str(error.value).split("\n")


def test_every_problem_is_listed_on_its_own_line(tmp_path):
    folder = make_set(tmp_path / "typo", {"users": [dict(USER, admin=1, may_detect_auto=2)], "clock": 5})
    with pytest.raises(FixtureError) as error:
        FixtureSet.load(folder)
    lines = str(error.value).split("\n")
    # the first line alone still says what is wrong (the CLI prints it after "ocss-fake: ")
    assert lines[0].startswith(f"fixture set 'typo' ({folder / 'world.json'}): 3 problems; the first at /"), lines
    assert sorted(lines[1:]) == ["  world.json at /clock: expected an object or null",
                                 "  world.json at /users/0/admin: expected true or false",
                                 "  world.json at /users/0/may_detect_auto: expected true or false"], lines
    assert lines[0].endswith(lines[1].removeprefix("  world.json at "))  # the first listed is the summary's
    assert sorted(error.value.problems) == [("world.json", "/clock", "expected an object or null"),
                                            ("world.json", "/users/0/admin", "expected true or false"),
                                            ("world.json", "/users/0/may_detect_auto", "expected true or false")]


def test_a_long_list_is_cut_and_the_rest_counted(tmp_path):
    users = [dict(USER, name=f"u{i}", token=f"t{i}", account_id=f"x{i}") for i in range(MAX_LISTED + 5)]
    folder = make_set(tmp_path / "typo", {"users": users, "consumers": ONE_USER["consumers"], "clock": 5})
    lines = several(folder)
    assert lines[0].startswith(f"fixture set 'typo' ({folder / 'world.json'}): {MAX_LISTED + 6} problems; "), lines[0]
    listed = lines[1:-1]
    assert len(listed) == MAX_LISTED and all(line.startswith("  world.json at /") for line in listed), lines
    assert lines[-1] == "  (and 6 more, not listed)"
    assert "  world.json at /users/0/account_id: expected an integer" in "\n".join(listed)


def test_a_patch_set_lists_the_problems_of_its_patch_file_and_of_the_patched_state(tmp_path):
    sets = tmp_path / "sets"
    copied_demo(sets / "common")
    bad_file = make_set(sets / "bad-file", patch={"base": "common", "patch": 5, "extra": 1})
    lines = several(bad_file)
    assert lines[0].startswith(f"fixture set 'bad-file' ({bad_file / 'patch.json'}): 2 problems; "), lines
    assert all(line.startswith("  patch.json at /") for line in lines[1:]) and len(lines) == 3, lines
    bad_state = make_set(sets / "bad-state", patch={"base": "common", "patch": [
        {"op": "replace", "path": "/users/0/admin", "value": "yes"},
        {"op": "replace", "path": "/users/1/account_id", "value": "seven"}]})
    lines = several(bad_state)
    assert lines[0].startswith(f"fixture set 'bad-state' ({bad_state / 'patch.json'}): the patched state: "
                               "2 problems; the first at /users/"), lines
    assert sorted(lines[1:]) == [
        "  the patched state at /users/0/admin: expected true or false",
        "  the patched state at /users/1/account_id: expected an integer from -9007199254740991 to "
        "9007199254740991"], lines


def test_the_cli_prints_every_problem_readably(tmp_path, capsys):
    from ocss_testkit import cli

    folder = make_set(tmp_path / "typo", {"users": [dict(USER, admin=1, may_detect_auto=2)], "clock": 5})
    for argv in (["serve", "--port", "0"], ["sign", "GET", "http://127.0.0.1/"]):
        assert cli.main([*argv, "--fixtures", str(folder)]) == 2
        out, err = capsys.readouterr()
        lines = err.rstrip("\n").split("\n")
        assert out == "" and lines[0].startswith("ocss-fake: fixture set 'typo' ("), err
        assert len(lines) == 4 and all(line.startswith("  world.json at /") for line in lines[1:]), err


# --- patch sets ---------------------------------------------------------------------------
def test_a_patch_set_over_a_sibling_and_a_relative_base(tmp_path):
    sets = tmp_path / "sets"
    copied_demo(sets / "common", ERIN)
    by_name = make_set(sets / "by-name", patch={"base": "common", "patch": [
        {"op": "test", "path": "/users/3/name", "value": "erin"},
        {"op": "replace", "path": "/users/3/admin", "value": True}]})
    by_path = make_set(sets / "deeper" / "by-path", patch={"base": "../../common", "patch": []})
    assert FixtureSet.load(by_name).build().users["erin"].admin is True
    assert "erin" in FixtureSet.load(by_path).build().users


def test_a_failing_patch_operation_is_named_by_its_place(tmp_path):
    folder = make_set(tmp_path / "p", patch={"base": "demo", "patch": [
        {"op": "test", "path": "/users/2/name", "value": "bob"},
        {"op": "test", "path": "/users/1/name", "value": "bob"}]})
    message = refusal(folder)
    assert message == (f"fixture set 'p' ({folder / 'patch.json'}) at /patch/1: the test operation failed: "
                       "the value is 'alice', not 'bob'")
    missing = make_set(tmp_path / "q", patch={"base": "demo", "patch": [{"op": "copy", "from": "/x", "path": "/y"}]})
    assert refusal(missing) == (f"fixture set 'q' ({missing / 'patch.json'}) at /patch/0: cannot be applied: "
                                "there is no value at /x (its from)")


def test_a_patch_that_breaks_the_state_says_where(tmp_path):
    folder = make_set(tmp_path / "p", patch={"patch": [{"op": "replace", "path": "/users/2/admin", "value": "no"}]})
    assert refusal(folder) == (f"fixture set 'p' ({folder / 'patch.json'}): the patched state at /users/2/admin: "
                               "expected true or false")


def test_patch_json_itself_is_checked(tmp_path):
    folder = make_set(tmp_path / "p", patch={"base": "demo", "patch": [{"op": "rename", "path": "/users"}]})
    assert " at /patch/0/op: expected add, remove, replace, move, copy or test" in refusal(folder)
    folder = make_set(tmp_path / "q", patch={"base": "demo", "ops": []})
    assert " at /: unknown field(s) ops" in refusal(folder)


def test_an_unknown_base_and_a_loop_are_named(tmp_path):
    folder = make_set(tmp_path / "p", patch={"base": "nosuch"})
    assert refusal(folder).startswith(f"fixture set 'p' ({folder / 'patch.json'}) at /base: no fixture set 'nosuch'")
    make_set(tmp_path / "a", patch={"base": "b"})
    make_set(tmp_path / "b", patch={"base": "a"})
    assert refusal(tmp_path / "a") == "fixture sets patch each other in a loop: a -> b -> a"


# --- the documentation's examples -----------------------------------------------------------
EXAMPLE = re.compile(r"<!-- fixture-set: ([\w-]+)/([\w.-]+) -->\n```json\n(.*?)\n```", re.S)


def doc_examples(root: Path) -> dict[str, Path]:
    sets = {}
    for name, file, text in EXAMPLE.findall(DOCS.read_text("utf-8")):
        json.loads(text)  # every example is plain JSON
        (root / name).mkdir(exist_ok=True)
        (root / name / file).write_text(text, "utf-8")
        sets[name] = root / name
    return sets


def test_every_example_of_the_docs_loads(tmp_path):
    shutil.copy(resources.world_schema_path(), tmp_path / "world.schema.json")  # as the docs suggest
    sets = doc_examples(tmp_path)
    assert set(sets) == {"empty", "one-user", "syncml", "own-phones", "bob-admin"}
    worlds = {name: FixtureSet.load(folder).build() for name, folder in sets.items()}
    assert worlds["empty"].users == {}
    assert list(worlds["one-user"].users) == ["carol"] and worlds["one-user"].users["carol"].may_detect_auto
    assert worlds["bob-admin"].users["bob"].admin and "dave" in worlds["bob-admin"].users
    assert not worlds["bob-admin"].users["alice"].admin

    syncml = FakeHandle(FakeApp(fixtures=sets["syncml"]))
    listing = syncml.client("carol").get("/v2/services/syncml/")
    assert listing.status == 200 and "6a1b8c4e-2f3d-11de-8c30-0800200c9a66" in listing.text
    assert syncml.clock.now().isoformat().startswith("2009-11-02T09:00:00")

    own = FakeHandle(FakeApp(fixtures=sets["own-phones"]))
    vendors = own.client(None).get("/v2/phones/vendors/")
    assert vendors.status == 200 and "Acme" in vendors.text and "Nokia" not in vendors.text


def test_the_docs_name_every_top_level_field_of_the_schema():
    text = DOCS.read_text("utf-8")
    for field in json.loads(resources.world_schema_path().read_text("utf-8"))["properties"]:
        assert f"`{field}`" in text, field


# --- the schema and the state document ----------------------------------------------------
@pytest.fixture(scope="module")
def schema_validator():
    schema = json.loads(resources.world_schema_path().read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_the_schema_ships_with_the_data_and_has_an_id():
    schema = json.loads(resources.world_schema_path().read_text("utf-8"))
    assert resources.world_schema_path().parent == resources.fixtures_dir()  # force-included into the wheel
    assert schema["$id"] and schema["$schema"].endswith("/2020-12/schema")


def test_the_schema_accepts_every_state_the_fake_dumps(app, schema_validator):
    assert list(schema_validator.iter_errors(app.world.to_dict())) == []  # the demo world
    world = busy_world(app)
    with world.lock:  # one request token still waiting to be exchanged, approved and verified
        issued = world.tokens.issue_request_token("demo-consumer-key", "http://x/cb")
        world.tokens.approve_request_token(issued.token, "alice")
    busy = world.to_dict()
    assert {c["kind"] for c in busy["clients"]} == {"syncml", "gdata", "activesync", "datastore"}
    assert all(busy[part] for part in ("sessions", "chatlog", "detections", "bindings", "schedule",
                                       "phone_states", "autopilots", "request_tokens", "issued_tokens"))
    assert list(schema_validator.iter_errors(busy)) == []
    assert schema_problem(busy) is None


def test_the_schema_accepts_world_files_that_leave_fields_out(schema_validator):
    for document in ({}, ONE_USER, json.loads(DEMO_WORLD.read_text("utf-8"))):
        assert list(schema_validator.iter_errors(document)) == []


def _datastore(d):
    return next(c for c in d["clients"] if c["kind"] == "datastore")


def _gdata(d):
    return next(c for c in d["clients"] if c["kind"] == "gdata")


# Documents both the schema and state.load refuse, and the pointer both name.
DISAGREEMENTS = [
    (lambda d: d["clients"][0].__setitem__("kind", "fax"), "/clients/0/kind"),
    (lambda d: d["clients"][0].__setitem__("published", "yesterday"), "/clients/0/published"),
    (lambda d: d["clients"][0].__setitem__("colour", "red"), "/clients/0"),
    (lambda d: d["outbox"][0].__setitem__("kind", "fax"), "/outbox/0/kind"),
    (lambda d: d.__setitem__("version", 99), "/version"),
    (lambda d: d.__setitem__("surprise", 1), "/"),
    (lambda d: d.__setitem__("description", 5), "/description"),
    (lambda d: d["users"][0].__setitem__("admin", "yes"), "/users/0/admin"),
    (lambda d: d["users"][0].__setitem__("account_id", 2 ** 60), "/users/0/account_id"),
    (lambda d: d["users"][0].__setitem__("account_id", 2.0), "/users/0/account_id"),
    (lambda d: d["users"][0].pop("token"), "/users/0"),
    (lambda d: d["sessions"][0]["datastores"][0].__setitem__("sync_type", "fast"),
     "/sessions/0/datastores/0/sync_type"),
    (lambda d: d["sessions"][0]["datastores"][0].__setitem__("colour", 1), "/sessions/0/datastores/0"),
    (lambda d: d["chatlog"][0].__setitem__("direction", "up"), "/chatlog/0/direction"),
    (lambda d: d["phone_states"].__setitem__("+1", {"answers": {"x": "visited"}}), "/phone_states/+1/answers/x"),
    (lambda d: d["phone_states"].__setitem__("+1", {"answers": {"1": "maybe"}}), "/phone_states/+1/answers/1"),
    (lambda d: d["autopilots"].__setitem__("+1", {"visit_after": 3}), "/autopilots/+1"),
    (lambda d: d["schedule"].append([1, 2, "x"]), "/schedule/1"),
    (lambda d: d["schedule"].append([1, 2, "setup-sms", "+1", "jump", None]), "/schedule/1/4"),
    (lambda d: d.__setitem__("clock", {"frozen": True}), "/clock"),
    (lambda d: d.__setitem__("clock", {"frozen": False, "offset": 1e300}), "/clock/offset"),
    (lambda d: d.__setitem__("clock", {"frozen": False, "now": "noon"}), "/clock/now"),
    (lambda d: d.__setitem__("settings", {"detection_code_lifetime": 0}), "/settings/detection_code_lifetime"),
    (lambda d: _datastore(d)["tombstones"][0].__setitem__("deleted", None), None),
    (lambda d: _datastore(d)["contents"][0].__setitem__("deleted", "2009-01-01T00:00:00Z"), None),
    (lambda d: _gdata(d)["datastores"][0]["token"].__setitem__("type_tag", "x y"), None),
    (lambda d: d["handsets"].__setitem__("+47/1", True), "/handsets/+47~11"),
]


@pytest.mark.parametrize("change, pointer", DISAGREEMENTS)
def test_the_schema_and_the_loader_refuse_alike(app, change, pointer):
    busy = busy_world(app)
    document = copy.deepcopy(busy.to_dict())
    change(document)
    problem = schema_problem(document)
    with pytest.raises(Invalid) as error:
        World.from_dict(document, busy.phones)
    assert problem is not None, "the schema accepted what the loader refuses"
    loader_pointer = str(error.value).split(":")[0][len("state "):]
    assert problem[0] == loader_pointer, (problem, str(error.value))
    if pointer is not None:
        assert problem[0] == pointer


# --- the plugin and the standalone server ---------------------------------------------------
@pytest.fixture
def run(pytester, monkeypatch):
    """pytest in a subprocess, with the plugin as an installed package would load it."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))

    def go(*args):
        extra = [] if INSTALLED else ["-p", "ocss_testkit.plugin"]
        return pytester.runpytest_subprocess(*extra, "-p", "no:cacheprovider", *args, timeout=240)
    return go


def test_the_plugin_takes_a_copied_world_by_option_and_by_marker(pytester, run, tmp_path_factory):
    sets = tmp_path_factory.mktemp("sets")
    mine = copied_demo(sets / "mine", ERIN)
    empty = make_set(sets / "empty", "{}")
    pytester.makepyfile(test_custom_sets=f"""
        import pytest

        def test_option(ocss_fake):
            assert sorted(u["name"] for u in ocss_fake.state.get()["users"]) == ["admin", "alice", "bob", "erin"]
            assert ocss_fake.client("erin").get("/v2/services/syncml/").status == 200

        @pytest.mark.ocss_fixtures({str(empty)!r})
        def test_marker(ocss_fake):
            assert ocss_fake.state.get()["users"] == []

        @pytest.mark.ocss_fixtures("demo")
        def test_shipped_by_name(ocss_fake_wsgi):
            assert [u["name"] for u in ocss_fake_wsgi.state.get()["users"]] == ["admin", "alice", "bob"]
    """)
    result = run("-v", f"--ocss-fixtures={mine}")
    result.assert_outcomes(passed=3)


@pytest.mark.skipif(os.name != "posix", reason="signals and process groups as on POSIX")
def test_the_standalone_server_starts_with_a_copied_world(tmp_path):
    from tests.test_cli import serve

    folder = copied_demo(tmp_path / "mine", ERIN)
    with serve("python-m", "--port", "0", "--fixtures", str(folder), cwd=tmp_path) as process:
        url, _ = process.wait_ready()
        auth = OAuth1("demo-consumer-key", "demo-consumer-secret", "erin-access-token", "erin-access-secret")
        reply = requests.get(f"{url}/v2/services/syncml/", auth=auth, timeout=10)
        assert reply.status_code == 200, reply.text
        users = [u["name"] for u in requests.get(f"{url}/_fake/state", timeout=10).json()["users"]]
        assert users == ["admin", "alice", "bob", "erin"]
