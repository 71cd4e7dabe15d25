"""The World's composition holds together: every service is composed, owns its slices of
the state document, and every slice survives a dump and a load. A state file written before
the World was made of services (tests/data/state-file-before-services.jsonl, written by
commit 1cf7a71 touching every slice) still loads to the same document.

These are the checks that fail at once when a registration is forgotten: a service class
the World does not compose, a field a service keeps but no slice writes, a slice whose load
does not read back what its dump wrote.
"""
from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
from collections import deque
from pathlib import Path

import pytest

import ocss_testkit
from ocss_testkit.persistence import read_state
from ocss_testkit.route_examples import fresh_app, run
from ocss_testkit.routes import ROUTES
from ocss_testkit.world.fixtures import FixtureSet
from ocss_testkit.world.service import Service
from ocss_testkit.world.state import ENVELOPE
from ocss_testkit.world.tracked import TrackedDict
from ocss_testkit.world.world import SERVICE_CLASSES, World

DATA = Path(__file__).resolve().parents[1] / "data"
OLD_FILE = DATA / "state-file-before-services.jsonl"
OLD_DUMP = DATA / "state-file-before-services.expected.json"


def _all_service_classes() -> set[type[Service]]:
    for module in pkgutil.walk_packages(ocss_testkit.__path__, "ocss_testkit."):
        if not module.name.endswith("__main__"):  # runs the CLI
            importlib.import_module(module.name)
    found, todo = set(), [Service]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub.__module__.startswith("ocss_testkit.") and sub.name:  # no name: a base (ClientKind)
                found.add(sub)
            todo.append(sub)
    return found


def test_every_service_class_is_composed_by_the_world():
    missing = _all_service_classes() - set(SERVICE_CLASSES)
    assert not missing, (f"services the World does not compose: {sorted(c.__qualname__ for c in missing)}; "
                         "add them to World.__init__ and SERVICE_CLASSES (world/world.py)")


def test_each_slice_is_a_field_of_its_service_with_the_shape_it_declares():
    world = FixtureSet.load("demo").build()
    names = list(ENVELOPE)
    for service, s, container in world.slices():
        names.append(s.name)
        expected = {"keyed": TrackedDict, "sequence": deque}.get(s.shape, object)
        assert isinstance(container, expected), f"{type(service).__name__}.{s.attr} ({s.name}) is no {expected}"
        if s.shape == "keyed" and s.key_field is None:
            assert s.document_order is None, f"{s.name}: an object keyed by key has no entry order"
    assert len(names) == len(set(names)), f"a member of the state document is owned twice: {names}"


@pytest.fixture(scope="module")
def rich_world() -> World:
    """The state file from before the change, plus what only the new code writes (a chatlog
    kept as data): every slice holds something."""
    world = World.from_dict(read_state(OLD_FILE), FixtureSet.load("demo").phones)
    with world.lock:
        alice = world.users["alice"]
        client = next(c for c in world.syncml.clients(alice) if c.phone_number == "+4798765432")
        world.syncml.request_sync(alice, client.uuid)
        world.simulated_phones.answer_sync("+4798765432")
    return world


def test_a_state_file_written_before_the_services_loads_to_the_same_document():
    world = World.from_dict(read_state(OLD_FILE), FixtureSet.load("demo").phones)
    expected = json.loads(OLD_DUMP.read_text())
    for detection in expected["detections"]:  # written since, from what the older document implies
        detection.setdefault("updated", detection["created"])
    assert world.to_dict() == expected


def test_every_slice_is_exercised_by_the_round_trip(rich_world):
    document = rich_world.to_dict()
    empty = [s.name for _, s, _ in rich_world.slices() if not document[s.name]]
    assert not empty, f"the round-trip world leaves these slices empty, so nothing proves they load: {empty}"
    assert any("xml" not in m for m in document["chatlog"]) and any("xml" in m for m in document["chatlog"])


def test_every_slice_round_trips(rich_world):
    document = rich_world.to_dict()
    restored = World.from_dict(json.loads(json.dumps(document)), rich_world.phones)
    assert restored.to_dict() == document
    for before, after in zip(rich_world.services, restored.services):
        lost = {name: value for name, value in _public_fields(before).items()
                if _public_fields(after).get(name) != value}
        assert not lost, (f"{type(before).__name__} keeps fields no slice writes or its load does not read back: "
                          f"{sorted(lost)}; declare them in its `slices` (world/service.py)")


WRITING_ROUTES = [r for r in ROUTES if r.writes and not r.refuses]


@pytest.mark.parametrize("route", WRITING_ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_what_every_route_writes_round_trips(route):
    """Each route that changes state, run on its example's fresh fake: whatever it wrote
    (into any service's fields) reads back from the state document it dumps."""
    app = fresh_app()
    run(route, app=app)
    world = app.world
    with world.lock:
        document = world.to_dict()
    restored = World.from_dict(json.loads(json.dumps(document)), world.phones)
    assert restored.to_dict() == document
    for before, after in zip(world.services, restored.services):
        lost = sorted(name for name, value in _public_fields(before).items() if _public_fields(after)[name] != value)
        assert not lost, f"{route.method} {route.path} wrote {type(before).__name__}.{lost}, which no slice keeps"


def _public_fields(service: Service) -> dict:
    return {name: _normal(value) for name, value in vars(service).items()
            if not name.startswith("_") and name != "world"}


# Rebuilt by a load rather than read back: an item's place in its store's change order.
REBUILT = {"seq"}


def _normal(value):
    """A value as plain data to compare: containers by content, objects by their public
    attributes (private ones are indexes and counters a load rebuilds)."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, deque)):
        return [_normal(v) for v in value]
    if isinstance(value, set):
        return sorted(map(repr, value))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _normal(getattr(value, f.name)) for f in dataclasses.fields(value) if f.name not in REBUILT}
    if hasattr(value, "__dict__") and type(value).__module__.startswith("ocss_testkit."):
        return {k: _normal(v) for k, v in vars(value).items() if not k.startswith("_")}
    return value
