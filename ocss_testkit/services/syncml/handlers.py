"""SyncML clients, setup, server-alerted sync and sessions, /v2/services/syncml/ (SyncML API).

A handler gets the decoded body as `ctx.body` (atom.py) and returns the domain value for
its route to render (atom.py's `render_…`), or a Response."""
from __future__ import annotations

from ocss_testkit.answers import ATOM_TYPE, ApiError, empty, shown
from ocss_testkit.request_context import RequestContext
from ocss_testkit.services.syncml.atom import Chatlog
from ocss_testkit.strict_json import MAX_INT, parse_id


def list_clients(ctx: RequestContext):
    return ctx.world.syncml.clients(ctx.user)


def get_client(ctx: RequestContext, client_id: str):
    return ctx.world.syncml.client(ctx.user, client_id)


def create_client(ctx: RequestContext):
    req = ctx.body
    return ctx.world.syncml.create_client(ctx.user, req.phone_number, req.model_uuid, req.timezone or "UTC",
                                          req.imei)


def delete_client(ctx: RequestContext, client_id: str):
    ctx.world.syncml.delete_client(ctx.user, client_id)
    return empty("200 OK")


def not_editable(ctx: RequestContext, client_id: str):
    # "The lack of a PUT method for the SyncML clients ... is by design" (SyncML API, 'SyncML Client API').
    raise ApiError(405, "Method Not Allowed",
                   "SyncML clients cannot be edited (by design: SyncML API, 'SyncML Client API'): "
                   "register the new phone as a new client",
                   headers=ctx.allow())


def send_setup(ctx: RequestContext, client_id: str):
    return ctx.world.syncml.send_setup(ctx.user, client_id, ctx.body)  # the pincode


def request_sync(ctx: RequestContext, client_id: str):
    ctx.world.syncml.request_sync(ctx.user, client_id)
    # "The response will only be the HTTP status code" and Content-Length 0 (003).
    return empty("200 Ok", ATOM_TYPE)


def list_sessions(ctx: RequestContext):
    return ctx.world.syncml_sessions.of_user(ctx.user)


def get_session(ctx: RequestContext, session_id: str):
    session = ctx.world.syncml_sessions.session(ctx.user, _session_id(session_id))
    if session.owner != ctx.user.name and not ctx.user.admin:
        raise ApiError(403, "Forbidden", f"SyncML session {session_id} belongs to another user")
    return session


def _session_id(value: str) -> int:
    session_id = parse_id(value)
    if session_id is None:  # not an integer, or beyond any id the fake holds (wire.MAX_INT)
        raise ApiError(404, "Not Found", f"no SyncML session {shown(value)}: session ids are integers up to {MAX_INT}")
    return session_id


def chatlog(ctx: RequestContext, session_id: str | None = None):
    # "only available to site administrators" (003, Chatlog).
    if not ctx.user.admin:
        raise ApiError(403, "Forbidden", "the chatlog is only available to site administrators")
    if session_id:
        ctx.world.syncml_sessions.session(ctx.user, _session_id(session_id))  # 404 when there is none
    messages = ctx.world.syncml_sessions.chat_messages(_session_id(session_id) if session_id else None)
    return Chatlog(session_id, messages)


def datastores(ctx: RequestContext):
    raise ApiError(501, "Not implemented yet",
                   "the SyncML Datastore API is not implemented (SyncML API, 'Datastore API')")


def missing_client(ctx: RequestContext):
    # 003's endpoint tables list …/syncml/setup/ and …/syncml/sync/, but its examples
    # (and the OCSS library) act on one client: say where to send it, as 001 does for PUT.
    action = ctx.request.path.rstrip("/").rsplit("/", 1)[-1]
    raise ApiError(400, "No client ID provided", f"POST to /v2/services/syncml/{{uuid}}/{action}/")
