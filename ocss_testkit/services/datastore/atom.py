"""Datastore clients and their contents on the wire (inferred from the SyncServer API
Python interface, "Datastore", "Datastore contents"; routes I13–I15): request bodies
decoded, and entries rendered in the documented entries' style (docs/decisions.md,
"Bodies of the inferred routes").
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from lxml import etree

from ocss_testkit.atom import reader
from ocss_testkit.atom.client_entries import client_entry_head, client_url, kind_feed
from ocss_testkit.atom.namespaces import A
from ocss_testkit.atom.writer import ATOM_NS, BOTH_NS, FEED_END, attr, feed_head, finish, leaf, text, when

if TYPE_CHECKING:
    from ocss_testkit.request_context import RequestContext
    from ocss_testkit.services.datastore.contents import Item
    from ocss_testkit.services.datastore.state import DatastoreClient
    from ocss_testkit.world.users import User


# --- request bodies (xsd/request/datastore-client.xsd, content-item.xsd) ----------------------
@reader.payload("client")
def decode_client(entry: etree._Element) -> str | None:
    """The client's oc:name, None when the body has none."""
    return reader.text(reader.one(reader.client_of(entry), "name"))


@dataclass(frozen=True)
class ContentRequest:
    title: str | None
    data: str | None
    ctype: str | None
    dataclass: str | None


def decode_item(entry: etree._Element) -> ContentRequest:
    """A content item: atom:title, atom:content with its MIME type, oc:dataclass, each
    None when left out (an update changes what it carries)."""
    reader.entry_root(entry)
    content = entry.find(A + "content")
    title = entry.find(A + "title")
    return ContentRequest(
        title=(title.text or "") if title is not None else None,
        data=(content.text or "") if content is not None else None,
        ctype=content.get("type") if content is not None else None,
        dataclass=reader.text(reader.one(entry, "dataclass")),
    )


# --- datastore clients (xsd/response/datastore.xsd) --------------------------------------------
def datastore_entry(base: str, client: DatastoreClient, owner: User) -> bytes:
    out: list[str] = []
    write_datastore_entry(out, "", ATOM_NS, base, client, owner)
    return finish(out)


def write_datastore_entry(out: list[str], ind: str, ns: str, base: str, client: DatastoreClient, owner: User,
                          kind: str | None = None) -> None:
    contents = client_url(base, client) + "/contents/"
    i2 = client_entry_head(out, ind, ns, base, client, owner, client.name, kind, related=[(contents, "contents")])
    out += (leaf(i2, "name", client.name), f"{ind}  </client>\n{ind}</entry>\n")


# --- contents (xsd/response/contents.xsd) ------------------------------------------------------
def content_url(base: str, client: DatastoreClient, item_id: str) -> str:
    return f"{client_url(base, client)}/contents/{item_id}"


def content_entry(base: str, client: DatastoreClient, item: Item, operation: str | None = None) -> bytes:
    out: list[str] = []
    _write_content(out, "", BOTH_NS, base, client, item, operation)
    return finish(out)


def _write_content(out: list[str], ind: str, ns: str, base: str, client: DatastoreClient, item: Item,
                   operation: str | None) -> None:
    i1 = ind + "  "
    url = content_url(base, client, item.id)
    out += (f"{ind}<entry{ns}>\n{i1}<id>{text(url)}</id>\n", leaf(i1, "title", item.title),
            f'{i1}<link href="{attr(url)}" rel="self"/>\n{i1}<published>{when(item.created)}</published>\n'
            f"{i1}<updated>{when(item.updated)}</updated>\n")
    if item.deleted is None:  # a tombstone carries no data
        start = f'{i1}<content type="{attr(item.ctype)}"'
        out.append(f"{start}/>\n" if item.data is None else f"{start}>{text(item.data)}</content>\n")
    out.append(leaf(i1, "oc:dataclass", item.dataclass))
    if operation is not None:
        out.append(leaf(i1, "oc:operation", operation))
    out.append(f"{ind}</entry>\n")


def contents_feed(base: str, client: DatastoreClient, rows: Sequence[tuple[Item, str | None]],
                  now: datetime) -> bytes:
    out: list[str] = []
    feed_head(out, f"{client_url(base, client)}/contents/", f"Contents of {client.name}",
              [item for item, _ in rows], now, BOTH_NS)
    for item, operation in rows:
        _write_content(out, "  ", "", base, client, item, operation)
    out.append(FEED_END)
    return finish(out)


@dataclass(frozen=True)
class Contents:
    """What a contents GET shows: `rows` of (item, its oc:operation or None) of `client`."""
    client: DatastoreClient
    rows: Sequence[tuple[Item, str | None]]


@dataclass(frozen=True)
class ContentItem:
    """One item of `client`, as created, updated or read."""
    client: DatastoreClient
    item: Item


# --- the routes' renderers: render(ctx, value) -> bytes (routes.py) ---------------------------
def render_feed(ctx: RequestContext, clients: list[DatastoreClient]) -> bytes:
    return kind_feed(ctx.base, f"{ctx.base}v2/services/datastore/", "Datastore Clients", clients, ctx.world.users,
                     write_datastore_entry, ctx.world.clock.now())


def render_entry(ctx: RequestContext, client: DatastoreClient) -> bytes:
    return datastore_entry(ctx.base, client, ctx.signed_in)


def render_contents(ctx: RequestContext, contents: Contents) -> bytes:
    return contents_feed(ctx.base, contents.client, contents.rows, ctx.world.clock.now())


def render_item(ctx: RequestContext, found: ContentItem) -> bytes:
    return content_entry(ctx.base, found.client, found.item)
