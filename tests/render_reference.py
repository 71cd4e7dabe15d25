"""The element-tree renderers the fake used before its string templates, kept verbatim as
the reference tests/atom/test_render_equivalence.py compares the templates with, byte for byte.

They are the former `ocss_testkit/atom/render.py` followed by the former
`ocss_testkit/atom/render_inferred.py` (imports made absolute, the second file's import of
the first dropped): lxml's element factory (`etree.SubElement`), serialized by
`serialize`, which is lxml's `tostring(encoding="utf-8", pretty_print=True)`. Their
string-template successors are each service's `ocss_testkit/services/*/atom.py`.
"""
from __future__ import annotations

from datetime import datetime

from lxml import etree

from ocss_testkit.atom.namespaces import ATOM, OC, A, O
from ocss_testkit.services.activesync.state import ActiveSyncClient
from ocss_testkit.services.clients.state import Binding
from ocss_testkit.services.datastore.contents import Item
from ocss_testkit.services.datastore.state import DatastoreClient
from ocss_testkit.services.gdata.state import GDataClient, GDataDatastore
from ocss_testkit.services.phones.database import Model, PhonesDB, Vendor
from ocss_testkit.services.phones.state import Detection
from ocss_testkit.services.syncml.chat_atom import message_xml
from ocss_testkit.services.syncml.sessions import ChatMessage, Session
from ocss_testkit.services.syncml.state import SetupRecord, SyncMLClient
from ocss_testkit.world.clock import iso_z, plain
from ocss_testkit.world.users import User

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


# ======================================================================================
# The former render_inferred.py
# ======================================================================================


KIND_SCHEME = OC + "#kind"
_NSMAP = {None: ATOM}
_BOTH_NSMAP = {None: ATOM, "oc": OC}


def _entry(parent, nsmap=_NSMAP):
    return etree.SubElement(parent, A + "entry") if parent is not None else etree.Element(A + "entry", nsmap=nsmap)


def _head(entry, url: str, title: str, published: datetime, updated: datetime,
          author: tuple[str, str | None] = (FEED_AUTHOR, None), related: list | None = None) -> None:
    a = _sub(entry, A + "author")
    _sub(a, A + "name", author[0])
    if author[1]:
        _sub(a, A + "email", author[1])
    _sub(entry, A + "content", src=url, type="text/html")
    _sub(entry, A + "id", url)
    _sub(entry, A + "link", href=url, rel="self")
    _sub(entry, A + "link", href=url, rel="alternate", type="text/html")
    for href, title_ in related or ():
        link = _sub(entry, A + "link", href=href, rel="related")
        if title_:
            link.set("title", title_)
    _sub(entry, A + "published", iso_z(published))
    _sub(entry, A + "title", title)
    _sub(entry, A + "updated", iso_z(updated))


# --- phones (I1–I3) ---------------------------------------------------------------------
def vendor_url(base: str, vendor_id: int) -> str:
    return f"{base}v2/phones/vendors/{vendor_id}"


def model_url(base: str, model_id: int) -> str:
    return f"{base}v2/phones/models/{model_id}"


def vendor_entry(base: str, db: PhonesDB, vendor: Vendor, when: datetime, parent=None):
    url = vendor_url(base, vendor.id)
    entry = _entry(parent)
    _head(entry, url, vendor.name, when, when, related=[(url + "/models/", f"{vendor.name} models")])
    v = etree.SubElement(entry, O + "vendor", nsmap=_OC_NSMAP)
    _sub(v, O + "id", str(vendor.id))
    _sub(v, O + "uuid", vendor.uuid)
    _sub(v, O + "name", vendor.name)
    _sub(v, O + "image_url", vendor.image_url)
    _sub(v, O + "models", str(len(db.models_of(vendor.id))))
    return entry


def model_entry(base: str, db: PhonesDB, model: Model, when: datetime, parent=None):
    vendor = db.vendors[model.vendor_id]
    url = model_url(base, model.id)
    entry = _entry(parent)
    _head(entry, url, model.name, when, when, related=[(vendor_url(base, vendor.id), vendor.name)])
    m = etree.SubElement(entry, O + "model", nsmap=_OC_NSMAP)
    _sub(m, O + "id", str(model.id))
    _sub(m, O + "uuid", model.uuid)
    _sub(m, O + "name", model.name)
    _sub(m, O + "image_url", model.image_url)
    _sub(m, O + "vendor", vendor.name)
    _sub(m, O + "vendor_id", str(vendor.id))
    _sub(m, O + "server_alert", "true" if model.server_alert else "false")
    return entry


