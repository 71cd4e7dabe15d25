"""ActiveSync and datastore clients, bindings, and the generic client listing (000)."""
from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from ocss_testkit.services.clients.contents import ContentStore, Item
from ocss_testkit.world.errors import Forbidden, Invalid, NotFound
from ocss_testkit.world.world_fields import WorldFields


@dataclass(slots=True)
class ActiveSyncClient:
    uuid: str
    owner: str
    username: str
    password: str  # write-only: never rendered (000: "not automatically populated")
    published: datetime
    updated: datetime
    kind: Literal["activesync"] = "activesync"

    def state(self) -> dict:
        return {"username": self.username, "password": self.password}


@dataclass(slots=True)
class DatastoreClient:
    uuid: str
    owner: str
    name: str
    published: datetime
    updated: datetime
    contents: ContentStore = field(default_factory=ContentStore)
    kind: Literal["datastore"] = "datastore"

    def state(self) -> dict:
        from ocss_testkit.world.clock import iso_z

        def item(i: Item) -> dict:
            return {"id": i.id, "title": i.title, "data": i.data, "type": i.ctype, "dataclass": i.dataclass,
                    "created": iso_z(i.created), "updated": iso_z(i.updated),
                    "deleted": iso_z(i.deleted) if i.deleted else None}
        return {"name": self.name,
                "contents": [item(i) for i in self.contents.listing()],
                "tombstones": [item(i) for i in sorted(self.contents.tombstones.values(), key=lambda i: i.seq)]}


@dataclass(slots=True)
class Binding:
    id: int
    owner: str
    source: str
    target: str
    dominant: str  # "source" | "target": who wins a conflict (000)
    published: datetime
    updated: datetime

    def state(self) -> dict:
        from ocss_testkit.world.clock import iso_z
        return {"id": self.id, "owner": self.owner, "source": self.source, "target": self.target,
                "dominant": self.dominant, "published": iso_z(self.published), "updated": iso_z(self.updated)}


class ClientsService(WorldFields):
    """Mixed into World; every method runs under the World's lock."""

    # --- every kind (read-only, 000: "only read-access … through the generic interface")
    def all_clients(self, user) -> list:
        return sorted((c for c in self.clients.values() if c.owner == user.name),
                      key=lambda c: (c.published, c.uuid))

    def any_client(self, user, client_uuid: str):
        client = self.clients.get(client_uuid.lower())
        if client is None:
            raise NotFound(f"no client {client_uuid}")
        if client.owner != user.name:
            raise Forbidden(f"client {client_uuid} belongs to another user")
        return client

    # --- ActiveSync ----------------------------------------------------------------------
    def activesync_clients(self, user) -> list[ActiveSyncClient]:
        return self._list(user, "activesync")

    def activesync_client(self, user, client_uuid: str) -> ActiveSyncClient:
        return self._owned(user, client_uuid, "activesync")

    def create_activesync_client(self, user, username: str, password: str) -> ActiveSyncClient:
        now = self.clock.now()
        client = ActiveSyncClient(self._new_uuid(), user.name, username, password, now, now)
        self.clients[client.uuid] = client
        return client

    def update_activesync_client(self, user, client_uuid: str, username: str | None,
                                 password: str | None, old_pass: str | None) -> ActiveSyncClient:
        client = self.activesync_client(user, client_uuid)
        if password is not None:
            # A password change needs the current one (000: old_pass and password).
            if old_pass is None:
                raise Invalid("changing the password needs oc:old_pass, the current password")
            if not hmac.compare_digest(old_pass.encode(), client.password.encode()):
                raise Invalid("oc:old_pass does not match the current password")
            client.password = password
        elif old_pass is not None:
            raise Invalid("oc:old_pass given without a new oc:password")
        if username is not None:
            client.username = username
        client.updated = self.clock.now()
        return client

    def delete_activesync_client(self, user, client_uuid: str) -> None:
        self._remove_client(self.activesync_client(user, client_uuid))

    # --- datastore clients and their contents ------------------------------------------
    def datastore_clients(self, user) -> list[DatastoreClient]:
        return self._list(user, "datastore")

    def datastore_client(self, user, client_uuid: str) -> DatastoreClient:
        return self._owned(user, client_uuid, "datastore")

    def create_datastore_client(self, user, name: str) -> DatastoreClient:
        now = self.clock.now()
        client = DatastoreClient(self._new_uuid(), user.name, name, now, now)
        self.clients[client.uuid] = client
        return client

    def update_datastore_client(self, user, client_uuid: str, name: str | None) -> DatastoreClient:
        client = self.datastore_client(user, client_uuid)
        if name is not None:
            client.name = name
        client.updated = self.clock.now()
        return client

    def delete_datastore_client(self, user, client_uuid: str) -> None:
        self._remove_client(self.datastore_client(user, client_uuid))

    def add_content(self, user, client_uuid: str, data: str, ctype: str, dataclass: str | None,
                    title: str) -> Item:
        client = self.datastore_client(user, client_uuid)
        return client.contents.add(data, ctype, dataclass, title, self.clock.now())

    def update_content(self, user, client_uuid: str, item_id: str, **changes) -> Item:
        client = self.datastore_client(user, client_uuid)
        return client.contents.update(item_id, self.clock.now(), **changes)

    def delete_content(self, user, client_uuid: str, item_id: str) -> Item:
        client = self.datastore_client(user, client_uuid)
        return client.contents.delete(item_id, self.clock.now())

    # --- bindings ------------------------------------------------------------------------
    def bindings_of(self, user) -> list[Binding]:
        return [b for b in self.bindings.values() if b.owner == user.name]

    def binding(self, user, binding_id: int) -> Binding:
        binding = self.bindings.get(binding_id)
        if binding is None:
            raise NotFound(f"no binding {binding_id}")
        if binding.owner != user.name:
            raise Forbidden(f"binding {binding_id} belongs to another user")
        return binding

    def _bindable(self, user, client_uuid: str, role: str) -> str:
        client = self.clients.get(client_uuid.lower())
        if client is None or client.owner != user.name:
            # 400 either way (docs/decisions.md, "Bodies of the inferred routes": unknown or foreign
            # clients): a binding names two of yours.
            raise Invalid(f"{role} {client_uuid} is not one of your clients")
        return client.uuid

    def create_binding(self, user, source: str, target: str, dominant: str = "source") -> Binding:
        source, target = self._bindable(user, source, "source"), self._bindable(user, target, "target")
        if source == target:
            raise Invalid("a client cannot be bound to itself")
        if dominant not in ("source", "target"):
            raise Invalid("oc:dominant must be 'source' or 'target'")
        now = self.clock.now()
        binding = Binding(next(self._binding_ids), user.name, source, target, dominant, now, now)
        self.bindings[binding.id] = binding
        return binding

    def update_binding(self, user, binding_id: int, source: str | None, target: str | None,
                       dominant: str | None) -> Binding:
        binding = self.binding(user, binding_id)
        new_source = self._bindable(user, source, "source") if source else binding.source
        new_target = self._bindable(user, target, "target") if target else binding.target
        if new_source == new_target:
            raise Invalid("a client cannot be bound to itself")
        if dominant is not None and dominant not in ("source", "target"):
            raise Invalid("oc:dominant must be 'source' or 'target'")
        binding.source, binding.target = new_source, new_target
        if dominant is not None:
            binding.dominant = dominant
        binding.updated = self.clock.now()
        return binding

    def delete_binding(self, user, binding_id: int) -> None:
        del self.bindings[self.binding(user, binding_id).id]
