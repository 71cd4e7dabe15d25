"""Where a request's OAuth parameters are and what they say, each place read once with
oauthlib's own functions (RFC 5849 §3.5: the Authorization header, the form body, the
query).

oauthlib reads the Authorization header into a dict, where a second copy of a parameter
silently replaces the first; `locate` lists every copy first, so that `refuse_duplicates`
can refuse them (RFC 5849 §3.2) before anything is verified.
"""
from __future__ import annotations

from typing import NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

from oauthlib.oauth1.rfc5849 import signature as oauth_signature
from oauthlib.oauth1.rfc5849 import utils as oauth_utils

from ocss_testkit.answers import ApiError, shown

PLACES = {"header": "the Authorization header", "query": "the query", "body": "the form body"}


def header_items(authorization: str) -> list[str] | None:
    """The Authorization header split into its items as oauthlib's `utils.parse_http_list`
    splits it (RFC 7235 list syntax; `split_list`), or None if its scheme is not OAuth
    (RFC 5849 §3.5.1)."""
    return split_list(authorization[6:]) if authorization[:6].lower() == "oauth " else None


def split_list(text: str) -> list[str]:
    """What urllib's `parse_http_list(text)` (oauthlib's `utils.parse_http_list`) gives:
    the items between the commas outside quoted strings, each stripped.

    That function reads one character at a time in Python (~25 µs for a signed request's
    header, a sixth of its verification). A header with no backslash and no comma inside
    quotes, which is every header of percent-encoded values (RFC 5849 §3.5.1 encodes both),
    is split with `str.split` instead, to the same list: without a backslash every `"`
    opens or closes a quoted string, so the pieces between quotes at odd places are the
    quoted ones; parse_http_list keeps an empty item between two commas and drops an empty
    last one. Any other header goes to oauthlib's function. tests/test_request_plumbing.py
    compares both on any text."""
    if "\\" in text or ('"' in text and any("," in quoted for quoted in text.split('"')[1::2])):
        return oauth_utils.parse_http_list(text)
    parts = text.split(",")
    if not parts[-1]:
        parts.pop()
    return [part.strip() for part in parts]


class Located(NamedTuple):
    """A request's parameters, each place split once. `found`: every oauth_* parameter as
    (name, place), duplicates kept; `header`: the header's pairs as oauthlib's
    `utils.parse_keqv_list` reads them (values as sent, quotes removed, a later copy
    replacing an earlier one), None where it cannot (an item without "=" or without a
    value) or the scheme is not OAuth; `query`: the URI's query string."""
    found: list[tuple[str, str]]
    header: dict[str, str] | None
    query: str


def locate(items: list[str] | None, uri: str, form: str | None) -> Located:
    """Split the header `items` (`header_items`), the query of `uri` and the form-encoded
    body `form` (None if the body is not application/x-www-form-urlencoded) once each."""
    found: list[tuple[str, str]] = []
    header: dict[str, str] | None = None
    if items is not None:
        header = {}
        in_header = PLACES["header"]
        for item in items:
            name, equals, value = item.partition("=")
            stripped = name.strip()
            if stripped.startswith("oauth_"):
                found.append((stripped, in_header))
            if header is None:
                continue
            if not (equals and value):  # parse_keqv_list: ValueError, IndexError
                header = None
                continue
            header[name] = value[1:-1] if value[0] == '"' and value[-1] == '"' else value
    query = urlsplit(uri).query
    for place, text in (("query", query), ("body", form or "")):
        if "oauth_" in text:
            found.extend((name, PLACES[place]) for name, _ in parse_qsl(text, keep_blank_values=True)
                         if name.startswith("oauth_"))
    return Located(found, header, query)


def protocol_parameters(uri: str, authorization: str, form: str | None) -> list[tuple[str, str]]:
    """Every oauth_* parameter the request carries, as (name, place), duplicates kept.

    `form` is the body when it is application/x-www-form-urlencoded (RFC 5849 §3.5.2),
    else None. oauthlib reads the Authorization header into a dict, where a second copy
    silently replaces the first; this list keeps both, so that they can be refused."""
    return locate(header_items(authorization), uri, form).found


def refuse_duplicates(found: list[tuple[str, str]]) -> None:
    """Raises ApiError 400 naming the first protocol parameter given twice: in one place
    or across header, query and body (RFC 5849 §3.2: "duplicated protocol parameter")."""
    places: dict[str, list[str]] = {}
    for name, place in found:
        places.setdefault(name, []).append(place)
    for name, where in places.items():
        if len(where) > 1:
            within = (f"in {where[0]}" if len(set(where)) == 1
                      else "in " + " and in ".join(dict.fromkeys(where)))
            raise ApiError(400, "Bad Request",
                           f"the OAuth parameter {shown(name)} is given {len(where)} times {within}: "
                           "RFC 5849 §3.2 refuses a duplicated protocol parameter; send each once")


