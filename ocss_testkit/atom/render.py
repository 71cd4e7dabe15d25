"""Domain values → Atom XML, element for element as the docs' responses show them.

Element order follows the examples of each endpoint (docs/decisions.md, "Where the docs
disagree"); ids and links are absolute URLs built from the base URL the caller passes in.

Every renderer returns the answer's UTF-8 bytes, written from string templates in exactly
the form lxml's `tostring(element, encoding="utf-8", pretty_print=True)` gives the same
element tree: no XML declaration, two spaces of indentation per level, `<x/>` for an
element without text and `<x></x>` for one whose text is empty, attributes in the order
written, namespace declarations where the tree declared them. Building the tree with
lxml's element factory cost ~2 µs per element (45 per answer of the two-client SyncML feed);
a template writes the same bytes in a fraction of that (benchmarks/README.md, "Levers 2 and
3: rendering and the response cache"). tests/test_render_equivalence.py keeps the
element-tree renderers these replaced and compares the bytes of both over randomized worlds.

Values are escaped by the standard library's XML escaping (`xml.sax.saxutils.escape`),
given the character references libxml2 writes besides (`&#13;` in text; `&quot;`, `&#10;`,
`&#13;` and `&#9;` in attribute values). A value XML 1.0 cannot hold (a control character,
U+FFFE, U+FFFF, a lone surrogate; XML 1.0 §2.2 "Characters") raises ValueError, as lxml
did; a value that is not a string raises TypeError, as lxml did.
"""
from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from xml.sax.saxutils import escape

from ocss_testkit.atom.namespaces import ATOM, OC
from ocss_testkit.world.clock import iso_z, plain
from ocss_testkit.world.world import GDataClient, GDataDatastore, SetupRecord, SyncMLClient, User

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


def serialize(body) -> bytes:
    """The bytes of an answer: rendered bytes as they are; an lxml element (a caller's own)
    as lxml writes it, `tostring(encoding="utf-8", pretty_print=True)`."""
    if isinstance(body, bytes):
        return body
    from lxml import etree
    return etree.tostring(body, encoding="utf-8", pretty_print=True)


def feed_head(out: list[str], url: str, title: str, items, now: datetime, ns: str = ATOM_NS) -> None:
    """Open a feed: author, id, self link, title, and `updated`, the newest of the items'
    `updated` or else `now` (docs/decisions.md, "Where the docs disagree")."""
    newest = max((i.updated for i in items), default=now)
    u = attr(url)
    out.append(f"<feed{ns}>\n  <author>\n    <name>{FEED_AUTHOR}</name>\n  </author>\n"
               f"  <id>{text(url)}</id>\n  <link href=\"{u}\" rel=\"self\"/>\n"
               f"{leaf('  ', 'title', title)}  <updated>{when(newest)}</updated>\n")


FEED_END = "</feed>\n"


def category(ind: str, kind: str) -> str:
    """The `<category>` naming an entry's client kind in the generic listing (I9)."""
    return f'{ind}<category scheme="{OC}#kind" term="{attr(kind)}"/>\n'


def _entry_head(out: list[str], ind: str, ns: str, author: User, url: str, content_type: str,
                edit: bool) -> None:
    i1, i2, u = ind + "  ", ind + "    ", attr(url)
    out += (f"{ind}<entry{ns}>\n{i1}<author>\n", leaf(i2, "name", author.name), leaf(i2, "email", author.email),
            f'{i1}</author>\n{i1}<content src="{u}" type="{content_type}"/>\n{i1}<id>{text(url)}</id>\n'
            f'{i1}<link href="{u}" rel="self"/>\n')
    if edit:
        out.append(f'{i1}<link href="{u}/edit" rel="edit"/>\n')
    out.append(f'{i1}<link href="{u}" rel="alternate" type="text/html"/>\n')


# --- Google Data clients (001) ----------------------------------------------------------
GDATA_LIST, GDATA_ECHO, GDATA_TEXT = "list", "echo", "text"
_TOKEN_TYPE_TAGS = ("type", "token_type")  # the element names 001 shows (world/state.py checks them)


def gdata_url(base: str, client_uuid: str) -> str:
    return f"{base}v2/services/google/{client_uuid}"


def gdata_entry(base: str, client: GDataClient, owner: User, datastores: str = GDATA_LIST) -> bytes:
    """`datastores` picks one of the three shapes 001 shows:

    - list/GET: `name` attribute, token with type and scopes, key and secret never shown;
    - echo (201 Created): the token as sent, key and secret included;
    - text (200 Updated): `<datastore dataclass= href=>Name</datastore>`, no token.
    """
    out: list[str] = []
    write_gdata_entry(out, "", ATOM_NS, base, client, owner, datastores)
    return finish(out)


def write_gdata_entry(out: list[str], ind: str, ns: str, base: str, client: GDataClient, owner: User,
                      datastores: str = GDATA_LIST, kind: str | None = None) -> None:
    """Append the entry at indentation `ind`, declaring `ns` (empty inside a feed); `kind`
    adds the generic listing's category."""
    i1, i2 = ind + "  ", ind + "    "
    _entry_head(out, ind, ns, owner, gdata_url(base, client.uuid), "html", edit=True)
    out += (f"{i1}<published>{when(client.published)}</published>\n", leaf(i1, "title", client.user_id),
            f"{i1}<updated>{when(client.updated)}</updated>\n")
    if kind is not None:
        out.append(category(i1, kind))
    out += (f"{i1}<client{OC_NS}>\n", leaf(i2, "uuid", client.uuid), leaf(i2, "user_id", client.user_id))
    for d in client.datastores:
        _gdata_datastore(out, i2, d, datastores)
    out.append(f"{i1}</client>\n{ind}</entry>\n")


