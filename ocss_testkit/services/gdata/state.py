"""Google Data clients (Google Data Client API): a GData user id with token-bearing datastores."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from ocss_testkit.world.clients import COMMON_FIELDS, ClientKind
from ocss_testkit.world.errors import Conflict, Invalid

if TYPE_CHECKING:
    from ocss_testkit.world.state_reader import StateReader
    from ocss_testkit.world.users import User


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


class GDataService(ClientKind[GDataClient]):
    """Google Data clients (`world.gdata`); every method runs under the World's lock."""

    name = "gdata"
    kind = "gdata"

    def create_client(self, user: User, user_id: str, datastores: list[GDataDatastore]) -> GDataClient:
        """Conflict when the GData user already has a client (Google Data Client API, 'Add a
        new client': "Only one client registration per end user"); Invalid for two
        datastores of one dataclass."""
        if any(c.kind == "gdata" and c.user_id == user_id for c in self.world.clients.values()):
            raise Conflict(f"a Google client for {user_id!r} is already registered")
        _check_one_per_dataclass(datastores)
        now = self.world.clock.now()
        client = GDataClient(self.world.clients.new_uuid(), user.name, user_id, list(datastores), now, now)
        return self.keep(client)

    def update_client(self, user: User, client_uuid: str, user_id: str | None,
                      datastores: list[GDataDatastore]) -> GDataClient:
        """Adds datastores (Google Data Client API, 'Update a client': "Updating a client is
        used to add datastores").

        A datastore of a dataclass the client already has replaces it (one definition
        per dataclass); every other one is kept: merge, not replace.
        """
        client = self.client(user, client_uuid)
        if user_id is not None and user_id != client.user_id:
            raise Invalid(f"user_id cannot be changed (is {client.user_id!r}, got {user_id!r})")
        _check_one_per_dataclass(datastores)
        merged = {d.dataclass: d for d in client.datastores}
        for d in datastores:
            merged[d.dataclass] = d
        client.datastores = list(merged.values())
        client.updated = self.world.clock.now()
        return client

    # --- the state document: a `clients` entry of kind gdata ------------------------------
    def load_client(self, c: StateReader, common: dict[str, Any]) -> GDataClient:
        c.known(*COMMON_FIELDS, "user_id", "datastores")
        stores = []
        for d in c.at("datastores", []).items():
            d.known("dataclass", "href", "name", "token")
            token = None
            t = d.at("token", None)
            if t.value is not None:
                t.known("type", "key", "secret", "scopes", "type_tag")
                token = Token(t.at("type", 2).int(), t.at("key", None).opt_str(), t.at("secret", None).opt_str(),
                              [s.str() for s in t.at("scopes", []).items()],
                              t.at("type_tag", "type").one_of("type", "token_type"))
            dataclass = d.at("dataclass").str(False)
            stores.append(GDataDatastore(dataclass, d.at("href").str(False), d.at("name", dataclass).str(), token))
        return GDataClient(user_id=c.at("user_id").str(False), datastores=stores, **common)


def _check_one_per_dataclass(datastores: list[GDataDatastore]) -> None:
    seen = set()
    for d in datastores:
        if d.dataclass in seen:
            raise Invalid(f"two datastores for dataclass {d.dataclass!r}: one per dataclass (001)")
        seen.add(d.dataclass)
