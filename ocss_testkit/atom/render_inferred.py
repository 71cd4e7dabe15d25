"""Domain values → Atom for the inferred APIs (docs/decisions.md, "Bodies of the inferred routes").

The docs never show these bodies; they follow the documented entries' style: the same
Atom head (author, content src, id, self/alternate links, published, title, updated) and
one oc: element carrying the object. Absolute ids from the base URL, as everywhere.

Written from string templates as render.py writes the documented ones (the same bytes lxml
would serialize; see there), each renderer returning the answer's UTF-8 bytes; a `write_…`
function appends an entry's lines to a feed being written.
"""
from __future__ import annotations

from datetime import datetime

from ocss_testkit.atom.namespaces import OC
from ocss_testkit.atom.render import (
    ATOM_NS,
    BOTH_NS,
    FEED_AUTHOR,
    FEED_END,
    OC_NS,
    attr,
    category,
    feed_head,
    finish,
    leaf,
    text,
    write_gdata_entry,
    write_syncml_entry,
)
from ocss_testkit.atom.render import when as stamp
from ocss_testkit.services.clients.contents import Item
from ocss_testkit.services.clients.state import ActiveSyncClient, Binding, DatastoreClient
from ocss_testkit.services.gdata.state import GDataClient
from ocss_testkit.services.phones.database import Model, PhonesDB, Vendor
from ocss_testkit.services.phones.detection import Detection
from ocss_testkit.services.syncml.state import ChatMessage, Session, SyncMLClient

KIND_SCHEME = OC + "#kind"


def _head(out: list[str], ind: str, ns: str, url: str, title: str, published: datetime, updated: datetime,
          author: tuple[str, str | None] = (FEED_AUTHOR, None), related: list | None = None) -> None:
    """Open an entry at indentation `ind`, declaring `ns`, and write its Atom head."""
    i1, i2, u = ind + "  ", ind + "    ", attr(url)
    out += (f"{ind}<entry{ns}>\n{i1}<author>\n", leaf(i2, "name", author[0]))
    if author[1]:
        out.append(leaf(i2, "email", author[1]))
    out.append(f'{i1}</author>\n{i1}<content src="{u}" type="text/html"/>\n{i1}<id>{text(url)}</id>\n'
               f'{i1}<link href="{u}" rel="self"/>\n{i1}<link href="{u}" rel="alternate" type="text/html"/>\n')
    for href, title_ in related or ():
        titled = f' title="{attr(title_)}"' if title_ else ""
        out.append(f'{i1}<link href="{attr(href)}" rel="related"{titled}/>\n')
    out += (f"{i1}<published>{stamp(published)}</published>\n", leaf(i1, "title", title),
            f"{i1}<updated>{stamp(updated)}</updated>\n")


# --- phones (I1–I3) ---------------------------------------------------------------------
def vendor_url(base: str, vendor_id: int) -> str:
    return f"{base}v2/phones/vendors/{vendor_id}"


def model_url(base: str, model_id: int) -> str:
    return f"{base}v2/phones/models/{model_id}"


def vendor_entry(base: str, db: PhonesDB, vendor: Vendor, when: datetime) -> bytes:
    out: list[str] = []
    _vendor(out, "", ATOM_NS, base, db, vendor, when)
    return finish(out)


def _vendor(out: list[str], ind: str, ns: str, base: str, db: PhonesDB, vendor: Vendor, when: datetime) -> None:
    i1, i2 = ind + "  ", ind + "    "
    url = vendor_url(base, vendor.id)
    _head(out, ind, ns, url, vendor.name, when, when, related=[(url + "/models/", f"{vendor.name} models")])
    out += (f"{i1}<vendor{OC_NS}>\n", leaf(i2, "id", str(vendor.id)), leaf(i2, "uuid", vendor.uuid),
            leaf(i2, "name", vendor.name), leaf(i2, "image_url", vendor.image_url),
            leaf(i2, "models", str(len(db.models_of(vendor.id)))), f"{i1}</vendor>\n{ind}</entry>\n")


def model_entry(base: str, db: PhonesDB, model: Model, when: datetime) -> bytes:
    out: list[str] = []
    _model(out, "", ATOM_NS, base, db, model, when)
    return finish(out)


