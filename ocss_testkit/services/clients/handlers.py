"""Clients of every kind: the generic listing, bindings, ActiveSync, datastore clients
and their contents (inferred from the SyncServer API Python interface; routes I9–I15).

A handler gets the decoded body as `ctx.body` (each kind's atom.py) and returns the
domain value for its route to render, or a Response."""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, NoReturn

from werkzeug.wrappers import Response

from ocss_testkit.answers import Answer, ApiError, empty, shown
from ocss_testkit.request_context import RequestContext
from ocss_testkit.services.activesync.atom import ActiveSyncRequest
from ocss_testkit.services.clients.atom import BindingRequest, binding_url
from ocss_testkit.services.datastore.atom import ContentItem, ContentRequest, Contents, content_url
from ocss_testkit.strict_json import MAX_INT, parse_id

if TYPE_CHECKING:
    from ocss_testkit.services.activesync.state import ActiveSyncClient
    from ocss_testkit.services.clients.state import Binding
    from ocss_testkit.services.datastore.contents import Item
    from ocss_testkit.services.datastore.state import DatastoreClient
    from ocss_testkit.world.clients import Client


# --- /v2/clients/ (read-only, every kind) --------------------------------------------------
def list_all(ctx: RequestContext[None]) -> list[Client]:
    return ctx.world.clients.of_user(ctx.signed_in)


def get_any(ctx: RequestContext[None], client_id: str) -> Client:
    return ctx.world.clients.any(ctx.signed_in, client_id)


def read_only(ctx: RequestContext[None], **_: str) -> NoReturn:
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


def list_bindings(ctx: RequestContext[None]) -> list[Binding]:
    return ctx.world.bindings.of_user(ctx.signed_in)


def create_binding(ctx: RequestContext[BindingRequest]) -> Answer:
    req = ctx.body
    if not req.source or not req.target:
        raise ApiError(400, "Bad Request", "oc:binding needs oc:source and oc:target client ids")
    binding = ctx.world.bindings.create(ctx.signed_in, req.source, req.target, req.dominant or "source")
    return Answer(binding, headers={"Location": binding_url(ctx.base, binding.id)})


def get_binding(ctx: RequestContext[None], binding_id: str) -> Binding:
    return ctx.world.bindings.binding(ctx.signed_in, _binding_id(binding_id))


def update_binding(ctx: RequestContext[BindingRequest], binding_id: str) -> Binding:
    req = ctx.body
    return ctx.world.bindings.update(ctx.signed_in, _binding_id(binding_id), req.source, req.target, req.dominant)


def delete_binding(ctx: RequestContext[None], binding_id: str) -> Response:
    ctx.world.bindings.delete(ctx.signed_in, _binding_id(binding_id))
    return empty("200 Deleted")


# --- ActiveSync ---------------------------------------------------------------------------
def list_activesync(ctx: RequestContext[None]) -> list[ActiveSyncClient]:
    return ctx.world.activesync.clients(ctx.signed_in)


def get_activesync(ctx: RequestContext[None], client_id: str) -> ActiveSyncClient:
    return ctx.world.activesync.client(ctx.signed_in, client_id)


def create_activesync(ctx: RequestContext[ActiveSyncRequest]) -> ActiveSyncClient:
    req = ctx.body
    if not req.username or req.password is None:
        raise ApiError(400, "Bad Request", "oc:client needs oc:username and oc:password")
    if req.old_pass is not None:
        raise ApiError(400, "Bad Request", "oc:old_pass is only for changing the password of an existing client")
    return ctx.world.activesync.create_client(ctx.signed_in, req.username, req.password)


def update_activesync(ctx: RequestContext[ActiveSyncRequest], client_id: str) -> ActiveSyncClient:
    req = ctx.body
    return ctx.world.activesync.update_client(ctx.signed_in, client_id, req.username, req.password, req.old_pass)


def delete_activesync(ctx: RequestContext[None], client_id: str) -> Response:
    ctx.world.activesync.delete_client(ctx.signed_in, client_id)
    return empty("200 Deleted")


# --- datastore clients ----------------------------------------------------------------------
def list_datastores(ctx: RequestContext[None]) -> list[DatastoreClient]:
    return ctx.world.datastore.clients(ctx.signed_in)


def get_datastore(ctx: RequestContext[None], client_id: str) -> DatastoreClient:
    return ctx.world.datastore.client(ctx.signed_in, client_id)


def create_datastore(ctx: RequestContext[str | None]) -> DatastoreClient:
    name = ctx.body
    if not name:
        raise ApiError(400, "Bad Request", "oc:client needs an oc:name")
    return ctx.world.datastore.create_client(ctx.signed_in, name)


def update_datastore(ctx: RequestContext[str | None], client_id: str) -> DatastoreClient:
    return ctx.world.datastore.update_client(ctx.signed_in, client_id, ctx.body)


def delete_datastore(ctx: RequestContext[None], client_id: str) -> Response:
    ctx.world.datastore.delete_client(ctx.signed_in, client_id)
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


def list_contents(ctx: RequestContext[None], client_id: str) -> Contents:
    args = ctx.request.args
    unknown = {a for a in args if not a.startswith("oauth_")} - {"since", "dataclass"}
    if unknown:
        raise ApiError(400, "Bad Request", f"unknown filter(s) {', '.join(sorted(unknown))}: use since, dataclass")
    client = ctx.world.datastore.client(ctx.signed_in, client_id)
    dataclass = args.get("dataclass")
    rows: Sequence[tuple[Item, str | None]]  # (item, its oc:operation: only a `since` listing has one)
    if "since" in args:
        rows = client.contents.changes_since(parse_since(args["since"]), dataclass)
    else:
        rows = [(item, None) for item in client.contents.listing(dataclass)]
    return Contents(client, rows)


def create_content(ctx: RequestContext[ContentRequest], client_id: str) -> Answer:
    req = ctx.body
    if req.data is None or not req.ctype:
        raise ApiError(400, "Bad Request", 'a content item needs <content type="…">data</content>')
    item = ctx.world.datastore.add_content(ctx.signed_in, client_id, req.data, req.ctype, req.dataclass,
                                           req.title or "")
    client = ctx.world.datastore.client(ctx.signed_in, client_id)
    return Answer(ContentItem(client, item), headers={"Location": content_url(ctx.base, client, item.id)})


def get_content(ctx: RequestContext[None], client_id: str, item_id: str) -> ContentItem:
    client = ctx.world.datastore.client(ctx.signed_in, client_id)
    return ContentItem(client, client.contents.get(item_id))


def update_content(ctx: RequestContext[ContentRequest], client_id: str, item_id: str) -> ContentItem:
    req = ctx.body
    item = ctx.world.datastore.update_content(ctx.signed_in, client_id, item_id, data=req.data, ctype=req.ctype,
                                     dataclass=req.dataclass, title=req.title)
    return ContentItem(ctx.world.datastore.client(ctx.signed_in, client_id), item)


def delete_content(ctx: RequestContext[None], client_id: str, item_id: str) -> Response:
    ctx.world.datastore.delete_content(ctx.signed_in, client_id, item_id)
    return empty("200 Deleted")
