"""Bindings between two clients of one user (SyncServer API Python interface, 'Bindings';
routes I10–I11). The generic client listing (I9) reads the World's client registry
(world/clients.py)."""
from __future__ import annotations

import itertools
from collections.abc import ValuesView
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ocss_testkit.world.clock import iso_z
from ocss_testkit.world.errors import Forbidden, Invalid, NotFound
from ocss_testkit.world.service import Service, Slice
from ocss_testkit.world.state_reader import owner
from ocss_testkit.world.tracked import TrackedDict

if TYPE_CHECKING:
    from ocss_testkit.world.state_reader import StateReader
    from ocss_testkit.world.users import User
    from ocss_testkit.world.world import World

DOMINANT = ("source", "target")


@dataclass(slots=True)
class Binding:
    id: int
    owner: str
    source: str
    target: str
    dominant: str  # one of DOMINANT: who wins a conflict (the library's 'Bindings')
    published: datetime
    updated: datetime

    def state(self) -> dict[str, Any]:
        return {"id": self.id, "owner": self.owner, "source": self.source, "target": self.target,
                "dominant": self.dominant, "published": iso_z(self.published), "updated": iso_z(self.updated)}


class BindingsService(Service):
    """Bindings (`world.bindings`, a read-only mapping id -> Binding too); every method runs
    under the World's lock."""

    name = "bindings"
    slices = (Slice("bindings", "keyed", "by_id", lambda service, key, b: b.state(), key_field="id",
                    document_order=lambda e: e["id"]),)

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.by_id: TrackedDict[int, Binding] = TrackedDict()
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self.by_id)

    def values(self) -> ValuesView[Binding]:
        return self.by_id.values()

    def of_user(self, user: User) -> list[Binding]:
        return [b for b in self.by_id.values() if b.owner == user.name]

    def binding(self, user: User, binding_id: int) -> Binding:
        """NotFound or Forbidden (another user's)."""
        binding = self.by_id.get(binding_id)
        if binding is None:
            raise NotFound(f"no binding {binding_id}")
        if binding.owner != user.name:
            raise Forbidden(f"binding {binding_id} belongs to another user")
        return binding

    def _bindable(self, user: User, client_uuid: str, role: str) -> str:
        client = self.world.clients.get(client_uuid.lower())
        if client is None or client.owner != user.name:
            # 400 either way (docs/decisions.md, "Bodies of the inferred routes": unknown or foreign
            # clients): a binding names two of yours.
            raise Invalid(f"{role} {client_uuid} is not one of your clients")
        return client.uuid

    def create(self, user: User, source: str, target: str, dominant: str = "source") -> Binding:
        """Invalid for a client not the user's, a client bound to itself, or a bad dominant."""
        source, target = self._bindable(user, source, "source"), self._bindable(user, target, "target")
        if source == target:
            raise Invalid("a client cannot be bound to itself")
        if dominant not in DOMINANT:
            raise Invalid("oc:dominant must be 'source' or 'target'")
        now = self.world.clock.now()
        binding = Binding(next(self._ids), user.name, source, target, dominant, now, now)
        self.by_id[binding.id] = binding
        return binding

    def update(self, user: User, binding_id: int, source: str | None, target: str | None,
               dominant: str | None) -> Binding:
        binding = self.binding(user, binding_id)
        new_source = self._bindable(user, source, "source") if source else binding.source
        new_target = self._bindable(user, target, "target") if target else binding.target
        if new_source == new_target:
            raise Invalid("a client cannot be bound to itself")
        if dominant is not None and dominant not in DOMINANT:
            raise Invalid("oc:dominant must be 'source' or 'target'")
        binding.source, binding.target = new_source, new_target
        if dominant is not None:
            binding.dominant = dominant
        binding.updated = self.world.clock.now()
        return binding

    def delete(self, user: User, binding_id: int) -> None:
        del self.by_id[self.binding(user, binding_id).id]

    def client_removed(self, uuid: str) -> None:
        for binding_id in [b.id for b in self.by_id.values() if uuid in (b.source, b.target)]:
            del self.by_id[binding_id]

    # --- the state document ---------------------------------------------------------------
    def load(self, doc: StateReader) -> None:
        names = set(self.world.users)
        for b in doc.at("bindings", []).items():
            b.known("id", "owner", "source", "target", "dominant", "published", "updated")
            binding = Binding(b.at("id").int(), owner(b, names), b.at("source").str(), b.at("target").str(),
                              b.at("dominant", "source").one_of(*DOMINANT), b.at("published").time(),
                              b.at("updated").time())
            for role in DOMINANT:
                if getattr(binding, role) not in self.world.clients:
                    b.at(role).fail(f"names unknown client {getattr(binding, role)}")
            self.by_id[binding.id] = binding

    def check(self) -> None:
        """Invariant: a binding names two clients the World holds (Invalid otherwise)."""
        for binding in self.by_id.values():
            for role in DOMINANT:
                if getattr(binding, role) not in self.world.clients:
                    raise Invalid(f"binding {binding.id} names unknown client {getattr(binding, role)}")

    def loaded(self) -> None:
        self._ids = itertools.count(max(self.by_id, default=0) + 1)
