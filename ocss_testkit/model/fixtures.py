"""Fixture sets: the seed data a World is built from, parsed once and built many times.

A set is a folder under `fixtures/` (or any folder) holding `world.json`; the phones
database it points at is loaded once per process (phones.load_phones) and shared.
Building a World from a parsed set is what a reset does, so it must stay cheap.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..clock import parse_iso_z
from ..resources import fixtures_dir
from .errors import Invalid
from .phones import PhonesDB, load_phones
from .world import (GDataClient, GDataDatastore, SyncMLClient, SyncMLDatastore, Token, User,
                    World)


class FixtureError(ValueError):
    """A fixture set that cannot be loaded; the message names the file and the problem."""


class FixtureSet:
    def __init__(self, name: str, spec: dict, phones: PhonesDB) -> None:
        self.name = name
        self.spec = spec
        self.phones = phones
        self.consumers = {c["key"]: c["secret"] for c in spec.get("consumers", [])}
        self.users = [User(**u) for u in spec.get("users", [])]
        for u in self.users:
            if u.consumer_key not in self.consumers:
                raise Invalid(f"fixture user {u.name!r} names unknown consumer {u.consumer_key!r}")

    @classmethod
    def load(cls, name_or_dir: str | Path = "demo") -> "FixtureSet":
        path = Path(name_or_dir)
        if not path.is_dir():
            path = fixtures_dir() / str(name_or_dir)
        world_file = path / "world.json"
        if not world_file.is_file():
            raise FileNotFoundError(f"no fixture set at {path} (expected {world_file.name})")
        try:
            spec = json.loads(world_file.read_text("utf-8"))
            phones_file = (path / spec.get("phones", "../phones.json")).resolve()
            fixture_set = cls(path.name, spec, load_phones(phones_file))
            fixture_set.build()  # a set that cannot build a World is refused now, not on reset
        except FixtureError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OSError, Invalid) as exc:
            detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise FixtureError(f"fixture set {world_file}: {detail}") from exc
        return fixture_set

    def build(self, **world_options) -> World:
        world = World(self.phones, self.users, self.consumers, **world_options)
        for c in self.spec.get("clients", []):
            world.add_client(client_from_spec(c, self.phones))
        return world


def client_from_spec(c: dict, phones: PhonesDB) -> GDataClient | SyncMLClient:
    """A client from its fixture form (the shape of `world.json`), for seeding a World."""
    published = parse_iso_z(c["published"])
    updated = parse_iso_z(c.get("updated", c["published"]))
    if c["kind"] == "gdata":
        stores = [GDataDatastore(d["dataclass"], d["href"], d.get("name", d["dataclass"]),
                                 Token(**d["token"]) if d.get("token") else None)
                  for d in c.get("datastores", [])]
        return GDataClient(c["uuid"].lower(), c["owner"], c["user_id"], stores, published, updated)
    if c["kind"] == "syncml":
        model = phones.model(str(c["model_uuid"]))
        if model is None:
            raise Invalid(f"fixture client {c['uuid']} names unknown model {c['model_uuid']!r}")
        setup = c.get("setup") or {}
        return SyncMLClient(
            uuid=c["uuid"].lower(), owner=c["owner"], phone_number=c["phone_number"],
            model_ref=str(c["model_uuid"]), model=model, timezone=c.get("timezone", "UTC"),
            imei=c.get("imei", ""), published=published, updated=updated,
            setup_sent=parse_iso_z(setup["sent"]) if setup.get("sent") else None,
            setup_name=setup.get("name", ""),
            datastores=[SyncMLDatastore(d["dataclass"], d["name"]) for d in c.get("datastores", [])])
    raise Invalid(f"fixture client {c.get('uuid')} has unknown kind {c.get('kind')!r}")
