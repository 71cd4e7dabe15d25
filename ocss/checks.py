"""Argument checks: errors of use are found before anything is sent, and raised as Python
raises them (SyncServer API Python interface, 'Exceptions', as this edition words it).

The rule, the same for every public call:

* an argument of the wrong type is a ``TypeError``;
* an argument of the right type with a value the library can tell is wrong by itself --
  an empty required string, a value outside a fixed set the library documents (a
  binding's ``dominant``, a GData ``token_type``), a ``since`` it cannot read, text that
  XML cannot carry, bytes that are not UTF-8, a timeout that is not a positive number --
  is a ``ValueError``;
* whether a well-formed value suits the service (a phone number, a time zone, a model
  id, a pincode) is the server's to say: a refusal is a
  :class:`~ocss.exceptions.ClientError` (or another ``OCSSAPIError``).

Every message names the call and the argument, says what was expected and shows what
was given.
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


def described(value: Any) -> str:
    """`value` for an error message: its repr cut to 60 characters, with its type unless
    it is text."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{type(value).__name__} {shown}" if not isinstance(value, (str, bytes)) else shown


def text(value: Any, what: str, *, optional: bool = False, empty: bool = False) -> Any:
    """``value`` when it is a ``str`` (or None, when ``optional``).

    :param what: the call and argument, for messages: ``"syncml.new(): phone_number"``.
    :param empty: whether ``""`` is allowed.
    :raises TypeError: neither a ``str`` nor an allowed None.
    :raises ValueError: ``""`` where a value is required.
    """
    if value is None and optional:
        return None
    if not isinstance(value, str):
        expected = "a str or None" if optional else "a str"
        raise TypeError(f"{what} must be {expected}, not {described(value)}")
    if not empty and not value:
        raise ValueError(f"{what} must not be empty")
    return value


def raw_text(value: Any, what: str, *, optional: bool = False, empty: bool = True) -> Any:
    """A ``str``, or ``bytes`` taken as UTF-8 and returned as ``str`` (or None, when
    ``optional``).

    :raises TypeError: neither ``str`` nor ``bytes`` (nor an allowed None).
    :raises ValueError: bytes that are not UTF-8; ``""`` where a value is required.
    """
    if value is None and optional:
        return None
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"{what} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not isinstance(value, str):
        expected = "a str, bytes or None" if optional else "a str or bytes"
        raise TypeError(f"{what} must be {expected}, not {described(value)}")
    if not empty and not value:
        raise ValueError(f"{what} must not be empty")
    return value


def integer(value: Any, what: str) -> int:
    """An ``int`` (not a ``bool``).

    :raises TypeError: anything else.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not {described(value)}")
    return value


def choice(value: Any, what: str, choices: Iterable[Any]) -> Any:
    """``value`` when it is one of ``choices`` (all of one type, ``str`` or ``int``).

    :raises TypeError: not of the choices' type.
    :raises ValueError: of their type, but not one of them.
    """
    options = tuple(choices)
    kind = type(options[0])
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TypeError(f"{what} must be a {kind.__name__}, one of {', '.join(map(repr, options))}; "
                        f"not {described(value)}")
    if value not in options:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, options))}, not {value!r}")
    return value


def timeout(value: Any, what: str = "timeout") -> float:
    """A positive, finite number of seconds, as a ``float``.

    :raises TypeError: not an ``int`` or ``float`` (a ``bool`` neither).
    :raises ValueError: zero, negative, infinite or NaN.
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{what} must be a number of seconds (int or float), not {described(value)}")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{what} must be a positive, finite number of seconds, not {value!r}")
    return seconds
