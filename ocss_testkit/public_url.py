"""The public URL of a request: what OAuth verifies the signature against and what the
links of an answer start with.

From, in this order: a fixed base URL (`--base-url`: an absolute http(s) URL, a path
prefix allowed, a reverse proxy's public address); with `trust_forwarded`, what the proxy
says in `Forwarded` (RFC 7239) or `X-Forwarded-Proto/Host/Port/Prefix` (forwarded.py);
else the request's own Host. Every function takes the app's two settings, as a test may
change the base URL of a running app.
"""
from __future__ import annotations

import functools
from urllib.parse import quote, urlsplit

from werkzeug.sansio.utils import get_host
from werkzeug.wrappers import Request

from ocss_testkit import forwarded

_PUBLIC = "ocss.public"  # the environ key of the proxy's headers as read once (forwarded.public)
_SUB_DELIMS = "/!$&'()*+,;=:@%"  # kept as sent when a path is quoted back (RFC 3986 §3.3)
# Roots from a Host remembered (the same few come with every request), each of Host and
# root path together at most _REMEMBERED_LENGTH characters: ~300 KB in all at most.
_REMEMBERED, _REMEMBERED_LENGTH = 256, 512


def forwarded_problem(request: Request, trust_forwarded: bool) -> str | None:
    """With `trust_forwarded`: read the proxy's headers once (kept in the environ), or say
    why they cannot be used (the app answers 400 before anything else runs)."""
    if not trust_forwarded:
        return None
    try:
        request.environ[_PUBLIC] = forwarded.public(request.environ)
    except forwarded.ForwardedError as exc:
        return str(exc)
    return None


def root(request: Request, base_url: str | None, trust_forwarded: bool) -> str:
    """The public URL of the fake's root, without a trailing "/": the base URL, else the
    trusted proxy's, else from the Host as sent. Not werkzeug's host_url: an IRI, which
    turns an xn-- name the client sent into Unicode it never sent. A tenant's base URL
    names its own root (`…/t/{tenant}/`). With `trust_forwarded`, `forwarded_problem`
    has read the proxy's headers first (or the request was refused 400)."""
    if base_url:
        return base_url[:-1]
    if trust_forwarded:
        return forwarded.root_url(request.environ[_PUBLIC], request.root_path)
    host = request.environ.get("HTTP_HOST")
    if host is not None and len(host) + len(request.root_path) <= _REMEMBERED_LENGTH and request.trusted_hosts is None:
        return _root(request.scheme, host, request.root_path)
    return f"{request.scheme}://{request.host}{quote(request.root_path.rstrip('/'), safe=_SUB_DELIMS)}"


@functools.lru_cache(maxsize=_REMEMBERED)
def _root(scheme: str, host: str, root_path: str) -> str:
    """`root` from the request's own Host: werkzeug's `request.host` is `get_host` of these."""
    return f"{scheme}://{get_host(scheme, host)}{quote(root_path.rstrip('/'), safe=_SUB_DELIMS)}"


def signed_uri(request: Request, public_root: str, base_url: str | None, trust_forwarded: bool) -> str:
    """The URI as the client sent (and signed) it, percent-escapes intact: `public_root`
    (`root`) and the request target below the fake's root (RFC 5849 §3.4.1.2).

    werkzeug's `request.url` is an IRI with escapes decoded, which changes the OAuth
    signature base string for any non-ASCII path or query.
    """
    environ = request.environ
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    if raw and raw.lower().startswith(("http://", "https://")):  # absolute form (via a proxy)
        if not (base_url or trust_forwarded):
            return raw
        parts = urlsplit(raw)
        raw = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    script = environ.get("SCRIPT_NAME", "")
    script_sent = quote(script, safe=_SUB_DELIMS)
    if raw and raw.startswith("/") and (not script or raw.startswith((script, script_sent))):
        below = raw[len(script if raw.startswith(script) else script_sent):]
        return public_root + below
    path = quote(environ.get("PATH_INFO", "").encode("latin-1"), safe="/:@!$&'()*+,;=-._~%")
    query = environ.get("QUERY_STRING", "")
    return public_root + path + (f"?{query}" if query else "")
