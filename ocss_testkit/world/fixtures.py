"""Fixture sets: the seed data a World is built from, parsed once and built many times.

A set is a folder holding either `world.json`, a (partial) state document (state.py), or
`patch.json`, `{"base": "<set>", "patch": [RFC 6902 operations]}` applied over the whole
state document of another set; docs/fixture-sets.md describes both. The shipped sets sit
in the package's `fixtures/` folder and are named by their folder's name (`demo`); any
other set is named by its folder.

A set is checked when it is loaded, never on reset: its file against the JSON Schema
`fixtures/world.schema.json` (which describes `GET/PUT /_fake/state` too;
fixture_schema.py), then by
building a World, which checks what a schema cannot (owners, consumers, phone models,
time zones). Every refusal is a FixtureError naming the set, its file, the JSON Pointer
(RFC 6901) of the problem and what was expected there; where the schema finds several
problems, its first line sums them up and one line per problem follows (at most
MAX_LISTED), so that a broken set is mended in one round.

The phones database a set uses is the shipped one unless its world.json names another
in `phones` (relative to the set's own folder); it is parsed once per process
(phones.load_phones) and shared. Building a World from a parsed set is what a reset does,
so it must stay cheap.
"""
from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import jsonpatch

from ocss_testkit.package_data import fixtures_dir, phones_path
from ocss_testkit.services.phones.database import PhonesDB, load_phones
from ocss_testkit.world.errors import Invalid
from ocss_testkit.world.fixture_schema import (  # noqa: F401 - MAX_LISTED, schema_problem…: re-exported
    MAX_LISTED,
    problems_message,
    schema_problem,
    schema_problems,
    validate_state,
    world_schema,
)
from ocss_testkit.world.world import World

SET_FILES = ("world.json", "patch.json")


