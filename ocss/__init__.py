"""The OCSS library: a pythonic interface to the ObexCode SyncServer web service
(SyncServer API Python interface). ::

    import ocss
    api = ocss.SyncServerAPI()                      # anonymous: the phone database
    auth = ocss.SyncServerAuth(consumer_key, consumer_secret, access_key, access_secret)
    api = ocss.SyncServerAPI(auth)                  # everything the account may reach

The API is a hierarchy of Resources (``created``, ``id``, ``modified``, ``delete()``,
``update(**kwargs)``, ``refresh()``) and Collections (dicts keyed by id, with ``new()``,
``delete()``, ``update()``, ``refresh()``):

* ``api.phones.vendors``, ``api.phones.models`` (read-only; ``models.detect_auto()``,
  ``detect_manual()``, ``detect_poll()``);
* ``api.clients`` (every client, read-only), ``api.clients.bind()``,
  ``api.clients.bindings``, ``.syncml``, ``.activesync``, ``.datastore`` (each datastore
  client's ``contents``), ``.gdata``.

Errors that involve the server are the classes of :mod:`ocss.exceptions`, all derived
from ``OCSSAPIError``; errors of use (wrong argument types or values, found before
anything is sent) are ``TypeError`` and ``ValueError`` (:mod:`ocss.checks`).
Only the standard library's HTTP client is used (one keep-alive connection per API
object); requests are signed with OAuth 1.0a HMAC-SHA1.
"""
from __future__ import annotations

from . import exceptions
from .api import DEFAULT_BASE_URL, SyncServerAPI
from .auth import SyncServerAuth
from .base import Client, Resource
from .clients import (
    Activesync,
    ActivesyncClient,
    Binding,
    Bindings,
    Clients,
    Syncml,
    SyncmlClient,
)
from .collection import Collection
from .datastore import Content, ContentCollection, Datastore, DatastoreClient
from .exceptions import (
    ClientError,
    ConnectionError,  # noqa: F401 - see below
    NotAllowedError,
    NotFoundError,
    OCSSAPIError,
    ServerError,
)
from .gdata import GData, GDataClient
from .phones import Model, Models, Phones, Vendor, Vendors

__version__ = "1.2.0"

# ConnectionError is importable from here but left out of __all__: a star import would
# shadow the builtin of the same name.

__all__ = [
    "SyncServerAPI", "SyncServerAuth", "DEFAULT_BASE_URL", "exceptions",
    "OCSSAPIError", "ServerError", "ClientError", "NotFoundError", "NotAllowedError",
    "Resource", "Collection", "Client",
    "Phones", "Vendors", "Vendor", "Models", "Model",
    "Clients", "Bindings", "Binding", "Syncml", "SyncmlClient", "Activesync", "ActivesyncClient",
    "Datastore", "DatastoreClient", "ContentCollection", "Content", "GData", "GDataClient",
]
