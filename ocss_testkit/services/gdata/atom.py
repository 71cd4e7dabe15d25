"""Google Data clients on the wire (Google Data Client API): the request body decoded into
a domain value, and the answers rendered element for element as the docs show them.

Element order follows the examples of each endpoint (docs/decisions.md, "Where the docs
disagree"); how the bytes are written: atom/writer.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from lxml import etree

from ocss_testkit.atom import reader
from ocss_testkit.atom.client_entries import kind_feed
from ocss_testkit.atom.namespaces import O
from ocss_testkit.atom.safe import XMLRejected
from ocss_testkit.atom.writer import (
    ATOM_NS,
    OC_NS,
    attr,
    category,
    documented_entry_head,
    finish,
    leaf,
    text,
    when,
)
from ocss_testkit.services.gdata.state import GDataClient, GDataDatastore, Token

if TYPE_CHECKING:
    from ocss_testkit.request_context import RequestContext
    from ocss_testkit.world.users import User


# --- the request body (xsd/request/gdata-client.xsd) -----------------------------------------
@dataclass(frozen=True)
class GDataClientRequest:
    """The oc:client of a POST or PUT: `uuid` names the client of a PUT on the collection."""
    uuid: str | None
    user_id: str | None
    datastores: list[GDataDatastore]


@reader.payload("client")
def decode_client(entry: etree._Element) -> GDataClientRequest:
    """Google Data Client API, "Add a new client", "Update a client". Raises XMLRejected
    (a repeated element, a token without key, secret or scope), MissingPayload (no oc:client)."""
    client = reader.client_of(entry)
    return GDataClientRequest(
        uuid=(reader.text(reader.one(client, "uuid")) or None),
        user_id=reader.text(reader.one(client, "user_id")),
        datastores=[_datastore(d) for d in client.findall(O + "datastore")],
    )


def _datastore(element: etree._Element) -> GDataDatastore:
    dataclass = reader.attribute(element, "dataclass")  # dataclass and href: required by the schema
    token_element = reader.one(element, "token")
    token = _token(token_element) if token_element is not None else None
    # "the name attribute can be omitted, in which case the dataclass will be used" (001)
    return GDataDatastore(dataclass, reader.resolved(element, reader.attribute(element, "href")),
                          element.get("name") or dataclass, token)


def _token(element: etree._Element) -> Token:
    types = element.findall(O + "type") + element.findall(O + "token_type")
    if len(types) > 1:
        raise XMLRejected("oc:token takes one oc:type or oc:token_type, not several")
    key = reader.one(element, "key", required=True)
    secret = reader.one(element, "secret", required=True)
    scopes = [reader.resolved(s, reader.text(s)) for s in element.findall(O + "scope")]
    if not scopes:
        raise XMLRejected("oc:token needs at least one oc:scope")
    # token_type defaults to 2, an access token (SyncServer API Python interface, "GData": add_datastore).
    type_element = types[0] if types else None
    return Token(
        type=int(reader.text(type_element)) if type_element is not None else 2,
        key=reader.text(key), secret=reader.text(secret), scopes=scopes,
        type_tag=etree.QName(type_element).localname if type_element is not None else "type",
    )


# --- answers (xsd/response/gdata.xsd) ---------------------------------------------------------
GDATA_LIST, GDATA_ECHO, GDATA_TEXT = "list", "echo", "text"
_TOKEN_TYPE_TAGS = ("type", "token_type")  # the element names 001 shows (the state checks them)


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
    documented_entry_head(out, ind, ns, owner, gdata_url(base, client.uuid), "html", edit=True)
    out += (f"{i1}<published>{when(client.published)}</published>\n", leaf(i1, "title", client.user_id),
            f"{i1}<updated>{when(client.updated)}</updated>\n")
    if kind is not None:
        out.append(category(i1, kind))
    out += (f"{i1}<client{OC_NS}>\n", leaf(i2, "uuid", client.uuid), leaf(i2, "user_id", client.user_id))
    for d in client.datastores:
        _write_datastore(out, i2, d, datastores)
    out.append(f"{i1}</client>\n{ind}</entry>\n")


def _write_datastore(out: list[str], ind: str, d: GDataDatastore, shape: str) -> None:
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
    # The Google Data Client API's listing is under all.xml, not the endpoint; entries list
    # their datastores (GDATA_LIST, write_gdata_entry's default).
    return kind_feed(base, f"{base}v2/services/google/all.xml", "Google Data Clients", clients, owners,
                     write_gdata_entry, now)


# --- the routes' renderers: render(ctx, value) -> bytes (routes.py) ---------------------------
def render_feed(ctx: RequestContext, clients: list[GDataClient]) -> bytes:
    """The list of the user's clients (Google Data Client API, "List all clients")."""
    return gdata_feed(ctx.base, clients, ctx.world.users, ctx.world.clock.now())


def render_entry(ctx: RequestContext, client: GDataClient) -> bytes:
    """One client as listed ("Get details for specific client")."""
    return gdata_entry(ctx.base, client, ctx.signed_in)


def render_created(ctx: RequestContext, client: GDataClient) -> bytes:
    """The 201 echoing each token as sent, key and secret included ("Add a new client")."""
    return gdata_entry(ctx.base, client, ctx.signed_in, GDATA_ECHO)


def render_updated(ctx: RequestContext, client: GDataClient) -> bytes:
    """The 200 Updated: every datastore in text form, without tokens ("Update a client")."""
    return gdata_entry(ctx.base, client, ctx.signed_in, GDATA_TEXT)
