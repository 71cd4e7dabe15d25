"""Typed reading of a state document that names the JSON Pointer of whatever is wrong."""
from __future__ import annotations

import builtins
import math
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, NoReturn

from ocss_testkit.world.clock import EARLIEST, LATEST, iso_z, parse_iso_z
from ocss_testkit.world.errors import Invalid

if TYPE_CHECKING:
    from ocss_testkit.services.phones.database import Model, PhonesDB

# The largest integer the fake takes anywhere (ids, counts, seconds, in state documents and
# requests alike): the range of exact integers in JSON (RFC 7493 "I-JSON", §2.2). Past it,
# JSON readers disagree on values, ids could not be looked up from a URL, and Python's int()
# refuses strings of more than 4,300 digits outright.
MAX_INT = 2 ** 53 - 1
TIME_RANGE = tuple(iso_z(datetime.fromtimestamp(t, timezone.utc)) for t in (EARLIEST, LATEST))


class StateReader:
    """Typed access to a JSON value that reports the path of whatever is wrong."""

    def __init__(self, value: Any, path: str = "") -> None:
        self.value = value  # a JSON value (json.loads), checked by the typed readers below
        self.path = path or "/"

    def fail(self, message: str) -> NoReturn:
        raise Invalid(f"state {self.path}: {message}")

    def at(self, key: builtins.str | builtins.int, default: Any = ...) -> StateReader:
        """The member `key` of an object (or the element of a list at index `key`), or
        `default` (Ellipsis: none, the member is required) when the object lacks it."""
        if isinstance(self.value, dict):
            if key not in self.value:
                if default is ...:
                    self.fail(f"missing field {key!r}")
                return StateReader(default, self._child(key))
            return StateReader(self.value[key], self._child(key))
        if isinstance(self.value, list) and isinstance(key, int):
            return StateReader(self.value[key], self._child(key))
        self.fail("expected an object")  # a field asked of a list or a scalar

    def _child(self, key: builtins.str | builtins.int) -> builtins.str:
        # An RFC 6901 JSON Pointer, usable as is in a JSON Patch (`/handsets/+47~1x`).
        token = str(key).replace("~", "~0").replace("/", "~1")
        return f"{'' if self.path == '/' else self.path}/{token}"

    def obj(self) -> StateReader:
        if not isinstance(self.value, dict):
            self.fail("expected an object")
        return self

    def known(self, *fields: str) -> StateReader:
        unknown = set(self.obj().value) - set(fields)
        if unknown:
            self.fail(f"unknown field(s) {', '.join(sorted(unknown))}")
        return self

    def items(self) -> list[StateReader]:
        if not isinstance(self.value, list):
            self.fail("expected a list")
        return [self.at(i) for i in range(len(self.value))]

    def pairs(self) -> list[tuple[builtins.str, StateReader]]:
        return [(k, self.at(k)) for k in self.obj().value]

    def str(self, allow_empty: builtins.bool = True) -> builtins.str:
        if not isinstance(self.value, str) or (not allow_empty and not self.value):
            self.fail("expected a non-empty string" if not allow_empty else "expected a string")
        return self.value

    def opt_str(self) -> builtins.str | None:
        return None if self.value is None else self.str()

    def int(self) -> builtins.int:
        if not isinstance(self.value, int) or isinstance(self.value, bool):
            self.fail("expected an integer")
        if not -MAX_INT <= self.value <= MAX_INT:
            self.fail(f"expected an integer from -{MAX_INT} to {MAX_INT}")
        return self.value

    def seconds(self, low: float, high: float) -> float:
        """A finite number from `low` to `high` (1e999 reads as infinity in Python's json)."""
        value = self.value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                math.isfinite(value) and low <= value <= high):
            self.fail(f"expected seconds from {low:g} to {high:g}")
        return value

    def bool(self) -> builtins.bool:
        if not isinstance(self.value, bool):
            self.fail("expected true or false")
        return self.value

    def time(self) -> datetime:
        """A UTC time within the virtual clock's range (clock.EARLIEST..LATEST): a time
        the clock could have written. Past it, a year 1 has no timestamp on some systems
        and the fake's arithmetic on times (a token's expiry, a code's lifetime) would
        leave what datetime can hold."""
        try:
            moment = parse_iso_z(self.str())
        except ValueError:
            self.fail("expected a UTC time like 2009-11-01T12:30:00Z")
        if not EARLIEST <= moment.timestamp() <= LATEST:
            self.fail(f"expected a UTC time from {TIME_RANGE[0]} to {TIME_RANGE[1]}, the virtual clock's range")
        return moment

    def opt_time(self) -> datetime | None:
        return None if self.value is None else self.time()

    def one_of(self, *choices: builtins.str) -> builtins.str:
        """A string of a closed set (see `one_of`)."""
        return one_of(self, *choices)


def int_key(key: str, reader: StateReader) -> bool:
    # ASCII digits and bounded before int(): "²" is a digit int() refuses, and 5,000 digits
    # are past its limit; either would escape as a ValueError instead of naming the key.
    if not (key.isascii() and key.isdigit() and len(key) <= len(str(MAX_INT)) and int(key) <= MAX_INT):
        reader.fail(f"answers are keyed by message id (an integer up to {MAX_INT}), not {key[:40]!r}")
    return True


def one_of(reader: StateReader, *choices: str) -> str:
    # Closed sets: a token's type_tag becomes an XML element name, a sync_type a SyncML alert
    # code; another value would fail when rendered, long after the document was accepted.
    value = reader.str()
    if value not in choices:
        reader.fail(f"expected {', '.join(choices[:-1])} or {choices[-1]}")
    return value


def unique(reader: StateReader, values: list[Any], what: str) -> None:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            reader.fail(f"duplicate {what} {v!r}")
        seen.add(v)


def owner(reader: StateReader, names: set[str]) -> str:
    owner = reader.at("owner").str(False)
    if owner not in names:
        reader.at("owner").fail(f"names unknown user {owner!r}")
    return owner


def model(reader: StateReader, phones: PhonesDB) -> Model:
    value = reader.value
    model = phones.model(str(value)) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    if model is None:
        reader.fail(f"unknown phone model {value!r}")
    return model
