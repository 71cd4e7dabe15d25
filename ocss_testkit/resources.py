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
