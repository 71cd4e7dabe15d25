"""Collections: containers of resources with the interface of a dict keyed by id
(SyncServer API Python interface, 'Collections')."""
from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from . import atom
from .base import R, Resource
from .exceptions import ClientError, NotAllowedError, NotFoundError, ServerError

if TYPE_CHECKING:
    from .api import SyncServerAPI
    from .transport import Response


class Collection:
    """A container of resources, with the interface of a dict keyed by their ids
    (SyncServer API Python interface, 'Collections').

    ``id in c``, ``c[id]``, ``len(c)``, iteration (over the resources, in the feed's
    order), ``keys()``, ``values()``, ``items()``, ``get(id, default)``, and
    :meth:`new`, :meth:`delete`, :meth:`update`, :meth:`refresh`.

    Building a collection sends nothing. The feed is requested once, when first needed
    (``len``, iteration, ``keys()`` ...), and kept until :meth:`refresh` (or a change made
    through this API object to a resource of the kind it holds). ``c[id]`` (and ``id in
    c``, ``get``) before the feed is loaded requests that one resource only, once: the
    resource is then cached, and its attributes are filled from that answer. As with a
    dict, a key no member can have (None, an empty id) is simply missing: a
    :class:`~ocss.exceptions.NotFoundError`, a ``KeyError``.
    """

    member: ClassVar[type[Resource]] = Resource
    kind: ClassVar[str | None] = None  # the name in "No ... with ID"; default: the member's
    refused: ClassVar[dict[str, str]] = {}  # operation -> why the library refuses it locally

    def __init__(self, api: SyncServerAPI, parent: Resource | None = None) -> None:
        self._api = api
        self._parent = parent
        self._listing: list[Resource] | None = None
        self._by_listing = False  # members are only those of the feed (a sub-collection, a filter)
        api._listings.add(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} collection at {id(self):#x}>"

    # --- what subclasses adjust ---------------------------------------------------------
    @property
    def path(self) -> str:
        """The API path of this collection's feed (relative to the base URL)."""
        return self.member.base_path

    def _params(self) -> dict[str, str]:
        return {}

    def _holds(self, cls: type[Resource]) -> bool:
        return issubclass(cls, self.member)

    def _normalize(self, key: Any) -> Any:
        """The id a key stands for; raises NotFoundError for a key no member can have."""
        if isinstance(key, Resource):
            key = key.id
        if not isinstance(key, (str, int)) or isinstance(key, bool) or key == "":
            raise self._missing(key)
        return str(key)

    def _missing(self, key: Any, error: Exception | None = None) -> NotFoundError:
        kind = self.kind or self.member.kind
        status, reason, body = (getattr(error, "status", None), getattr(error, "reason", None),
                                getattr(error, "body", None))
        return NotFoundError(f"No {kind} with ID {key!r}", status, reason, body)

    def _cached(self, key: Any) -> Resource | None:
        parent = self._parent._id if self._parent is not None else ""
        return self._api._cache.get(self.member.kind, parent, key)

    def _from_entry(self, entry: atom.Element) -> Resource:
        return self._api._adopt(self.member, entry, self._parent)

    def _fetch(self, key: Any) -> Resource:
        what = f"{self.member.__name__} {key!r}"
        try:
            response = self._api._request("GET", self.member.item_path(key, self._parent),
                                          protected=self.member.protected)
        except NotFoundError as exc:
            raise self._missing(key, exc) from None
        with self._api._reading(response):
            return self._from_entry(self._api._entry(response, what))

    # --- the feed --------------------------------------------------------------------------
    def _load(self) -> list[Resource]:
        if self._listing is None:
            response = self._api._request("GET", self.path, params=self._params(),
                                          protected=self.member.protected)
            feed = self._api._feed(response, f"{type(self).__name__} feed")
            with self._api._reading(response):
                self._listing = [self._from_entry(entry) for entry in atom.entries(feed)]
        return self._listing

    def __len__(self) -> int:
        return len(self._load())

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._load()))

    def keys(self) -> list[Any]:
        """The ids of the members, in the feed's order (``list``)."""
        return [r.id for r in self._load()]

    def values(self) -> list[Any]:
        """The members (resources), in the feed's order (``list``)."""
        return list(self._load())

    def items(self) -> list[tuple[Any, Any]]:
        """``(id, resource)`` pairs, in the feed's order (``list``)."""
        return [(r.id, r) for r in self._load()]

    def __getitem__(self, key: Any) -> Any:
        key = self._normalize(key)
        if self._listing is None and not self._by_listing:
            cached = self._cached(key)
            if cached is not None and cached._data is not None:
                return cached
            return self._fetch(key)
        for resource in self._load():
            if resource._matches(key):
                return resource
        raise self._missing(key)

    def get(self, key: Any, default: Any = None) -> Any:
        """The member with this id, or ``default`` when there is none (404)."""
        try:
            return self[key]
        except NotFoundError:
            return default

    def __contains__(self, key: object) -> bool:
        """Whether a member has this id. A 404 or a 403 (another user's resource) is
        False; missing credentials and connection problems raise as everywhere."""
        try:
            self[key]
        except NotFoundError:
            return False
        except (NotAllowedError, ClientError) as exc:
            if exc.status in (400, 403):
                return False
            raise
        return True

    # --- changes ---------------------------------------------------------------------------
    def _refuse(self, operation: str) -> None:
        reason = self.refused.get(operation)
        if reason is not None:
            raise NotAllowedError(f"{type(self).__name__}.{operation}() is not allowed: {reason} "
                                  "(no request was sent)")

    def _resource(self, resource_or_id: Any, operation: str) -> Resource:
        """The member named by a resource instance or an id.

        :raises TypeError: a resource of another kind, or an id that is neither ``str``
            nor ``int``.
        """
        member = self.member.__name__
        if isinstance(resource_or_id, Resource):
            if not isinstance(resource_or_id, self.member):
                raise TypeError(f"{type(self).__name__}.{operation}(): a {type(resource_or_id).__name__} is not a "
                                f"member: give a {member} or its id")
            return resource_or_id
        if not isinstance(resource_or_id, (str, int)) or isinstance(resource_or_id, bool):
            raise TypeError(f"{type(self).__name__}.{operation}(): resource must be a {member} or its id "
                            f"(str or int), not {type(resource_or_id).__name__} {resource_or_id!r}")
        key = self._normalize(resource_or_id)
        return self._cached(key) or self._api._obtain(self.member, key, self._parent)

    def _created(self, cls: type[R], response: Response, what: str) -> R:
        """The resource a 201 answer describes: its entry, else its Location header.

        :raises ServerError: the answer names no resource, or one of another kind.
        """
        if response.body.strip():
            with self._api._reading(response):
                resource = self._from_entry(self._api._entry(response, what))
        else:
            location = atom.last_segment(response.headers.get("location"))
            if not location:
                raise ServerError(f"{what}: the answer names no created resource", response.status,
                                  response.reason, response.body)
            resource = self._api._obtain(cls, self._normalize(location), self._parent)
        if not isinstance(resource, cls):
            raise ServerError(f"{what}: the answer describes a {type(resource).__name__}, not a {cls.__name__}",
                              response.status, response.reason, response.body)
        self._api._written(cls)
        return resource

    def new(self, *args: Any, **kwargs: Any) -> Any:
        """Create a new resource in the collection; the arguments depend on the kind of
        resource (SyncServer API Python interface, 'Collections').

        :raises NotAllowedError: the collection is read-only (checked before sending).
        """
        self._refuse("new")
        raise NotAllowedError(f"{type(self).__name__}.new() is not supported (no request was sent)")

    def delete(self, resource: Any) -> None:
        """Delete the given resource (instance or ID) from this collection.

        :raises NotAllowedError: the collection is read-only (checked before sending), or
            the server refused.
        :raises TypeError: ``resource`` is neither a member nor an id (``str``, ``int``).
        :raises NotFoundError: there is no such resource.
        """
        self._refuse("delete")
        self._resource(resource, "delete").delete()

    def update(self, resource: Any, **kwargs: Any) -> None:
        """Update the given resource (instance or ID) as ``resource.update(**kwargs)`` would.

        :raises NotAllowedError: the collection is read-only (checked before sending).
        :raises TypeError: ``resource`` is neither a member nor an id (``str``, ``int``); or
            as ``update()`` raises it.
        """
        self._refuse("update")
        self._resource(resource, "update").update(**kwargs)

    def refresh(self) -> None:
        """Clear the local copy of the feed; it is requested again when next needed
        (SyncServer API Python interface, 'Collections')."""
        self._listing = None
