"""The route table compiled into a werkzeug Map (build_map), and what tools ask of the
table: which API route a request would reach (api_route), what it risks on a live
service (safety), whether the API can delete a path (deletable), and the table as data
for the API reference (table).

The table itself is routes.py, which re-exports these names; it imports this module, so
the table is read here on first use, not at import.
"""
from __future__ import annotations

import functools

from werkzeug.exceptions import HTTPException
from werkzeug.routing import BaseConverter, Map, Rule

from ocss_testkit.route_declaration import Route


class ClientIdConverter(BaseConverter):
    """A client id: any path segment but the fixed words beside it in the SyncML API's
    URLs, so that `DELETE /v2/services/syncml/sessions/` is a 405 on the sessions feed,
    not a lookup of a client named "sessions"."""
    regex = r"(?!(?:sessions|datastores|setup|sync|all\.xml|bindings)(?:/|$))[^/]+"


# routes.py imports this module for its re-exports: the table is read on first use.
def _api_routes() -> tuple[Route, ...]:
    from ocss_testkit import routes

    return routes.ROUTES


def _every_route() -> tuple[Route, ...]:
    from ocss_testkit import routes

    return routes.ROUTES + routes.CONTROL_ROUTES


@functools.cache
def build_map(routes: tuple[Route, ...] | None = None) -> Map:
    """The Map of `routes` (default: every route, the API's and the control plane's).
    Built once per route set and shared by every app: a werkzeug Map is read-only once
    made, and compiling its 106 rules costs ~70 ms, too much for an app per test."""
    return url_map(_every_route() if routes is None else routes)


def url_map(routes: tuple[Route, ...]) -> Map:
    """A new werkzeug Map of `routes`, each rule's endpoint its Route (build_map caches it)."""
    # No redirects ever: they break OAuth signatures (docs/decisions.md, "Liberal where the
    # docs show variants"). Item URLs match with and without the trailing slash because
    # the app strips one before matching.
    rules = [Rule(r.rule, methods=[r.method], endpoint=r, strict_slashes=False) for r in routes]
    return Map(rules, strict_slashes=False, merge_slashes=False, redirect_defaults=False,
               converters={"client": ClientIdConverter})


def api_route(method: str, path: str) -> Route | None:
    """The API route (control plane excluded) a request would reach, or None. The map is
    built on first use (and cached), not when the module is imported."""
    try:
        route, _ = build_map(_api_routes()).bind("localhost").match(path.split("?")[0].rstrip("/") or "/",
                                                                    method=method)
    except HTTPException:  # 404 or 405: not a route of ours
        return None
    return route


def safety(method: str, path: str) -> str:
    """What a request risks on a live service: "read-only", "mutating" or "side-effecting"
    (reaches a phone). Unknown routes are judged by their method alone."""
    route = api_route(method, path)
    if route is None:
        return "read-only" if method in ("GET", "HEAD", "OPTIONS") else "mutating"
    if route.sends:
        return "side-effecting"
    return "mutating" if route.writes else "read-only"


def deletable(path: str) -> bool:
    """Whether the API has a DELETE for this path (what a contract run must clean up)."""
    route = api_route("DELETE", path)
    return route is not None and not route.refuses


def table(routes: tuple[Route, ...] | None = None) -> list[dict]:
    """The route table as data, for the generated API reference and reports: one dict per
    route (default: every route), `doc` the cited document's title and `doc_key` its
    stable short key."""
    return [{"method": r.method, "path": r.path, "spec": r.spec_id, "provenance": r.provenance.kind,
             "doc": r.provenance.doc.title, "doc_key": r.provenance.doc.key, "section": r.provenance.section,
             "auth": r.auth, "request_schema": r.request_schema, "response_schema": r.response_schema}
            for r in (_every_route() if routes is None else routes)]
