"""Writing Atom answers: escaping, element lines, feed and entry heads, shared by every
service's renderers (`services/*/atom.py`).

Every renderer returns the answer's UTF-8 bytes, written from string templates in exactly
the form lxml's `tostring(element, encoding="utf-8", pretty_print=True)` gives the same
element tree: no XML declaration, two spaces of indentation per level, `<x/>` for an
element without text and `<x></x>` for one whose text is empty, attributes in the order
written, namespace declarations where the tree declared them. Building the tree with
lxml's element factory cost ~2 µs per element (45 per answer of the two-client SyncML feed);
a template writes the same bytes in a fraction of that (benchmarks/README.md, "Levers 2 and
3: rendering and the response cache"). tests/atom/test_render_equivalence.py keeps the
element-tree renderers these replaced and compares the bytes of both over randomized worlds.

A renderer appends lines to `out` (a list of str) at an indentation `ind`, declaring the
namespaces `ns` on its outermost element (empty inside a feed, which declared them), and
`finish` joins them. Ids and links are absolute URLs built from the base URL passed in.

Values are escaped by the standard library's XML escaping (`xml.sax.saxutils.escape`),
given the character references libxml2 writes besides (`&#13;` in text; `&quot;`, `&#10;`,
`&#13;` and `&#9;` in attribute values). A value XML 1.0 cannot hold (a control character,
U+FFFE, U+FFFF, a lone surrogate; XML 1.0 §2.2 "Characters") raises ValueError, as lxml
did; a value that is not a string raises TypeError, as lxml did.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol
from xml.sax.saxutils import escape

from ocss_testkit.atom.namespaces import ATOM, OC
from ocss_testkit.world.clock import iso_z

if TYPE_CHECKING:

    from ocss_testkit.world.users import User

FEED_AUTHOR = "ObexCode AS"

# The namespace declarations of an element that holds them (`nsmap` in lxml's terms).
ATOM_NS = f' xmlns="{ATOM}"'
OC_NS = f' xmlns="{OC}"'
BOTH_NS = f' xmlns="{ATOM}" xmlns:oc="{OC}"'  # Atom default, `oc:` prefix

# --- escaping -------------------------------------------------------------------------------
_TEXT_REFERENCES = {"\r": "&#13;"}  # besides &amp; &lt; &gt;
_ATTRIBUTE_REFERENCES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
_NOT_XML = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"  # not XML 1.0 Char (§2.2)
_TEXT_SPECIAL = re.compile(f"[&<>\r{_NOT_XML}]")
_ATTRIBUTE_SPECIAL = re.compile(f'[&<>"\n\r\t{_NOT_XML}]')
_NOT_XML_CHAR = re.compile(f"[{_NOT_XML}]")
NOT_XML_MESSAGE = "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters"


def _xml_only(value: str) -> None:
    if _NOT_XML_CHAR.search(value):
        raise ValueError(NOT_XML_MESSAGE)


def text(value: str) -> str:
    """`value` as element content. Raises ValueError for a character XML cannot hold,
    TypeError for a value that is not a string."""
    if _TEXT_SPECIAL.search(value) is None:  # the common case: nothing to escape
        return value
    _xml_only(value)
    return escape(value, _TEXT_REFERENCES)


def attr(value: str) -> str:
    """`value` inside a double-quoted attribute value. Raises as `text` does."""
    if _ATTRIBUTE_SPECIAL.search(value) is None:
        return value
    _xml_only(value)
    return escape(value, _ATTRIBUTE_REFERENCES)


def leaf(ind: str, tag: str, value: str | None = None) -> str:
    """The line of an element without attributes at indentation `ind`: `<tag>value</tag>`,
    or `<tag/>` when `value` is None."""
    if value is None:
        return f"{ind}<{tag}/>\n"
    return f"{ind}<{tag}>{text(value)}</{tag}>\n"


@lru_cache(maxsize=4096)
def when(moment: datetime) -> str:
    """`clock.iso_z`, remembered: the same few timestamps show in answer after answer, and
    formatting one costs more than looking it up. Equal instants give equal strings."""
    return iso_z(moment)


def finish(parts: list[str]) -> bytes:
    return "".join(parts).encode("utf-8")


# --- feeds ----------------------------------------------------------------------------------
class Dated(Protocol):
    """What a feed lists: anything with an `updated` time (a client, a session, an item)."""
    @property
    def updated(self) -> datetime: ...


def feed_head(out: list[str], url: str, title: str, items: Iterable[Dated], now: datetime,
              ns: str = ATOM_NS) -> None:
    """Open a feed: author, id, self link, title, and `updated`, the newest of the items'
    `updated` or else `now` (docs/decisions.md, "Where the docs disagree")."""
    newest = max((i.updated for i in items), default=now)
    u = attr(url)
    out.append(f"<feed{ns}>\n  <author>\n    <name>{FEED_AUTHOR}</name>\n  </author>\n"
               f"  <id>{text(url)}</id>\n  <link href=\"{u}\" rel=\"self\"/>\n"
               f"{leaf('  ', 'title', title)}  <updated>{when(newest)}</updated>\n")


FEED_END = "</feed>\n"


# --- entries --------------------------------------------------------------------------------
def category(ind: str, kind: str) -> str:
    """The `<category>` naming an entry's client kind in the generic listing (I9)."""
    return f'{ind}<category scheme="{OC}#kind" term="{attr(kind)}"/>\n'


