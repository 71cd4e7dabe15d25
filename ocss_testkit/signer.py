"""`ocss-fake sign`: an OAuth 1.0a Authorization header, or a whole curl command line, for
people who want to try the API without a Python OAuth client.

The signature covers the URL exactly as curl puts it on the wire (RFC 5849 §3.4.1: the
base string is built from the request as sent), so the URL is first brought to that form
(`wire_url`) and the same text is both signed and printed. The maths is oauthlib's
(`oauthlib.oauth1.Client`, HMAC-SHA1).
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

from oauthlib.oauth1 import Client

from ocss_testkit.faults import METHODS

FORM = "application/x-www-form-urlencoded"
DEFAULT_CONTENT_TYPE = "application/atom+xml"
# Left as they are: RFC 3986's unreserved and sub-delims, ":" and "@" (pchar), "/" and "?"
# (RFC 3986 §3.3, §3.4), and "%", so that escapes the user wrote reach the server intact.
_KEEP = "/?:@!$&'()*+,;=-._~%"


class SignError(ValueError):
    """A URL or body that cannot be signed as given; the message says why in one line."""


def method_problem(method: str) -> str | None:
    """Why `method` is not one of the HTTP methods the fake knows (faults.METHODS: RFC 9110
    §9 and PATCH, RFC 5789; any case), or None. The pytest plugin's fault and journal
    filters refuse the same words, so a typo such as `GTE` is caught here too instead of
    signing a request that no route answers."""
    if not isinstance(method, str) or method.upper() not in METHODS:
        return f"{str(method)[:40]!r} is not an HTTP method the fake knows: use one of {', '.join(METHODS)}"
    return None


@dataclass(frozen=True)
class Credentials:
    consumer_key: str
    consumer_secret: str
    token: str | None = None
    token_secret: str | None = None


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4, as curl applies it before sending (`/a/../b` goes as `/b`)."""
    output: list[str] = []
    while path:
        if path.startswith("../"):
            path = path[3:]
        elif path.startswith("./"):
            path = path[2:]
        elif path.startswith("/./"):
            path = path[2:]
        elif path == "/.":
            path = "/"
        elif path.startswith("/../"):
            path = path[3:]
            if output:
                output.pop()
        elif path == "/..":
            path = "/"
            if output:
                output.pop()
        elif path in (".", ".."):
            path = ""
        else:
            cut = path.find("/", 1)
            segment, path = (path, "") if cut < 0 else (path[:cut], path[cut:])
            output.append(segment)
    return "".join(output)


def wire_url(url: str) -> str:
    """`url` in the form curl sends it, which is the form that gets signed.

    curl drops the fragment and resolves `.` and `..` segments; it refuses a space and
    would escape non-ASCII characters in the path but not in the query. Here every
    character outside RFC 3986's set (space, non-ASCII as UTF-8, `"<>[]^`{|}\\`,
    controls) is percent-escaped in path and query alike, so that curl has nothing left
    to change; escapes already present are kept as written (`%2F` stays `%2F`).

    Raises SignError for a URL that is not absolute http(s), or that holds a user name
    (curl would add its own Authorization header)."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SignError(f"{url!r} is not an absolute http:// or https:// URL, e.g. http://127.0.0.1:8080/v2/clients/")
    if "@" in parts.netloc:
        raise SignError("the URL holds a user name: curl would send it as Basic authentication; leave it out")
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number in range
    except ValueError as exc:
        raise SignError(f"{url!r}: {exc}") from None
    path = quote(_remove_dot_segments(parts.path) or "/", safe=_KEEP)
    query = quote(parts.query, safe=_KEEP)
    wire = urlunsplit((parts.scheme, parts.netloc, path, query, ""))
    # urlunsplit drops a "?" with nothing after it; curl sends it, and the fake sees it.
    return wire + "?" if url.strip().split("#", 1)[0].endswith("?") and not query else wire


def authorization(method: str, url: str, credentials: Credentials, body: bytes | None = None,
                  content_type: str | None = None) -> str:
    """The `Authorization: OAuth …` header value for one request (HMAC-SHA1, a fresh
    nonce and the current time: valid once, within the fake's 600 s window).

    `url` must already be in wire form (`wire_url`). A form-encoded body
    (`application/x-www-form-urlencoded`, RFC 5849 §3.4.1.3.1) is part of the signature;
    any other body is not. Raises SignError for a form body that is not form-encoded
    UTF-8, a body on GET or HEAD, a query with a broken percent-escape, or a method
    that is not one of faults.METHODS (`method_problem`)."""
    problem = method_problem(method)
    if problem:
        raise SignError(problem)
    method = method.upper()
    client = Client(credentials.consumer_key, client_secret=credentials.consumer_secret,
                    resource_owner_key=credentials.token, resource_owner_secret=credentials.token_secret)
    form = body if body and content_type and content_type.split(";")[0].strip().lower() == FORM else None
    if form is not None and method in ("GET", "HEAD"):
        raise SignError(f"{method} carries no body: RFC 5849 §3.4.1.3.1 signs a form body only with another method")
    try:
        text = form.decode("utf-8") if form is not None else None
        # oauthlib takes the form parameters only under exactly this Content-Type.
        _, headers, _ = client.sign(url, http_method=method, body=text,
                                    headers={"Content-Type": FORM} if text is not None else {})
    except UnicodeDecodeError:
        raise SignError("a form-encoded body must be UTF-8") from None
    except ValueError as exc:
        raise SignError(f"cannot sign {url!r}: {exc}") from None
    return headers["Authorization"]


def curl_command(method: str, url: str, authorization_value: str, *, data: str | None = None,
                 data_file: str | None = None, content_type: str | None = None) -> str:
    """A curl command line sending exactly the signed request, each argument shell-quoted.

    `data` is the body as text (``--data-binary``, or ``--data-raw`` when it starts with
    "@"), `data_file` a file whose bytes are the body (``--data-binary @FILE``), not both.
    HEAD is sent with ``--head`` (``-X HEAD`` would wait for a body that never comes);
    ``-g`` stops curl reading ``[]{}`` as a glob;
    ``-i`` shows the status line, whose reason phrase the fake reproduces; ``-sS`` hides the
    progress meter but not errors."""
    method = method.upper()
    argv = ["curl", "-sS", "-g", "-i"]
    argv += ["--head"] if method == "HEAD" else ["-X", method]
    argv += ["-H", f"Authorization: {authorization_value}"]
    if data is not None or data_file is not None:
        argv += ["-H", f"Content-Type: {content_type or DEFAULT_CONTENT_TYPE}"]
        if data_file is not None:
            argv += ["--data-binary", f"@{data_file}"]
        elif data is not None:  # --data-binary would read a text starting with "@" as a file name; --data-raw not
            argv += ["--data-raw" if data.startswith("@") else "--data-binary", data]
    argv.append(url)
    return " ".join(shlex.quote(a) for a in argv)
