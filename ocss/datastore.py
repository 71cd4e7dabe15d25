"""Datastore clients and their contents (SyncServer API Python interface, 'Datastore'
and 'Datastore contents'). Everything here needs credentials."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from . import atom, checks
from .base import Client, Field, Resource, client_text, segment
from .collection import Collection

if TYPE_CHECKING:
    from .api import SyncServerAPI


class Content(Resource):
    """One item of a datastore's contents (SyncServer API Python interface, 'Datastore
    contents'). ``id`` is a ``str``. The library does not parse the data.

    * ``data`` -- the raw string data (``str``); None for a deleted item in a ``since``
      listing (writable: ``str``, or ``bytes`` in UTF-8);
    * ``dataclass`` -- the category of the item, e.g. ``"contacts"`` (``str``, writable);
    * ``operation`` -- in a collection filtered with ``since``: ``'insert'``, ``'update'``
      or ``'delete'``; otherwise None;
    * ``title`` -- the title or display name (``str``; ``""`` when none was given;
      writable: ``str``, or ``bytes`` in UTF-8);
    * ``type`` -- the MIME content-type of the data, e.g. ``"text/x-vcard"`` (writable).

    ``update()`` accepts ``data``, ``title``, ``type`` and ``dataclass``.
    """

    kind = "Content"

    data = Field("The raw string data of the content (str); None for a deleted item.", writable=True,
                 convert=checks.raw_text)
    dataclass = Field("The category under which this content item is stored (str).", writable=True,
                      convert=checks.text)
    operation = Field("With a since filter: 'insert', 'update' or 'delete'; otherwise None.")
    title = Field("The title or display name of the content item (str).", writable=True, convert=checks.raw_text)
    type = Field("The MIME content-type of the item data (str).", writable=True, convert=checks.text)  # noqa: A003

    @classmethod
    def item_path(cls, id: Any, parent: Resource | None = None) -> str:  # noqa: A002
        if parent is None:
            raise TypeError("a content item lives in a datastore client")
        return parent._item_path() + "contents/" + segment(id) + "/"

    def _parse(self, entry: atom.Element) -> dict[str, Any]:
        content = atom.find(entry, "a:content")
        return {"title": atom.text(entry, "a:title"),
                "data": None if content is None else (content.text or ""),
                "type": None if content is None else content.get("type"),
                "dataclass": atom.text(entry, "oc:dataclass") or None,
                "operation": atom.text(entry, "oc:operation") or None}

    def _update_body(self, changes: dict[str, Any]) -> bytes:
        children = []
        if "title" in changes:
            children.append(atom.element("a:title", changes["title"]))
        if "data" in changes or "type" in changes:
            # The API replaces a:content whole: the part not changed is sent as it is.
            data = changes["data"] if "data" in changes else self._load().get("data")
            ctype = changes["type"] if "type" in changes else self._load().get("type")
            children.append(atom.element("a:content", data or "", type=ctype))
        if "dataclass" in changes:
            children.append(atom.element("oc:dataclass", changes["dataclass"]))
        return atom.entry(*children)


def _since(value: Any) -> str:
    """The API's form of a ``since`` value (``2009-11-01T12:30:00Z``): from a datetime
    (naive = UTC) or date, or from a string holding a date-time, such as the API's own
    ``2009-11-01T12:30:00Z`` and ``2009-12-09T130500Z`` or any ISO 8601 form (no offset =
    UTC).

    :raises TypeError: neither a date, a datetime nor a string.
    :raises ValueError: a string that holds no date-time.
    """
    if isinstance(value, date):
        return atom.format_time(value)
    if not isinstance(value, str):
        raise TypeError(f"contents(): since must be a datetime, a date or a str like '2009-12-09T130500Z', "
                        f"not {type(value).__name__} {value!r}")
    parsed = atom.parse_time(value)
    if parsed is None:
        raise ValueError(f"contents(): since {value!r} is not a date-time: use a datetime, or UTC as "
                         "'2009-11-01T12:30:00Z' or '2009-11-01T123000Z'")
    return atom.format_time(parsed)


class ContentCollection(Collection):
    """The contents of one datastore, keyed by item id (SyncServer API Python interface,
    'Datastore contents').

    Calling the collection with filters returns a new, filtered collection:

    * ``since`` -- a ``datetime`` (naive values are UTC), or a string such as
      ``"2009-12-09T130500Z"`` or ``"2009-11-01T12:30:00Z"``: the changes made since
      then, deletions included; each item's ``operation`` says which change it was;
    * ``dataclass`` -- only the items of this dataclass (e.g. ``"contacts"``).

    Filters combine, and calling a filtered collection adds to its filters. Items of a
    ``since`` listing are snapshots of one change each: they are not shared through the
    object cache.
    """

    member = Content

    def __init__(self, api: SyncServerAPI, store: Resource, since: str | None = None,
                 dataclass: str | None = None) -> None:
        super().__init__(api, parent=store)
        self._since, self._dataclass = since, dataclass
        self._by_listing = since is not None or dataclass is not None

    @property
    def path(self) -> str:
        assert self._parent is not None
        return self._parent._item_path() + "contents/"

    def _params(self) -> dict[str, str]:
        params = {}
        if self._since is not None:
            params["since"] = self._since
        if self._dataclass is not None:
            params["dataclass"] = self._dataclass
        return params

    def __call__(self, since: Any = None, dataclass: str | None = None) -> ContentCollection:
        """A new collection with these filters added (see the class docstring). Sends
        nothing: the filtered feed is requested when first read.

        :raises TypeError: ``since`` is neither a date-time nor a string; ``dataclass`` is
            not a string.
        :raises ValueError: ``since`` is a string that holds no date-time; ``dataclass``
            is empty.
        """
        assert self._parent is not None
        return ContentCollection(self._api, self._parent, _since(since) if since is not None else self._since,
                                 checks.text(dataclass, "contents(): dataclass") if dataclass is not None
                                 else self._dataclass)

    def _from_entry(self, entry: atom.Element) -> Resource:
        if self._since is None:
            return super()._from_entry(entry)
        item = Content(self._api, Content.id_from(entry), self._parent)
        item._populate(entry)
        return item

    def new(self, data: str | bytes, ctype: str, dataclass: str | None = None, *, title: str | None = None) -> Content:
        """Create a new item of content in the datastore.

        :param data: the raw string of data to store (``str``; ``bytes`` are taken as UTF-8).
        :param ctype: its content-type, e.g. ``"text/plain"`` (``str``).
        :param dataclass: the category, e.g. ``"contacts"`` (``str``); None: the server
            assigns one from ``ctype`` if it knows it, else ``"Misc"``.
        :param title: keyword only: a title or display name for the item (``str`` or
            UTF-8 ``bytes``); None: the item has no title (its ``title`` reads ``""``).
        :returns: the new :class:`Content`.
        :raises TypeError: an argument of the wrong type.
        :raises ValueError: bytes that are not UTF-8, text XML cannot carry (e.g. a NUL),
            an empty ``ctype`` or ``dataclass``.
        :raises ClientError: the server refused a value (400).
        """
        text: str = checks.raw_text(data, "contents.new(): data")
        checks.text(ctype, "contents.new(): ctype")
        checks.text(dataclass, "contents.new(): dataclass", optional=True)
        title = checks.raw_text(title, "contents.new(): title", optional=True)
        children = []
        if title is not None:
            children.append(atom.element("a:title", title))
        children.append(atom.element("a:content", text, type=ctype))
        if dataclass is not None:
            children.append(atom.element("oc:dataclass", dataclass))
        response = self._api._request("POST", self.path, atom.entry(*children))
        return self._created(Content, response, "new content item")


class DatastoreClient(Client):
    """A raw datastore client (SyncServer API Python interface, 'Datastore').

    * ``name`` -- the custom name assigned to this datastore (``str``, writable);
    * ``contents`` -- the :class:`ContentCollection` of its contents.

    ``update()`` accepts ``name``.
    """

    kind = "DatastoreClient"
    base_path = "/v2/services/datastore/"

    name = Field("The custom name assigned to this datastore (str).", writable=True, convert=checks.text)

    def __init__(self, api: SyncServerAPI, id: Any, parent: Resource | None = None) -> None:  # noqa: A002
        super().__init__(api, id, parent)
        self._contents: ContentCollection | None = None

    @property
    def contents(self) -> ContentCollection:
        """The collection of the contents of this datastore (the same object every time)."""
        if self._contents is None:
            self._contents = ContentCollection(self._api, self)
        return self._contents

    def _parse(self, entry: atom.Element) -> dict[str, Any]:
        return {"name": client_text(entry, "name")}

    def _update_body(self, changes: dict[str, Any]) -> bytes:
        return atom.entry(atom.oc_fields("client", [("name", changes["name"])]))


class Datastore(Collection):
    """The account's datastore clients, keyed by UUID (SyncServer API Python interface,
    'Datastore')."""

    member = DatastoreClient

    def new(self, name: str) -> DatastoreClient:
        """Create a datastore client with this custom name.

        :param name: ``str``, not empty.
        :returns: the new :class:`DatastoreClient`.
        :raises TypeError: ``name`` is not a ``str``.
        :raises ValueError: ``name`` is empty, or holds text XML cannot carry.
        :raises ClientError: the server refused the name (400).
        """
        body = atom.entry(atom.oc_fields("client", [("name", checks.text(name, "datastore.new(): name"))]))
        return self._created(DatastoreClient, self._api._request("POST", self.path, body), "new datastore client")
