"""What a handler is given (`ctx`): the request, the World, the signed-in user, the base
URL, and the request body already validated and decoded by the route's decoder (routes.py,
request_body.py). Handlers live in `services/*/handlers.py`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request

from ocss_testkit.world.users import User
from ocss_testkit.world.world import World

if TYPE_CHECKING:
    from ocss_testkit.app import FakeApp


@dataclass(slots=True)
class RequestContext:
    """Everything a handler may use; built by the app after auth and validation."""
    request: Request
    world: World
    user: User | None
    base: str  # absolute base URL ending in "/"
    # The request body as the route's decoder made it (a request dataclass or a value of
    # the service's atom.py); None when the route takes no body or a PUT came without one.
    body: object
    app: FakeApp  # for the control plane (reset swaps its World)

    def allow(self) -> dict:
        """The `Allow` header of this URL, from the route table (for refusals by design)."""
        path = self.request.path
        path = path[:-1] if len(path) > 1 and path.endswith("/") else path
        return {"Allow": ", ".join(self.app.allowed_methods(path))}
