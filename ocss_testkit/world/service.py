"""What every part of the World is: a service that owns its fields and its slice of the
state document.

A `Service` declares its fields in `__init__` (which is also its reset: resetting a fake
builds a new World), names the members of the state document it owns (`slices`), writes
them (`dump`) and reads them back (`load`), and checks what must hold between its fields
and the rest of the World (`check`). `World` (world.py) composes the services in the
order they load; the state module (state.py) keeps only the envelope: version, clock,
settings, consumers and users.

Nothing here knows HTTP or XML: a service holds data and the rules of its API.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

if TYPE_CHECKING:
    from ocss_testkit.world.state_reader import StateReader
    from ocss_testkit.world.world import World


@dataclass(frozen=True)
class Slice:
    """One member of the state document and the field of a service that holds it.

    `shape` tells persistence how to follow changes:
    - "keyed": `attr` is a TrackedDict (tracked.py) written entry by entry; `entry(service,
      key, value)` is one entry in document form, sorted by key in the document. In the document the slice is a list of
      entries whose `key_field` holds the key, or, with `key_field` None, an object keyed
      by the key.
    - "sequence": `attr` is a bounded deque, appended to and evicted from its head;
      `entry(service, value)` is one element in document form, or None to leave it out.
    - "whole": small, written whole on every change; `entry(service)` is its document form.
    """
    name: str
    shape: Literal["keyed", "sequence", "whole"]
    attr: str
    entry: Callable[..., Any]
    key_field: str | None = None
    # A keyed slice written as a list: the sort key of its entries in the document (None:
    # the order they were made in).
    document_order: Callable[[dict[str, Any]], Any] | None = None


class Service:
    """One API's part of the World (or a part every API shares: the outbox, the clients).

    Subclasses set `name` (their attribute on the World), `slices` (the members of the
    state document they own), and override `dump_slices`/`load` when a member is more
    than its entries (the default dump writes each slice from its `entry`)."""

    name: ClassVar[str] = ""
    slices: ClassVar[tuple[Slice, ...]] = ()
    # The kinds of client (`clients` slice, kind field) whose entries this service writes
    # and reads: `dump_client` / `load_client`. A service of one kind subclasses
    # world/clients.py's `ClientKind`, which sets this from its `kind`.
    client_kinds: ClassVar[tuple[str, ...]] = ()

    def __init__(self, world: World) -> None:
        self.world = world

    # --- the state document -------------------------------------------------------------
    def dump(self) -> dict[str, Any]:
        """This service's members of the state document, in document form (JSON values)."""
        out: dict[str, Any] = {}
        for s in self.slices:
            part = getattr(self, s.attr)
            if s.shape == "keyed":
                if s.key_field is None:
                    out[s.name] = {k: s.entry(self, k, v) for k, v in sorted(part.items())}
                else:
                    entries = [s.entry(self, k, v) for k, v in part.items()]
                    if s.document_order is not None:
                        entries.sort(key=s.document_order)
                    out[s.name] = entries
            elif s.shape == "sequence":
                out[s.name] = [e for e in (s.entry(self, v) for v in part) if e is not None]
            else:
                out[s.name] = s.entry(self)
        return out

    def load(self, doc: StateReader) -> None:
        """Read this service's members from the document (`doc.at(name, default)`); raise
        Invalid through the reader (`reader.fail`) naming the JSON Pointer of a problem."""

    def loaded(self) -> None:
        """Called once every service has loaded: rebuild indexes and counters."""

    def check(self) -> None:
        """Raise Invalid when an invariant between this service's fields and the World fails."""

    def client_removed(self, uuid: str) -> None:
        """A client of any kind is gone: drop what names it."""

    def dump_client(self, client: Any) -> dict[str, Any]:
        """The kind-specific fields of one client of `client_kinds`, in document form."""
        raise NotImplementedError

    def load_client(self, reader: StateReader, common: dict[str, Any]) -> Any:
        """A client of `client_kinds` from its entry (`common`: uuid, owner, published, updated)."""
        raise NotImplementedError

    def containers(self) -> Iterator[tuple[Slice, Any]]:
        """Each slice with the field that holds it (for persistence)."""
        for s in self.slices:
            yield s, getattr(self, s.attr)
