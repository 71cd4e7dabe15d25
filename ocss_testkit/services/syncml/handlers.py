"""SyncML clients, setup, server-alerted sync and sessions, /v2/services/syncml/ (SyncML API).

A handler gets the decoded body as `ctx.body` (atom.py) and returns the domain value for
its route to render (atom.py's `render_…`), or a Response."""
from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from werkzeug.wrappers import Response

from ocss_testkit.answers import ATOM_TYPE, ApiError, empty, shown
from ocss_testkit.request_context import RequestContext
from ocss_testkit.services.syncml.atom import Chatlog, SyncMLClientRequest
from ocss_testkit.strict_json import MAX_INT, parse_id

if TYPE_CHECKING:
    from ocss_testkit.services.syncml.sessions import Session
    from ocss_testkit.services.syncml.state import SetupRecord, SyncMLClient


def list_clients(ctx: RequestContext[None]) -> list[SyncMLClient]:
    return ctx.world.syncml.clients(ctx.signed_in)


def get_client(ctx: RequestContext[None], client_id: str) -> SyncMLClient:
    return ctx.world.syncml.client(ctx.signed_in, client_id)


def create_client(ctx: RequestContext[SyncMLClientRequest]) -> SyncMLClient:
    req = ctx.body
    return ctx.world.syncml.create_client(ctx.signed_in, req.phone_number, req.model_uuid, req.timezone or "UTC",
                                          req.imei)


def delete_client(ctx: RequestContext[None], client_id: str) -> Response:
    ctx.world.syncml.delete_client(ctx.signed_in, client_id)
    return empty("200 OK")


def not_editable(ctx: RequestContext[None], client_id: str) -> NoReturn:
    # "The lack of a PUT method for the SyncML clients ... is by design" (SyncML API, 'SyncML Client API').
    raise ApiError(405, "Method Not Allowed",
                   "SyncML clients cannot be edited (by design: SyncML API, 'SyncML Client API'): "
                   "register the new phone as a new client",
                   headers=ctx.allow())


def send_setup(ctx: RequestContext[str], client_id: str) -> SetupRecord:
    return ctx.world.syncml.send_setup(ctx.signed_in, client_id, ctx.body)  # the pincode


def get_setup(ctx: RequestContext[None], client_id: str, setup_id: str) -> SetupRecord:
    # The setup answer's id is its URL (SyncML API, 'Setup and Phone Configuration'; "ATOM id
    # is the URL to the element", Google Data Client API, 'XML Object description').
    number = parse_id(setup_id)
    if number is None:
        raise ApiError(404, "Not Found", f"no setup {shown(setup_id)}: setup ids are integers up to {MAX_INT}")
    return ctx.world.syncml.setup(ctx.signed_in, client_id, number)


def request_sync(ctx: RequestContext[None], client_id: str) -> Response:
    ctx.world.syncml.request_sync(ctx.signed_in, client_id)
    # "The response will only be the HTTP status code" and Content-Length 0 (003).
    return empty("200 Ok", ATOM_TYPE)


def list_sessions(ctx: RequestContext[None]) -> list[Session]:
    return ctx.world.syncml_sessions.of_user(ctx.signed_in)


def get_session(ctx: RequestContext[None], session_id: str) -> Session:
    session = ctx.world.syncml_sessions.session(ctx.signed_in, _session_id(session_id))
    if session.owner != ctx.signed_in.name and not ctx.signed_in.admin:
        raise ApiError(403, "Forbidden", f"SyncML session {session_id} belongs to another user")
    return session


def _session_id(value: str) -> int:
    session_id = parse_id(value)
    if session_id is None:  # not an integer, or beyond any id the fake holds (wire.MAX_INT)
        raise ApiError(404, "Not Found", f"no SyncML session {shown(value)}: session ids are integers up to {MAX_INT}")
    return session_id


def chatlog(ctx: RequestContext[None], session_id: str | None = None) -> Chatlog:
    # "only available to site administrators" (003, Chatlog).
    if not ctx.signed_in.admin:
        raise ApiError(403, "Forbidden", "the chatlog is only available to site administrators")
    number = _session_id(session_id) if session_id else None
    if number is not None:
        ctx.world.syncml_sessions.session(ctx.signed_in, number)  # 404 when there is none
    messages = ctx.world.syncml_sessions.chat_messages(number)
    return Chatlog(session_id, messages)


def datastores(ctx: RequestContext[None]) -> NoReturn:
    raise ApiError(501, "Not implemented yet",
                   "the SyncML Datastore API is not implemented (SyncML API, 'Datastore API')")


def missing_client(ctx: RequestContext[None]) -> NoReturn:
    # 003's endpoint tables list …/syncml/setup/ and …/syncml/sync/, but its examples
    # (and the OCSS library) act on one client: say where to send it, as 001 does for PUT.
    action = ctx.request.path.rstrip("/").rsplit("/", 1)[-1]
    raise ApiError(400, "No client ID provided", f"POST to /v2/services/syncml/{{uuid}}/{action}/")
