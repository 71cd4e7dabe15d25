"""Clients of every kind: the generic listing, bindings, ActiveSync, datastore clients
and their contents (inferred from the SyncServer API Python interface; routes I9–I15)."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from ocss_testkit.answers import ApiError, atom, empty, shown
from ocss_testkit.atom import incoming
from ocss_testkit.atom import render_inferred as ri
from ocss_testkit.request_context import RequestContext
from ocss_testkit.strict_json import MAX_INT, parse_id


def _xml(element, status: str = "200 OK"):
    return atom(element, status)


# --- /v2/clients/ (read-only, every kind) --------------------------------------------------
def list_all(ctx: RequestContext):
    clients = ctx.world.all_clients(ctx.user)
    return _xml(ri.kind_feed(ctx.base, f"{ctx.base}v2/clients/", "Clients", clients, ctx.world.users,
                             ri.any_client_entry, ctx.world.clock.now()))


def get_any(ctx: RequestContext, client_id: str):
    return _xml(ri.any_client_entry(ctx.base, ctx.world.any_client(ctx.user, client_id), ctx.user))


def read_only(ctx: RequestContext, **_):
    # 000: "only read-access is possible through the generic client interface"
    raise ApiError(405, "Method Not Allowed",
                   "the generic client interface is read-only: create and change clients through "
                   "/v2/services/{syncml,google,activesync,datastore}/", headers=ctx.allow())


# --- bindings -------------------------------------------------------------------------------
def _binding_id(value: str) -> int:
    binding_id = parse_id(value)
    if binding_id is None:  # not an integer, or beyond any id the fake holds (wire.MAX_INT)
        raise ApiError(404, "Not Found", f"no binding {shown(value)}: binding ids are integers up to {MAX_INT}")
    return binding_id


def list_bindings(ctx: RequestContext):
    return _xml(ri.bindings_feed(ctx.base, ctx.world.bindings_of(ctx.user), ctx.world.clock.now()))


def create_binding(ctx: RequestContext):
    req = incoming.binding(ctx.entry)
    if not req.source or not req.target:
        raise ApiError(400, "Bad Request", "oc:binding needs oc:source and oc:target client ids")
    binding = ctx.world.create_binding(ctx.user, req.source, req.target, req.dominant or "source")
    response = _xml(ri.binding_entry(ctx.base, binding), "201 Created")
    response.headers["Location"] = ri.binding_url(ctx.base, binding.id)
    return response


def get_binding(ctx: RequestContext, binding_id: str):
    return _xml(ri.binding_entry(ctx.base, ctx.world.binding(ctx.user, _binding_id(binding_id))))


def update_binding(ctx: RequestContext, binding_id: str):
    req = incoming.binding(ctx.entry)
    binding = ctx.world.update_binding(ctx.user, _binding_id(binding_id), req.source, req.target, req.dominant)
    return _xml(ri.binding_entry(ctx.base, binding), "200 Updated")


def delete_binding(ctx: RequestContext, binding_id: str):
    ctx.world.delete_binding(ctx.user, _binding_id(binding_id))
    return empty("200 Deleted")


# --- ActiveSync ---------------------------------------------------------------------------
def list_activesync(ctx: RequestContext):
    w = ctx.world
    return _xml(ri.kind_feed(ctx.base, f"{ctx.base}v2/services/activesync/", "ActiveSync Clients",
                             w.activesync_clients(ctx.user), w.users, ri.activesync_entry, w.clock.now()))


def get_activesync(ctx: RequestContext, client_id: str):
    return _xml(ri.activesync_entry(ctx.base, ctx.world.activesync_client(ctx.user, client_id), ctx.user))


def create_activesync(ctx: RequestContext):
    req = incoming.activesync_client(ctx.entry)
    if not req.username or req.password is None:
        raise ApiError(400, "Bad Request", "oc:client needs oc:username and oc:password")
    if req.old_pass is not None:
        raise ApiError(400, "Bad Request", "oc:old_pass is only for changing the password of an existing client")
    client = ctx.world.create_activesync_client(ctx.user, req.username, req.password)
    return _xml(ri.activesync_entry(ctx.base, client, ctx.user), "201 Created")


def update_activesync(ctx: RequestContext, client_id: str):
    req = incoming.activesync_client(ctx.entry)
    client = ctx.world.update_activesync_client(ctx.user, client_id, req.username, req.password, req.old_pass)
    return _xml(ri.activesync_entry(ctx.base, client, ctx.user), "200 Updated")


def delete_activesync(ctx: RequestContext, client_id: str):
    ctx.world.delete_activesync_client(ctx.user, client_id)
    return empty("200 Deleted")


# --- datastore clients ----------------------------------------------------------------------
def list_datastores(ctx: RequestContext):
    w = ctx.world
    return _xml(ri.kind_feed(ctx.base, f"{ctx.base}v2/services/datastore/", "Datastore Clients",
                             w.datastore_clients(ctx.user), w.users, ri.datastore_entry, w.clock.now()))


def get_datastore(ctx: RequestContext, client_id: str):
    return _xml(ri.datastore_entry(ctx.base, ctx.world.datastore_client(ctx.user, client_id), ctx.user))


def create_datastore(ctx: RequestContext):
    name = incoming.datastore_client(ctx.entry)
    if not name:
        raise ApiError(400, "Bad Request", "oc:client needs an oc:name")
    client = ctx.world.create_datastore_client(ctx.user, name)
    return _xml(ri.datastore_entry(ctx.base, client, ctx.user), "201 Created")


def update_datastore(ctx: RequestContext, client_id: str):
    client = ctx.world.update_datastore_client(ctx.user, client_id, incoming.datastore_client(ctx.entry))
    return _xml(ri.datastore_entry(ctx.base, client, ctx.user), "200 Updated")


def delete_datastore(ctx: RequestContext, client_id: str):
    ctx.world.delete_datastore_client(ctx.user, client_id)
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


def list_contents(ctx: RequestContext, client_id: str):
    args = ctx.request.args
    unknown = {a for a in args if not a.startswith("oauth_")} - {"since", "dataclass"}
    if unknown:
        raise ApiError(400, "Bad Request", f"unknown filter(s) {', '.join(sorted(unknown))}: use since, dataclass")
    client = ctx.world.datastore_client(ctx.user, client_id)
    dataclass = args.get("dataclass")
    if "since" in args:
        rows = client.contents.changes_since(parse_since(args["since"]), dataclass)
    else:
        rows = [(item, None) for item in client.contents.listing(dataclass)]
    return _xml(ri.contents_feed(ctx.base, client, rows, ctx.world.clock.now()))


def create_content(ctx: RequestContext, client_id: str):
    req = incoming.content_item(ctx.entry)
    if req.data is None or not req.ctype:
        raise ApiError(400, "Bad Request", 'a content item needs <content type="…">data</content>')
    item = ctx.world.add_content(ctx.user, client_id, req.data, req.ctype, req.dataclass, req.title or "")
    client = ctx.world.datastore_client(ctx.user, client_id)
    response = _xml(ri.content_entry(ctx.base, client, item), "201 Created")
    response.headers["Location"] = ri.content_url(ctx.base, client, item.id)
    return response


def get_content(ctx: RequestContext, client_id: str, item_id: str):
    client = ctx.world.datastore_client(ctx.user, client_id)
    return _xml(ri.content_entry(ctx.base, client, client.contents.get(item_id)))


def update_content(ctx: RequestContext, client_id: str, item_id: str):
    req = incoming.content_item(ctx.entry)
    item = ctx.world.update_content(ctx.user, client_id, item_id, data=req.data, ctype=req.ctype,
                                     dataclass=req.dataclass, title=req.title)
    client = ctx.world.datastore_client(ctx.user, client_id)
    return _xml(ri.content_entry(ctx.base, client, item), "200 Updated")


def delete_content(ctx: RequestContext, client_id: str, item_id: str):
    ctx.world.delete_content(ctx.user, client_id, item_id)
    return empty("200 Deleted")
