"""The JSON Schema of fixture sets and of the `/_fake/state` document
(`fixtures/world.schema.json`, draft 2020-12), and how its refusals read.

A problem is a JSON Pointer (RFC 6901) and what was expected there, in state.load's
words: the schema's own `errorMessage` where it has one (editors such as VS Code show
the same text), else a sentence made from the failed keyword. Where a document breaks
the schema in several places, every problem is listed (at most MAX_LISTED), so that a
broken set is mended in one round (fixtures.FixtureError).
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ocss_testkit.package_data import world_schema_path
from ocss_testkit.world.errors import Invalid

# Problems listed one per line in a FixtureError; more are counted, not listed: a file
# broken everywhere would otherwise print a screenful per element.
MAX_LISTED = 20
_MAX_LINE = 200  # characters of one listed problem: a schema message may quote a whole value


@lru_cache(maxsize=1)
def _validators() -> tuple[Any, Any]:  # jsonschema validators (the library ships no types)
    """(world validator, patch.json validator), compiled once per process."""
    from jsonschema import Draft202012Validator, validators

    schema = json.loads(world_schema_path().read_text("utf-8"))
    # An integer is what state.load takes: not 2.0 (JSON Schema's integer), not true.
    checker = Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool))
    strict = validators.extend(Draft202012Validator, type_checker=checker)
    return strict(schema), strict({"$defs": schema["$defs"], "$ref": "#/$defs/patch_set"})


def world_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of world.json and of the `/_fake/state` document."""
    return _validators()[0].schema


def schema_problem(document: Any) -> tuple[str, str, int] | None:
    """The most relevant way `document` breaks the world schema, as (JSON Pointer, what
    was expected, how many problems in all); None for a document the schema accepts.
    The schema checks shapes only: state.load also checks the references between parts."""
    return _problem(_validators()[0], document)


def validate_state(document: Any) -> None:
    """Raises Invalid("state /path: problem"), state.load's form, for a document the
    world schema refuses."""
    problem = schema_problem(document)
    if problem:
        path, message, count = problem
        raise Invalid(f"state {path}: {message}{_more(count)}")


def schema_problems(document: Any, *, patch_set: bool = False) -> list[tuple[str, str]]:
    """Every way `document` breaks the world schema (with `patch_set`: the schema of a
    patch.json) as (JSON Pointer, what was expected), the most relevant one first; [] for
    a document the schema accepts."""
    return _problems(_validators()[1 if patch_set else 0], document)


def problems_message(label: str, where: str, problems: list[tuple[str, str]]) -> str:
    """The message of a refusal for `problems` (schema_problems, at least one) in the
    document from `where` (a file name, or "the patched state"): one line for one
    problem; else a line summing them up, then one line per problem (the first
    MAX_LISTED, each cut to _MAX_LINE characters) and how many more."""
    path, message = problems[0]
    if len(problems) == 1:
        return f"{label} at {path}: {message}"
    lines = [f"{label}: {len(problems)} problems; the first at {path}: {message}"]
    lines += [_clip(f"  {where} at {p}: {m}") for p, m in problems[:MAX_LISTED]]
    if len(problems) > MAX_LISTED:
        lines.append(f"  (and {len(problems) - MAX_LISTED} more, not listed)")
    return "\n".join(lines)


def _clip(line: str) -> str:
    return line if len(line) <= _MAX_LINE else line[:_MAX_LINE - 1] + "…"


def _problems(validator: Any, document: Any) -> list[tuple[str, str]]:
    """Every way `document` breaks the schema as (JSON Pointer, what was expected), in
    the validator's order, the most relevant one first; each of them is the most
    relevant part of one failed keyword (an `anyOf` is one problem, not one per branch)."""
    from jsonschema.exceptions import best_match

    errors = list(validator.iter_errors(document))
    if not errors:
        return []
    first = best_match(errors)
    found = [(_pointer(first), _explain(first))]
    for error in errors:
        problem = best_match([error])
        entry = (_pointer(problem), _explain(problem))
        if entry not in found:
            found.append(entry)
    return found


def _pointer(error: Any) -> str:
    steps = list(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:  # the key itself is wrong: point at it
        steps.append(error.instance)
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in steps) or "/"


def _more(count: int) -> str:
    return f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""


def _problem(validator: Any, document: Any) -> tuple[str, str, int] | None:
    from jsonschema.exceptions import best_match

    errors = list(validator.iter_errors(document))
    if not errors:
        return None
    error = best_match(errors)
    return _pointer(error), _explain(error), len(errors)


_TYPE_NAMES = {"object": "an object", "array": "a list", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "true or false", "null": "null"}


def _explain(error: Any) -> str:
    """What was expected, in state.load's words: the schema's `errorMessage` where it has
    one (editors such as VS Code show the same text), else from the failed keyword."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if "errorMessage" in schema:
        message = schema["errorMessage"]
        if "propertyNames" in error.absolute_schema_path:  # the pointer names the object, not the key
            message += f", not {str(error.instance)[:40]!r}"
        return message
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(schema.get("properties", {})))
        return f"unknown field(s) {', '.join(extra)}"
    if error.validator == "required":
        missing = [k for k in error.validator_value if k not in error.instance]
        return f"missing field {missing[0]!r}"
    if error.validator == "type":
        types: list[str] = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        return "expected " + " or ".join(_TYPE_NAMES.get(t, t) for t in types)
    if error.validator == "enum":
        choices = [json.dumps(c) if not isinstance(c, str) else c for c in error.validator_value]
        return "expected " + (", ".join(choices[:-1]) + " or " + choices[-1] if len(choices) > 1 else choices[0])
    if error.validator == "const":
        return f"expected {json.dumps(error.validator_value)}"
    return error.message
