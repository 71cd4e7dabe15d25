"""ActiveSync clients, /v2/services/activesync/ (inferred from the SyncServer API Python
interface, 'ActiveSync'; route I12)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Response

from ocss_testkit.answers import ApiError, empty
from ocss_testkit.request_context import RequestContext
from ocss_testkit.services.activesync.atom import ActiveSyncRequest

if TYPE_CHECKING:
    from ocss_testkit.services.activesync.state import ActiveSyncClient


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
