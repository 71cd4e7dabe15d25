"""Datastore clients and their contents (SyncServer API Python interface, 'Datastore',
'Datastore contents'; routes I13–I15): a named raw store of items."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from ocss_testkit.services.datastore.contents import ContentStore, Item
from ocss_testkit.world.clients import COMMON_FIELDS, ClientKind
from ocss_testkit.world.clock import iso_z

if TYPE_CHECKING:
    from ocss_testkit.world.state_reader import StateReader
    from ocss_testkit.world.users import User


@dataclass(slots=True)
class DatastoreClient:
    uuid: str
    owner: str
    name: str
    published: datetime
    updated: datetime
    contents: ContentStore = field(default_factory=ContentStore)
    kind: Literal["datastore"] = "datastore"

    def state(self) -> dict[str, Any]:
        return {"name": self.name,
                "contents": [_item_entry(i) for i in self.contents.listing()],
                "tombstones": [_item_entry(i) for i in sorted(self.contents.tombstones.values(), key=lambda i: i.seq)]}


class DatastoreService(ClientKind[DatastoreClient]):
    """Datastore clients and their items (`world.datastore`); every method runs under the World's lock."""

    name = "datastore"
    kind = "datastore"

    def create_client(self, user: User, name: str) -> DatastoreClient:
        now = self.world.clock.now()
        client = DatastoreClient(self.world.clients.new_uuid(), user.name, name, now, now)
        return self.keep(client)

    def update_client(self, user: User, client_uuid: str, name: str | None) -> DatastoreClient:
        client = self.client(user, client_uuid)
        if name is not None:
            client.name = name
        client.updated = self.world.clock.now()
        return client

    def add_content(self, user: User, client_uuid: str, data: str, ctype: str, dataclass: str | None,
                    title: str) -> Item:
        return self.client(user, client_uuid).contents.add(data, ctype, dataclass, title, self.world.clock.now())

    def update_content(self, user: User, client_uuid: str, item_id: str, **changes: Any) -> Item:
        return self.client(user, client_uuid).contents.update(item_id, self.world.clock.now(), **changes)

    def delete_content(self, user: User, client_uuid: str, item_id: str) -> Item:
        return self.client(user, client_uuid).contents.delete(item_id, self.world.clock.now())

    def load_client(self, c: StateReader, common: dict[str, Any]) -> DatastoreClient:
        c.known(*COMMON_FIELDS, "name", "contents", "tombstones")
        client = DatastoreClient(name=c.at("name").str(False), contents=ContentStore(), **common)
        items = [_item(i, deleted=False) for i in c.at("contents", []).items()]
        items += [_item(i, deleted=True) for i in c.at("tombstones", []).items()]
        client.contents.restore(items)
        return client


def _item_entry(i: Item) -> dict[str, Any]:
    return {"id": i.id, "title": i.title, "data": i.data, "type": i.ctype, "dataclass": i.dataclass,
            "created": iso_z(i.created), "updated": iso_z(i.updated),
            "deleted": iso_z(i.deleted) if i.deleted else None}


def _item(i: StateReader, deleted: bool) -> Item:
    i.known("id", "title", "data", "type", "dataclass", "created", "updated", "deleted")
    item = Item(i.at("id").str(False), i.at("title", "").str(), i.at("data", "").str(), i.at("type").str(False),
                i.at("dataclass").str(False), i.at("created").time(), i.at("updated").time(),
                i.at("deleted", None).opt_time())
    if deleted and item.deleted is None:
        i.at("deleted").fail("a tombstone needs its deletion time")
    if not deleted and item.deleted is not None:
        i.at("deleted").fail("a live item has no deletion time")
    return item
