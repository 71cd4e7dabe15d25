"""Atom XML in and out: a hardened parser, lookups in the two namespaces the API uses,
request-entry building, and the API's date-time forms.

Namespaces (SyncServer API Python interface, 'Resources': "Generally they are represented
in the web API as an Atom entry"): Atom, RFC 4287 (``http://www.w3.org/2005/Atom``), and
the SyncServer's own ``http://schemas.obexcode.com/syncserver/2009`` (``oc``).
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timezone
from typing import TypeAlias
from urllib.parse import unquote, urlsplit

from lxml import etree

from ocss import checks

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
NS = {"a": ATOM, "oc": OC}
A = "{%s}" % ATOM
O = "{%s}" % OC  # noqa: E741 - mirrors A

Element: TypeAlias = etree._Element

MAX_DEPTH = 64  # deeper than any API document: a hostile one is refused before use


class XMLRejected(ValueError):
    """A response body that is not well-formed, safe XML of the expected kind."""


def parse(body: bytes, expect: str | None = None) -> Element:
    """Parse a response body with DTDs, entities and network access off.

    :param body: the raw bytes of the response.
    :param expect: ``"entry"`` or ``"feed"``: the Atom root element required, or None.
    :returns: the root element.
    :raises XMLRejected: not XML, a DOCTYPE (never needed by the API, the vector of
        entity-expansion attacks), too deep, or the wrong root element.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_pis=True, remove_comments=True)
    try:
        root = etree.fromstring(body, parser)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise XMLRejected(f"not well-formed XML ({exc})") from None
    if root is None:
        raise XMLRejected("an empty document")
    if getattr(root.getroottree().docinfo, "doctype", None):
        raise XMLRejected("a DOCTYPE declaration (refused: the API never sends one)")
    if _depth(root) > MAX_DEPTH:
        raise XMLRejected(f"nested deeper than {MAX_DEPTH} elements")
    if expect is not None and root.tag != A + expect:
        raise XMLRejected(f"expected an Atom {expect}, got <{_local(root.tag)}>")
    return root


def _depth(root: Element) -> int:
    deepest = level = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        level += 1 if event == "start" else -1
        deepest = max(deepest, level)
    return deepest


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def find(element: Element, path: str) -> Element | None:
    """The first element at ``path`` (``a:`` and ``oc:`` prefixes), or None."""
    found = element.find(path, NS)
    return found


def text(element: Element, path: str) -> str | None:
    """The text of the first element at ``path`` (``""`` when it is empty), or None when
    there is no such element."""
    found = element.find(path, NS)
    if found is None:
        return None
    return found.text or ""


def texts(element: Element, path: str) -> list[str]:
    return [e.text or "" for e in element.findall(path, NS)]


def entries(feed: Element) -> list[Element]:
    """The ``atom:entry`` children of a feed, in document order."""
    return feed.findall("a:entry", NS)


def link(element: Element, rel: str, title: str | None = None) -> str | None:
    """The ``href`` of the first ``atom:link`` with this ``rel`` (and ``title``), or None."""
    for found in element.findall("a:link", NS):
        if found.get("rel") == rel and (title is None or found.get("title") == title):
            return found.get("href")
    return None


def last_segment(url: str | None) -> str | None:
    """The last path segment of a URL, percent-decoded (``.../models/112/`` -> ``"112"``)."""
    if not url:
        return None
    path = urlsplit(url).path.rstrip("/")
    segment = path.rsplit("/", 1)[-1]
    return unquote(segment) or None


# --- request entries ---------------------------------------------------------------------------
def entry(*children: Element) -> bytes:
    """An ``atom:entry`` holding these elements, as UTF-8 bytes with an XML declaration."""
    root = etree.Element(A + "entry", nsmap={None: ATOM, "oc": OC})
    for child in children:
        root.append(child)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def element(tag: str, value: str | None = None, children: Iterable[Element] = (),
            **attributes: str | None) -> Element:
    """An element; ``tag`` is ``"oc:name"`` or ``"a:name"``.

    :raises ValueError: a value XML cannot carry (a control character such as NUL, a lone
        surrogate); nothing is sent.
    """
    prefix, _, local = tag.partition(":")
    made = etree.Element((O if prefix == "oc" else A) + local)
    for name, given in [*((k, v) for k, v in attributes.items() if v is not None), ("", value)]:
        if given is None:
            continue
        try:
            if name:
                made.set(name, given)
            else:
                made.text = given
        except ValueError as exc:
            shown = checks.described(given)
            where = f"{local} {name}" if name else local
            raise ValueError(f"{where}: {shown} cannot be sent in XML ({exc}); no request was sent") from None
    for child in children:
        made.append(child)
    return made


def oc_fields(wrapper: str, fields: Iterable[tuple[str, str | None]]) -> Element:
    """``<oc:wrapper><oc:k>v</oc:k>...</oc:wrapper>``, leaving out fields whose value is None."""
    return element("oc:" + wrapper, children=[element("oc:" + k, v) for k, v in fields if v is not None])


# --- date-times ------------------------------------------------------------------------------
_COMPACT = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d)(\d\d)(\d\d)Z$")


def parse_time(value: str | None) -> datetime | None:
    """An Atom date-time (RFC 3339, e.g. ``2009-11-01T12:30:00Z``) as an aware UTC
    ``datetime``; None when absent or unreadable (SyncServer API Python interface,
    'Resources': creation and modification times are "likely, but not guaranteed")."""
    if not value:
        return None
    value = value.strip()
    compact = _COMPACT.match(value)
    if compact:
        year, month, day, hour, minute, second = map(int, compact.groups())
        try:
            return datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
        except ValueError:
            return None
    iso = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(iso.replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_time(value: datetime | date) -> str:
    """A datetime as the API's UTC form ``2009-11-01T12:30:00Z``. A naive datetime is taken
    as UTC ("all dates and times supplied to the API should be specified as UTC", SyncServer
    API Python interface, 'General API'); an aware one is converted; a date is its midnight."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