def _model(out: list[str], ind: str, ns: str, base: str, db: PhonesDB, model: Model, when: datetime) -> None:
    i1, i2 = ind + "  ", ind + "    "
    vendor = db.vendors[model.vendor_id]
    _head(out, ind, ns, model_url(base, model.id), model.name, when, when,
          related=[(vendor_url(base, vendor.id), vendor.name)])
    out += (f"{i1}<model{OC_NS}>\n", leaf(i2, "id", str(model.id)), leaf(i2, "uuid", model.uuid),
            leaf(i2, "name", model.name), leaf(i2, "image_url", model.image_url), leaf(i2, "vendor", vendor.name),
            leaf(i2, "vendor_id", str(vendor.id)), leaf(i2, "server_alert", "true" if model.server_alert else "false"),
            f"{i1}</model>\n{ind}</entry>\n")


def vendors_feed(base: str, db: PhonesDB, when: datetime) -> bytes:
    out: list[str] = []
    feed_head(out, f"{base}v2/phones/vendors/", "Phone Vendors", [], when)
    for vendor in db.vendors.values():
        _vendor(out, "  ", "", base, db, vendor, when)
    out.append(FEED_END)
    return finish(out)


def models_feed(base: str, db: PhonesDB, models: list[Model], url: str, title: str, when: datetime) -> bytes:
    out: list[str] = []
    feed_head(out, url, title, [], when)
    for model in models:
        _model(out, "  ", "", base, db, model, when)
    out.append(FEED_END)
    return finish(out)


# --- detection (I5–I7) ------------------------------------------------------------------
def detection_url(base: str, code: str) -> str:
    return f"{base}v2/phones/detect/manual/{code}/"


def detection_entry(base: str, detection: Detection) -> bytes:
    url = detection_url(base, detection.code)
    out = [f"<entry{BOTH_NS}>\n", leaf("  ", "id", url),
           leaf("  ", "title", f"Handset detection for {detection.phone_number}"),
           f"  <updated>{stamp(detection.updated or detection.created)}</updated>\n",
           f'  <link href="{attr(url)}" rel="self"/>\n']
    if detection.model is not None:
        out.append(f'  <link href="{attr(model_url(base, detection.model.id))}" rel="related" '
                   f'title="{attr(detection.model.name)}"/>\n')
    out += (leaf("  ", "oc:code", detection.code), leaf("  ", "oc:phone_number", detection.phone_number),
            leaf("  ", "oc:status", detection.status))
    if detection.model is not None:
        out.append(leaf("  ", "oc:model_uuid", detection.model.uuid))
    out.append("</entry>\n")
    return finish(out)


# --- ActiveSync and datastore clients (I12, I13) ----------------------------------------
def client_url(base: str, client) -> str:
    path = {"syncml": "syncml", "gdata": "google", "activesync": "activesync", "datastore": "datastore"}
    return f"{base}v2/services/{path[client.kind]}/{client.uuid}"


def _client_head(out: list[str], ind: str, ns: str, base: str, client, owner, title: str, kind: str | None,
                 related=None) -> str:
    """Write the entry up to its open `<client>` element; the indentation of its children."""
    i1, i2 = ind + "  ", ind + "    "
    _head(out, ind, ns, client_url(base, client), title, client.published, client.updated,
          author=(owner.name, owner.email), related=related)
    if kind is not None:
        out.append(category(i1, kind))
    out += (f"{i1}<client{OC_NS}>\n", leaf(i2, "uuid", client.uuid), leaf(i2, "user_id", str(owner.account_id)))
    return i2


def activesync_entry(base: str, client: ActiveSyncClient, owner) -> bytes:
    out: list[str] = []
    write_activesync_entry(out, "", ATOM_NS, base, client, owner)
    return finish(out)


def write_activesync_entry(out: list[str], ind: str, ns: str, base: str, client: ActiveSyncClient, owner,
                           kind: str | None = None) -> None:
    i2 = _client_head(out, ind, ns, base, client, owner, client.username, kind)
    out += (leaf(i2, "username", client.username),  # password and old_pass are write-only
            f"{ind}  </client>\n{ind}</entry>\n")


def datastore_entry(base: str, client: DatastoreClient, owner) -> bytes:
    out: list[str] = []
    write_datastore_entry(out, "", ATOM_NS, base, client, owner)
    return finish(out)


