"""SyncML clients, setup, server-alerted sync and sessions, /v2/services/syncml/ (SyncML API)."""
from __future__ import annotations

from ocss_testkit.answers import ATOM_TYPE, ApiError, atom, empty, shown
from ocss_testkit.atom import incoming, render
from ocss_testkit.atom import render_inferred as ri
from ocss_testkit.request_context import RequestContext
from ocss_testkit.strict_json import MAX_INT, parse_id


def list_clients(ctx: RequestContext):
    world = ctx.world
    clients = world.syncml_clients(ctx.user)
    return atom(render.syncml_feed(ctx.base, clients, world.users, world.clock.now()))


def get_client(ctx: RequestContext, client_id: str):
    client = ctx.world.syncml_client(ctx.user, client_id)
    return atom(render.syncml_entry(ctx.base, client, ctx.user))


def create_client(ctx: RequestContext):
    req = incoming.syncml_client(ctx.entry)
    client = ctx.world.create_syncml_client(ctx.user, req.phone_number, req.model_uuid,
                                             req.timezone or "UTC", req.imei)
    return atom(render.syncml_entry(ctx.base, client, ctx.user), "201 Created")


def delete_client(ctx: RequestContext, client_id: str):
    ctx.world.delete_syncml_client(ctx.user, client_id)
    return empty("200 OK")


def not_editable(ctx: RequestContext, client_id: str):
    # "The lack of a PUT method for the SyncML clients ... is by design" (SyncML API, 'SyncML Client API').
    raise ApiError(405, "Method Not Allowed",
                   "SyncML clients cannot be edited (by design: SyncML API, 'SyncML Client API'): "
                   "register the new phone as a new client",
                   headers=ctx.allow())


def send_setup(ctx: RequestContext, client_id: str):
    pincode = incoming.setup_pincode(ctx.entry)
    record = ctx.world.send_setup(ctx.user, client_id, pincode)
    return atom(render.setup_entry(ctx.base, record), "201 Created")


def request_sync(ctx: RequestContext, client_id: str):
    ctx.world.request_sync(ctx.user, client_id)
    # "The response will only be the HTTP status code" and Content-Length 0 (003).
    return empty("200 Ok", ATOM_TYPE)


def list_sessions(ctx: RequestContext):
    sessions = ctx.world.syncml_sessions(ctx.user)
    return atom(ri.sessions_feed(ctx.base, sessions, ctx.world.clock.now()))


def get_session(ctx: RequestContext, session_id: str):
    session = ctx.world.syncml_session(ctx.user, _session_id(session_id))
    if session.owner != ctx.user.name and not ctx.user.admin:
        raise ApiError(403, "Forbidden", f"SyncML session {session_id} belongs to another user")
    return atom(ri.session_entry(ctx.base, session))


def _session_id(value: str) -> int:
    session_id = parse_id(value)
    if session_id is None:  # not an integer, or beyond any id the fake holds (wire.MAX_INT)
        raise ApiError(404, "Not Found", f"no SyncML session {shown(value)}: session ids are integers up to {MAX_INT}")
    return session_id


def chatlog(ctx: RequestContext, session_id: str | None = None):
    # "only available to site administrators" (003, Chatlog).
    if not ctx.user.admin:
        raise ApiError(403, "Forbidden", "the chatlog is only available to site administrators")
    url = f"{ctx.base}v2/services/syncml/sessions/" + (f"{session_id}/" if session_id else "") + "chatlog/"
    if session_id:
        ctx.world.syncml_session(ctx.user, _session_id(session_id))  # 404 when there is none
    messages = ctx.world.chat_messages(_session_id(session_id) if session_id else None)
    return atom(ri.chatlog_feed(ctx.base, url, messages, ctx.world.clock.now()))


def datastores(ctx: RequestContext):
    raise ApiError(501, "Not implemented yet",
                   "the SyncML Datastore API is not implemented (SyncML API, 'Datastore API')")


def missing_client(ctx: RequestContext):
    # 003's endpoint tables list …/syncml/setup/ and …/syncml/sync/, but its examples
    # (and the OCSS library) act on one client: say where to send it, as 001 does for PUT.
    action = ctx.request.path.rstrip("/").rsplit("/", 1)[-1]
    raise ApiError(400, "No client ID provided", f"POST to /v2/services/syncml/{{uuid}}/{action}/")