def vendors_feed(base: str, db: PhonesDB, when: datetime):
    feed = _feed(f"{base}v2/phones/vendors/", "Phone Vendors", [], when)
    for vendor in db.vendors.values():
        vendor_entry(base, db, vendor, when, parent=feed)
    return feed


def models_feed(base: str, db: PhonesDB, models: list[Model], url: str, title: str, when: datetime):
    feed = _feed(url, title, [], when)
    for model in models:
        model_entry(base, db, model, when, parent=feed)
    return feed


# --- detection (I5–I7) ------------------------------------------------------------------
def detection_url(base: str, code: str) -> str:
    return f"{base}v2/phones/detect/manual/{code}/"


def detection_entry(base: str, detection: Detection):
    url = detection_url(base, detection.code)
    entry = etree.Element(A + "entry", nsmap=_BOTH_NSMAP)
    _sub(entry, A + "id", url)
    _sub(entry, A + "title", f"Handset detection for {detection.phone_number}")
    _sub(entry, A + "updated", iso_z(detection.updated or detection.created))
    _sub(entry, A + "link", href=url, rel="self")
    if detection.model is not None:
        _sub(entry, A + "link", href=model_url(base, detection.model.id), rel="related", title=detection.model.name)
    _sub(entry, O + "code", detection.code)
    _sub(entry, O + "phone_number", detection.phone_number)
    _sub(entry, O + "status", detection.status)
    if detection.model is not None:
        _sub(entry, O + "model_uuid", detection.model.uuid)
    return entry


# --- ActiveSync and datastore clients (I12, I13) ----------------------------------------
def client_url(base: str, client) -> str:
    path = {"syncml": "syncml", "gdata": "google", "activesync": "activesync", "datastore": "datastore"}
    return f"{base}v2/services/{path[client.kind]}/{client.uuid}"


def _client_head(base: str, client, owner, title: str, parent, related=None):
    entry = _entry(parent)
    _head(entry, client_url(base, client), title, client.published, client.updated,
          author=(owner.name, owner.email), related=related)
    c = etree.SubElement(entry, O + "client", nsmap=_OC_NSMAP)
    _sub(c, O + "uuid", client.uuid)
    _sub(c, O + "user_id", str(owner.account_id))
    return entry, c


def activesync_entry(base: str, client: ActiveSyncClient, owner, parent=None):
    entry, c = _client_head(base, client, owner, client.username, parent)
    _sub(c, O + "username", client.username)  # password and old_pass are write-only
    return entry


def datastore_entry(base: str, client: DatastoreClient, owner, parent=None):
    contents = client_url(base, client) + "/contents/"
    entry, c = _client_head(base, client, owner, client.name, parent, related=[(contents, "contents")])
    _sub(c, O + "name", client.name)
    return entry


def any_client_entry(base: str, client, owner, parent=None):
    """An entry of the generic /v2/clients/ listing: the kind's own entry plus its kind."""
    if isinstance(client, SyncMLClient):
        entry = syncml_entry(base, client, owner, parent=parent)
    elif isinstance(client, GDataClient):
        entry = gdata_entry(base, client, owner, parent=parent)
    elif isinstance(client, ActiveSyncClient):
        entry = activesync_entry(base, client, owner, parent=parent)
    else:
        entry = datastore_entry(base, client, owner, parent=parent)
    category = etree.Element(A + "category", scheme=KIND_SCHEME, term=client.kind)
    entry.find(O + "client").addprevious(category)
    return entry


def kind_feed(base: str, url: str, title: str, clients: list, owners: dict, render, now: datetime):
    feed = _feed(url, title, clients, now)
    for client in clients:
        render(base, client, owners[client.owner], parent=feed)
    return feed


# --- bindings (I10, I11) ------------------------------------------------------------------
def binding_url(base: str, binding_id: int) -> str:
    return f"{base}v2/clients/bindings/{binding_id}"


