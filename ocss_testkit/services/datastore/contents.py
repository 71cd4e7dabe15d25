"""The contents of one datastore client, with a change index for `since` queries.

000 documents `contents(since=…)` as "all of the changes … since the given timestamp",
each with an `operation` of insert, update or delete. Answering that by scanning every
item would make a big store slow; instead every change is appended to a log kept sorted
by (time, sequence), so a `since` query is a bisect plus a walk over the newer changes
only. Superseded log entries are skipped (and compacted away when they outnumber the
live ones), so the log stays proportional to the items and tombstones it describes.

`since` is inclusive: a query for T lists every change made at T or later, so a change
made in the same second as the last one a client saw is never lost (timestamps have whole
seconds, and several changes can share one). A client that passes the `updated` of the
newest entry it holds gets that entry, and every other change of that second, again, and
de-duplicates by id: an `insert` of an id it already holds is an update, a `delete` of an
id it never held is nothing. Deletions follow the same rule: a tombstone made at T is
listed, and so is an item created at T and deleted later (a `delete`: the client may have
seen it); an item created after T and deleted since is not.
"""
from __future__ import annotations

import bisect
import itertools
import uuid as uuidlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ocss_testkit.world.errors import NotFound

# `new(data, ctype, [dataclass])`: "If no dataclass is supplied one will be assigned
# based on the ctype, if known, or falling back to using 'Misc'" (000).
DATACLASS_BY_TYPE = {
    "text/x-vcard": "contacts",
    "text/vcard": "contacts",
    "text/calendar": "events",
    "text/x-vcalendar": "events",
}
DEFAULT_DATACLASS = "Misc"


def default_dataclass(ctype: str) -> str:
    return DATACLASS_BY_TYPE.get(ctype.split(";")[0].strip().lower(), DEFAULT_DATACLASS)


@dataclass(slots=True)
class Item:
    id: str
    title: str
    data: str
    ctype: str
    dataclass: str
    created: datetime
    updated: datetime
    deleted: datetime | None = None  # set on a tombstone
    seq: int = 0  # sequence number of the latest change

    def operation_since(self, since: datetime) -> str | None:
        """What a client that last synced at `since` must do; None: nothing to tell.

        Inclusive (see the module): created at `since` is an insert, since the client may
        not have seen it, and a delete once gone, since it may have."""
        if self.deleted is not None:
            return None if self.created > since else "delete"
        return "insert" if self.created >= since else "update"


class ContentStore:
    def __init__(self) -> None:
        self.items: dict[str, Item] = {}
        self.tombstones: dict[str, Item] = {}
        self._log: list[tuple[float, int, str]] = []  # (timestamp, seq, item id), sorted
        self._seq = itertools.count(1)

    # --- changes -----------------------------------------------------------------------
    def _record(self, item: Item, when: datetime) -> None:
        item.seq = next(self._seq)
        bisect.insort(self._log, (when.timestamp(), item.seq, item.id))
        if len(self._log) > 64 and len(self._log) > 2 * (len(self.items) + len(self.tombstones)):
            self._compact()

    def _compact(self) -> None:
        live = {i.id: i.seq for i in itertools.chain(self.items.values(), self.tombstones.values())}
        self._log = [e for e in self._log if live.get(e[2]) == e[1]]

    def add(self, data: str, ctype: str, dataclass: str | None, title: str, now: datetime,
            item_id: str | None = None) -> Item:
        item = Item(item_id or str(uuidlib.uuid4()), title, data, ctype,
                    dataclass or default_dataclass(ctype), now, now)
        self.items[item.id] = item
        self._record(item, now)
        return item

    def get(self, item_id: str) -> Item:
        try:
            return self.items[item_id]
        except KeyError:
            raise NotFound(f"no content item {item_id}") from None

    def update(self, item_id: str, now: datetime, *, data: str | None = None, ctype: str | None = None,
               dataclass: str | None = None, title: str | None = None) -> Item:
        item = self.get(item_id)
        if data is not None:
            item.data = data
        if ctype is not None:
            item.ctype = ctype
        if dataclass is not None:
            item.dataclass = dataclass
        if title is not None:
            item.title = title
        item.updated = now
        self._record(item, now)
        return item

    def delete(self, item_id: str, now: datetime) -> Item:
        item = self.get(item_id)
        del self.items[item_id]
        item.deleted = item.updated = now
        self.tombstones[item_id] = item
        self._record(item, now)
        return item

    def restore(self, items: list[Item]) -> None:
        """Refill from saved items and tombstones (state documents): one log entry each."""
        for item in sorted(items, key=lambda i: (i.deleted or i.updated, i.created)):
            (self.tombstones if item.deleted else self.items)[item.id] = item
            self._record(item, item.deleted or item.updated)

    # --- queries -----------------------------------------------------------------------
    def listing(self, dataclass: str | None = None) -> list[Item]:
        items: Iterable[Item] = self.items.values()
        if dataclass is not None:
            items = [i for i in items if i.dataclass == dataclass]
        return sorted(items, key=lambda i: (i.created, i.seq))

    def changes_since(self, since: datetime, dataclass: str | None = None) -> list[tuple[Item, str]]:
        """(item, operation) for each item changed at or after `since` (inclusive: see the
        module), oldest change first."""
        start = bisect.bisect_left(self._log, (since.timestamp(),))  # (T,) sorts before every (T, seq, id)
        out = []
        for _, seq, item_id in self._log[start:]:
            item = self.items.get(item_id) or self.tombstones.get(item_id)
            if item is None or item.seq != seq:  # superseded by a later change
                continue
            if dataclass is not None and item.dataclass != dataclass:
                continue
            operation = item.operation_since(since)
            if operation is not None:
                out.append((item, operation))
        return out

    def __len__(self) -> int:
        return len(self.items)
