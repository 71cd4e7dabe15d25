"""Resources (SyncServer API Python interface, 'General API' and 'Resources').

A :class:`Resource` is one Atom entry of the web API. Resources are lazy: building one
sends nothing; the first read of an attribute fetches it once (unless the resource came
from a feed or from ``collection[id]``, whose entry fills it); and the API object's
object cache (:mod:`ocss.cache`) hands out one object per resource, so that reaching a
resource again -- from a collection (:mod:`ocss.collection`), another resource's
attribute, or the same ``collection[id]`` -- sends no request until ``refresh()``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import quote

from . import atom
from .exceptions import NotAllowedError

if TYPE_CHECKING:
    from .api import SyncServerAPI

R = TypeVar("R", bound="Resource")
CacheKey = tuple[str, str, Any]


def segment(value: Any) -> str:
    """A path segment for an id: every reserved character percent-encoded."""
    return quote(str(value), safe="")


class Field:
    """An attribute of a resource, read from its entry on first use (one GET, unless the
    resource came from a feed). Writable fields can be set locally; ``update()`` sends them.
    Write-only fields are never read from the server: they hold what was set, else None.

    ``convert(value, what)`` checks (and may convert) a value as it is set, ``what`` naming
    it as ``"Class.field"``: it raises TypeError or ValueError for a value of the wrong type
    or form (:mod:`ocss.checks`), so that ``update()`` sends nothing it could not."""

    def __init__(self, doc: str, writable: bool = False, write_only: bool = False,
                 convert: Callable[[Any, str], Any] | None = None) -> None:
        self.__doc__ = doc
        self.writable = writable or write_only
        self.write_only = write_only
        self.convert = convert
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Resource | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        if self.name in obj._changes:
            return obj._shown(self.name, obj._changes[self.name])
        if self.write_only:
            return None
        return obj._shown(self.name, obj._load().get(self.name))

    def __set__(self, obj: Resource, value: Any) -> None:
        if not self.writable:
            raise AttributeError(f"{type(obj).__name__}.{self.name} is read-only")
        obj._changes[self.name] = self.checked(obj, value)

    def checked(self, obj: Resource, value: Any) -> Any:
        """`value` as this field of `obj` keeps it (`convert`, which raises TypeError or
        ValueError naming `Class.field`), else as given."""
        return self.convert(value, f"{type(obj).__name__}.{self.name}") if self.convert else value


class Resource:
    """One item of the API: a vendor, a handset model, a client, a binding, a content item
    (SyncServer API Python interface, 'Resources').

    Every resource has ``id``, ``created`` and ``modified`` (aware UTC ``datetime``, or
    None when the server does not give it), and the methods :meth:`delete`, :meth:`update`
    and :meth:`refresh`. Two objects for the same resource are equal (``==``, same hash),
    whether or not they are the same object.
    """

    kind: ClassVar[str] = "Resource"  # the name in messages: "No Vendor with ID 'x'"
    base_path: ClassVar[str] = ""  # the collection's path, e.g. /v2/phones/vendors/
    item_slash: ClassVar[bool] = True  # item URLs end with "/" (the SyncML client API's do not)
    protected: ClassVar[bool] = True  # reading it needs OAuth credentials
    refused: ClassVar[dict[str, str]] = {}  # operation -> why the library refuses it locally

    created = Field("The date-time of this resource's creation: an aware UTC datetime, or None.")
    modified = Field("The date-time of this resource's last modification: an aware UTC datetime, or None.")

    def __init__(self, api: SyncServerAPI, id: Any, parent: Resource | None = None) -> None:  # noqa: A002
        self._api = api
        self._id = id
        self._parent = parent
        self._data: dict[str, Any] | None = None
        self._changes: dict[str, Any] = {}
        self._aliases: set[Any] = set()

    # --- identity ------------------------------------------------------------------------
    @property
    def id(self) -> Any:  # noqa: A003
        """The resource's ID: a ``str`` (usually a UUID), an ``int`` for bindings."""
        return self._id

    @property
    def _key(self) -> CacheKey:
        return (self.kind, self._parent._id if self._parent is not None else "", self._id)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Resource):
            return NotImplemented
        return other is self or other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} id={self._id!r}>"

    def _matches(self, key: Any) -> bool:
        return key == self._id or key in self._aliases

    # --- reading ---------------------------------------------------------------------------
    @classmethod
    def item_path(cls, id: Any, parent: Resource | None = None) -> str:  # noqa: A002
        """The API path of the resource with this id (relative to the base URL)."""
        return cls.base_path + segment(id) + ("/" if cls.item_slash else "")

    def _item_path(self) -> str:
        return self.item_path(self._id, self._parent)

    @classmethod
    def id_from(cls, entry: atom.Element) -> Any:
        """The id of the resource an entry describes (default: its atom:id's last segment)."""
        return atom.last_segment(atom.text(entry, "a:id"))

    @classmethod
    def aliases_from(cls, entry: atom.Element) -> list[Any]:
        """Other ids the same resource answers to (e.g. a model's UUID beside its id)."""
        return []

    def _parse(self, entry: atom.Element) -> dict[str, Any]:
        """The resource's own fields from its entry (subclasses)."""
        return {}

    def _populate(self, entry: atom.Element) -> None:
        data = {"created": atom.parse_time(atom.text(entry, "a:published")),
                "modified": atom.parse_time(atom.text(entry, "a:updated"))}
        data.update(self._parse(entry))
        self._data = data
        self._aliases.update(a for a in self.aliases_from(entry) if a and a != self._id)

    def _load(self) -> dict[str, Any]:
        if self._data is None:
            what = f"{type(self).__name__} {self._id!r}"
            response = self._api._request("GET", self._item_path(), protected=self.protected,
                                          missing=self._missing_message())
            self._populate(self._api._entry(response, what))
            self._api._cache.put(self)
        assert self._data is not None
        return self._data

    def _missing_message(self) -> str:
        return f"No {self.kind} with ID {self._id!r}"

    def _shown(self, name: str, value: Any) -> Any:
        """How a stored field value is shown (subclasses turn ids into resources)."""
        return value

    # --- writing ---------------------------------------------------------------------------
    def _refuse(self, operation: str) -> None:
        reason = self.refused.get(operation)
        if reason is not None:
            raise NotAllowedError(f"{type(self).__name__}.{operation}() is not allowed: {reason} "
                                  "(no request was sent)")

    def _update_body(self, changes: dict[str, Any]) -> bytes:
        """The PUT body for these changed fields (subclasses that can be updated)."""
        raise NotAllowedError(f"{type(self).__name__} resources cannot be updated (no request was sent)")

    def update(self, **kwargs: Any) -> None:
        """Send the local changes of this resource's properties to the server, after
        setting those named as keyword arguments (SyncServer API Python interface,
        'Resources'). Which properties can be changed depends on the kind of resource (each
        class lists its writable ones). Sends nothing when nothing was changed. The answer
        refreshes the resource.

        :raises NotAllowedError: the resource is read-only (checked before sending), or the
            server refused (401, 403, 405).
        :raises TypeError: a keyword that is not a changeable property, or a value of the
            wrong type (nothing is sent, nothing is set).
        :raises ValueError: a value of the right type the library can tell is wrong, e.g.
            an empty name (nothing is sent, nothing is set).
        :raises NotFoundError: the resource no longer exists.
        :raises ClientError: the server refused the values (400 and other 4xx).
        """
        self._refuse("update")
        fields: set[str] = set()
        for cls in type(self).__mro__:
            fields |= {n for n, v in vars(cls).items() if isinstance(v, Field) and v.writable}
        unknown = sorted(set(kwargs) - fields)
        if unknown:
            raise TypeError(f"{type(self).__name__}.update() cannot change {', '.join(unknown)}; "
                            f"it can change {', '.join(sorted(fields)) or 'nothing'}")
        checked = {name: getattr(type(self), name).checked(self, value) for name, value in kwargs.items()}
        self._changes.update(checked)  # all or nothing: every value was checked first
        if not self._changes:
            return
        body = self._update_body(dict(self._changes))
        response = self._api._request("PUT", self._item_path(), body, protected=self.protected,
                                      missing=self._missing_message())
        self._changes.clear()
        if response.body.strip():
            self._populate(self._api._entry(response, f"{type(self).__name__} {self._id!r}"))
        else:
            self._data = None
        self._api._written(type(self))

    def delete(self) -> None:
        """Ask the server to delete this resource (SyncServer API Python interface,
        'Resources'). The object cache forgets it.

        :raises NotAllowedError: the resource is read-only (checked before sending), or the
            server refused (401, 403, 405).
        :raises NotFoundError: there is no such resource (any more).
        """
        self._refuse("delete")
        self._api._request("DELETE", self._item_path(), protected=self.protected, missing=self._missing_message())
        self._api._forget(self)

    def refresh(self) -> None:
        """Clear the local data of this resource, unsent changes included; it is requested
        again when next needed (SyncServer API Python interface, 'Resources')."""
        self._data = None
        self._changes.clear()


class Client(Resource):
    """One half of a sync relationship; the common part of every flavour of client:
    :class:`~ocss.clients.SyncmlClient`, :class:`~ocss.clients.ActivesyncClient`,
    :class:`~ocss.datastore.DatastoreClient`, :class:`~ocss.gdata.GDataClient`
    (SyncServer API Python interface, 'Clients'). ``id`` is the client's UUID (``str``)."""

    kind = "Client"
    base_path = "/v2/clients/"

    @classmethod
    def id_from(cls, entry: atom.Element) -> Any:
        return atom.text(entry, "oc:client/oc:uuid") or super().id_from(entry)


def client_text(entry: atom.Element, name: str) -> str | None:
    """The text of ``oc:client/oc:<name>``: None when absent or empty."""
    return atom.text(entry, f"oc:client/oc:{name}") or None
