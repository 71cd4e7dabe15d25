"""The clients of every kind, by uuid: what the generic client interface lists (SyncServer
API Python interface, 'Clients': "only read-access is possible through the generic client
interface"), and what the kind services (gdata, syncml, activesync, datastore) keep their
clients in. One slice of the state document, `clients`: each entry's common fields here,
its kind's own fields from the service that owns the kind (`Service.client_kinds`).
"""
from __future__ import annotations

import uuid as uuidlib
from collections.abc import ItemsView, Iterator, Mapping, ValuesView
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeAlias, TypeVar, cast, overload

from ocss_testkit.world.clock import iso_z
from ocss_testkit.world.errors import Forbidden, Invalid, NotFound
from ocss_testkit.world.service import Service, Slice
from ocss_testkit.world.state_reader import StateReader, owner
from ocss_testkit.world.tracked import TrackedDict

if TYPE_CHECKING:
    from ocss_testkit.services.activesync.state import ActiveSyncClient
    from ocss_testkit.services.datastore.state import DatastoreClient
    from ocss_testkit.services.gdata.state import GDataClient
    from ocss_testkit.services.syncml.state import SyncMLClient
    from ocss_testkit.world.users import User
    from ocss_testkit.world.world import World

# A client of any kind; its `kind` (a Literal of each class) tells which.
Client: TypeAlias = "GDataClient | SyncMLClient | ActiveSyncClient | DatastoreClient"
T = TypeVar("T")


class Clients(Service, Mapping[str, Client]):
    """A read-only mapping (collections.abc.Mapping) uuid, lower case -> client, and the
    lookups every kind shares.

    Every method runs under the World's lock."""

    name = "clients"

    def _entry(self, key: str, client: Client) -> dict[str, Any]:
        kind_service = self.world.kind_service(client.kind)
        return {"kind": client.kind, "uuid": client.uuid, "owner": client.owner,
                "published": iso_z(client.published), "updated": iso_z(client.updated),
                **kind_service.dump_client(client)}

    slices = (Slice("clients", "keyed", "by_uuid", _entry, key_field="uuid", document_order=lambda e: e["uuid"]),)

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.by_uuid: TrackedDict[str, Client] = TrackedDict()

    # --- the mapping ---------------------------------------------------------------------
    def __getitem__(self, uuid: str) -> Client:
        return self.by_uuid[uuid]

    @overload
    def get(self, uuid: str, default: None = None) -> Client | None: ...
    @overload
    def get(self, uuid: str, default: Client | T) -> Client | T: ...
    def get(self, uuid: str, default: Client | T | None = None) -> Client | T | None:
        return self.by_uuid.get(uuid, default)

    def __contains__(self, uuid: object) -> bool:
        return uuid in self.by_uuid

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_uuid)

    def __len__(self) -> int:
        return len(self.by_uuid)

    def values(self) -> ValuesView[Client]:
        return self.by_uuid.values()

    def items(self) -> ItemsView[str, Client]:
        return self.by_uuid.items()

    # --- what the kind services share ------------------------------------------------------
    def add(self, client: Client) -> None:
        """Keep a new client (a seeded one: its owner must be a user of the World)."""
        if client.owner not in self.world.users:
            raise Invalid(f"client {client.uuid} names unknown owner {client.owner!r}")
        self.by_uuid[client.uuid.lower()] = client

    def new_uuid(self) -> str:
        return str(uuidlib.uuid1())

    @overload
    def owned(self, user: User, client_uuid: str, kind: Literal["gdata"]) -> GDataClient: ...
    @overload
    def owned(self, user: User, client_uuid: str, kind: Literal["syncml"]) -> SyncMLClient: ...
    @overload
    def owned(self, user: User, client_uuid: str, kind: Literal["activesync"]) -> ActiveSyncClient: ...
    @overload
    def owned(self, user: User, client_uuid: str, kind: Literal["datastore"]) -> DatastoreClient: ...
    @overload
    def owned(self, user: User, client_uuid: str, kind: str) -> Client: ...
    def owned(self, user: User, client_uuid: str, kind: str) -> Client:
        """The user's client of this kind; NotFound (no such client of the kind) or Forbidden."""
        client = self.by_uuid.get(client_uuid.lower())
        if client is None or client.kind != kind:
            raise NotFound(f"no {kind} client {client_uuid}")
        if client.owner != user.name:
            raise Forbidden(f"{kind} client {client_uuid} belongs to another user")
        return client

    @overload
    def of_kind(self, user: User, kind: Literal["gdata"]) -> list[GDataClient]: ...
    @overload
    def of_kind(self, user: User, kind: Literal["syncml"]) -> list[SyncMLClient]: ...
    @overload
    def of_kind(self, user: User, kind: Literal["activesync"]) -> list[ActiveSyncClient]: ...
    @overload
    def of_kind(self, user: User, kind: Literal["datastore"]) -> list[DatastoreClient]: ...
    @overload
    def of_kind(self, user: User, kind: str) -> list[Client]: ...
    def of_kind(self, user: User, kind: str) -> list[Any]:  # Any: each overload's own kind
        return [c for c in self.by_uuid.values() if c.kind == kind and c.owner == user.name]

    def of_user(self, user: User) -> list[Client]:
        """Every client of the user, oldest first (the generic listing)."""
        return sorted((c for c in self.by_uuid.values() if c.owner == user.name),
                      key=lambda c: (c.published, c.uuid))

    def any(self, user: User, client_uuid: str) -> Client:
        """The user's client of whatever kind; NotFound or Forbidden."""
        client = self.by_uuid.get(client_uuid.lower())
        if client is None:
            raise NotFound(f"no client {client_uuid}")
        if client.owner != user.name:
            raise Forbidden(f"client {client_uuid} belongs to another user")
        return client

    def remove(self, client: Client) -> None:
        """Delete a client; every service drops what names it (bindings)."""
        del self.by_uuid[client.uuid]
        for service in self.world.services:
            service.client_removed(client.uuid)

    # --- the state document ----------------------------------------------------------------
    def from_entry(self, entry: Any) -> Client:
        """A client (not kept) from its entry in the state document's `clients`, for seeding
        a World by hand; Invalid naming what is wrong."""
        return self._client(StateReader(entry, "/client"), set(self.world.users))

    def _client(self, c: StateReader, names: set[str]) -> Client:
        kind = c.at("kind").str()
        if kind not in self.world.client_kinds():
            c.at("kind").fail(f"expected one of {', '.join(self.world.client_kinds())}")
        common = {"uuid": c.at("uuid").str(False).lower(), "owner": owner(c, names),
                  "published": c.at("published").time()}
        common["updated"] = c.at("updated", c.at("published").value).time()
        return self.world.kind_service(kind).load_client(c, common)

    def check(self) -> None:
        """Invariant: every client's owner is a user of the World (Invalid otherwise)."""
        for client in self.by_uuid.values():
            if client.owner not in self.world.users:
                raise Invalid(f"client {client.uuid} names unknown owner {client.owner!r}")

    def load(self, doc: StateReader) -> None:
        names = set(self.world.users)
        for c in doc.at("clients", []).items():
            client = self._client(c, names)
            if client.uuid in self.by_uuid:
                c.at("uuid").fail(f"duplicate client {client.uuid}")
            self.by_uuid[client.uuid] = client


