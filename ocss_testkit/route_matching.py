"""Which route a request reaches, or the 404 / 405 that says why none does.

The route table's werkzeug Map (routes.build_map) is bound once per matcher, not per
request: matching depends on the path and the method only (no rule uses a host or a
subdomain, and the app checked the Host already: http_rules.host_problem). A trailing
slash is stripped before matching, so item URLs match with and without one, and nothing
ever redirects (redirects break OAuth signatures).
"""
from __future__ import annotations

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map

from ocss_testkit.answers import ApiError
from ocss_testkit.routes import Route

SHOWN_PATH = 200  # characters of an unknown path a 404 echoes


def _matched_path(path: str) -> str:
    return path[:-1] if len(path) > 1 and path.endswith("/") else path


class RouteMatcher:
    """Matches (method, path) against one route table; thread-safe (read-only once made)."""

    def __init__(self, url_map: Map) -> None:
        self._adapter = url_map.bind("localhost")

    def match(self, method: str, path: str) -> tuple[Route, dict]:
        """The route and its path arguments. Raises ApiError 405 with the Allow header (the
        methods the path supports, refusing routes left out) or 404 naming the closest
        routes (`near_miss`)."""
        matched = _matched_path(path)
        try:
            route, args = self._adapter.match(matched, method=method, websocket=False)
            return route, dict(args)
        except MethodNotAllowed as exc:
            allowed = self._allowed(matched, exc.valid_methods or ())
            raise ApiError(405, "Method Not Allowed",
                           f"{method} is not supported on {path}; allowed: {', '.join(allowed)}",
                           headers={"Allow": ", ".join(allowed)}) from None
        except NotFound:
            raise ApiError(404, "Not Found", near_miss(path)) from None

    def allowed_methods(self, path: str) -> list[str]:
        """The methods `path` (its trailing slash stripped) supports, for handlers that
        refuse by design and must name what is allowed instead."""
        return self._allowed(path, self._adapter.allowed_methods(path))

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


def near_miss(path: str) -> str:
    """The 404 sentence: the closest routes, so a typo in a client's URL is obvious.

    Anyone may send an unknown path unsigned, so the hint's work is bounded whatever the
    path (near_miss.py); the path is echoed cut to SHOWN_PATH characters."""
    from ocss_testkit import near_miss as closest_routes  # imports the route table: on first use

    shown = path if len(path) <= SHOWN_PATH else path[:SHOWN_PATH] + "…"
    hints = "; ".join(f"{methods} {template}" for methods, template in closest_routes.closest(path))
    return f"no route for {shown}. Closest: {hints}"
