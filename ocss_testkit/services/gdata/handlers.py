"""Google Data clients, /v2/services/google/ (Google Data Client API).

A handler gets the decoded body as `ctx.body` (atom.py's GDataClientRequest, or None when
a PUT came without one) and returns the client for its route to render, or a Response."""
from __future__ import annotations

from typing import NoReturn

from werkzeug.wrappers import Response

from ocss_testkit.answers import ApiError, empty
from ocss_testkit.request_context import RequestContext
from ocss_testkit.services.gdata.atom import GDataClientRequest
from ocss_testkit.services.gdata.state import GDataClient


def list_clients(ctx: RequestContext[None]) -> list[GDataClient]:
    return ctx.world.gdata.clients(ctx.signed_in)


def get_client(ctx: RequestContext[None], client_id: str) -> GDataClient:
    return ctx.world.gdata.client(ctx.signed_in, client_id)


def create_client(ctx: RequestContext[GDataClientRequest]) -> GDataClient:
    req = ctx.body
    if not req.user_id:
        raise ApiError(400, "Bad Request", "oc:client needs an oc:user_id (the GData user id)")
    # 001 shows the 201 echoing each token as sent, key and secret included (the route's renderer).
    return ctx.world.gdata.create_client(ctx.signed_in, req.user_id, req.datastores)


def update_client(ctx: RequestContext[GDataClientRequest | None], client_id: str | None = None) -> GDataClient:
    """PUT on the item URL, or on the collection with the id in entry/client/uuid (001)."""
    req = ctx.body
    if client_id is None:
        if req is None:
            raise ApiError(400, "No client ID provided", "PUT to /v2/services/google/{uuid}/")
        if not req.uuid:
            raise ApiError(400, "No client ID provided",
                           "PUT to /v2/services/google/{uuid}/ or put oc:uuid in oc:client")
        client_id = req.uuid
    else:
        if req is None:
            raise ApiError(400, "No Entry provided", "PUT an Atom entry with an oc:client element")
        if req.uuid and req.uuid.lower() != client_id.lower():
            raise ApiError(400, "Bad Request",
                           f"oc:uuid {req.uuid} does not match the client in the URL {client_id}")
    if req.user_id is None and not req.datastores:
        # "400 No Entry provided: Must have some data to update with" (001)
        raise ApiError(400, "No Entry provided", "the oc:client holds no datastore to add")
    # The 200 Updated example shows every datastore in text form, without tokens (001).
    return ctx.world.gdata.update_client(ctx.signed_in, client_id, req.user_id, req.datastores)


def delete_client(ctx: RequestContext[None], client_id: str) -> Response:
    ctx.world.gdata.delete_client(ctx.signed_in, client_id)
    return empty("200 Deleted")


def delete_collection(ctx: RequestContext[None]) -> NoReturn:
    raise ApiError(400, "No client ID provided", "DELETE /v2/services/google/{uuid}/")
