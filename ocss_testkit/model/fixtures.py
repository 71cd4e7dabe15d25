"""Fixture sets: the seed data a World is built from, parsed once and built many times.

A set is a folder under `fixtures/` (or any folder) holding either `world.json`, a
(partial) state document (see state.py), or `patch.json`: `{"base": "<set>", "patch":
[RFC 6902 operations]}` applied over the whole state document of another set. The phones database a set points at
is loaded once per process (phones.load_phones) and shared. Building a World from a
parsed set is what a reset does, so it must stay cheap.
"""
from __future__ import annotations

import json
from pathlib import Path

import jsonpatch

from ..resources import fixtures_dir
from .errors import Invalid
from .phones import PhonesDB, load_phones
from .state import _client, _Reader
from .world import World

class FixtureError(ValueError):
    """A fixture set that cannot be loaded; the message names the file and the problem."""


class FixtureSet:
    def __init__(self, name: str, spec: dict, phones: PhonesDB) -> None:
        self.name = name
        self.spec = spec
        self.phones = phones

    @classmethod
    def load(cls, name_or_dir: str | Path = "demo", _seen: tuple = ()) -> "FixtureSet":
        path = Path(name_or_dir)
        if not path.is_dir():
            path = fixtures_dir() / str(name_or_dir)
        world_file, patch_file = path / "world.json", path / "patch.json"
        if not world_file.is_file() and not patch_file.is_file():
            raise FileNotFoundError(f"no fixture set at {path} (expected world.json or patch.json)")
        source = world_file if world_file.is_file() else patch_file
        try:
            data = json.loads(source.read_text("utf-8"))
            if source is patch_file:
                base_name = data.get("base", "demo")
                if base_name in _seen:
                    raise Invalid(f"fixture sets patch each other in a loop: {' -> '.join(_seen + (base_name,))}")
                base = cls.load(base_name if Path(base_name).is_absolute() else
                                (path.parent / base_name if (path.parent / base_name).is_dir() else base_name),
                                _seen + (path.name,))
                # Over the base's whole state document: the shape PATCH /_fake/state sees.
                spec = jsonpatch.apply_patch(base.build().to_dict(), data.get("patch", []))
                phones = base.phones
            else:
                spec = data
                phones = load_phones((path / spec.get("phones", "../phones.json")).resolve())
            fixture_set = cls(path.name, spec, phones)
            fixture_set.build()  # a set that cannot build a World is refused now, not on reset
        except FixtureError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, OSError, Invalid,
                jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise FixtureError(f"fixture set {source}: {detail}") from exc
        return fixture_set

    def build(self, **world_options) -> World:
        return World.from_dict(self.spec, self.phones, **world_options)


def client_from_spec(c: dict, phones: PhonesDB, owners: set[str] | None = None):
    """A client from its state-document form, for seeding a World by hand."""
    return _client(_Reader(c, "/client"), phones, owners if owners is not None else {c.get("owner")})