class Read(NamedTuple):
    """An API request's parameters as oauthlib's resource endpoint reads them
    (oauthlib.oauth1.rfc5849.endpoints.base, `_create_request`). `oauth`: the protocol
    parameters of the one place that carries them, values unescaped, or None where that
    endpoint finds them in no place, in two, or one of them twice; `params`: every
    parameter the signature covers (RFC 5849 §3.4.1.3.1), values unescaped;
    `header_has_oauth`: whether the Authorization header holds an oauth_* parameter."""
    oauth: dict | None
    params: list
    header_has_oauth: bool


def read(located: Located, authorization: str, form: str | None) -> Read:
    """The parameters of the query, the Authorization header and a form-encoded body
    (`form`, else None), from what `locate` split, as oauthlib's endpoint reads them.

    Raises ValueError as oauthlib does: for a query or form body that is not form-encoded
    (oauthlib's message), or an Authorization header it cannot parse ("Malformed
    authorization header")."""
    from_query = (oauth_signature.collect_parameters(uri_query=located.query, exclude_oauth_signature=False)
                  if located.query else [])
    from_header: list[tuple[str, str]] = []
    header_has_oauth = False
    if authorization:
        if located.header is None:
            raise ValueError("Malformed authorization header")
        for k, v in located.header.items():
            if k.startswith("oauth_"):
                header_has_oauth = True
                if "%" in v:  # oauthlib's utils.unescape is urllib's unquote, which gives back one without as it is
                    v = unquote(v)
            from_header.append((k, v))
    from_body = (oauth_signature.collect_parameters(body=form, exclude_oauth_signature=False)
                 if form else [])
    places = [from_header] if header_has_oauth else []
    places += [place for place in (from_body, from_query) if any(k.startswith("oauth_") for k, _ in place)]
    params = [(k, v) for k, v in (*from_header, *from_body, *from_query) if k != "oauth_signature"]
    if len(places) != 1:
        return Read(None, params, header_has_oauth)
    protocol = [(k, v) for k, v in places[0] if k.startswith("oauth_")]
    oauth = dict(protocol)
    if len(oauth) != len(protocol):
        return Read(None, params, header_has_oauth)
    if "realm" in authorization:  # as oauthlib's endpoint: every "realm" leaves, from any place
        params = [(k, v) for k, v in params if k != "realm"]
    return Read(oauth, params, header_has_oauth)


def read_header(authorization: str) -> Read:
    """`read` of a request whose parameters are all in its Authorization header (scheme
    OAuth): no query, no form body. What `locate`, `refuse_duplicates` and `read` give for
    it, in one pass over the header's items, without the lists of places that only a
    request with several places needs (~12 % of a signed GET: benchmarks/README.md,
    "Lever 5").

    Raises ApiError 400 for a protocol parameter given twice (`refuse_duplicates`), then
    ValueError for a header oauthlib cannot parse ("Malformed authorization header").
    tests/test_request_plumbing.py compares it with those three on any header."""
    header: dict[str, str] | None = {}
    names = []  # the oauth_* names, duplicates kept
    for item in split_list(authorization[6:]):
        name, equals, value = item.partition("=")
        if name.startswith("oauth_"):  # an item is stripped: its name starts as `locate` reads it
            names.append(name.strip())
        if header is None:
            continue
        if not (equals and value):  # parse_keqv_list: ValueError, IndexError
            header = None
            continue
        header[name] = value[1:-1] if value[0] == '"' and value[-1] == '"' else value
    if len(set(names)) != len(names):
        refuse_duplicates([(name, PLACES["header"]) for name in names])
    if header is None:
        raise ValueError("Malformed authorization header")
    oauth: dict[str, str] = {}
    signed = []
    for k, v in header.items():
        if k.startswith("oauth_"):
            if "%" in v:  # oauthlib's utils.unescape is urllib's unquote, which gives back one without as it is
                v = unquote(v)
            oauth[k] = v
        if k != "oauth_signature":
            signed.append((k, v))
    if not oauth:
        return Read(None, signed, False)
    if "realm" in authorization:  # as oauthlib's endpoint: every "realm" leaves
        signed = [(k, v) for k, v in signed if k != "realm"]
    return Read(oauth, signed, True)


def authorization_params(header: str) -> dict:
    """The oauth_* parameters of an Authorization header, values as sent (percent-encoded),
    by oauthlib's `utils.parse_authorization_header`; {} for a header it cannot parse (for
    journals and diagnostics)."""
    try:
        return dict(oauth_utils.parse_authorization_header(header))
    except Exception:  # noqa: BLE001 - diagnostics only
        return {}
