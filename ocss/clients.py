"""Clients of every flavour, bindings, SyncML and ActiveSync clients (SyncServer API
Python interface, 'Clients', 'Bindings', 'SyncML' and 'ActiveSync'). Everything here
needs credentials."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import atom, checks
from .base import Client, Field, Resource, client_text
from .collection import Collection
from .datastore import Datastore, DatastoreClient
from .gdata import GData, GDataClient
from .phones import Model

if TYPE_CHECKING:
    from .api import SyncServerAPI

GENERIC_READ_ONLY = ("only read-access is possible through the generic client interface; create and change "
                     "clients through api.clients.syncml, .activesync, .datastore or .gdata")
NOT_EDITABLE = "SyncML clients cannot be edited, by design: register a new phone as a new client"
KIND_SCHEME = atom.OC + "#kind"


def client_id(client: Any, what: str = "client") -> str:
    """The id of a client given as a client resource or as its id (``str``).

    :raises TypeError: neither a client resource (of any flavour) nor a ``str``.
    :raises ValueError: an empty id.
    """
    if isinstance(client, Client):
        return str(client.id)
    if isinstance(client, Resource) or not isinstance(client, str):
        shown = type(client).__name__ if isinstance(client, Resource) else f"{type(client).__name__} {client!r}"
        raise TypeError(f"{what} must be a client (SyncmlClient, ActivesyncClient, DatastoreClient, "
                        f"GDataClient) or its id (str), not {shown}")
    if not client:
        raise ValueError(f"{what} must not be an empty id")
    return client


def model_id(model: Any, what: str) -> str:
    """The id of a handset model given as a :class:`~ocss.phones.Model`, its id or UUID
    (``str``), or its numeric id (``int``).

    :raises TypeError: anything else (a ``bool`` too).
    :raises ValueError: an empty id.
    """
    if isinstance(model, Model):
        return str(model.id)
    if isinstance(model, int) and not isinstance(model, bool):
        return str(model)
    if not isinstance(model, str) or isinstance(model, Resource):
        shown = type(model).__name__ if isinstance(model, Resource) else f"{type(model).__name__} {model!r}"
        raise TypeError(f"{what} must be a Model, its id or UUID (str) or its numeric id (int), not {shown}")
    if not model:
        raise ValueError(f"{what} must not be an empty id")
    return model


class SyncmlClient(Client):
    """A SyncML phone (SyncServer API Python interface, 'SyncML').

    Attributes, besides ``id`` (the UUID, ``str``), ``created`` and ``modified``:

    * ``imei`` -- the IMEI of the device (``str``), or None;
    * ``model`` -- the device's :class:`~ocss.phones.Model` (fetched only when one of its
      own attributes is read);
    * ``phone_number`` -- the phone number (``str``, e.g. ``"+4798765432"``);
    * ``timezone`` -- the time zone registered for the device (``str``, e.g.
      ``"Europe/Oslo"``).

    SyncML clients cannot be edited (by design of the SyncML client API): ``update()``
    raises NotAllowedError without sending anything, whatever its arguments. ``delete()``
    works.
    """

    kind = "SyncmlClient"
    base_path = "/v2/services/syncml/"
    item_slash = False  # the SyncML client API's item URLs have no trailing slash
    refused = {"update": NOT_EDITABLE}

    imei = Field("The IMEI of the client device (str), or None.")
    model = Field("The device Model of this client.")
    phone_number = Field("The phone number of the client device (str).")
    timezone = Field("The time zone registered against the device (str).")

    def _parse(self, entry: atom.Element) -> dict[str, Any]:
        return {"imei": client_text(entry, "imei"), "model": client_text(entry, "model_uuid"),
                "phone_number": client_text(entry, "phone_number"), "timezone": client_text(entry, "timezone")}

    def _shown(self, name: str, value: Any) -> Any:
        if name == "model" and value is not None:
            return self._api._obtain(Model, value)
        return value

    def send_setup(self, pincode: str | int) -> None:
        """Send the device a setup SMS with the server's settings; the pincode is needed
        to open it on the phone.

        :param pincode: 4 to 8 digits (``str`` or ``int``).
        :raises TypeError: ``pincode`` is neither a ``str`` nor an ``int``.
        :raises ValueError: ``pincode`` is empty.
        :raises ClientError: the server refused the pincode as malformed (400).
        :raises NotFoundError: the client does not exist (any more).
        """
        if isinstance(pincode, int) and not isinstance(pincode, bool):
            pincode = str(pincode)
        elif not isinstance(pincode, str):
            raise TypeError(f"send_setup(): pincode must be a str or an int, not {type(pincode).__name__} "
                            f"{pincode!r}")
        checks.text(pincode, "send_setup(): pincode")
        body = atom.entry(atom.element("oc:pincode", pincode))
        self._api._request("POST", self._item_path() + "/setup/", body, missing=self._missing_message())
        self._data = None  # the client's setup state changed: read it again when needed

    def sync(self) -> None:
        """Initiate a sync with the device from the server end (a server-alerted sync).

        :raises ClientError: the device's model cannot be alerted (400).
        :raises NotFoundError: the client does not exist (any more).
        """
        self._api._request("POST", self._item_path() + "/sync/", b"", missing=self._missing_message())


class ActivesyncClient(Client):
    """An ActiveSync client (SyncServer API Python interface, 'ActiveSync').

    * ``username`` -- the authentication username of the client (``str``, writable);
    * ``password``, ``old_pass`` -- write-only: never filled from the server, only sent by
      ``update()`` to change the password (``update(old_pass='old', password='new')``).

    ``update()`` accepts ``username``, ``password`` and ``old_pass`` (``str``).
    """

    kind = "ActivesyncClient"
    base_path = "/v2/services/activesync/"

    username = Field("The authentication username for the client (str).", writable=True, convert=checks.text)
    password = Field("The new password, sent by update(); never read from the server.", write_only=True,
                     convert=checks.text)
    old_pass = Field("The current password, needed by update() to change it; never read from the server.",
                     write_only=True, convert=checks.text)

    def _parse(self, entry: atom.Element) -> dict[str, Any]:
        return {"username": client_text(entry, "username")}

    def _update_body(self, changes: dict[str, Any]) -> bytes:
        fields = [(name, changes.get(name)) for name in ("username", "old_pass", "password")]
        return atom.entry(atom.oc_fields("client", fields))


class Binding(Resource):
    """A sync relationship between two clients (SyncServer API Python interface,
    'Bindings'). ``id`` is an ``int``.

    * ``dominant`` -- ``'source'`` or ``'target'``: which client wins conflicting changes
      (writable);
    * ``source``, ``target`` -- the client instances (writable: an instance or an id).

    ``update()`` accepts ``dominant``, ``source`` and ``target``.
    """

    kind = "Binding"
    base_path = "/v2/clients/bindings/"

    dominant = Field("'source' or 'target': the client that takes precedence in a conflict.", writable=True,
                     convert=lambda value, what: checks.choice(value, what, ("source", "target")))
    source = Field("The 'source' client instance.", writable=True, convert=client_id)
    target = Field("The 'target' client instance.", writable=True, convert=client_id)

    def __repr__(self) -> str:
        return f"<Binding id={self._id!r}>"

    @classmethod
    def id_from(cls, entry: atom.Element) -> Any:
        value = atom.text(entry, "oc:binding/oc:id") or atom.last_segment(atom.text(entry, "a:id")) or ""
        return int(value) if value.isdigit() else None

    def _parse(self, entry: atom.Element) -> dict[str, Any]:
        return {name: atom.text(entry, f"oc:binding/oc:{name}") or None for name in ("dominant", "source", "target")}

    def _shown(self, name: str, value: Any) -> Any:
        if name in ("source", "target") and value is not None:
            return self._api.clients._client(value)
        return value

    def _update_body(self, changes: dict[str, Any]) -> bytes:
        return atom.entry(atom.oc_fields("binding", [(n, changes.get(n)) for n in ("source", "target", "dominant")]))


class Bindings(Collection):
    """The account's bindings, keyed by their integer ids (SyncServer API Python
    interface, 'Bindings')."""

    member = Binding

    def _normalize(self, key: Any) -> Any:
        if isinstance(key, Resource):
            key = key.id
        if isinstance(key, int) and not isinstance(key, bool) and key > 0:
            return key
        if isinstance(key, str) and key.isascii() and key.isdigit() and int(key) > 0:
            return int(key)
        raise self._missing(key)

    def new(self, source: Any, target: Any) -> Binding:
        """Bind two clients into a sync relationship, in which the source takes precedence
        in case of conflicts.

        :param source: a client resource or its id (``str``).
        :param target: a client resource or its id (``str``).
        :returns: the new :class:`Binding`.
        :raises TypeError: ``source`` or ``target`` is neither a client nor a ``str``
            (e.g. None, or a Vendor).
        :raises ValueError: an empty id.
        :raises ClientError: a client is unknown, another user's, or both are the same (400).
        """
        ids = [("source", client_id(source, "bindings.new(): source")),
               ("target", client_id(target, "bindings.new(): target"))]
        body = atom.entry(atom.oc_fields("binding", ids))
        return self._created(Binding, self._api._request("POST", self.path, body), "new binding")


class Syncml(Collection):
    """The account's SyncML clients, keyed by UUID (SyncServer API Python interface,
    'SyncML')."""

    member = SyncmlClient

    def new(self, phone_number: str, model: Any, timezone: str | None = None, imei: str | None = None) -> SyncmlClient:
        """Register a SyncML phone.

        :param phone_number: e.g. ``"+4798765432"`` (``str``).
        :param model: the handset :class:`~ocss.phones.Model`, its id or UUID (``str``), or
            its numeric id (``int``).
        :param timezone: an IANA zone name, e.g. ``"Europe/Paris"`` (``str``); None: the
            server's default.
        :param imei: the device's IMEI, 14 to 16 digits (``str``), or None.
        :returns: the new :class:`SyncmlClient`.
        :raises TypeError: an argument of the wrong type (e.g. ``model=object()``), or one
            left out (as for any Python call).
        :raises ValueError: an empty ``phone_number``, ``model``, ``timezone`` or ``imei``.
        :raises ClientError: the server refused a value as malformed or unknown (400).
        """
        fields = [("phone_number", checks.text(phone_number, "syncml.new(): phone_number")),
                  ("model_uuid", model_id(model, "syncml.new(): model")),
                  ("timezone", checks.text(timezone, "syncml.new(): timezone", optional=True)),
                  ("imei", checks.text(imei, "syncml.new(): imei", optional=True))]
        body = atom.entry(atom.oc_fields("client", fields))
        return self._created(SyncmlClient, self._api._request("POST", self.path, body), "new SyncML client")


class Activesync(Collection):
    """The account's ActiveSync clients, keyed by UUID (SyncServer API Python interface,
    'ActiveSync')."""

    member = ActivesyncClient

    def new(self, username: str, password: str) -> ActivesyncClient:
        """Create an ActiveSync client.

        :param username: ``str``, not empty.
        :param password: ``str``, not empty.
        :returns: the new :class:`ActivesyncClient` (its ``password`` is not kept).
        :raises TypeError: a value that is not a ``str``.
        :raises ValueError: an empty value.
        :raises ClientError: the server refused a value (400).
        """
        body = atom.entry(atom.oc_fields("client", [("username", checks.text(username, "activesync.new(): username")),
                                                    ("password", checks.text(password, "activesync.new(): password"))]))
        return self._created(ActivesyncClient, self._api._request("POST", self.path, body),
                             "new ActiveSync client")


KINDS: dict[str, type[Client]] = {"syncml": SyncmlClient, "activesync": ActivesyncClient,
                                  "datastore": DatastoreClient, "gdata": GDataClient}
_PATHS = {cls.base_path: cls for cls in KINDS.values()}


class Clients(Collection):
    """Every client of the account, of every flavour, keyed by UUID; each member is an
    instance of its own class (:class:`SyncmlClient`, :class:`ActivesyncClient`,
    :class:`~ocss.datastore.DatastoreClient`, :class:`~ocss.gdata.GDataClient`)
    (SyncServer API Python interface, 'Clients').

    Read-only: ``new()``, ``update()`` and ``delete()`` here raise NotAllowedError
    without sending anything; create and change clients through the sub-collections
    ``syncml``, ``activesync``, ``datastore`` and ``gdata``. ``bindings`` holds the
    bindings, and :meth:`bind` makes one.
    """

    member = Client
    kind = "Client"
    refused = {"new": GENERIC_READ_ONLY, "update": GENERIC_READ_ONLY, "delete": GENERIC_READ_ONLY}

    def __init__(self, api: SyncServerAPI) -> None:
        super().__init__(api)
        self.bindings = Bindings(api)
        self.syncml = Syncml(api)
        self.activesync = Activesync(api)
        self.datastore = Datastore(api)
        self.gdata = GData(api)

    def bind(self, source: Any, target: Any) -> Binding:
        """Bind two clients into a sync relationship (the source takes precedence in case
        of conflicts); the same as ``api.clients.bindings.new(source, target)``, with the
        same argument checks (:meth:`Bindings.new`)."""
        return self.bindings.new(source, target)

    def _cached(self, key: Any) -> Resource | None:
        for cls in KINDS.values():
            found = self._api._cache.get(cls.kind, "", key)
            if found is not None:
                return found
        return None

    def _from_entry(self, entry: atom.Element) -> Resource:
        return self._api._adopt(_kind_of(entry), entry)

    def _client(self, key: str) -> Resource:
        """The client with this id, as its own class (from the cache, else one GET)."""
        cached = self._cached(key)
        return cached if cached is not None else self[key]


def _kind_of(entry: atom.Element) -> type[Client]:
    """The class of a client entry: its kind category, else the path of its atom:id."""
    for category in entry.findall("a:category", atom.NS):
        term = category.get("term") or ""
        if category.get("scheme") == KIND_SCHEME and term in KINDS:
            return KINDS[term]
    url = atom.text(entry, "a:id") or ""
    for path, cls in _PATHS.items():
        if path in url:
            return cls
    return Client
