"""Google Data clients (Google Data Client API): a GData user id with token-bearing datastores."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ocss_testkit.world.errors import Conflict, Invalid
from ocss_testkit.world.world_fields import WorldFields


@dataclass(slots=True)
class Token:
    type: int
    key: str | None
    secret: str | None
    scopes: list[str]
    type_tag: str = "type"  # `type` or `token_type`: 001 shows both; echoed as sent on create


@dataclass(slots=True)
class GDataDatastore:
    dataclass: str
    href: str
    name: str
    token: Token | None


@dataclass(slots=True)
class GDataClient:
    uuid: str
    owner: str
    user_id: str
    datastores: list[GDataDatastore]
    published: datetime
    updated: datetime
    kind: Literal["gdata"] = "gdata"

    def state(self) -> dict:
        return {"user_id": self.user_id, "datastores": [
            {"dataclass": d.dataclass, "href": d.href, "name": d.name,
             "token": None if d.token is None else {
                 "type": d.token.type, "key": d.token.key, "secret": d.token.secret,
                 "scopes": list(d.token.scopes), "type_tag": d.token.type_tag}}
            for d in self.datastores]}


class GDataService(WorldFields):
    """Mixed into World; every method runs under the World's lock."""

    def gdata_clients(self, user) -> list[GDataClient]:
        return self._list(user, "gdata")

    def gdata_client(self, user, client_uuid: str) -> GDataClient:
        return self._owned(user, client_uuid, "gdata")

    def create_gdata_client(self, user, user_id: str, datastores: list[GDataDatastore]) -> GDataClient:
        # "Only one client registration per end user" (001, Add a new client).
        if any(c.kind == "gdata" and c.user_id == user_id for c in self.clients.values()):
            raise Conflict(f"a Google client for {user_id!r} is already registered")
        _check_one_per_dataclass(datastores)
        now = self.clock.now()
        client = GDataClient(self._new_uuid(), user.name, user_id, list(datastores), now, now)
        self.clients[client.uuid] = client
        return client

    def update_gdata_client(self, user, client_uuid: str, user_id: str | None,
                            datastores: list[GDataDatastore]) -> GDataClient:
        """Adds datastores (001: "Updating a client is used to add datastores").

        A datastore of a dataclass the client already has replaces it (one definition
        per dataclass, 001); every other one is kept: merge, not replace.
        """
        client = self.gdata_client(user, client_uuid)
        if user_id is not None and user_id != client.user_id:
            raise Invalid(f"user_id cannot be changed (is {client.user_id!r}, got {user_id!r})")
        _check_one_per_dataclass(datastores)
        merged = {d.dataclass: d for d in client.datastores}
        for d in datastores:
            merged[d.dataclass] = d
        client.datastores = list(merged.values())
        client.updated = self.clock.now()
        return client

    def delete_gdata_client(self, user, client_uuid: str) -> None:
        self._remove_client(self.gdata_client(user, client_uuid))


def _check_one_per_dataclass(datastores: list[GDataDatastore]) -> None:
    seen = set()
    for d in datastores:
        if d.dataclass in seen:
            raise Invalid(f"two datastores for dataclass {d.dataclass!r}: one per dataclass (001)")
        seen.add(d.dataclass)
