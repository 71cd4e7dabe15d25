"""The route table: the one place that maps method + path to a handler.

Each route says where it comes from: `documented` (an API document, cited by its title,
and the section whose exchange it reproduces as shown) or `inferred` (the docs are
silent; built in the documented style, see docs/decisions.md). It also holds the
documented reason phrases for domain errors on that route, since the same error reads
differently per endpoint in the docs. And it declares its whole wire contract (Route):
the request body's schema and decoder, the answer's renderer, status and schema, each
service's from its `services/*/atom.py`; tests/test_route_contracts.py checks that none is
missing. `ocss-fake routes` prints the table as the API reference (docs/api-reference.md).

How a route is declared is route_declaration.py (Route); the table's werkzeug Map and the
lookups tools make (api_route, safety, deletable, table) are route_map.py. Both are
re-exported here, where importers have always found them.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Concatenate, TypedDict

from lxml import etree

from ocss_testkit.control import dashboard
from ocss_testkit.control import handlers as control
from ocss_testkit.control import tenants as tenant_handlers
from ocss_testkit.provenance import (  # noqa: F401 - GDATA_DOC, SYNCML_DOC, LIBRARY_DOC, DOCUMENTS: re-exported
    DECISIONS,
    DOCUMENTS,
    GDATA_API,
    GDATA_DOC,
    LIBRARY_API,
    LIBRARY_DOC,
    SYNCML_API,
    SYNCML_DOC,
    Provenance,
    documented,
    inferred,
)
from ocss_testkit.route_declaration import DEFAULT_REASONS, PARAMETERS, Body, Route  # noqa: F401 - re-exported
from ocss_testkit.route_map import (  # noqa: F401 - re-exported
    ClientIdConverter,
    api_route,
    build_map,
    deletable,
    safety,
    table,
)
from ocss_testkit.services.activesync import atom as activesync_atom
from ocss_testkit.services.activesync import handlers as activesync
from ocss_testkit.services.clients import atom as clients_atom
from ocss_testkit.services.clients import handlers as clients
from ocss_testkit.services.datastore import atom as datastore_atom
from ocss_testkit.services.datastore import handlers as datastore
from ocss_testkit.services.gdata import atom as gdata_atom
from ocss_testkit.services.gdata import handlers as gdata
from ocss_testkit.services.oauth import handlers as oauth
from ocss_testkit.services.phones import atom as phones_atom
from ocss_testkit.services.phones import cached_bodies as phones_bodies
from ocss_testkit.services.phones import handlers as phones
from ocss_testkit.services.syncml import atom as syncml_atom
from ocss_testkit.services.syncml import handlers as syncml
from ocss_testkit.world.errors import Conflict, NotFound, Unsupported

if TYPE_CHECKING:
    from ocss_testkit.request_context import RequestContext

GDATA = "/v2/services/google/"
SYNCML = "/v2/services/syncml/"
PHONES = "/v2/phones/"
CLIENTS = "/v2/clients/"
ACTIVESYNC = "/v2/services/activesync/"
DATASTORE = "/v2/services/datastore/"


def _read_only(path: str, handler: Callable[Concatenate[RequestContext[None], ...], object], spec_id: str,
               section: str, render: Callable[[RequestContext[Any], Any], bytes]) -> tuple[Route[None], ...]:
    """An anonymous GET, and 405 for every write (SyncServer API Python interface,
    'Phones': the phones API is read-only; I4)."""
    return (Route("GET", path, handler, inferred(LIBRARY_API, section), spec_id, auth=False,
                  response_schema="phones", render=render),
            *(Route(m, path, phones.read_only, inferred(LIBRARY_API, "Phones (read-only)"), "I4", auth=False,
                    refuses=True)
              for m in ("POST", "PUT", "DELETE")))


# The request bodies: (request_schema, decode) of each kind of body, each typed with what
# its decoder makes, which the handlers of its routes take (Route).
class _GDataClient(TypedDict):
    request_schema: str
    decode: Callable[[etree._Element], gdata_atom.GDataClientRequest]


class _SyncMLClient(TypedDict):
    request_schema: str
    decode: Callable[[etree._Element], syncml_atom.SyncMLClientRequest]


class _Text(TypedDict):  # a pincode, a phone number
    request_schema: str
    decode: Callable[[etree._Element], str]


class _Binding(TypedDict):
    request_schema: str
    decode: Callable[[etree._Element], clients_atom.BindingRequest]


class _ActiveSyncClient(TypedDict):
    request_schema: str
    decode: Callable[[etree._Element], activesync_atom.ActiveSyncRequest]


class _DatastoreClient(TypedDict):  # the client's name, None without one
    request_schema: str
    decode: Callable[[etree._Element], str | None]


class _ContentItem(TypedDict):
    request_schema: str
    decode: Callable[[etree._Element], datastore_atom.ContentRequest]


GDATA_CLIENT: _GDataClient = {"request_schema": "gdata-client", "decode": gdata_atom.decode_client}
SYNCML_CLIENT: _SyncMLClient = {"request_schema": "syncml-client", "decode": syncml_atom.decode_client}
SYNCML_SETUP: _Text = {"request_schema": "syncml-setup", "decode": syncml_atom.decode_setup}
DETECT: _Text = {"request_schema": "detect", "decode": phones_atom.decode_phone_number}
BINDING: _Binding = {"request_schema": "binding", "decode": clients_atom.decode_binding}
ACTIVESYNC_CLIENT: _ActiveSyncClient = {"request_schema": "activesync-client",
                                        "decode": activesync_atom.decode_client}
DATASTORE_CLIENT: _DatastoreClient = {"request_schema": "datastore-client", "decode": datastore_atom.decode_client}
CONTENT_ITEM: _ContentItem = {"request_schema": "content-item", "decode": datastore_atom.decode_item}
CREATED, UPDATED = "201 Created", "200 Updated"

ROUTES: tuple[Route[Any], ...] = (
    # --- Google Data clients (Google Data Client API) -------------------------------------
    Route("GET", GDATA, gdata.list_clients, documented(GDATA_API, "List all clients"), "D1",
          response_schema="gdata", render=gdata_atom.render_feed),
    Route("GET", GDATA + "all.xml", gdata.list_clients,
          inferred(GDATA_API, "List all clients: the feed's id and self link"),
          response_schema="gdata", render=gdata_atom.render_feed),
    Route("POST", GDATA, gdata.create_client, documented(GDATA_API, "Add a new client"), "D2", **GDATA_CLIENT,
          reasons={Conflict: (400, "Google client already registered")},
          response_schema="gdata", render=gdata_atom.render_created, status=CREATED),
    Route("PUT", GDATA, gdata.update_client, documented(GDATA_API, "Update a client"), "D4",
          **GDATA_CLIENT, body_required=False, reasons={NotFound: (404, "No such client ID")},
          response_schema="gdata", render=gdata_atom.render_updated, status=UPDATED),
    Route("DELETE", GDATA, gdata.delete_collection, documented(GDATA_API, "Delete a client"), "D5"),
    Route("GET", GDATA + "{uuid}/", gdata.get_client,
          documented(GDATA_API, "Get details for specific client"), "D3",
          reasons={NotFound: (404, "No such Google client.")}, response_schema="gdata", render=gdata_atom.render_entry),
    Route("PUT", GDATA + "{uuid}/", gdata.update_client, documented(GDATA_API, "Update a client"), "D4",
          **GDATA_CLIENT, body_required=False, reasons={NotFound: (404, "No such client ID")},
          response_schema="gdata", render=gdata_atom.render_updated, status=UPDATED),
    Route("DELETE", GDATA + "{uuid}/", gdata.delete_client, documented(GDATA_API, "Delete a client"), "D5",
          reasons={NotFound: (404, "No such client ID")}),
    # The entries' rel="edit" link (Google Data Client API) points here; Atom Publishing
    # clients PUT/DELETE it.
    Route("GET", GDATA + "{uuid}/edit", gdata.get_client, inferred(GDATA_API, "rel=edit link of an entry"),
          reasons={NotFound: (404, "No such Google client.")}, response_schema="gdata", render=gdata_atom.render_entry),
    Route("PUT", GDATA + "{uuid}/edit", gdata.update_client, inferred(GDATA_API, "rel=edit link of an entry"),
          **GDATA_CLIENT, body_required=False, reasons={NotFound: (404, "No such client ID")},
          response_schema="gdata", render=gdata_atom.render_updated, status=UPDATED),
    Route("DELETE", GDATA + "{uuid}/edit", gdata.delete_client,
          inferred(GDATA_API, "rel=edit link of an entry"), reasons={NotFound: (404, "No such client ID")}),
    # --- SyncML (SyncML API) ----------------------------------------------------------------
    Route("GET", SYNCML, syncml.list_clients, documented(SYNCML_API, "Listing all clients"), "D6",
          response_schema="syncml", render=syncml_atom.render_feed),
    Route("POST", SYNCML, syncml.create_client, documented(SYNCML_API, "Create a new client"), "D7",
          **SYNCML_CLIENT, response_schema="syncml", render=syncml_atom.render_entry, status=CREATED),
    Route("GET", SYNCML + "sessions/", syncml.list_sessions, documented(SYNCML_API, "Session API"), "D12",
          response_schema="sessions", render=syncml_atom.render_sessions),
    *(Route("GET", SYNCML + path, syncml.chatlog, documented(SYNCML_API, "Chatlog"), "D13",
            response_schema="sessions", render=syncml_atom.render_chatlog)
      for path in ("sessions/chatlog/", "sessions/{session}/chatlog/")),
    Route("GET", SYNCML + "datastores/", syncml.datastores, documented(SYNCML_API, "Datastore API"), "D14"),
    Route("POST", SYNCML + "setup/", syncml.missing_client,
          inferred(SYNCML_API, "REST Endpoints table: Setup …/syncml/setup/")),
    Route("POST", SYNCML + "sync/", syncml.missing_client,
          inferred(SYNCML_API, "REST Endpoints table: Sync …/syncml/sync/")),
    Route("GET", SYNCML + "{uuid}", syncml.get_client,
          documented(SYNCML_API, "List details for a specific client"), "D8",
          response_schema="syncml", render=syncml_atom.render_entry),
    Route("DELETE", SYNCML + "{uuid}", syncml.delete_client, documented(SYNCML_API, "Delete a client"), "D9"),
    Route("PUT", SYNCML + "{uuid}", syncml.not_editable, documented(SYNCML_API, "SyncML Client API"), "D15",
          refuses=True),
    Route("POST", SYNCML + "{uuid}/setup/", syncml.send_setup,
          documented(SYNCML_API, "Setup and Phone Configuration"), "D10", **SYNCML_SETUP, sends="sms",
          response_schema="syncml-setup", render=syncml_atom.render_setup, status=CREATED),
    # The setup answer's id is a URL (Google Data Client API, 'XML Object description': "ATOM
    # id is the URL to the element"): GET it for the same entry.
    Route("GET", SYNCML + "{uuid}/setup/{setup}/", syncml.get_setup,
          inferred(SYNCML_API, "Setup and Phone Configuration: the answer's id"), "I17",
          response_schema="syncml-setup", render=syncml_atom.render_setup),
    Route("POST", SYNCML + "{uuid}/sync/", syncml.request_sync,
          documented(SYNCML_API, "Server Initiated Synchronization"), "D11",
          reasons={Unsupported: (400, "Server initiated sync not supported")}, sends="push"),
    Route("GET", SYNCML + "sessions/{session}/", syncml.get_session, inferred(SYNCML_API, "Session API"),
          response_schema="sessions", render=syncml_atom.render_session),
    # --- phones database (SyncServer API Python interface, "Phones"): anonymous, read-only ---
    *_read_only(PHONES + "vendors/", phones.list_vendors, "I1", "Vendors", phones_bodies.render_vendors),
    *_read_only(PHONES + "vendors/{vendor}/", phones.get_vendor, "I1", "Vendors", phones_bodies.render_vendor),
    *_read_only(PHONES + "vendors/{vendor}/models/", phones.vendor_models, "I2", "Models",
                phones_bodies.render_vendor_models),
    *_read_only(PHONES + "models/", phones.list_models, "I3", "Models", phones_bodies.render_models),
    *_read_only(PHONES + "models/{model}/", phones.get_model, "I3", "Models", phones_bodies.render_model),
    # --- handset detection ("Models": detect_auto, detect_manual, detect_poll) --------------
    Route("POST", PHONES + "detect/auto/", phones.detect_auto, inferred(LIBRARY_API, "Models: detect_auto"), "I5",
          **DETECT, response_schema="phones", render=phones_atom.render_detected),
    Route("POST", PHONES + "detect/manual/", phones.detect_manual, inferred(LIBRARY_API, "Models: detect_manual"),
          "I6", **DETECT, sends="sms", response_schema="detection", render=phones_atom.render_detection,
          status=CREATED),
    Route("GET", PHONES + "detect/manual/{code}/", phones.detect_poll, inferred(LIBRARY_API, "Models: detect_poll"),
          "I7", response_schema="detection", render=phones_atom.render_detection),
    Route("GET", "/d/{code}", phones.detection_page, inferred(LIBRARY_API, "Models: detect_manual"), "I8",
          auth=False, changes=True,  # the phone's visit is recorded; not a HEAD's (a link preview's)
          peek=functools.partial(phones.detection_page, record=False)),
    # --- clients of every kind ("Clients") -----------------------------------------------
    Route("GET", CLIENTS, clients.list_all, inferred(LIBRARY_API, "Clients"), "I9",
          response_schema="clients", render=clients_atom.render_clients),
    Route("GET", CLIENTS + "{uuid}/", clients.get_any, inferred(LIBRARY_API, "Clients"), "I9",
          response_schema="clients", render=clients_atom.render_client),
    *(Route(m, path, clients.read_only, inferred(LIBRARY_API, "Clients"), "I9", refuses=True)
      for path in (CLIENTS, CLIENTS + "{uuid}/") for m in ("POST", "PUT", "DELETE")),
    Route("GET", CLIENTS + "bindings/", clients.list_bindings, inferred(LIBRARY_API, "Bindings"), "I10",
          response_schema="clients", render=clients_atom.render_bindings),
    Route("POST", CLIENTS + "bindings/", clients.create_binding, inferred(LIBRARY_API, "Bindings: new"), "I10",
          **BINDING, response_schema="clients", render=clients_atom.render_binding, status=CREATED),
    Route("GET", CLIENTS + "bindings/{binding}/", clients.get_binding, inferred(LIBRARY_API, "Bindings"), "I11",
          response_schema="clients", render=clients_atom.render_binding),
    Route("PUT", CLIENTS + "bindings/{binding}/", clients.update_binding, inferred(LIBRARY_API, "Bindings"), "I11",
          **BINDING, response_schema="clients", render=clients_atom.render_binding, status=UPDATED),
    Route("DELETE", CLIENTS + "bindings/{binding}/", clients.delete_binding, inferred(LIBRARY_API, "Bindings"), "I11"),
    Route("GET", ACTIVESYNC, activesync.list_activesync, inferred(LIBRARY_API, "ActiveSync"), "I12",
          response_schema="activesync", render=activesync_atom.render_feed),
    Route("POST", ACTIVESYNC, activesync.create_activesync, inferred(LIBRARY_API, "ActiveSync"), "I12",
          **ACTIVESYNC_CLIENT, response_schema="activesync", render=activesync_atom.render_entry, status=CREATED),
    Route("GET", ACTIVESYNC + "{uuid}/", activesync.get_activesync, inferred(LIBRARY_API, "ActiveSync"), "I12",
          response_schema="activesync", render=activesync_atom.render_entry),
    Route("PUT", ACTIVESYNC + "{uuid}/", activesync.update_activesync, inferred(LIBRARY_API, "ActiveSync"), "I12",
          **ACTIVESYNC_CLIENT, response_schema="activesync", render=activesync_atom.render_entry, status=UPDATED),
    Route("DELETE", ACTIVESYNC + "{uuid}/", activesync.delete_activesync, inferred(LIBRARY_API, "ActiveSync"), "I12"),
    Route("GET", DATASTORE, datastore.list_datastores, inferred(LIBRARY_API, "Datastore"), "I13",
          response_schema="datastore", render=datastore_atom.render_feed),
    Route("POST", DATASTORE, datastore.create_datastore, inferred(LIBRARY_API, "Datastore"), "I13",
          **DATASTORE_CLIENT, response_schema="datastore", render=datastore_atom.render_entry, status=CREATED),
    Route("GET", DATASTORE + "{uuid}/", datastore.get_datastore, inferred(LIBRARY_API, "Datastore"), "I13",
          response_schema="datastore", render=datastore_atom.render_entry),
    Route("PUT", DATASTORE + "{uuid}/", datastore.update_datastore, inferred(LIBRARY_API, "Datastore"), "I13",
          **DATASTORE_CLIENT, response_schema="datastore", render=datastore_atom.render_entry, status=UPDATED),
    Route("DELETE", DATASTORE + "{uuid}/", datastore.delete_datastore, inferred(LIBRARY_API, "Datastore"), "I13"),
    Route("GET", DATASTORE + "{uuid}/contents/", datastore.list_contents, inferred(LIBRARY_API, "Datastore contents"),
          "I14", response_schema="contents", render=datastore_atom.render_contents),
    Route("POST", DATASTORE + "{uuid}/contents/", datastore.create_content,
          inferred(LIBRARY_API, "Datastore contents: new"), "I14", **CONTENT_ITEM,
          response_schema="contents", render=datastore_atom.render_item, status=CREATED),
    Route("GET", DATASTORE + "{uuid}/contents/{item}/", datastore.get_content,
          inferred(LIBRARY_API, "Datastore contents"), "I15", response_schema="contents",
          render=datastore_atom.render_item),
    Route("PUT", DATASTORE + "{uuid}/contents/{item}/", datastore.update_content,
          inferred(LIBRARY_API, "Datastore contents"), "I15", **CONTENT_ITEM,
          response_schema="contents", render=datastore_atom.render_item, status=UPDATED),
    Route("DELETE", DATASTORE + "{uuid}/contents/{item}/", datastore.delete_content,
          inferred(LIBRARY_API, "Datastore contents"), "I15"),
    # --- OAuth 1.0a three-legged flow ("Authentication"; driven as the SmartFile and -------
    # --- Hexoskin Python clients drive theirs) ---------------------------------------------
    *(Route(m, "/oauth/request_token", oauth.request_token, inferred(LIBRARY_API, "Authentication"), "I16",
            auth=False, changes=True) for m in ("GET", "POST")),
    Route("GET", "/oauth/authorize", oauth.authorize_page, inferred(LIBRARY_API, "Authentication"), "I16",
          auth=False),
    Route("POST", "/oauth/authorize", oauth.authorize, inferred(LIBRARY_API, "Authentication"), "I16",
          auth=False),
    *(Route(m, "/oauth/access_token", oauth.access_token, inferred(LIBRARY_API, "Authentication"), "I16",
            auth=False, changes=True) for m in ("GET", "POST")),
)


# The control plane: the fake's own API, unauthenticated, JSON only.
CONTROL = Provenance("control", DECISIONS, "Control plane")
CONTROL_ROUTES: tuple[Route[Any], ...] = (
    Route("GET", "/_fake/", dashboard.page, CONTROL, auth=False),  # the HTML dashboard over the routes below
    Route("GET", "/_fake/health", control.health, CONTROL, auth=False),
    Route("POST", "/_fake/reset", control.reset, CONTROL, auth=False),
    Route("GET", "/_fake/outbox", control.outbox, CONTROL, auth=False),
    Route("GET", "/_fake/state", control.get_state, CONTROL, auth=False),
    Route("PUT", "/_fake/state", control.put_state, CONTROL, auth=False),
    Route("PATCH", "/_fake/state", control.patch_state, CONTROL, auth=False),
    Route("GET", "/_fake/journal", control.journal, CONTROL, auth=False),
    Route("DELETE", "/_fake/journal", control.clear_journal, CONTROL, auth=False),
    Route("GET", "/_fake/faults", control.faults, CONTROL, auth=False),
    Route("POST", "/_fake/faults", control.add_fault, CONTROL, auth=False),
    Route("DELETE", "/_fake/faults", control.clear_faults, CONTROL, auth=False),
    Route("DELETE", "/_fake/faults/{fault}", control.remove_fault, CONTROL, auth=False),
    Route("GET", "/_fake/clock", control.clock, CONTROL, auth=False),
    Route("POST", "/_fake/clock", control.set_clock, CONTROL, auth=False),
    Route("GET", "/_fake/phone/{number}", control.phone, CONTROL, auth=False),
    Route("POST", "/_fake/phone/{number}/visit", control.phone_visit, CONTROL, auth=False),
    *(Route("POST", f"/_fake/phone/{{number}}/{action}", handler, CONTROL, auth=False)
      for action, handler in (("accept-setup", control.phone_setup), ("reject-setup", control.phone_setup),
                              ("accept-sync", control.phone_sync), ("reject-sync", control.phone_sync))),
    *(Route(m, "/_fake/phone/{number}/autopilot", control.autopilot, CONTROL, auth=False) for m in ("PUT", "DELETE")),
    # The tenants of `ocss-fake serve` (tenants.py), at the server's root: they change the
    # registry, not this fake's World.
    Route("GET", "/_fake/tenants", tenant_handlers.list_tenants, CONTROL, auth=False),
    Route("PUT", "/_fake/tenants/{tenant}", tenant_handlers.put_tenant, CONTROL, auth=False, changes=False),
    Route("DELETE", "/_fake/tenants/{tenant}", tenant_handlers.drop_tenant, CONTROL, auth=False, changes=False),
)

