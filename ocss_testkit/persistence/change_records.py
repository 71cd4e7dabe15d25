"""What a World changed since the state file last wrote it, as one log record.

A record names only what a request touched: the entries of the keyed slices its
tracked containers report (world/tracked.py), the elements appended to each sequence
and how many fell off its head, and the head (the envelope and the small slices) when
it differs. So a save costs what the change costs, not what the whole state weighs.
"""
from __future__ import annotations

from ocss_testkit.persistence.log_format import SEQUENCES, compact_json
from ocss_testkit.world.state import dump_envelope
from ocss_testkit.world.world import World

_MISSING = object()


def head_of(world: World) -> dict:
    """The members of the document a log line writes whole: the envelope and the small slices."""
    head = dump_envelope(world)
    for service, s, _ in world.slices():
        if s.shape == "whole":
            head[s.name] = s.entry(service)
    return head


class ChangeRecorder:
    """What the file holds of one World, enough to write only what changed since: the
    head as last written, and per sequence its last element saved and its length then.
    Made right after a snapshot of that World; used with the World's lock held."""

    def __init__(self, world: World) -> None:
        self._head = compact_json(head_of(world))
        self._sequences: dict[str, tuple[object, int]] = {  # name -> (last element saved, count)
            s.name: (container[-1] if container else None, len(container))
            for _, s, container in world.slices() if s.shape == "sequence"}

    def record(self, world: World) -> dict:
        """One log record: what differs from what the file already holds (empty when
        nothing does); from then on, the file is taken to hold it."""
        record: dict = {}
        head = head_of(world)
        encoded = compact_json(head)
        if encoded != self._head:
            record["head"], self._head = head, encoded
        parts = {s.name: (service, s, container) for service, s, container in world.slices()}
        sets, dels = self._keyed(world, parts)
        appended, evicted = self._sequenced(parts)
        for key, value in (("set", sets), ("del", dels), ("append", appended), ("evict", evicted)):
            if value:
                record[key] = value
        return record

    @staticmethod
    def _keyed(world: World, parts: dict) -> tuple[dict[str, list[list]], dict[str, list]]:
        """The entries written ("set": [key, entry] pairs) and deleted ("del": keys), per slice."""
        sets: dict[str, list[list]] = {}
        dels: dict[str, list] = {}
        for name, keys in world.take_changes().items():
            service, part_slice, part = parts[name]
            ordered: list | set = keys
            if part_slice.key_field and part_slice.document_order is None and len(keys) > 1:  # kept in order made
                ordered = [k for k in dict.keys(part) if k in keys] + [k for k in keys if k not in part]
            for key in ordered:
                value = dict.get(part, key, _MISSING)
                if value is _MISSING:
                    dels.setdefault(name, []).append(key)
                else:
                    sets.setdefault(name, []).append([key, part_slice.entry(service, key, value)])
        return sets, dels

    def _sequenced(self, parts: dict) -> tuple[dict[str, list], dict[str, int]]:
        """The elements appended to each sequence, and how many fell off its head."""
        appended, evicted = {}, {}
        for name in SEQUENCES:
            service, part_slice, sequence = parts[name]
            last, count = self._sequences[name]
            new = []
            for element in reversed(sequence):
                if element is last:
                    break
                new.append(element)
            if new:
                appended[name] = [part_slice.entry(service, e) for e in reversed(new)]
            gone = count + len(new) - len(sequence)
            if gone > 0:
                evicted[name] = gone
            self._sequences[name] = (sequence[-1] if sequence else None, len(sequence))
        return appended, evicted