def documented_entry_head(out: list[str], ind: str, ns: str, author: User, url: str, content_type: str,
                          edit: bool) -> None:
    """Open a Google Data or SyncML client entry and write its head as the docs show it
    (Google Data Client API, "XML Object description"; SyncML API, "Listing all clients"):
    author, content src, id, self link, the edit link when `edit`, alternate link. The
    caller writes published, title, updated and the oc: payload."""
    i1, i2, u = ind + "  ", ind + "    ", attr(url)
    out += (f"{ind}<entry{ns}>\n{i1}<author>\n", leaf(i2, "name", author.name), leaf(i2, "email", author.email),
            f'{i1}</author>\n{i1}<content src="{u}" type="{content_type}"/>\n{i1}<id>{text(url)}</id>\n'
            f'{i1}<link href="{u}" rel="self"/>\n')
    if edit:
        out.append(f'{i1}<link href="{u}/edit" rel="edit"/>\n')
    out.append(f'{i1}<link href="{u}" rel="alternate" type="text/html"/>\n')


def inferred_entry_head(out: list[str], ind: str, ns: str, url: str, title: str, published: datetime,
                        updated: datetime, author: tuple[str, str | None] = (FEED_AUTHOR, None),
                        related: list[tuple[str, str]] | None = None) -> None:
    """Open an entry of an inferred API (docs/decisions.md, "Bodies of the inferred
    routes") and write its Atom head in the documented entries' style: author (name, and
    email if any), content src, id, self and alternate links, `related` links as
    (href, title or None) pairs, published, title, updated."""
    i1, i2, u = ind + "  ", ind + "    ", attr(url)
    out += (f"{ind}<entry{ns}>\n{i1}<author>\n", leaf(i2, "name", author[0]))
    if author[1]:
        out.append(leaf(i2, "email", author[1]))
    out.append(f'{i1}</author>\n{i1}<content src="{u}" type="text/html"/>\n{i1}<id>{text(url)}</id>\n'
               f'{i1}<link href="{u}" rel="self"/>\n{i1}<link href="{u}" rel="alternate" type="text/html"/>\n')
    for href, title_ in related or ():
        titled = f' title="{attr(title_)}"' if title_ else ""
        out.append(f'{i1}<link href="{attr(href)}" rel="related"{titled}/>\n')
    out += (f"{i1}<published>{when(published)}</published>\n", leaf(i1, "title", title),
            f"{i1}<updated>{when(updated)}</updated>\n")
