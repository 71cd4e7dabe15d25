"""Domain values → Atom XML, element for element as the docs' responses show them.

Element order follows the examples of each endpoint (docs/decisions.md, "Where the docs
disagree"); ids and links are absolute URLs built from the base URL the caller passes in.
"""
from __future__ import annotations

from datetime import datetime

from lxml import etree

from ..clock import iso_z, plain
from ..model.world import GDataClient, GDataDatastore, SetupRecord, SyncMLClient, User
from .namespaces import A, ATOM, O, OC

FEED_AUTHOR = "ObexCode AS"
_ATOM_NSMAP = {None: ATOM}
_OC_NSMAP = {None: OC}


def _sub(parent, tag: str, text: str | None = None, **attrib) -> etree._Element:
    element = etree.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = text
    return element


def _entry_head(entry, author: User, self_url: str, content_type: str, edit: bool) -> None:
    a = _sub(entry, A + "author")
    _sub(a, A + "name", author.name)
    _sub(a, A + "email", author.email)
    _sub(entry, A + "content", src=self_url, type=content_type)
    _sub(entry, A + "id", self_url)
    _sub(entry, A + "link", href=self_url, rel="self")
    if edit:
        _sub(entry, A + "link", href=self_url + "/edit", rel="edit")
    _sub(entry, A + "link", href=self_url, rel="alternate", type="text/html")


def serialize(element: etree._Element) -> bytes:
    return etree.tostring(element, encoding="utf-8", pretty_print=True)


# --- Google Data clients (001) ----------------------------------------------------------
GDATA_LIST, GDATA_ECHO, GDATA_TEXT = "list", "echo", "text"


def gdata_url(base: str, client_uuid: str) -> str:
    return f"{base}v2/services/google/{client_uuid}"


def gdata_entry(base: str, client: GDataClient, owner: User, datastores: str = GDATA_LIST,
                parent=None) -> etree._Element:
    """`datastores` picks one of the three shapes 001 shows:

    - list/GET: `name` attribute, token with type and scopes, key and secret never shown;
    - echo (201 Created): the token as sent, key and secret included;
    - text (200 Updated): `<datastore dataclass= href=>Name</datastore>`, no token.
    """
    url = gdata_url(base, client.uuid)
    entry = (etree.SubElement(parent, A + "entry") if parent is not None
             else etree.Element(A + "entry", nsmap=_ATOM_NSMAP))
    _entry_head(entry, owner, url, "html", edit=True)
    _sub(entry, A + "published", iso_z(client.published))
    _sub(entry, A + "title", client.user_id)
    _sub(entry, A + "updated", iso_z(client.updated))
    c = etree.SubElement(entry, O + "client", nsmap=_OC_NSMAP)
    _sub(c, O + "uuid", client.uuid)
    _sub(c, O + "user_id", client.user_id)
    for d in client.datastores:
        _gdata_datastore(c, d, datastores)
    return entry


def _gdata_datastore(parent, d: GDataDatastore, shape: str) -> None:
    if shape == GDATA_TEXT:
        _sub(parent, O + "datastore", d.name, dataclass=d.dataclass, href=d.href)
        return
    element = _sub(parent, O + "datastore", dataclass=d.dataclass, href=d.href, name=d.name)
    if d.token is None:
        return
    t = _sub(element, O + "token")
    if shape == GDATA_ECHO:
        _sub(t, O + d.token.type_tag, str(d.token.type))
        if d.token.key is not None:
            _sub(t, O + "key", d.token.key)
        if d.token.secret is not None:
            _sub(t, O + "secret", d.token.secret)
        for scope in d.token.scopes:
            _sub(t, O + "scope", scope)
    else:
        _sub(t, O + "type", str(d.token.type))
        for scope in d.token.scopes:
            _sub(t, O + "scope", scope)


def gdata_feed(base: str, clients: list[GDataClient], owners: dict[str, User],
               now: datetime) -> etree._Element:
    url = f"{base}v2/services/google/all.xml"  # 001 lists under all.xml, not the endpoint
    feed = _feed(url, "Google Data Clients", clients, now)
    for client in clients:
        gdata_entry(base, client, owners[client.owner], GDATA_LIST, parent=feed)
    return feed


# --- SyncML clients (003) ---------------------------------------------------------------
def syncml_url(base: str, client_uuid: str) -> str:
    return f"{base}v2/services/syncml/{client_uuid}"


def syncml_entry(base: str, client: SyncMLClient, owner: User, parent=None) -> etree._Element:
    url = syncml_url(base, client.uuid)
    entry = (etree.SubElement(parent, A + "entry") if parent is not None
             else etree.Element(A + "entry", nsmap=_ATOM_NSMAP))
    _entry_head(entry, owner, url, "text/html", edit=False)
    _sub(entry, A + "published", iso_z(client.published))
    _sub(entry, A + "title", client.model.name)
    _sub(entry, A + "updated", iso_z(client.updated))
    c = etree.SubElement(entry, O + "client", nsmap=_OC_NSMAP)
    _sub(c, O + "uuid", client.uuid)
    _sub(c, O + "user_id", str(owner.account_id))
    for d in client.datastores:
        _sub(c, O + "datastore", d.name, dataclass=d.dataclass,
             href=f"{base}v2/services/syncml/datastores/{d.dataclass}")
    _sub(c, O + "phone_number", client.phone_number)
    _sub(c, O + "model_uuid", client.model_ref)
    _sub(c, O + "imei", client.imei or None)
    # Inside client entries `sent` is `YYYY-MM-DD HH:MM:SS`, empty before any setup (003).
    if client.setup_sent is None:
        _sub(c, O + "setup", sent="")
    else:
        _sub(c, O + "setup", client.setup_name, sent=plain(client.setup_sent))
    _sub(c, O + "timezone", client.timezone)
    return entry


def syncml_feed(base: str, clients: list[SyncMLClient], owners: dict[str, User],
                now: datetime) -> etree._Element:
    feed = _feed(f"{base}v2/services/syncml/", "SyncML Clients", clients, now)
    for client in clients:
        syncml_entry(base, client, owners[client.owner], parent=feed)
    return feed


def setup_entry(base: str, record: SetupRecord) -> etree._Element:
    """The setup 201 body: id, echoed pincode, `sent` in ISO form this time (003)."""
    entry = etree.Element(A + "entry", nsmap={None: ATOM, "oc": OC})
    _sub(entry, A + "id", f"{syncml_url(base, record.client_uuid)}/setup/{record.number}/")
    _sub(entry, O + "pincode", record.pincode)
    _sub(entry, O + "setup", record.profile, sent=iso_z(record.sent))
    return entry


def _feed(url: str, title: str, items: list, now: datetime, nsmap=_ATOM_NSMAP) -> etree._Element:
    feed = etree.Element(A + "feed", nsmap=nsmap)
    _sub(_sub(feed, A + "author"), A + "name", FEED_AUTHOR)
    _sub(feed, A + "id", url)
    _sub(feed, A + "link", href=url, rel="self")
    _sub(feed, A + "title", title)
    # Feed `updated` is the newest entry's `updated` (docs/decisions.md, "Where the docs disagree").
    newest = max((i.updated for i in items), default=now)
    _sub(feed, A + "updated", iso_z(newest))
    return feed
