"""The route table: the one place that maps method + path to a handler.

Each route says where it comes from: `documented` (seed file and section, reproduced as
shown) or `inferred` (the docs are silent; built in the documented style). It also holds
the documented reason phrases for domain errors on that route, since the same error
reads differently per endpoint in the docs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from werkzeug.routing import Map, Rule

from .handlers import control, gdata, syncml
from .model.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unsupported

GDATA_DOC = "001_a06d36d09cafb11e.txt"
SYNCML_DOC = "003_45e3725206d2c929.txt"
LIBRARY_DOC = "000_27131614bb2f0398.txt"


@dataclass(frozen=True)
class Provenance:
    kind: str  # "documented" | "inferred"
    seed: str
    section: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.seed}, {self.section}"


def documented(seed: str, section: str) -> Provenance:
    return Provenance("documented", seed, section)


def inferred(seed: str, section: str) -> Provenance:
    return Provenance("inferred", seed, section)


DEFAULT_REASONS: dict[type, tuple[int, str]] = {
    NotFound: (404, "Not Found"),
    Forbidden: (403, "Forbidden"),
    Conflict: (409, "Conflict"),
    Invalid: (400, "Bad Request"),
    Unsupported: (400, "Bad Request"),
}


@dataclass(frozen=True, eq=False)  # identity hash: routes are werkzeug endpoints
class Route:
    method: str
    path: str  # as documented, e.g. /v2/services/google/{uuid}/
    handler: Callable
    provenance: Provenance
    spec_id: str = ""  # D1…D15 / I1…I16 of SPEC §2
    auth: bool = True
    body: str | None = None  # request schema validating the body, if the route takes one
    body_required: bool = True
    reasons: dict = field(default_factory=dict)  # DomainError subclass -> (status, phrase)

    @property
    def rule(self) -> str:
        """The werkzeug rule: `{name}` placeholders, no trailing slash (both forms match)."""
        rule = self.path.rstrip("/") or "/"
        for name in ("uuid", "session"):
            rule = rule.replace("{%s}" % name, "<%s>" % ("client_id" if name == "uuid" else "session_id"))
        return rule

    def status_for(self, error: DomainError) -> tuple[int, str]:
        for cls in type(error).__mro__:
            if cls in self.reasons:
                return self.reasons[cls]
            if cls in DEFAULT_REASONS:
                return DEFAULT_REASONS[cls]
        return 400, "Bad Request"


G = "/v2/services/google/"
S = "/v2/services/syncml/"

ROUTES: tuple[Route, ...] = (
    # --- Google Data clients (001) -----------------------------------------------------
    Route("GET", G, gdata.list_clients, documented(GDATA_DOC, "List all clients"), "D1"),
    Route("POST", G, gdata.create_client, documented(GDATA_DOC, "Add a new client"), "D2",
          body="gdata-client", reasons={Conflict: (400, "Google client already registered")}),
    Route("PUT", G, gdata.update_client, documented(GDATA_DOC, "Update a client"), "D4",
          body="gdata-client", body_required=False,
          reasons={NotFound: (404, "No such client ID")}),
    Route("DELETE", G, gdata.delete_collection, documented(GDATA_DOC, "Delete a client"), "D5"),
    Route("GET", G + "{uuid}/", gdata.get_client,
          documented(GDATA_DOC, "Get details for specific client"), "D3",
          reasons={NotFound: (404, "No such Google client.")}),
    Route("PUT", G + "{uuid}/", gdata.update_client, documented(GDATA_DOC, "Update a client"), "D4",
          body="gdata-client", body_required=False,
          reasons={NotFound: (404, "No such client ID")}),
    Route("DELETE", G + "{uuid}/", gdata.delete_client, documented(GDATA_DOC, "Delete a client"), "D5",
          reasons={NotFound: (404, "No such client ID")}),
    # The entries' rel="edit" link (001) points here; Atom Publishing clients PUT/DELETE it.
    Route("GET", G + "{uuid}/edit", gdata.get_client, inferred(GDATA_DOC, "rel=edit link of an entry"),
          reasons={NotFound: (404, "No such Google client.")}),
    Route("PUT", G + "{uuid}/edit", gdata.update_client, inferred(GDATA_DOC, "rel=edit link of an entry"),
          body="gdata-client", body_required=False, reasons={NotFound: (404, "No such client ID")}),
    Route("DELETE", G + "{uuid}/edit", gdata.delete_client,
          inferred(GDATA_DOC, "rel=edit link of an entry"), reasons={NotFound: (404, "No such client ID")}),
    # --- SyncML (003) -------------------------------------------------------------------
    Route("GET", S, syncml.list_clients, documented(SYNCML_DOC, "Listing all clients"), "D6"),
    Route("POST", S, syncml.create_client, documented(SYNCML_DOC, "Create a new client"), "D7",
          body="syncml-client"),
    Route("GET", S + "sessions/", syncml.list_sessions, documented(SYNCML_DOC, "Session API"), "D12"),
    Route("GET", S + "sessions/chatlog/", syncml.chatlog, documented(SYNCML_DOC, "Chatlog"), "D13"),
    Route("GET", S + "sessions/{session}/chatlog/", syncml.chatlog, documented(SYNCML_DOC, "Chatlog"), "D13"),
    Route("GET", S + "datastores/", syncml.datastores, documented(SYNCML_DOC, "Datastore API"), "D14"),
    Route("POST", S + "setup/", syncml.missing_client,
          inferred(SYNCML_DOC, "REST Endpoints table: Setup …/syncml/setup/")),
    Route("POST", S + "sync/", syncml.missing_client,
          inferred(SYNCML_DOC, "REST Endpoints table: Sync …/syncml/sync/")),
    Route("GET", S + "{uuid}", syncml.get_client,
          documented(SYNCML_DOC, "List details for a specific client"), "D8"),
    Route("DELETE", S + "{uuid}", syncml.delete_client, documented(SYNCML_DOC, "Delete a client"), "D9"),
    Route("PUT", S + "{uuid}", syncml.not_editable, documented(SYNCML_DOC, "SyncML Client API"), "D15"),
    Route("POST", S + "{uuid}/setup/", syncml.send_setup,
          documented(SYNCML_DOC, "Setup and Phone Configuration"), "D10", body="syncml-setup"),
    Route("POST", S + "{uuid}/sync/", syncml.request_sync,
          documented(SYNCML_DOC, "Server Initiated Synchronization"), "D11",
          reasons={Unsupported: (400, "Server initiated sync not supported")}),
)


# The control plane (SPEC §6): the fake's own API, unauthenticated, JSON only.
CONTROL = Provenance("control", "SPEC.md", "6. Control plane")
CONTROL_ROUTES: tuple[Route, ...] = (
    Route("GET", "/_fake/health", control.health, CONTROL, auth=False),
    Route("POST", "/_fake/reset", control.reset, CONTROL, auth=False),
    Route("GET", "/_fake/outbox", control.outbox, CONTROL, auth=False),
)


def build_map(routes: tuple[Route, ...] = ROUTES + CONTROL_ROUTES) -> Map:
    # No redirects ever: they break OAuth signatures (SPEC §1.3). Item URLs match with and
    # without the trailing slash because the app strips one before matching.
    rules = [Rule(r.rule, methods=[r.method], endpoint=r, strict_slashes=False) for r in routes]
    return Map(rules, strict_slashes=False, merge_slashes=False, redirect_defaults=False)


def table(routes: tuple[Route, ...] = ROUTES + CONTROL_ROUTES) -> list[dict]:
    """The route table as data, for the generated API reference and reports."""
    return [{"method": r.method, "path": r.path, "spec": r.spec_id, "provenance": r.provenance.kind,
             "seed": r.provenance.seed, "section": r.provenance.section, "auth": r.auth}
            for r in routes]
