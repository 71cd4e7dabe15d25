"""What a handler is given (`ctx`): the request, the World, the signed-in user, the base
URL, and the request body already validated and decoded by the route's decoder (routes.py,
request_body.py). Handlers live in `services/*/handlers.py`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from werkzeug.wrappers import Request

from ocss_testkit.world.users import User
from ocss_testkit.world.world import World

if TYPE_CHECKING:
    from ocss_testkit.app import FakeApp

# What the route's decoder made of the body (routes.Route ties a handler's `ctx` to its
# route's decoder, so a handler declares the body it gets: `RequestContext[BindingRequest]`).
Body = TypeVar("Body")


@dataclass(slots=True)
class RequestContext(Generic[Body]):
    """Everything a handler may use; built by the app after auth and validation."""
    request: Request
    world: World
    user: User | None  # None on the routes that take no signature (`Route.auth` False)
    base: str  # absolute base URL ending in "/"
    # The request body as the route's decoder made it (a request dataclass or a value of
    # the service's atom.py); None when the route takes no body or a PUT came without one.
    body: Body
    app: FakeApp  # for the control plane (reset swaps its World)

    @property
    def signed_in(self) -> User:
        """The user whose OAuth signature the request carries: always there on a route that
        requires one (the app answers 401 before any handler runs). RuntimeError on a route
        that takes no signature: a handler of such a route has no user to ask for."""
        if self.user is None:
            raise RuntimeError(f"{self.request.method} {self.request.path} takes no signature: no signed-in user")
        return self.user

    def allow(self) -> dict[str, str]:
        """The `Allow` header of this URL, from the route table (for refusals by design)."""
        return {"Allow": ", ".join(self.app.allowed_methods(self.request.path))}
