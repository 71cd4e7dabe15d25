"""Datastore clients and their contents, /v2/services/datastore/ (inferred from the
SyncServer API Python interface, 'Datastore', 'Datastore contents'; routes I13–I15)."""
from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from ocss_testkit.answers import Answer, ApiError, empty
from ocss_testkit.request_context import RequestContext
from ocss_testkit.services.datastore.atom import ContentItem, ContentRequest, Contents, content_url

if TYPE_CHECKING:
    from ocss_testkit.services.datastore.contents import Item
    from ocss_testkit.services.datastore.state import DatastoreClient


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