class FixtureError(ValueError):
    """A fixture set that cannot be loaded. The message's first line names the set, its
    file, where in it the problem is and what was expected; when the JSON Schema finds
    several problems, that line says how many and the first, and each of them follows on
    its own line, `  FILE at /json/pointer: what was expected` (the first MAX_LISTED, then
    how many more). `problems` holds all of them as (file, pointer, expected) tuples; it
    is empty for a refusal of another kind (unreadable file, unknown set, failed patch)."""

    def __init__(self, message: str, problems: list[tuple[str, str, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class UnknownFixtureSet(FixtureError):
    """No fixture set by that name or in that folder. `available` holds the names of the
    shipped sets, which the message lists too."""

    def __init__(self, ref: str, available: list[str], detail: str = "") -> None:
        self.ref = ref
        self.available = available
        super().__init__(f"no fixture set {ref!r}{detail}; available: {', '.join(available) or 'none'}; "
                         "or a folder holding world.json or patch.json")


class _Loop(FixtureError):
    """Sets whose patch.json bases lead back to themselves (not wrapped again on the way out)."""


def available_sets() -> list[str]:
    """Names of the shipped fixture sets (folders of `fixtures/` holding world.json or
    patch.json), sorted."""
    return sorted(p.name for p in fixtures_dir().iterdir() if p.is_dir() and _holds_set(p))


def _holds_set(folder: Path) -> bool:
    return any((folder / f).is_file() for f in SET_FILES)


def _is_path(ref: str | os.PathLike[str]) -> bool:
    text = str(ref)
    return isinstance(ref, os.PathLike) or "/" in text or os.sep in text or text.startswith(".")


def _locate(ref: str | os.PathLike[str], paths_from: Path, names_from: Path) -> Path:
    """The folder `ref` names: a path (a Path, or text with a slash or a leading dot) is
    taken relative to `paths_from`; a bare name is the shipped set of that name, else the
    folder of that name in `names_from`."""
    text = str(ref)
    if not text.strip():
        raise UnknownFixtureSet(text, available_sets())
    if _is_path(ref):
        path = paths_from / Path(ref)  # an absolute path stays as it is
    else:
        shipped = fixtures_dir() / text
        path = shipped if _holds_set(shipped) else names_from / text
    if not path.is_dir():
        detail = "" if not _is_path(ref) else " (no such folder)" if str(path) == text else f" (no folder {path})"
        raise UnknownFixtureSet(text, available_sets(), detail)
    if not _holds_set(path):
        raise UnknownFixtureSet(text, available_sets(),
                                f" (the folder {path} holds neither world.json nor patch.json)")
    return path.resolve()


class FixtureSet:
    """A parsed fixture set: `spec` is its state document (for a patch set, the patched
    whole state of its base), `phones` the phones database its Worlds use."""

    def __init__(self, name: str, spec: dict, phones: PhonesDB, *, folder: Path | None = None,
                 source: Path | None = None, phones_path: Path | None = None) -> None:
        self.name = name
        self.spec = spec
        self.phones = phones
        self.folder = folder  # where the set lives (None: built by hand)
        self.source = source  # its world.json or patch.json
        self.phones_path = phones_path  # the phones database file it uses

    @staticmethod
    def available() -> list[str]:
        """Names of the shipped fixture sets, sorted (`["demo"]`)."""
        return available_sets()

    @classmethod
    def load(cls, name_or_dir: str | os.PathLike = "demo") -> FixtureSet:
        """The set named `name_or_dir`: a shipped set's name (`"demo"`), or a folder (a
        Path, or text with a slash or a leading dot, relative to the current directory; a
        bare name that is no shipped set is a folder of the current directory too).

        Raises UnknownFixtureSet when there is no such set, FixtureError (both
        ValueErrors) when its files do not load; the message's first line says what is
        wrong, and several schema problems follow it one per line (FixtureError).
        """
        here = Path.cwd()
        return cls._load(name_or_dir, here, here, ())

    @classmethod
    def _load(cls, ref: str | os.PathLike[str], paths_from: Path, names_from: Path,
              seen: tuple[Path, ...]) -> FixtureSet:
        folder = _locate(ref, paths_from, names_from)
        if folder in seen:
            raise _Loop("fixture sets patch each other in a loop: "
                         + " -> ".join(f.name for f in seen + (folder,)))
        world_file, patch_file = folder / "world.json", folder / "patch.json"
        label = f"fixture set {folder.name!r}"
        if world_file.is_file() and patch_file.is_file():
            raise FixtureError(f"{label} ({folder}): holds both world.json and patch.json; keep one")
        source = world_file if world_file.is_file() else patch_file
        label += f" ({source})"
        try:
            data = json.loads(source.read_text("utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise FixtureError(f"{label}: cannot be read: {exc}") from None
        except ValueError as exc:  # json.JSONDecodeError
            raise FixtureError(f"{label}: not JSON: {exc}") from None

        if source is patch_file:
            _check(data, label, source.name, patch_set=True)
            base_ref = data.get("base", "demo")
            try:
                # Paths are relative to this set's folder; a bare name that is no shipped
                # set is a folder next to this one.
                base = cls._load(base_ref, folder, folder.parent, seen + (folder,))
            except _Loop:
                raise
            except FixtureError as exc:
                raise FixtureError(f"{label} at /base: {exc}", exc.problems) from None
            spec = _apply(base.build().to_dict(), data.get("patch", []), label)
            _check(spec, f"{label}: the patched state", "the patched state")
            phones, phones_file = base.phones, base.phones_path
        else:
            _check(data, label, source.name)
            spec = data
            phones_file, phones = _phones(data.get("phones"), folder, label)

        fixture_set = cls(folder.name, spec, phones, folder=folder, source=source, phones_path=phones_file)
        try:
            fixture_set.build()  # a set that cannot build a World is refused now, not on reset
        except Invalid as exc:
            message = str(exc)
            where = "" if source is world_file else ": the patched state"
            # state.load says "state /path: problem"; here the file is named instead.
            raise FixtureError(f"{label}{where} at {message[len('state '):]}" if message.startswith("state /")
                               else f"{label}{where}: {message}") from None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise FixtureError(f"{label}: {exc}") from None
        return fixture_set

    def build(self, **world_options: Any) -> World:
        return World.from_dict(self.spec, self.phones, **world_options)


def _phones(ref: str | None, folder: Path, label: str) -> tuple[Path, PhonesDB]:
    path = phones_path() if ref is None else folder / ref  # an absolute path stays as it is
    if not path.is_file():
        raise FixtureError(f"{label} at /phones: no phones file {str(ref)!r} (looked for {path.resolve()})")
    try:
        return path.resolve(), load_phones(path)
    except KeyError as exc:
        raise FixtureError(f"{label} at /phones: {path} is not a phones database: missing field {exc}") from None
    except (OSError, ValueError, TypeError, AttributeError, re.error) as exc:
        raise FixtureError(f"{label} at /phones: {path} is not a phones database: {exc}") from None


def _check(document: Any, label: str, where: str, *, patch_set: bool = False) -> None:
    """Raises FixtureError listing every way `document` (from `where`: a file name, or
    "the patched state") breaks the schema; nothing for a document it accepts."""
    problems = schema_problems(document, patch_set=patch_set)
    if problems:
        raise FixtureError(problems_message(label, where, problems), [(where, p, m) for p, m in problems])


def _apply(document: dict, operations: list, label: str) -> dict:
    try:
        return apply_patch(document, operations, in_place=True)  # this call's own dump
    except PatchFailed as exc:
        what = "the test operation failed" if exc.test else "cannot be applied"
        raise FixtureError(f"{label} at /patch/{exc.index}: {what}: {exc.reason}") from None


# --- JSON Patch, one operation at a time ----------------------------------------------------
_MISSING = object()
_SHOWN = 80  # characters of a value or path quoted in a message


class PatchFailed(ValueError):
    """One operation of an RFC 6902 JSON Patch that cannot be applied (RFC 6902 §5: then
    none is). `index` is its place in the list (from 0), `reason` why, in one sentence;
    `test` is True for a `test` operation whose value differs (RFC 6902 §4.6), which the
    control plane answers 409, against 400 for a malformed or inapplicable operation.
    The message: `operation 0 (test /users/1/name) failed: the value is 'alice', not 'bob'`."""

    def __init__(self, index: int, operation: object, reason: str, test: bool = False) -> None:
        self.index, self.reason, self.test = index, reason, test
        super().__init__(f"operation {index}{_operation_label(operation)} failed: {reason}")


def _shown(value: object, quoted: bool = False) -> str:
    """`value` for a message, cut to _SHOWN characters; `quoted`: as repr, so that the
    string '1' and the number 1 read differently."""
    text = repr(value) if quoted or not isinstance(value, str) else value
    return text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"


def _operation_label(operation: object) -> str:
    if not isinstance(operation, dict):
        return ""
    return f" ({_shown(operation.get('op', '?'))} {_shown(operation.get('path', '?'))})"


def _value_at(document: Any, pointer: str) -> Any:
    """The value at JSON Pointer `pointer` (RFC 6901), or _MISSING (also for a pointer
    that is not one)."""
    import jsonpointer

    try:
        return jsonpointer.resolve_pointer(document, pointer, _MISSING)
    except (jsonpointer.JsonPointerException, TypeError, AttributeError):
        return _MISSING


def _why(document: Any, operation: object, exc: Exception) -> str:
    if not isinstance(operation, dict):
        return 'an operation is a JSON object, like {"op": "test", "path": "/version", "value": 1}'
    # jsonpatch's own words name neither the pointer nor the value ("'zz'", "alice (<class
    # 'str'>) is not equal to …"): say which pointer holds nothing where one must hold a value.
    for field in ("from", "path"):
        pointer = operation.get(field)
        needs_value = field == "from" or operation.get("op") in ("remove", "replace", "test")
        if (isinstance(pointer, str) and pointer.startswith("/") and needs_value
                and _value_at(document, pointer) is _MISSING):
            return f"there is no value at {_shown(pointer)}" + (" (its from)" if field == "from" else "")
    path = operation.get("path")
    if isinstance(path, str) and path.startswith("/") and operation.get("op") in ("add", "move", "copy"):
        parent = path.rsplit("/", 1)[0]
        if parent and _value_at(document, parent) is _MISSING:
            return f"there is no value at {_shown(parent)} to add {_shown(path)} to"
    return _shown(str(exc)) if str(exc) else type(exc).__name__


def apply_patch(document: Any, operations: list[Any], in_place: bool = False) -> Any:
    """`document` with the RFC 6902 `operations` applied: a deep copy of it, or `document`
    itself changed with `in_place` (then half patched after a failure). One operation at
    a time, so that a failure names the operation (PatchFailed), which jsonpatch's own
    messages do not."""
    if not in_place:  # as jsonpatch does: the caller's document may share parts with live objects
        document = copy.deepcopy(document)
    for i, operation in enumerate(operations):
        try:
            document = jsonpatch.JsonPatch([operation]).apply(document, in_place=True)
        except jsonpatch.JsonPatchTestFailed:
            actual = _value_at(document, operation.get("path"))
            if actual is _MISSING:
                raise PatchFailed(i, operation, f"there is no value at {_shown(operation.get('path'))}",
                                  test=True) from None
            raise PatchFailed(i, operation, f"the value is {_shown(actual, True)}, "
                                            f"not {_shown(operation.get('value'), True)}", test=True) from None
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError,
                ValueError, AttributeError) as exc:
            raise PatchFailed(i, operation, _why(document, operation, exc)) from None
    return document
