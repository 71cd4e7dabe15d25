"""Numbers and JSON from requests, strictly: ids from URL segments and JSON bodies
within the I-JSON range (RFC 7493), every string text an answer can carry."""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from ocss_testkit.answers import ApiError, shown
from ocss_testkit.world.state_reader import MAX_INT
from ocss_testkit.world.text_rules import escape_pointer, text_culprit


def parse_id(text: str) -> int | None:
    """An id from a URL segment: ASCII digits (leading zeros allowed) up to MAX_INT, else None.

    Never calls int() on an unbounded string: a 5,000-digit id is simply no id."""
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(MAX_INT)):
        return None
    value = int(digits)
    return value if value <= MAX_INT else None


T = TypeVar("T")


class _OutOfRange:
    """Stands in for a JSON number no field could take, so the message can name the field."""
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _json_int(text: str) -> int | _OutOfRange:
    if len(text.lstrip("-")) > len(str(MAX_INT)):
        return _OutOfRange(text)
    value = int(text)
    return value if -MAX_INT <= value <= MAX_INT else _OutOfRange(text)


def _json_float(text: str) -> float | _OutOfRange:
    value = float(text)  # 1e999 reads as infinity
    return value if math.isfinite(value) else _OutOfRange(text)


def _counting(parse: Callable[[str], T], made: list[_OutOfRange]) -> Callable[[str], T]:
    def hook(text: str) -> T:
        value = parse(text)
        if isinstance(value, _OutOfRange):
            made.append(value)
        return value
    return hook


def _json_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number JSON allows")


class _DuplicateKey(ValueError):
    pass


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return data


def load_json(raw: bytes | str, *, text_checked: bool = False) -> Any:
    """A JSON request body (RFC 8259), strictly: raises ApiError 400 naming the culprit for
    a body that is not JSON, nests too deep, gives a member twice (RFC 8259 §4 leaves the
    meaning open), or holds a number outside the I-JSON range (RFC 7493 §2.2: integers of
    magnitude at most 2**53 - 1, finite floats; 1e999 is no number). Named by JSON Pointer
    (RFC 6901), e.g. `/times`.

    Every string, member names included, must be text an answer can carry (`text_problem`
    of world/state.py), else ApiError 400 naming it: no unpaired surrogate (`"\\ud800"`,
    which RFC 8259 §8.2 lets through and RFC 7493 §2.1, I-JSON, forbids: it is no
    character, and no answer could encode it), and no character XML 1.0 cannot hold
    (U+0000, U+0001, U+FFFE…), as a string the fake keeps is shown in Atom answers.
    `text_checked=True` leaves that check to a caller that makes it itself and names its
    own paths (the state document: world/state.py refuses such strings, 422)."""
    made: list[_OutOfRange] = []  # out-of-range numbers met: the document is walked only when there are some
    try:
        data = json.loads(raw, parse_int=_counting(_json_int, made), parse_float=_counting(_json_float, made),
                          parse_constant=_json_constant, object_pairs_hook=_json_object)
    except _DuplicateKey as exc:
        raise ApiError(400, "Bad Request", f"the JSON body gives the member {shown(str(exc))} twice: "
                                           "give each member once") from None
    except RecursionError:
        raise ApiError(400, "Bad Request", "the JSON body nests too deep") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(400, "Bad Request", f"the body is not JSON: {exc}") from None
    # The walks that name a culprit run only when there is one: an out-of-range number was
    # made, or some string holds what `text_problem` refuses (text_culprit looks at C speed
    # first).
    where = _out_of_range(data) if made else None
    if where is not None:
        pointer, number = where
        digits = number.text if len(number.text) <= 24 else f"{number.text[:20]}… ({len(number.text)} characters)"
        raise ApiError(400, "Bad Request", f"the number {digits} at {pointer or 'the top level'} is out of range: "
                                           f"integers up to ±{MAX_INT}, finite decimals (RFC 7493 §2.2)")
    found = None if text_checked else text_culprit(data)
    if found is not None:
        pointer, what, problem = found
        raise ApiError(400, "Bad Request", f"the {what} at {pointer or 'the top level'} of the JSON body holds "
                                           f"{problem}: no answer could show it")
    return data


def _out_of_range(data: Any) -> tuple[str, _OutOfRange] | None:
    """The JSON Pointer and value of the first out-of-range number; iterative, as the
    document may nest as deep as the parser allows."""
    stack = [("", data)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, _OutOfRange):
            return pointer, value
        if isinstance(value, dict):
            children = [(f"{pointer}/{escape_pointer(k)}", v) for k, v in value.items()]
        elif isinstance(value, list):
            children = [(f"{pointer}/{i}", v) for i, v in enumerate(value)]
        else:
            continue
        stack.extend(reversed(children))
    return None
