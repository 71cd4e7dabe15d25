"""Where the shipped data lives.

In a source checkout `fixtures/` and `xsd/` sit at the top of the repository (the design
card); a normal install copies them to `ocss_testkit/_data/` (see pyproject.toml).
"""
from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"ocss-testkit data folder {name!r} not found next to {_PACKAGE}")


def fixtures_dir() -> Path:
    return data_dir("fixtures")


def xsd_dir() -> Path:
    return data_dir("xsd")


def phones_path() -> Path:
    """The shipped phones database: the one every fixture set uses unless it names another."""
    return fixtures_dir() / "phones.json"


def world_schema_path() -> Path:
    """The JSON Schema (draft 2020-12) of a fixture set's world.json and of the state
    document of `GET/PUT /_fake/state`; point an editor's `"$schema"` at it."""
    return fixtures_dir() / "world.schema.json"
