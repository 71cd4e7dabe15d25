"""Google Data clients (SyncServer API Python interface, 'GData'; the wire format is the
Google Data client API's). Everything here needs credentials."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import atom
from .base import Client, Field
from .collection import Collection

ACCESS_TOKEN = 2  # token_type: 1 a request token, 2 an access token


class GDataClient(Client):
    """A client syncing a third-party store with the GData interface, such as GMail
    (SyncServer API Python interface, 'GData').

    * ``user_id`` -- the user id on the GData service, e.g. an e-mail address (``str``);
    * ``datastores`` -- a ``list`` of ``dict`` with the keys ``dataclass``
      (``"Contacts"`` or ``"Calendar"``), ``url`` and ``name``, one per registered
      datastore.
    """

    kind = "GDataClient"
    base_path = "/v2/services/google/"

    user_id = Field("The user_id of this GData client (str).", writable=True)
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
        return atom.entry(atom.oc_fields("client", [("user_id", str(changes["user_id"]))]))

    def add_datastore(self, dataclass: str, url: str, key: str, secret: str, scopes: Iterable[str] | str,
                      name: str | None = None, token_type: int = ACCESS_TOKEN) -> None:
        """Register a datastore against this client (a datastore of a dataclass the client
        already has replaces it). The answer refreshes ``datastores``.

        :param dataclass: ``"Contacts"`` or ``"Calendar"``.
        :param url: the location of the datastore's GData interface.
        :param key: the key of the OAuth token used to authenticate with the datastore.
        :param secret: that token's secret.
        :param scopes: the base URLs for which the token is valid (a list; a single ``str``
            is one scope).
        :param name: a custom name; None: the name of the dataclass.
        :param token_type: 1 for a request token, 2 (default) for an access token.
        :raises ClientError: a value the server refuses (400), e.g. an unknown dataclass.
        :raises NotFoundError: the client does not exist (any more).
        """
        scope_list = [scopes] if isinstance(scopes, str) else list(scopes)
        token = atom.element("oc:token", children=[
            atom.element("oc:token_type", str(token_type)), atom.element("oc:key", str(key)),
            atom.element("oc:secret", str(secret)), *(atom.element("oc:scope", str(s)) for s in scope_list)])
        store = atom.element("oc:datastore", children=[token], dataclass=str(dataclass), href=str(url),
                             name=str(name) if name is not None else str(dataclass))
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

        :raises ClientError: a missing user id, or one already registered (400).
        """
        body = atom.entry(atom.oc_fields("client", [("user_id", str(user_id))]))
        return self._created(GDataClient, self._api._request("POST", self.path, body), "new GData client")