def write_datastore_entry(out: list[str], ind: str, ns: str, base: str, client: DatastoreClient, owner,
                          kind: str | None = None) -> None:
    contents = client_url(base, client) + "/contents/"
    i2 = _client_head(out, ind, ns, base, client, owner, client.name, kind, related=[(contents, "contents")])
    out += (leaf(i2, "name", client.name), f"{ind}  </client>\n{ind}</entry>\n")


def any_client_entry(base: str, client, owner) -> bytes:
    """An entry of the generic /v2/clients/ listing: the kind's own entry plus its kind."""
    out: list[str] = []
    write_any_client_entry(out, "", ATOM_NS, base, client, owner)
    return finish(out)


def write_any_client_entry(out: list[str], ind: str, ns: str, base: str, client, owner) -> None:
    if isinstance(client, SyncMLClient):
        write_syncml_entry(out, ind, ns, base, client, owner, kind=client.kind)
    elif isinstance(client, GDataClient):
        write_gdata_entry(out, ind, ns, base, client, owner, kind=client.kind)
    elif isinstance(client, ActiveSyncClient):
        write_activesync_entry(out, ind, ns, base, client, owner, kind=client.kind)
    else:
        write_datastore_entry(out, ind, ns, base, client, owner, kind=client.kind)


# The entry writer of each entry renderer a kind feed takes.
_WRITERS = {any_client_entry: write_any_client_entry, activesync_entry: write_activesync_entry,
            datastore_entry: write_datastore_entry}


def kind_feed(base: str, url: str, title: str, clients: list, owners: dict, render, now: datetime) -> bytes:
    """A feed of clients, each entry as `render` (any_client_entry, activesync_entry or
    datastore_entry) writes it alone."""
    write = _WRITERS[render]
    out: list[str] = []
    feed_head(out, url, title, clients, now)
    for client in clients:
        write(out, "  ", "", base, client, owners[client.owner])
    out.append(FEED_END)
    return finish(out)


# --- bindings (I10, I11) ------------------------------------------------------------------
def binding_url(base: str, binding_id: int) -> str:
    return f"{base}v2/clients/bindings/{binding_id}"


def binding_entry(base: str, binding: Binding) -> bytes:
    out: list[str] = []
    _binding(out, "", ATOM_NS, base, binding)
    return finish(out)


def _binding(out: list[str], ind: str, ns: str, base: str, binding: Binding) -> None:
    i1, i2 = ind + "  ", ind + "    "
    url = binding_url(base, binding.id)
    clients = f"{attr(base)}v2/clients/"
    out += (f"{ind}<entry{ns}>\n{i1}<id>{text(url)}</id>\n{i1}<link href=\"{attr(url)}\" rel=\"self\"/>\n"
            f'{i1}<link href="{clients}{attr(binding.source)}" rel="related" title="source"/>\n'
            f'{i1}<link href="{clients}{attr(binding.target)}" rel="related" title="target"/>\n'
            f"{i1}<published>{stamp(binding.published)}</published>\n",
            leaf(i1, "title", f"{binding.source} -> {binding.target}"),
            f"{i1}<updated>{stamp(binding.updated)}</updated>\n{i1}<binding{OC_NS}>\n",
            leaf(i2, "id", str(binding.id)), leaf(i2, "source", binding.source), leaf(i2, "target", binding.target),
            leaf(i2, "dominant", binding.dominant), f"{i1}</binding>\n{ind}</entry>\n")


def bindings_feed(base: str, bindings: list[Binding], now: datetime) -> bytes:
    out: list[str] = []
    feed_head(out, f"{base}v2/clients/bindings/", "Bindings", bindings, now)
    for binding in bindings:
        _binding(out, "  ", "", base, binding)
    out.append(FEED_END)
    return finish(out)


# --- datastore contents (I14, I15) --------------------------------------------------------
def content_url(base: str, client: DatastoreClient, item_id: str) -> str:
    return f"{client_url(base, client)}/contents/{item_id}"


def content_entry(base: str, client: DatastoreClient, item: Item, operation: str | None = None) -> bytes:
    out: list[str] = []
    _content(out, "", BOTH_NS, base, client, item, operation)
    return finish(out)


