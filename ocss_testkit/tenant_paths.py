"""Where a tenant is in a URL: `/t/{tenant}/…`, and what makes a good tenant name.

Used by the tenants' front (tenants.py) and by the HTTP server, which journals a request
it refused before the app ran in the tenant the path names (http_channel.py).
"""
from __future__ import annotations

import re

from ocss_testkit.answers import shown
from ocss_testkit.route_matching import matched_path, routes_adapter

PREFIX = "/t/"
TENANT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def tenant_path(path: str) -> tuple[str, str] | None:
    """(tenant name, the path below its prefix) of a PATH_INFO under `/t/`, e.g.
    `/t/ci-1/v2/x` → ("ci-1", "/v2/x") and `/t` → ("", ""); None for any other path.
    The name is not checked (`name_problem` does)."""
    if not (path == PREFIX[:-1] or path.startswith(PREFIX)):
        return None
    name, slash, rest = path[len(PREFIX):].partition("/")
    return name, slash + rest


def name_problem(name: str) -> str | None:
    """Why `name` is not a tenant name, as a sentence; None for a good one."""
    if not name:
        return "the tenant name is missing: use /t/{tenant}/… with a name of 1 to 64 letters, digits, '_', '.' or '-'"
    if name in (".", "..") or not TENANT_NAME.fullmatch(name):
        try:  # PEP 3333: PATH_INFO holds the URL's bytes as latin-1; say the name as sent
            name = name.encode("latin-1").decode("utf-8")
        except UnicodeError:
            pass
        return (f"{shown(name)} is not a tenant name: use 1 to 64 letters, digits, '_', '.' or '-' "
                "(not '.' or '..'), e.g. ci-job-42")
    if name == "_fake":  # /t/_fake/… is a typo for /_fake/…, never a tenant
        return "'_fake' is reserved: the server's own control plane is /_fake/…, a tenant's /t/{tenant}/_fake/…"
    return None


def routes_somewhere(path: str) -> bool:
    """Whether `path` (below a tenant's prefix) matches any route, by any method: a
    request that routes nowhere must not make a tenant (and take a place) for its 404."""
    return bool(routes_adapter().allowed_methods(matched_path(path) or "/"))
