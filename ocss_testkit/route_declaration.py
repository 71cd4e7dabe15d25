"""How a route is declared (Route): one method on one path, its provenance and its whole
wire contract, and the status and reason phrase a domain error gets on it.

The table of every route is routes.py; its werkzeug Map and the questions tools ask of
it are route_map.py.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, Generic, TypeVar

from ocss_testkit.world.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unsupported

if TYPE_CHECKING:
    from lxml import etree

    from ocss_testkit.provenance import Provenance
    from ocss_testkit.request_context import RequestContext

# Placeholder in a documented path -> the handler's keyword argument.
PARAMETERS = {"uuid": "client:client_id", "session": "session_id", "vendor": "vendor_id", "model": "model_id",
              "binding": "binding_id", "item": "item_id", "fault": "fault_id", "setup": "setup_id"}

DEFAULT_REASONS: dict[type[DomainError], tuple[int, str]] = {
    NotFound: (404, "Not Found"),
    Forbidden: (403, "Forbidden"),
    Conflict: (409, "Conflict"),
    Invalid: (400, "Bad Request"),
    Unsupported: (400, "Bad Request"),
}


# What a route's decoder makes of a body: the `ctx.body` its handler (and peek) is given.
Body = TypeVar("Body")


@dataclass(frozen=True, eq=False)  # identity hash: routes are werkzeug endpoints
class Route(Generic[Body]):
    """One method on one path, and its whole wire contract.

    A body the route takes is validated against `request_schema` (xsd/request/{name}.xsd)
    and turned by `decode(root)` (the service's atom.py) into the value the handler finds
    in `ctx.body`, both in one place (request_body.py). The handler returns a Response
    (an empty answer, JSON, HTML, a refusal), or a domain value, or an `answers.Answer`
    (the value with its own status or headers), which the app renders as `render(ctx,
    value)` into an Atom answer with `status`; `response_schema` (xsd/response/{name}.xsd)
    names the schema that answer is valid against (tests/test_route_contracts.py).

    The type checker holds a handler to its decoder: `handler(ctx, **path_arguments)`
    takes a `RequestContext[Body]` whose `Body` is what `decode` returns (or None too,
    when the body may be left out)."""
    method: str
    path: str  # as documented, e.g. /v2/services/google/{uuid}/
    handler: Callable[Concatenate[RequestContext[Body], ...], object]
    provenance: Provenance
    spec_id: str = ""  # route id: D… documented, I… inferred (docs/decisions.md, "Route ids")
    auth: bool = True
    request_schema: str | None = None  # the request body's schema, if the route takes one
    decode: Callable[[etree._Element], Body] | None = None  # validated root element -> the handler's ctx.body
    body_required: bool = True
    response_schema: str | None = None  # the answer's schema; None for empty, JSON, HTML answers
    # render(ctx, value) -> bytes, for a handler's returned value
    render: Callable[[RequestContext[Any], Any], bytes] | None = None
    status: str = "200 OK"  # the status line of a rendered answer
    reasons: dict[type[DomainError], tuple[int, str]] = field(default_factory=dict)  # -> (status, phrase)
    refuses: bool = False  # the route exists to say no (405 by design): never listed in Allow
    changes: bool | None = None  # changes state; None: every method but GET and HEAD does
    sends: str = ""  # "sms" / "push": reaches a real phone on the live service (contract safety)
    # A GET that changes state answers HEAD with this handler: the GET's answer (status,
    # headers) computed without the change. Without one HEAD answers 405 (the token
    # endpoints, whose answer is the change), so HEAD never changes state (RFC 9110 §9.3.2).
    peek: Callable[Concatenate[RequestContext[Body], ...], object] | None = None

    @property
    def writes(self) -> bool:
        return self.changes if self.changes is not None else self.method not in ("GET", "HEAD")

    @property
    def rule(self) -> str:
        """The werkzeug rule: `{name}` placeholders, no trailing slash (both forms match)."""
        rule = self.path.rstrip("/") or "/"
        return re.sub(r"\{(\w+)\}", lambda m: "<%s>" % PARAMETERS.get(m.group(1), m.group(1)), rule)

    def status_for(self, error: DomainError) -> tuple[int, str]:
        for cls in type(error).__mro__:
            if cls in self.reasons:
                return self.reasons[cls]
            if cls in DEFAULT_REASONS:
                return DEFAULT_REASONS[cls]
        return 400, "Bad Request"
