"""Google Data clients (SyncServer API Python interface, 'GData'; the wire format is the
Google Data client API's). Everything here needs credentials."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import atom, checks
from .base import Client, Field
from .collection import Collection

ACCESS_TOKEN = 2  # token_type: 1 a request token, 2 an access token


class GDataClient(Client):
    """A client syncing a third-party store with the GData interface, such as GMail
    (SyncServer API Python interface, 'GData').

    * ``user_id`` -- the user id on the GData service, e.g. an e-mail address (``str``);
    * ``datastores`` -- a ``list`` of ``dict`` with the keys ``dataclass``
      (``"Contacts"`` or ``"Calendar"``), ``url`` and ``name``, one per registered
      datastore (a copy: changing it changes nothing).

    ``update()`` accepts ``user_id``, but the service keeps a client's user id: updating
    a client adds datastores (Google Data Client API, 'Update a client'), and a different
    ``user_id`` is refused with 400, a :class:`~ocss.exceptions.ClientError`.
    Datastores are added with :meth:`add_datastore`.
    """

    kind = "GDataClient"
    base_path = "/v2/services/google/"

    user_id = Field("The user_id of this GData client (str).", writable=True, convert=checks.text)
    datastores = Field("The datastores registered against this client: a list of dicts of dataclass, url and "
                       "name.")

    def _parse(self, entry: atom.Element) -> dict[str, Any]:
        stores = []
        for store in entry.findall("oc:client/oc:datastore", atom.NS):
            dataclass = store.get("dataclass")
            # Listings name a datastore in an attribute; the answer to an update, in its text.
            name = store.get("name") or (store.text or "").strip() or dataclass
            stores.append({"dataclass": dataclass, "url": store.get("href"), "name": name})
        return {"user_id": atom.text(entry, "oc:client/oc:user_id") or None, "datastores": stores}

    def _shown(self, name: str, value: Any) -> Any:
        if name == "datastores" and value is not None:
            return [dict(store) for store in value]  # a copy: editing it changes nothing
        return value

    def _update_body(self, changes: dict[str, Any]) -> bytes:
        return atom.entry(atom.oc_fields("client", [("user_id", changes["user_id"])]))

    def add_datastore(self, dataclass: str, url: str, key: str, secret: str, scopes: Iterable[str] | str,
                      name: str | None = None, token_type: int = ACCESS_TOKEN) -> None:
        """Register a datastore against this client, with one PUT (Google Data Client API,
        'Update a client'). The service merges: the client's other datastores stay, and a
        datastore of a dataclass the client already has replaces that one. ``datastores``
        is refreshed from the answer, with no further request.

        :param dataclass: ``"Contacts"`` or ``"Calendar"`` (``str``).
        :param url: the location of the datastore's GData interface (``str``).
        :param key: the key of the OAuth token used to authenticate with the datastore (``str``).
        :param secret: that token's secret (``str``).
        :param scopes: the base URLs for which the token is valid: an iterable of ``str``
            (a single ``str`` is one scope).
        :param name: a custom name (``str``); None: the name of the dataclass.
        :param token_type: 1 for a request token, 2 (default) for an access token.
        :raises TypeError: an argument of the wrong type (a scope that is not a ``str``).
        :raises ValueError: an empty ``dataclass``, ``url``, ``key``, ``secret`` or
            ``name``; a ``token_type`` other than 1 or 2.
        :raises ClientError: a value the server refuses (400), e.g. an unknown dataclass.
        :raises NotFoundError: the client does not exist (any more).
        """
        where = "add_datastore()"
        for value, what in ((dataclass, "dataclass"), (url, "url"), (key, "key"), (secret, "secret")):
            checks.text(value, f"{where}: {what}")
        checks.text(name, f"{where}: name", optional=True)
        checks.choice(token_type, f"{where}: token_type", (1, 2))
        if isinstance(scopes, str):
            scope_list = [scopes]
        elif isinstance(scopes, Iterable) and not isinstance(scopes, (bytes, bytearray, dict)):
            scope_list = list(scopes)
        else:
            raise TypeError(f"{where}: scopes must be a str or an iterable of str, not {type(scopes).__name__}")
        for scope in scope_list:
            checks.text(scope, f"{where}: each of scopes")
        token = atom.element("oc:token", children=[
            atom.element("oc:token_type", str(token_type)), atom.element("oc:key", key),
            atom.element("oc:secret", secret), *(atom.element("oc:scope", s) for s in scope_list)])
        store = atom.element("oc:datastore", children=[token], dataclass=dataclass, href=url,
                             name=name if name is not None else dataclass)
        body = atom.entry(atom.element("oc:client", children=[store]))
        response = self._api._request("PUT", self._item_path(), body, missing=self._missing_message())
        if response.body.strip():
            self._populate(self._api._entry(response, f"GDataClient {self._id!r}"))
        else:
            self._data = None
        self._api._written(GDataClient)


class GData(Collection):
    """The account's GData clients, keyed by UUID (SyncServer API Python interface,
    'GData')."""

    member = GDataClient

    def new(self, user_id: str) -> GDataClient:
        """Create and return a new GData client for this user id (for GMail, the e-mail
        address); datastores are added with :meth:`GDataClient.add_datastore`.

        :param user_id: ``str``, not empty.
        :raises TypeError: ``user_id`` is not a ``str``.
        :raises ValueError: ``user_id`` is empty.
        :raises ClientError: the server refused the user id, e.g. one already registered.
        """
        body = atom.entry(atom.oc_fields("client", [("user_id", checks.text(user_id, "gdata.new(): user_id"))]))
        return self._created(GDataClient, self._api._request("POST", self.path, body), "new GData client")
