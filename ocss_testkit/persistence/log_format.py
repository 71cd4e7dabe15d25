"""The state file's format, without any World and without the live file: its lines,
how they are encoded, and how a file's bytes are read back into a `/_fake/state`
document and the OAuth nonces it holds (the package's docstring describes the format).
"""
from __future__ import annotations

import json
import os
from collections import deque
from pathlib import Path

from ocss_testkit.world.state import ENVELOPE
from ocss_testkit.world.world import state_slices

FORMAT = "ocss-state-log"
FORMAT_VERSION = 1

# The slices of the state document (each owned by a service, world/service.py) by how a
# log line changes them. Keyed, "list": entries with their key in a field, in the
# slice's document order; keyed, "map": an object keyed by number or name; sequences:
# appended to and evicted from their head; the head: written whole.
SLICES = {s.name: s for s in state_slices()}
LIST_PARTS = {s.name: s.key_field for s in SLICES.values() if s.shape == "keyed" and s.key_field}
MAP_PARTS = tuple(s.name for s in SLICES.values() if s.shape == "keyed" and not s.key_field)
SEQUENCES = tuple(s.name for s in SLICES.values() if s.shape == "sequence")
HEAD_FIELDS = ENVELOPE + tuple(s.name for s in SLICES.values() if s.shape == "whole")
DOCUMENT_ORDER = ENVELOPE + tuple(SLICES)
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class StateFileError(Exception):
    """A state file that cannot be read, loaded or written; the message names the file."""


# --- writing ------------------------------------------------------------------------------
def compact_json(value: object) -> str:
    """`value` as the file writes it: UTF-8 text as is, no spaces."""
    return _JSON.encode(value)


def record_line(record: dict) -> bytes:
    """One line of the file: `record` as compact JSON, UTF-8, ending in a newline."""
    return (_JSON.encode(record) + "\n").encode("utf-8")


def snapshot_line(state: dict, nonces: list[list[str]]) -> bytes:
    """The first line of a file: the whole state document and the nonces in the window."""
    return record_line({FORMAT: FORMAT_VERSION, "state": state, "nonces": nonces})


def nonces_line(key: list[str]) -> bytes:
    """A line of one OAuth nonce accepted since the last save."""
    return record_line({"nonces": [list(key)]})


# --- reading ------------------------------------------------------------------------------
class _Parts:
    """The state document cut into parts a log line can change one entry at a time."""

    def __init__(self, doc: object) -> None:
        if not isinstance(doc, dict):
            raise ValueError("the snapshot is not a JSON object")
        self.head = {k: v for k, v in doc.items() if k not in LIST_PARTS and k not in MAP_PARTS
                     and k not in SEQUENCES}
        self.keyed: dict[str, dict] = {}
        for name, field in LIST_PARTS.items():
            self.keyed[name] = {entry[field]: entry for entry in doc.get(name, [])}
        for name in MAP_PARTS:
            self.keyed[name] = dict(doc.get(name, {}))
        self.sequences = {name: deque(doc.get(name, [])) for name in SEQUENCES}

    def apply(self, record: dict) -> list:
        """One log line; returns the nonces it carries."""
        if not isinstance(record, dict):
            raise ValueError("a record is a JSON object")
        head = record.get("head", {})
        for field in HEAD_FIELDS:
            if field in head:
                self.head[field] = head[field]
        for name, pairs in record.get("set", {}).items():
            part = self.keyed[name]
            for key, entry in pairs:
                part[key] = entry
        for name, keys in record.get("del", {}).items():
            part = self.keyed[name]
            for key in keys:
                part.pop(key, None)
        for name, entries in record.get("append", {}).items():
            self.sequences[name].extend(entries)
        for name, count in record.get("evict", {}).items():
            sequence = self.sequences[name]
            for _ in range(min(int(count), len(sequence))):
                sequence.popleft()
        return list(record.get("nonces", []))

    def document(self) -> dict:
        parts: dict = dict(self.head)
        for name in LIST_PARTS:
            entries = list(self.keyed[name].values())
            order = SLICES[name].document_order
            if order is not None:
                entries.sort(key=order)
            parts[name] = entries
        for name in MAP_PARTS:
            parts[name] = dict(sorted(self.keyed[name].items()))
        for name, sequence in self.sequences.items():
            parts[name] = [e for e in sequence if e is not None]  # a revoked issued token
        ordered = {k: parts.pop(k) for k in DOCUMENT_ORDER if k in parts}
        ordered.update(parts)  # anything else (a hand-made snapshot): the loader names it
        return ordered


def parse(raw: bytes, where: str = "state file") -> tuple[dict, list]:
    """The state document and the nonces in a state file's bytes (either format).

    Raises StateFileError naming `where` and what is wrong. A last line that does not
    parse is a save cut short by a kill, never acknowledged: it is left out.
    """
    first, newline, rest = raw.partition(b"\n")
    try:
        header = json.loads(first)
    except (ValueError, UnicodeDecodeError):
        header = None
    if not (isinstance(header, dict) and FORMAT in header):
        try:  # a file of earlier versions: one JSON document, perhaps over many lines
            return json.loads(raw), []
        except (ValueError, UnicodeDecodeError) as exc:
            raise StateFileError(f"{where}: not a JSON document: {exc}") from None
    if header[FORMAT] != FORMAT_VERSION:
        raise StateFileError(f"{where}: log format {header[FORMAT]!r}; this toolkit reads {FORMAT_VERSION}")
    try:
        parts = _Parts(header.get("state"))
        nonces = list(header.get("nonces", []))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise StateFileError(f"{where}: line 1 is not a snapshot: {exc}") from None
    _replay(parts, nonces, rest.split(b"\n"), where)
    return parts.document(), nonces


def _replay(parts: _Parts, nonces: list, lines: list[bytes], where: str) -> None:
    """Apply the lines after the snapshot (line 2 on) to `parts`, adding their nonces to
    `nonces`."""
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            if not any(x.strip() for x in lines[number - 1:]):
                break  # the torn tail of an unacknowledged save
            raise StateFileError(f"{where}: line {number} is not a JSON record: {exc}") from None
        try:
            nonces.extend(parts.apply(record))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            raise StateFileError(f"{where}: line {number} is not a record this toolkit wrote: {exc!r}") from None


def read_state(path: str | os.PathLike) -> dict:
    """The `/_fake/state` document a state file holds (for tools and tests; takes no lock)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StateFileError(f"state file {path}: cannot read it: {exc.strerror or exc}") from None
    return parse(raw, f"state file {path}")[0]
