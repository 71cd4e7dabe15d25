"""Which route a request reaches, or the 404 / 405 that says why none does.

The route table's werkzeug Map (routes.build_map) is bound once per matcher, not per
request: matching depends on the path and the method only (no rule uses a host or a
subdomain, and the app checked the Host already: http_rules.host_problem). A trailing
slash is stripped before matching, so item URLs match with and without one, and nothing
ever redirects (redirects break OAuth signatures).

Routes found are remembered per (route table, method, path), MATCHES_KEPT of them, paths
of at most MATCHED_LENGTH characters: a client asks for the same few URLs again and again,
and werkzeug's matcher walks its state machine in Python (~8 µs) where a dict lookup
costs a fraction of one. Refusals (404, 405) are worked out each time.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, MapAdapter

from ocss_testkit.answers import ApiError
from ocss_testkit.routes import Route, build_map

SHOWN_PATH = 200  # characters of an unknown path a 404 echoes
MATCHES_KEPT = 1024  # matches remembered, process-wide
MATCHED_LENGTH = 256  # characters of a path whose match is remembered: ≤ ~1 MB in all


def matched_path(path: str) -> str:
    """`path` as the route table matches it: one trailing slash stripped (both forms match)."""
    return path[:-1] if len(path) > 1 and path.endswith("/") else path


class RouteMatcher:
    """Matches (method, path) against one route table; thread-safe (read-only once made)."""

    def __init__(self, url_map: Map) -> None:
        # One adapter per Map (routes.build_map shares one Map among every app), so that
        # every app's matches are remembered once.
        self._adapter = _adapter(url_map)

    def match(self, method: str, path: str) -> tuple[Route, dict]:
        """The route and its path arguments. Raises ApiError 405 with the Allow header (the
        methods the path supports, refusing routes left out) or 404 naming the closest
        routes (`near_miss`)."""
        matched = matched_path(path)
        try:
            found = (_remembered(self._adapter, method, matched) if len(matched) <= MATCHED_LENGTH
                     else self._adapter.match(matched, method=method, websocket=False))
            return found[0], dict(found[1])  # a copy: the remembered one is shared
        except MethodNotAllowed as exc:
            allowed = self._allowed(matched, exc.valid_methods or ())
            raise ApiError(405, "Method Not Allowed",
                           f"{method} is not supported on {path}; allowed: {', '.join(allowed)}",
                           headers={"Allow": ", ".join(allowed)}) from None
        except NotFound:
            raise ApiError(404, "Not Found", near_miss(path)) from None

    def allowed_methods(self, path: str) -> list[str]:
        """The methods `path` (a trailing slash or not) supports, for handlers that refuse
        by design and must name what is allowed instead."""
        matched = matched_path(path)
        return self._allowed(matched, self._adapter.allowed_methods(matched))

    def _allowed(self, path: str, methods) -> list[str]:
        """The methods this URL supports: not those whose route exists only to refuse;
        HEAD wherever GET is."""
        allowed = set()
        for method in set(methods) - {"HEAD"}:
            route, _ = self._adapter.match(path, method=method, websocket=False)
            if not route.refuses:
                allowed.add(method)
        if "GET" in allowed:
            allowed.add("HEAD")
        return sorted(allowed)


@functools.lru_cache(maxsize=8)  # a Map per route set: the app's, and a test's own
def _adapter(url_map: Map) -> MapAdapter:
    return url_map.bind("localhost")


def routes_adapter() -> MapAdapter:
    """The bound adapter of the whole route table (API and control plane), shared."""
    return _adapter(build_map())


@functools.lru_cache(maxsize=MATCHES_KEPT)
def _remembered(adapter: MapAdapter, method: str, path: str) -> tuple[Route, Mapping[str, Any]]:
    """The adapter's match (a refusal raises, and is not remembered)."""
    return adapter.match(path, method=method, websocket=False)


def near_miss(path: str) -> str:
    """The 404 sentence: the closest routes, so a typo in a client's URL is obvious.

    Anyone may send an unknown path unsigned, so the hint's work is bounded whatever the
    path (near_miss.py); the path is echoed cut to SHOWN_PATH characters."""
    from ocss_testkit import near_miss as closest_routes  # imports the route table: on first use

    shown = path if len(path) <= SHOWN_PATH else path[:SHOWN_PATH] + "…"
    hints = "; ".join(f"{methods} {template}" for methods, template in closest_routes.closest(path))
    return f"no route for {shown}. Closest: {hints}"