def binding_entry(base: str, binding: Binding, parent=None):
    url = binding_url(base, binding.id)
    entry = _entry(parent)
    _sub(entry, A + "id", url)
    _sub(entry, A + "link", href=url, rel="self")
    _sub(entry, A + "link", href=f"{base}v2/clients/{binding.source}", rel="related", title="source")
    _sub(entry, A + "link", href=f"{base}v2/clients/{binding.target}", rel="related", title="target")
    _sub(entry, A + "published", iso_z(binding.published))
    _sub(entry, A + "title", f"{binding.source} -> {binding.target}")
    _sub(entry, A + "updated", iso_z(binding.updated))
    b = etree.SubElement(entry, O + "binding", nsmap=_OC_NSMAP)
    _sub(b, O + "id", str(binding.id))
    _sub(b, O + "source", binding.source)
    _sub(b, O + "target", binding.target)
    _sub(b, O + "dominant", binding.dominant)
    return entry


def bindings_feed(base: str, bindings: list[Binding], now: datetime):
    feed = _feed(f"{base}v2/clients/bindings/", "Bindings", bindings, now)
    for binding in bindings:
        binding_entry(base, binding, parent=feed)
    return feed


# --- datastore contents (I14, I15) --------------------------------------------------------
def content_url(base: str, client: DatastoreClient, item_id: str) -> str:
    return f"{client_url(base, client)}/contents/{item_id}"


def content_entry(base: str, client: DatastoreClient, item: Item, operation: str | None = None, parent=None):
    url = content_url(base, client, item.id)
    entry = _entry(parent, _BOTH_NSMAP)
    _sub(entry, A + "id", url)
    _sub(entry, A + "title", item.title)
    _sub(entry, A + "link", href=url, rel="self")
    _sub(entry, A + "published", iso_z(item.created))
    _sub(entry, A + "updated", iso_z(item.updated))
    if item.deleted is None:  # a tombstone carries no data
        _sub(entry, A + "content", item.data, type=item.ctype)
    _sub(entry, O + "dataclass", item.dataclass)
    if operation is not None:
        _sub(entry, O + "operation", operation)
    return entry


def contents_feed(base: str, client: DatastoreClient, rows: list[tuple[Item, str | None]], now: datetime):
    url = f"{client_url(base, client)}/contents/"
    feed = _feed(url, f"Contents of {client.name}", [item for item, _ in rows], now, _BOTH_NSMAP)
    for item, operation in rows:
        content_entry(base, client, item, operation, parent=feed)
    return feed


# --- sessions and chatlog (D12, D13) ------------------------------------------------------
def session_url(base: str, session_id: int) -> str:
    return f"{base}v2/services/syncml/sessions/{session_id}/"


def session_entry(base: str, session: Session, parent=None):
    url = session_url(base, session.id)
    entry = _entry(parent)
    _sub(entry, A + "id", url)
    _sub(entry, A + "link", href=url, rel="self")
    _sub(entry, A + "link", href=f"{base}v2/services/syncml/{session.client_uuid}", rel="related")
    _sub(entry, A + "published", iso_z(session.started))
    _sub(entry, A + "title", f"SyncML session {session.id}: {session.outcome}")
    _sub(entry, A + "updated", iso_z(session.ended))
    s = etree.SubElement(entry, O + "session", nsmap=_OC_NSMAP)
    _sub(s, O + "id", str(session.id))
    _sub(s, O + "client", session.client_uuid)
    _sub(s, O + "outcome", session.outcome)
    if session.reason:
        _sub(s, O + "reason", session.reason)
    for store in session.datastores:
        _sub(s, O + "datastore", dataclass=store.dataclass, name=store.name, sync_type=store.sync_type)
    return entry


def sessions_feed(base: str, sessions: list[Session], now: datetime):
    feed = _feed(f"{base}v2/services/syncml/sessions/", "SyncML Sessions", sessions, now)
    for session in sessions:
        session_entry(base, session, parent=feed)
    return feed


def chatlog_feed(base: str, url: str, messages: list[ChatMessage], now: datetime):
    feed = _feed(url, "SyncML Chatlog", messages, now, _BOTH_NSMAP)
    for m in messages:
        entry = _entry(feed)
        _sub(entry, A + "id", f"{session_url(base, m.session_id)}chatlog/{m.number}")
        _sub(entry, A + "title", f"Message {m.number} {m.direction.replace('-', ' ')}")
        _sub(entry, A + "updated", iso_z(m.time))
        _sub(entry, A + "content", message_xml(m), type="application/vnd.syncml+xml")
        _sub(entry, O + "direction", m.direction)
        _sub(entry, O + "session_id", str(m.session_id))
    return feed
