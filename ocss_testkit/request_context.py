"""Request handlers, one module per API (moto's `responses`): they read the validated
request, ctx the World, and render the answer. Routing lives in routes.py."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree
from werkzeug.wrappers import Request

from ocss_testkit.world.world import User, World

if TYPE_CHECKING:
    from ocss_testkit.app import FakeApp


@dataclass(slots=True)
class RequestContext:
    """Everything a handler may use; built by the app after auth and validation."""
    request: Request
    world: World
    user: User | None
    base: str  # absolute base URL ending in "/"
    entry: etree._Element | None  # the validated request body, when the route takes one
    app: FakeApp  # for the control plane (reset swaps its World)

    def allow(self) -> dict:
        """The `Allow` header of this URL, from the route table (for refusals by design)."""
        path = self.request.path
        path = path[:-1] if len(path) > 1 and path.endswith("/") else path
        return {"Allow": ", ".join(self.app.allowed_methods(path))}
