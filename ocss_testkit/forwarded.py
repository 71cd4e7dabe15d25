"""The public URL of a fake behind a reverse proxy: what OAuth verifies and what links say.

A client signs the URL it sends to (RFC 5849 §3.4.1.2), and that is the proxy's public
address, not the fake's own. Two ways to tell the fake what it is:

- a base URL (`ocss-fake serve --base-url https://api.example.test/ci/`): fixed. A request
  for `/v2/…` (or `/t/{tenant}/v2/…`) stands for `https://api.example.test/ci/v2/…`; the
  proxy strips its path prefix before forwarding (nginx `proxy_pass http://fake:8080/;`).
- trusted forwarded headers (`--trust-forwarded`): per request, from the proxy in front,
  which must set them (and drop what clients sent). `Forwarded` (RFC 7239 §4): the LAST
  element is used (the one the nearest proxy appended; exactly one proxy is trusted), its
  `proto` and `host` (`for` and `by` are read, checked and not used). `X-Forwarded-Proto`,
  `X-Forwarded-Host`, `X-Forwarded-Port` and `X-Forwarded-Prefix` (the de facto headers of
  nginx, Traefik and the Kubernetes ingresses): the last of a comma list; they give what
  `Forwarded` does not. Without the flag all of them are ignored: anyone could send them.
"""
from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import quote

from ocss_testkit.answers import shown
from ocss_testkit.http_rules import host_problem

_TCHAR = r"[!#$%&'*+.^_`|~0-9A-Za-z-]"
# RFC 7239 §4: forwarded-pair = token "=" value, value = token / quoted-string. Values with
# ':' or '[' (a host with a port, an IPv6 node) must be quoted; proxies that do not quote
# them are met halfway: ':', '[' and ']' pass unquoted too.
_PAIR = re.compile(rf'[ \t]*({_TCHAR}+)=("(?:[^"\\]|\\.)*"|[!#$%&\'*+.^_`|~0-9A-Za-z:\[\]-]+)[ \t]*')
_PREFIX = re.compile(r"(/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)*")
DEFAULT_PORTS = {"http": "80", "https": "443"}


class ForwardedError(ValueError):
    """A forwarded header that cannot be used; the message is the sentence a 400 carries."""


class Public(NamedTuple):
    """The public origin and path prefix of the fake's root: `https`, `api.example.test`
    (a port when not the scheme's default), `/ci` (or "")."""
    scheme: str
    host: str
    prefix: str


def base_url(url: str) -> str:
    """`url` ending in "/" (a base URL names a folder)."""
    return url.rstrip("/") + "/"


def parse_forwarded(value: str) -> list[dict]:
    """The elements of a `Forwarded` field (RFC 7239 §4), each a dict of its parameters
    (names lower-cased, quoted values unquoted). Raises ForwardedError for a malformed one,
    or a parameter given twice in one element."""
    elements, current, at = [], {}, 0
    while True:
        match = _PAIR.match(value, at)
        if match is None:
            raise ForwardedError(f"the Forwarded header {shown(value)} is malformed at character {at + 1}: "
                                 "write elements of name=value pairs, separated by ';' within one and ',' "
                                 "between them, a value with ':' or '[' in double quotes (RFC 7239 §4)")
        name, raw = match.group(1).lower(), match.group(2)
        if name in current:
            raise ForwardedError(f"the Forwarded header {shown(value)} gives {name} twice in one element "
                                 "(RFC 7239 §4)")
        current[name] = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith('"') else raw
        at = match.end()
        if at == len(value):
            elements.append(current)
            return elements
        if value[at] == ",":
            elements.append(current)
            current = {}
        elif value[at] != ";":
            raise ForwardedError(f"the Forwarded header {shown(value)} is malformed at character {at + 1}: "
                                 "expected ';' or ',' after a pair (RFC 7239 §4)")
        at += 1


def _last(value: str) -> str:
    """The last of a comma list: what the nearest (the one trusted) proxy set."""
    return value.rsplit(",", 1)[-1].strip(" \t")


def _proto(value: str, where: str) -> str:
    proto = value.lower()
    if proto not in DEFAULT_PORTS:
        raise ForwardedError(f"{where} {shown(value)} is not a scheme this fake answers for: use http or https")
    return proto


def _host(value: str, where: str) -> str:
    problem = host_problem({"HTTP_HOST": value})
    if problem:
        raise ForwardedError(f"{where}: {problem}")
    return value.lower()


def _split_port(host: str) -> tuple[str, str | None]:
    if host.startswith("["):
        address, _, rest = host.partition("]")
        return address + "]", rest[1:] if rest.startswith(":") else None
    name, colon, port = host.partition(":")
    return name, port if colon else None


def public(environ: dict) -> Public:
    """The public origin and prefix a trusted proxy forwarded (module doc), defaulting to
    the request's own scheme and Host. Raises ForwardedError naming the header and what is
    wrong with it."""
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
    proto_given = host_given = False
    field = environ.get("HTTP_FORWARDED")
    if field is not None:
        element = parse_forwarded(field)[-1]
        if "proto" in element:
            scheme, proto_given = _proto(element["proto"], "Forwarded proto="), True
        if "host" in element:
            host, host_given = _host(element["host"], "Forwarded host="), True
    value = environ.get("HTTP_X_FORWARDED_PROTO")
    if value is not None and not proto_given:
        scheme = _proto(_last(value), "X-Forwarded-Proto")
    value = environ.get("HTTP_X_FORWARDED_HOST")
    if value is not None and not host_given:
        host = _host(_last(value), "X-Forwarded-Host")
    name, port = _split_port(host)
    value = environ.get("HTTP_X_FORWARDED_PORT")
    if value is not None and not host_given:
        port = _last(value)
        if not (port.isdigit() and len(port) <= 5 and 1 <= int(port) <= 65535):
            raise ForwardedError(f"X-Forwarded-Port {shown(value)} is not a port: use a number from 1 to 65535")
        port = str(int(port))
    if port == DEFAULT_PORTS[scheme] or port == "":
        port = None
    prefix = ""
    value = environ.get("HTTP_X_FORWARDED_PREFIX")
    if value is not None:
        prefix = _last(value).rstrip("/")
        if prefix and not (prefix.startswith("/") and _PREFIX.fullmatch(prefix)):
            raise ForwardedError(f"X-Forwarded-Prefix {shown(value)} is not a path: write it as /prefix, "
                                 "percent-encoded, without query or fragment")
    return Public(scheme, f"{name}:{port}" if port else name, prefix)


def root_url(found: Public, script_name: str) -> str:
    """The public URL of a WSGI root (its SCRIPT_NAME, e.g. a tenant's `/t/{tenant}`),
    without a trailing "/"."""
    script = quote(script_name.rstrip("/"), safe="/!$&'()*+,;=:@%")
    return f"{found.scheme}://{found.host}{found.prefix}{script}"
