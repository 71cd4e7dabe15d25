"""The generic client listing (read-only, every kind) and bindings (inferred from the
SyncServer API Python interface, 'Clients', 'Bindings'; routes I9–I11).

A handler gets the decoded body as `ctx.body` (atom.py) and returns the domain value for
its route to render, or a Response."""
from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from werkzeug.wrappers import Response

from ocss_testkit.answers import Answer, ApiError, empty, shown
from ocss_testkit.request_context import RequestContext
from ocss_testkit.services.clients.atom import BindingRequest, binding_url
from ocss_testkit.strict_json import MAX_INT, parse_id

if TYPE_CHECKING:
    from ocss_testkit.services.clients.state import Binding
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