def _content(out: list[str], ind: str, ns: str, base: str, client: DatastoreClient, item: Item,
             operation: str | None) -> None:
    i1 = ind + "  "
    url = content_url(base, client, item.id)
    out += (f"{ind}<entry{ns}>\n{i1}<id>{text(url)}</id>\n", leaf(i1, "title", item.title),
            f'{i1}<link href="{attr(url)}" rel="self"/>\n{i1}<published>{stamp(item.created)}</published>\n'
            f"{i1}<updated>{stamp(item.updated)}</updated>\n")
    if item.deleted is None:  # a tombstone carries no data
        start = f'{i1}<content type="{attr(item.ctype)}"'
        out.append(f"{start}/>\n" if item.data is None else f"{start}>{text(item.data)}</content>\n")
    out.append(leaf(i1, "oc:dataclass", item.dataclass))
    if operation is not None:
        out.append(leaf(i1, "oc:operation", operation))
    out.append(f"{ind}</entry>\n")


def contents_feed(base: str, client: DatastoreClient, rows: list[tuple[Item, str | None]], now: datetime) -> bytes:
    out: list[str] = []
    feed_head(out, f"{client_url(base, client)}/contents/", f"Contents of {client.name}",
              [item for item, _ in rows], now, BOTH_NS)
    for item, operation in rows:
        _content(out, "  ", "", base, client, item, operation)
    out.append(FEED_END)
    return finish(out)


# --- sessions and chatlog (D12, D13) ------------------------------------------------------
def session_url(base: str, session_id: int) -> str:
    return f"{base}v2/services/syncml/sessions/{session_id}/"


def session_entry(base: str, session: Session) -> bytes:
    out: list[str] = []
    _session(out, "", ATOM_NS, base, session)
    return finish(out)


def _session(out: list[str], ind: str, ns: str, base: str, session: Session) -> None:
    i1, i2 = ind + "  ", ind + "    "
    url = session_url(base, session.id)
    out += (f"{ind}<entry{ns}>\n{i1}<id>{text(url)}</id>\n{i1}<link href=\"{attr(url)}\" rel=\"self\"/>\n"
            f'{i1}<link href="{attr(base)}v2/services/syncml/{attr(session.client_uuid)}" rel="related"/>\n'
            f"{i1}<published>{stamp(session.started)}</published>\n",
            leaf(i1, "title", f"SyncML session {session.id}: {session.outcome}"),
            f"{i1}<updated>{stamp(session.ended)}</updated>\n{i1}<session{OC_NS}>\n",
            leaf(i2, "id", str(session.id)), leaf(i2, "client", session.client_uuid),
            leaf(i2, "outcome", session.outcome))
    if session.reason:
        out.append(leaf(i2, "reason", session.reason))
    out += [f'{i2}<datastore dataclass="{attr(store.dataclass)}" name="{attr(store.name)}" '
            f'sync_type="{attr(store.sync_type)}"/>\n' for store in session.datastores]
    out.append(f"{i1}</session>\n{ind}</entry>\n")


def sessions_feed(base: str, sessions: list[Session], now: datetime) -> bytes:
    out: list[str] = []
    feed_head(out, f"{base}v2/services/syncml/sessions/", "SyncML Sessions", sessions, now)
    for session in sessions:
        _session(out, "  ", "", base, session)
    out.append(FEED_END)
    return finish(out)


def chatlog_feed(base: str, url: str, messages: list[ChatMessage], now: datetime) -> bytes:
    out: list[str] = []
    feed_head(out, url, "SyncML Chatlog", messages, now, BOTH_NS)
    for m in messages:
        out += ("  <entry>\n", leaf("    ", "id", f"{session_url(base, m.session_id)}chatlog/{m.number}"),
                leaf("    ", "title", f"Message {m.number} {m.direction.replace('-', ' ')}"),
                f"    <updated>{stamp(m.time)}</updated>\n")
        start = '    <content type="application/vnd.syncml+xml"'
        out += (f"{start}/>\n" if m.xml is None else f"{start}>{text(m.xml)}</content>\n",
                leaf("    ", "oc:direction", m.direction), leaf("    ", "oc:session_id", str(m.session_id)),
                "  </entry>\n")
    out.append(FEED_END)
    return finish(out)
