"""Google Data clients, /v2/services/google/ (Google Data Client API)."""
from __future__ import annotations

from ocss_testkit.answers import ApiError, atom, empty
from ocss_testkit.atom import incoming, render
from ocss_testkit.request_context import RequestContext


def list_clients(ctx: RequestContext):
    world = ctx.world
    clients = world.gdata_clients(ctx.user)
    return atom(render.gdata_feed(ctx.base, clients, world.users, world.clock.now()))


def get_client(ctx: RequestContext, client_id: str):
    client = ctx.world.gdata_client(ctx.user, client_id)
    return atom(render.gdata_entry(ctx.base, client, ctx.user))


def create_client(ctx: RequestContext):
    req = incoming.gdata_client(ctx.entry)
    if not req.user_id:
        raise ApiError(400, "Bad Request", "oc:client needs an oc:user_id (the GData user id)")
    client = ctx.world.create_gdata_client(ctx.user, req.user_id, req.datastores)
    # 001 shows the 201 echoing each token as sent, key and secret included.
    body = render.gdata_entry(ctx.base, client, ctx.user, render.GDATA_ECHO)
    return atom(body, "201 Created")


def update_client(ctx: RequestContext, client_id: str | None = None):
    """PUT on the item URL, or on the collection with the id in entry/client/uuid (001)."""
    if client_id is None:
        if ctx.entry is None:
            raise ApiError(400, "No client ID provided", "PUT to /v2/services/google/{uuid}/")
        req = incoming.gdata_client(ctx.entry)
        if not req.uuid:
            raise ApiError(400, "No client ID provided",
                           "PUT to /v2/services/google/{uuid}/ or put oc:uuid in oc:client")
        client_id = req.uuid
    else:
        if ctx.entry is None:
            raise ApiError(400, "No Entry provided", "PUT an Atom entry with an oc:client element")
        req = incoming.gdata_client(ctx.entry)
        if req.uuid and req.uuid.lower() != client_id.lower():
            raise ApiError(400, "Bad Request",
                           f"oc:uuid {req.uuid} does not match the client in the URL {client_id}")
    if req.user_id is None and not req.datastores:
        # "400 No Entry provided: Must have some data to update with" (001)
        raise ApiError(400, "No Entry provided", "the oc:client holds no datastore to add")
    client = ctx.world.update_gdata_client(ctx.user, client_id, req.user_id, req.datastores)
    # The 200 Updated example shows every datastore in text form, without tokens (001).
    body = render.gdata_entry(ctx.base, client, ctx.user, render.GDATA_TEXT)
    return atom(body, "200 Updated")


def delete_client(ctx: RequestContext, client_id: str):
    ctx.world.delete_gdata_client(ctx.user, client_id)
    return empty("200 Deleted")


def delete_collection(ctx: RequestContext):
    raise ApiError(400, "No client ID provided", "DELETE /v2/services/google/{uuid}/")