def _gdata_datastore(out: list[str], ind: str, d: GDataDatastore, shape: str) -> None:
    attributes = f'dataclass="{attr(d.dataclass)}" href="{attr(d.href)}"'
    if shape == GDATA_TEXT:
        if d.name is None:
            out.append(f"{ind}<datastore {attributes}/>\n")
        else:
            out.append(f"{ind}<datastore {attributes}>{text(d.name)}</datastore>\n")
        return
    attributes += f' name="{attr(d.name)}"'
    if d.token is None:
        out.append(f"{ind}<datastore {attributes}/>\n")
        return
    i1, i2 = ind + "  ", ind + "    "
    out.append(f"{ind}<datastore {attributes}>\n{i1}<token>\n")
    token = d.token
    if shape == GDATA_ECHO:
        if token.type_tag not in _TOKEN_TYPE_TAGS:
            raise ValueError(f"a token's type element is one of {', '.join(_TOKEN_TYPE_TAGS)}, not {token.type_tag!r}")
        out.append(leaf(i2, token.type_tag, str(token.type)))
        if token.key is not None:
            out.append(leaf(i2, "key", token.key))
        if token.secret is not None:
            out.append(leaf(i2, "secret", token.secret))
    else:
        out.append(leaf(i2, "type", str(token.type)))
    out += [leaf(i2, "scope", scope) for scope in token.scopes]
    out.append(f"{i1}</token>\n{ind}</datastore>\n")


def gdata_feed(base: str, clients: list[GDataClient], owners: dict[str, User], now: datetime) -> bytes:
    out: list[str] = []
    feed_head(out, f"{base}v2/services/google/all.xml", "Google Data Clients", clients, now)  # 001 lists
    for client in clients:  # under all.xml, not the endpoint
        write_gdata_entry(out, "  ", "", base, client, owners[client.owner], GDATA_LIST)
    out.append(FEED_END)
    return finish(out)


# --- SyncML clients (003) ---------------------------------------------------------------
def syncml_url(base: str, client_uuid: str) -> str:
    return f"{base}v2/services/syncml/{client_uuid}"


def syncml_entry(base: str, client: SyncMLClient, owner: User) -> bytes:
    out: list[str] = []
    write_syncml_entry(out, "", ATOM_NS, base, client, owner)
    return finish(out)


def write_syncml_entry(out: list[str], ind: str, ns: str, base: str, client: SyncMLClient, owner: User,
                       kind: str | None = None) -> None:
    """Append the entry at indentation `ind`, declaring `ns` (empty inside a feed); `kind`
    adds the generic listing's category."""
    i1, i2 = ind + "  ", ind + "    "
    _entry_head(out, ind, ns, owner, syncml_url(base, client.uuid), "text/html", edit=False)
    out += (f"{i1}<published>{when(client.published)}</published>\n", leaf(i1, "title", client.model.name),
            f"{i1}<updated>{when(client.updated)}</updated>\n")
    if kind is not None:
        out.append(category(i1, kind))
    out += (f"{i1}<client{OC_NS}>\n", leaf(i2, "uuid", client.uuid), leaf(i2, "user_id", str(owner.account_id)))
    if client.datastores:
        stores = f"{attr(base)}v2/services/syncml/datastores/"
        for d in client.datastores:
            dataclass = attr(d.dataclass)
            start = f'{i2}<datastore dataclass="{dataclass}" href="{stores}{dataclass}"'
            out.append(f"{start}/>\n" if d.name is None else f"{start}>{text(d.name)}</datastore>\n")
    out += (leaf(i2, "phone_number", client.phone_number), leaf(i2, "model_uuid", client.model_ref),
            leaf(i2, "imei", client.imei or None))
    # Inside client entries `sent` is `YYYY-MM-DD HH:MM:SS`, empty before any setup (003).
    if client.setup_sent is None:
        out.append(f'{i2}<setup sent=""/>\n')
    elif client.setup_name is None:
        out.append(f'{i2}<setup sent="{plain(client.setup_sent)}"/>\n')
    else:
        out.append(f'{i2}<setup sent="{plain(client.setup_sent)}">{text(client.setup_name)}</setup>\n')
    out += (leaf(i2, "timezone", client.timezone), f"{i1}</client>\n{ind}</entry>\n")


def syncml_feed(base: str, clients: list[SyncMLClient], owners: dict[str, User], now: datetime) -> bytes:
    out: list[str] = []
    feed_head(out, f"{base}v2/services/syncml/", "SyncML Clients", clients, now)
    for client in clients:
        write_syncml_entry(out, "  ", "", base, client, owners[client.owner])
    out.append(FEED_END)
    return finish(out)


def setup_entry(base: str, record: SetupRecord) -> bytes:
    """The setup 201 body: id, echoed pincode, `sent` in ISO form this time (003)."""
    return finish([f"<entry{BOTH_NS}>\n",
                   leaf("  ", "id", f"{syncml_url(base, record.client_uuid)}/setup/{record.number}/"),
                   leaf("  ", "oc:pincode", record.pincode),
                   f'  <oc:setup sent="{when(record.sent)}"/>\n' if record.profile is None else
                   f'  <oc:setup sent="{when(record.sent)}">{text(record.profile)}</oc:setup>\n',
                   "</entry>\n"])