COMMON_FIELDS = ("kind", "uuid", "owner", "published", "updated")


class KindClient(Protocol):
    """What every kind of client is: a uuid, an owner, its kind, and the kind's own fields
    of a `clients` entry in document form (`state()`)."""

    @property
    def uuid(self) -> str: ...

    @property
    def owner(self) -> str: ...

    @property
    def kind(self) -> str: ...

    def state(self) -> dict[str, Any]: ...


ClientT = TypeVar("ClientT", bound=KindClient)


class ClientKind(Service, Generic[ClientT]):
    """A service that owns one kind of client of the registry (`kind`): the user's clients
    of the kind, one of them (NotFound, Forbidden), its deletion (what names it goes too),
    and the kind's own fields of its `clients` entry. A subclass adds the kind's rules
    (create, update) and `load_client`."""

    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            cls.client_kinds = (cls.kind,)

    def clients(self, user: User) -> list[ClientT]:
        return cast("list[ClientT]", self.world.clients.of_kind(user, self.kind))

    def client(self, user: User, client_uuid: str) -> ClientT:
        return cast("ClientT", self.world.clients.owned(user, client_uuid, self.kind))

    def delete_client(self, user: User, client_uuid: str) -> None:
        self.world.clients.remove(cast("Client", self.client(user, client_uuid)))

    def keep(self, client: ClientT) -> ClientT:
        """A client this service just made, kept in the registry."""
        self.world.clients.by_uuid[client.uuid] = cast("Client", client)
        return client

    def dump_client(self, client: ClientT) -> dict[str, Any]:
        return client.state()
