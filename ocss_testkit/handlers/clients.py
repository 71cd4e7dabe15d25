"""Clients of every kind: the generic listing, bindings, ActiveSync, datastore clients
and their contents (inferred from the SyncServer API Python interface; routes I9–I15)."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from ..atom import incoming
from ..atom import render_inferred as ri
from ..wire import MAX_INT, ApiError, atom, empty, parse_id, shown
from . import Call


def _xml(element, status: str = "200 OK"):
    return atom(element, status)


# --- /v2/clients/ (read-only, every kind) --------------------------------------------------
def list_all(call: Call):
    clients = call.world.all_clients(call.user)
    return _xml(ri.kind_feed(call.base, f"{call.base}v2/clients/", "Clients", clients, call.world.users,
                             ri.any_client_entry, call.world.clock.now()))


def get_any(call: Call, client_id: str):
    return _xml(ri.any_client_entry(call.base, call.world.any_client(call.user, client_id), call.user))


def read_only(call: Call, **_):
    # 000: "only read-access is possible through the generic client interface"
    raise ApiError(405, "Method Not Allowed",
                   "the generic client interface is read-only: create and change clients through "
                   "/v2/services/{syncml,google,activesync,datastore}/", headers=call.allow())


# --- bindings -------------------------------------------------------------------------------
def _binding_id(value: str) -> int:
    binding_id = parse_id(value)
    if binding_id is None:  # not an integer, or beyond any id the fake holds (wire.MAX_INT)
        raise ApiError(404, "Not Found", f"no binding {shown(value)}: binding ids are integers up to {MAX_INT}")
    return binding_id


def list_bindings(call: Call):
    return _xml(ri.bindings_feed(call.base, call.world.bindings_of(call.user), call.world.clock.now()))


def create_binding(call: Call):
    req = incoming.binding(call.entry)
    if not req.source or not req.target:
        raise ApiError(400, "Bad Request", "oc:binding needs oc:source and oc:target client ids")
    binding = call.world.create_binding(call.user, req.source, req.target, req.dominant or "source")
    response = _xml(ri.binding_entry(call.base, binding), "201 Created")
    response.headers["Location"] = ri.binding_url(call.base, binding.id)
    return response


def get_binding(call: Call, binding_id: str):
    return _xml(ri.binding_entry(call.base, call.world.binding(call.user, _binding_id(binding_id))))


def update_binding(call: Call, binding_id: str):
    req = incoming.binding(call.entry)
    binding = call.world.update_binding(call.user, _binding_id(binding_id), req.source, req.target, req.dominant)
    return _xml(ri.binding_entry(call.base, binding), "200 Updated")


def delete_binding(call: Call, binding_id: str):
    call.world.delete_binding(call.user, _binding_id(binding_id))
    return empty("200 Deleted")


# --- ActiveSync ---------------------------------------------------------------------------
def list_activesync(call: Call):
    w = call.world
    return _xml(ri.kind_feed(call.base, f"{call.base}v2/services/activesync/", "ActiveSync Clients",
                             w.activesync_clients(call.user), w.users, ri.activesync_entry, w.clock.now()))


def get_activesync(call: Call, client_id: str):
    return _xml(ri.activesync_entry(call.base, call.world.activesync_client(call.user, client_id), call.user))


def create_activesync(call: Call):
    req = incoming.activesync_client(call.entry)
    if not req.username or req.password is None:
        raise ApiError(400, "Bad Request", "oc:client needs oc:username and oc:password")
    if req.old_pass is not None:
        raise ApiError(400, "Bad Request", "oc:old_pass is only for changing the password of an existing client")
    client = call.world.create_activesync_client(call.user, req.username, req.password)
    return _xml(ri.activesync_entry(call.base, client, call.user), "201 Created")


def update_activesync(call: Call, client_id: str):
    req = incoming.activesync_client(call.entry)
    client = call.world.update_activesync_client(call.user, client_id, req.username, req.password, req.old_pass)
    return _xml(ri.activesync_entry(call.base, client, call.user), "200 Updated")


def delete_activesync(call: Call, client_id: str):
    call.world.delete_activesync_client(call.user, client_id)
    return empty("200 Deleted")


# --- datastore clients ----------------------------------------------------------------------
def list_datastores(call: Call):
    w = call.world
    return _xml(ri.kind_feed(call.base, f"{call.base}v2/services/datastore/", "Datastore Clients",
                             w.datastore_clients(call.user), w.users, ri.datastore_entry, w.clock.now()))


def get_datastore(call: Call, client_id: str):
    return _xml(ri.datastore_entry(call.base, call.world.datastore_client(call.user, client_id), call.user))


def create_datastore(call: Call):
    name = incoming.datastore_client(call.entry)
    if not name:
        raise ApiError(400, "Bad Request", "oc:client needs an oc:name")
    client = call.world.create_datastore_client(call.user, name)
    return _xml(ri.datastore_entry(call.base, client, call.user), "201 Created")


def update_datastore(call: Call, client_id: str):
    client = call.world.update_datastore_client(call.user, client_id, incoming.datastore_client(call.entry))
    return _xml(ri.datastore_entry(call.base, client, call.user), "200 Updated")


def delete_datastore(call: Call, client_id: str):
    call.world.delete_datastore_client(call.user, client_id)
    return empty("200 Deleted")


# --- contents -----------------------------------------------------------------------------
# 000 shows both `2009-11-01T12:30:00Z` (from a datetime) and `2009-12-09T130500Z`.
SINCE_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H%M%SZ")
_SINCE_SHAPE = re.compile(r"^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d|\d{6})Z$")


def parse_since(value: str) -> datetime:
    if _SINCE_SHAPE.match(value):
        for fmt in SINCE_FORMATS:
            try:
                return datetime.strptime(value, fmt).replace(tzinfo=timezone.utc)
            except ValueError:
                continue
    raise ApiError(400, "Bad Request", f"since={value!r}: use UTC as 2009-11-01T12:30:00Z or 2009-11-01T123000Z")


def list_contents(call: Call, client_id: str):
    args = call.request.args
    unknown = {a for a in args if not a.startswith("oauth_")} - {"since", "dataclass"}
    if unknown:
        raise ApiError(400, "Bad Request", f"unknown filter(s) {', '.join(sorted(unknown))}: use since, dataclass")
    client = call.world.datastore_client(call.user, client_id)
    dataclass = args.get("dataclass")
    if "since" in args:
        rows = client.contents.changes_since(parse_since(args["since"]), dataclass)
    else:
        rows = [(item, None) for item in client.contents.listing(dataclass)]
    return _xml(ri.contents_feed(call.base, client, rows, call.world.clock.now()))


def create_content(call: Call, client_id: str):
    req = incoming.content_item(call.entry)
    if req.data is None or not req.ctype:
        raise ApiError(400, "Bad Request", 'a content item needs <content type="…">data</content>')
    item = call.world.add_content(call.user, client_id, req.data, req.ctype, req.dataclass, req.title or "")
    client = call.world.datastore_client(call.user, client_id)
    response = _xml(ri.content_entry(call.base, client, item), "201 Created")
    response.headers["Location"] = ri.content_url(call.base, client, item.id)
    return response


def get_content(call: Call, client_id: str, item_id: str):
    client = call.world.datastore_client(call.user, client_id)
    return _xml(ri.content_entry(call.base, client, client.contents.get(item_id)))


def update_content(call: Call, client_id: str, item_id: str):
    req = incoming.content_item(call.entry)
    item = call.world.update_content(call.user, client_id, item_id, data=req.data, ctype=req.ctype,
                                     dataclass=req.dataclass, title=req.title)
    client = call.world.datastore_client(call.user, client_id)
    return _xml(ri.content_entry(call.base, client, item), "200 Updated")


def delete_content(call: Call, client_id: str, item_id: str):
    call.world.delete_content(call.user, client_id, item_id)
    return empty("200 Deleted")
