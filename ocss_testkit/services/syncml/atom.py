"""SyncML clients, setup, sessions and chatlog on the wire (SyncML API): request bodies
decoded into domain values, and the answers rendered as the docs show them.

Clients and setup follow the documented examples element for element; the session and
chatlog bodies are inferred in the same style (docs/decisions.md, "Bodies of the inferred
routes"). How the bytes are written: atom/writer.py. The SyncML messages inside a chatlog
entry are written by chat_atom.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from lxml import etree

from ocss_testkit.atom import reader
from ocss_testkit.atom.client_entries import kind_feed
from ocss_testkit.atom.writer import (
    ATOM_NS,
    BOTH_NS,
    FEED_END,
    OC_NS,
    attr,
    category,
    documented_entry_head,
    feed_head,
    finish,
    leaf,
    text,
    when,
)
from ocss_testkit.services.syncml.chat_atom import message_xml
from ocss_testkit.world.clock import plain

if TYPE_CHECKING:
    from ocss_testkit.request_context import RequestContext
    from ocss_testkit.services.syncml.sessions import ChatMessage, Session
    from ocss_testkit.services.syncml.state import SetupRecord, SyncMLClient
    from ocss_testkit.world.users import User


# --- request bodies (xsd/request/syncml-client.xsd, syncml-setup.xsd) ------------------------
@dataclass(frozen=True)
class SyncMLClientRequest:
    phone_number: str
    model_uuid: str
    timezone: str | None
    imei: str


@reader.payload("client")
def decode_client(entry: etree._Element) -> SyncMLClientRequest:
    """SyncML API, "Create a new client". Raises XMLRejected (a repeated or missing
    element), MissingPayload (no oc:client)."""
    client = reader.client_of(entry)
    return SyncMLClientRequest(
        phone_number=reader.text(reader.one(client, "phone_number", required=True)),
        model_uuid=reader.text(reader.one(client, "model_uuid", required=True)),
        timezone=reader.text(reader.one(client, "timezone")),
        imei=reader.text(reader.one(client, "imei")) or "",
    )


def decode_setup(entry: etree._Element) -> str:
    """The pincode of a setup POST (SyncML API, "Setup and Phone Configuration")."""
    return reader.text(reader.one(reader.entry_root(entry), "pincode", required=True))


# --- clients and setup (xsd/response/syncml.xsd, syncml-setup.xsd) ----------------------------
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
    documented_entry_head(out, ind, ns, owner, syncml_url(base, client.uuid), "text/html", edit=False)
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
    else:
        out.append(f'{i2}<setup sent="{plain(client.setup_sent)}">{text(client.setup_name)}</setup>\n')
    out += (leaf(i2, "timezone", client.timezone), f"{i1}</client>\n{ind}</entry>\n")


def syncml_feed(base: str, clients: list[SyncMLClient], owners: dict[str, User], now: datetime) -> bytes:
    return kind_feed(base, f"{base}v2/services/syncml/", "SyncML Clients", clients, owners, write_syncml_entry, now)


def setup_entry(base: str, record: SetupRecord) -> bytes:
    """A setup entry, answered by the setup POST (201) and by a GET of its id (I17): id,
    echoed pincode, `sent` in ISO form this time (SyncML API, "Setup and Phone Configuration")."""
    return finish([f"<entry{BOTH_NS}>\n",
                   leaf("  ", "id", f"{syncml_url(base, record.client_uuid)}/setup/{record.number}/"),
                   leaf("  ", "oc:pincode", record.pincode),
                   f'  <oc:setup sent="{when(record.sent)}">{text(record.profile)}</oc:setup>\n',
                   "</entry>\n"])


# --- sessions and chatlog (xsd/response/sessions.xsd; D12, D13) --------------------------------
def session_url(base: str, session_id: int) -> str:
    return f"{base}v2/services/syncml/sessions/{session_id}/"


def session_entry(base: str, session: Session) -> bytes:
    out: list[str] = []
    _write_session(out, "", ATOM_NS, base, session)
    return finish(out)


def _write_session(out: list[str], ind: str, ns: str, base: str, session: Session) -> None:
    i1, i2 = ind + "  ", ind + "    "
    url = session_url(base, session.id)
    out += (f"{ind}<entry{ns}>\n{i1}<id>{text(url)}</id>\n{i1}<link href=\"{attr(url)}\" rel=\"self\"/>\n"
            f'{i1}<link href="{attr(base)}v2/services/syncml/{attr(session.client_uuid)}" rel="related"/>\n'
            f"{i1}<published>{when(session.started)}</published>\n",
            leaf(i1, "title", f"SyncML session {session.id}: {session.outcome}"),
            f"{i1}<updated>{when(session.ended)}</updated>\n{i1}<session{OC_NS}>\n",
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
        _write_session(out, "  ", "", base, session)
    out.append(FEED_END)
    return finish(out)


def chatlog_feed(base: str, url: str, messages: list[ChatMessage], now: datetime) -> bytes:
    out: list[str] = []
    feed_head(out, url, "SyncML Chatlog", messages, now, BOTH_NS)
    for m in messages:
        out += ("  <entry>\n", leaf("    ", "id", f"{session_url(base, m.session_id)}chatlog/{m.number}"),
                leaf("    ", "title", f"Message {m.number} {m.direction.replace('-', ' ')}"),
                f"    <updated>{when(m.time)}</updated>\n",
                f'    <content type="application/vnd.syncml+xml">{text(message_xml(m))}</content>\n',
                leaf("    ", "oc:direction", m.direction), leaf("    ", "oc:session_id", str(m.session_id)),
                "  </entry>\n")
    out.append(FEED_END)
    return finish(out)


@dataclass(frozen=True)
class Chatlog:
    """What a chatlog GET shows: the messages of every session, or of `session` (the id
    as the URL gave it, which the feed's own URL repeats)."""
    session: str | None
    messages: list[ChatMessage]


# --- the routes' renderers: render(ctx, value) -> bytes (routes.py) ---------------------------
def render_feed(ctx: RequestContext, clients: list[SyncMLClient]) -> bytes:
    """SyncML API, "Listing all clients"."""
    return syncml_feed(ctx.base, clients, ctx.world.users, ctx.world.clock.now())


def render_entry(ctx: RequestContext, client: SyncMLClient) -> bytes:
    """SyncML API, "List details for a specific client", "Create a new client"."""
    return syncml_entry(ctx.base, client, ctx.signed_in)


def render_setup(ctx: RequestContext, record: SetupRecord) -> bytes:
    """SyncML API, "Setup and Phone Configuration"."""
    return setup_entry(ctx.base, record)


def render_sessions(ctx: RequestContext, sessions: list[Session]) -> bytes:
    return sessions_feed(ctx.base, sessions, ctx.world.clock.now())


def render_session(ctx: RequestContext, session: Session) -> bytes:
    return session_entry(ctx.base, session)


def render_chatlog(ctx: RequestContext, chatlog: Chatlog) -> bytes:
    sessions = f"{ctx.base}v2/services/syncml/sessions/"
    url = sessions + (f"{chatlog.session}/" if chatlog.session else "") + "chatlog/"
    return chatlog_feed(ctx.base, url, chatlog.messages, ctx.world.clock.now())
