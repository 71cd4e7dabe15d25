"""SyncML clients, setup, server-alerted sync and sessions, /v2/services/syncml/ (SyncML API)."""
from __future__ import annotations

from ..atom import incoming, render
from ..atom import render_inferred as ri
from ..wire import ATOM_TYPE, MAX_INT, ApiError, atom, empty, parse_id, shown
from . import Call


def list_clients(call: Call):
    world = call.world
    clients = world.syncml_clients(call.user)
    return atom(render.syncml_feed(call.base, clients, world.users, world.clock.now()))


def get_client(call: Call, client_id: str):
    client = call.world.syncml_client(call.user, client_id)
    return atom(render.syncml_entry(call.base, client, call.user))


def create_client(call: Call):
    req = incoming.syncml_client(call.entry)
    client = call.world.create_syncml_client(call.user, req.phone_number, req.model_uuid,
                                             req.timezone or "UTC", req.imei)
    return atom(render.syncml_entry(call.base, client, call.user), "201 Created")


def delete_client(call: Call, client_id: str):
    call.world.delete_syncml_client(call.user, client_id)
    return empty("200 OK")


def not_editable(call: Call, client_id: str):
    # "The lack of a PUT method for the SyncML clients ... is by design" (SyncML API, 'SyncML Client API').
    raise ApiError(405, "Method Not Allowed",
                   "SyncML clients cannot be edited (by design: SyncML API, 'SyncML Client API'): "
                   "register the new phone as a new client",
                   headers=call.allow())


def send_setup(call: Call, client_id: str):
    pincode = incoming.setup_pincode(call.entry)
    record = call.world.send_setup(call.user, client_id, pincode)
    return atom(render.setup_entry(call.base, record), "201 Created")


def request_sync(call: Call, client_id: str):
    call.world.request_sync(call.user, client_id)
    # "The response will only be the HTTP status code" and Content-Length 0 (003).
    return empty("200 Ok", ATOM_TYPE)


def list_sessions(call: Call):
    sessions = call.world.syncml_sessions(call.user)
    return atom(ri.sessions_feed(call.base, sessions, call.world.clock.now()))


def get_session(call: Call, session_id: str):
    session = call.world.syncml_session(call.user, _session_id(session_id))
    if session.owner != call.user.name and not call.user.admin:
        raise ApiError(403, "Forbidden", f"SyncML session {session_id} belongs to another user")
    return atom(ri.session_entry(call.base, session))


def _session_id(value: str) -> int:
    session_id = parse_id(value)
    if session_id is None:  # not an integer, or beyond any id the fake holds (wire.MAX_INT)
        raise ApiError(404, "Not Found", f"no SyncML session {shown(value)}: session ids are integers up to {MAX_INT}")
    return session_id


def chatlog(call: Call, session_id: str | None = None):
    # "only available to site administrators" (003, Chatlog).
    if not call.user.admin:
        raise ApiError(403, "Forbidden", "the chatlog is only available to site administrators")
    url = f"{call.base}v2/services/syncml/sessions/" + (f"{session_id}/" if session_id else "") + "chatlog/"
    if session_id:
        call.world.syncml_session(call.user, _session_id(session_id))  # 404 when there is none
    messages = call.world.chat_messages(_session_id(session_id) if session_id else None)
    return atom(ri.chatlog_feed(call.base, url, messages, call.world.clock.now()))


def datastores(call: Call):
    raise ApiError(501, "Not implemented yet",
                   "the SyncML Datastore API is not implemented (SyncML API, 'Datastore API')")


def missing_client(call: Call):
    # 003's endpoint tables list …/syncml/setup/ and …/syncml/sync/, but its examples
    # (and the OCSS library) act on one client: say where to send it, as 001 does for PUT.
    action = call.request.path.rstrip("/").rsplit("/", 1)[-1]
    raise ApiError(400, "No client ID provided", f"POST to /v2/services/syncml/{{uuid}}/{action}/")
