"""Text the API can show: what every string kept in state (and every JSON string that
comes in) must be, since it is shown in Atom answers (XML 1.0 §2.2, RFC 7493 §2.1)."""
from __future__ import annotations

import json
import re

# --- text the API can show ---------------------------------------------------------------------
# XML 1.0 §2.2, Char: what an Atom answer can hold. A state string is shown in Atom answers
# (names, numbers, ids, item data, chat XML), so the document refuses everything else of
# Unicode: C0 controls but tab, line feed and carriage return; U+FFFE and U+FFFF; and the
# surrogates, which are no characters (a str holds one only when a JSON escape such as
# "\ud800" left one unpaired, RFC 7493 §2.1) and which no answer could even encode. The HTTP
# layer holds what comes in to the same rule (answers.py: JSON bodies, paths, parameters).
NOT_XML_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text_problem(text: str) -> str | None:
    """The first character that makes `text` unfit for an answer, described for a sentence
    ("an unpaired surrogate \\ud800, which is no character (RFC 7493 §2.1)", "U+0000, which
    XML 1.0 cannot hold (§2.2, Char)"), or None when there is none. One regex search."""
    found = NOT_XML_TEXT.search(text)
    if found is None:
        return None
    code = ord(found.group(0))
    if 0xD800 <= code <= 0xDFFF:
        return f"an unpaired surrogate \\u{code:04x}, which is no character (RFC 7493 §2.1)"
    return f"U+{code:04X}, which XML 1.0 cannot hold (§2.2, Char)"


def text_culprit(data: object) -> tuple[str, str, str] | None:
    """The first string or member name of a JSON document (in document order) that
    `text_problem` refuses, as (JSON Pointer, "string" or "member name", the problem);
    None when there is none. Iterative: a document may nest as deep as its parser allows.

    A document whose text is all fine (the usual case) is seen at C speed, serialized once;
    only a suspect one is walked, string by string."""
    if _all_text_fine(data):
        return None
    stack: list = [("", data)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return pointer, "string", problem
        elif isinstance(value, dict):
            children = []
            for key, child in value.items():
                problem = text_problem(key) if isinstance(key, str) else None
                children.append((f"{pointer}/{escape_pointer(str(key))}", _BadName(problem) if problem else child))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{pointer}/{i}", child) for i, child in enumerate(value)]))
        elif isinstance(value, _BadName):
            return pointer, "member name", value.problem
    return None


def _all_text_fine(data: object) -> bool:
    try:
        dumped = json.dumps(data, ensure_ascii=False, check_circular=False)
        dumped.encode("utf-8")  # raises on an unpaired surrogate
    except (UnicodeEncodeError, TypeError, ValueError, RecursionError):
        return False
    # json.dumps writes U+0000-U+001F as escapes (\u0001, \b, \f): the strings are walked
    # only when one of those (or U+FFFE, U+FFFF) is there; an escaped backslash before a
    # "b" costs a walk that finds nothing.
    return not (_ESCAPED_CONTROL.search(dumped) or "\ufffe" in dumped or "\uffff" in dumped)


_ESCAPED_CONTROL = re.compile(r"\\(?:u00(?:0[0-8bcef]|1[0-9a-f])|[bf])")


class _BadName:
    """Stands in for a member whose name is the culprit, so that it is found in document order."""
    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


def escape_pointer(key: str) -> str:
    """One reference token of a JSON Pointer (RFC 6901 §3: `~` as `~0`, `/` as `~1`) for a
    sentence: cut to 64 characters, what cannot be shown (controls, surrogates) escaped."""
    key = key.replace("~", "~0").replace("/", "~1")
    key = key if len(key) <= 64 else key[:64] + "…"
    return key if key.isprintable() else "".join(
        c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii") for c in key)
