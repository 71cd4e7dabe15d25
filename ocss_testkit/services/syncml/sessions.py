"""SyncML sessions and their chatlog (SyncML API, 'Session API', 'Chatlog'): what a phone's
sync did, kept as data. The SyncML messages a session exchanged are written as XML by the
XML layer (`services/syncml/chat_atom.py`) from the `ChatMessage` data: the domain holds no
markup. Both are bounded (`chatlog_limit`, oldest dropped first).
"""
from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ocss_testkit.world.clock import iso_z
from ocss_testkit.world.errors import NotFound
from ocss_testkit.world.service import Service, Slice
from ocss_testkit.world.state_reader import owner

if TYPE_CHECKING:
    from ocss_testkit.services.syncml.state import SyncMLClient
    from ocss_testkit.world.state_reader import StateReader
    from ocss_testkit.world.users import User
    from ocss_testkit.world.world import World

DEFAULT_CHATLOG_LIMIT = 2000
SYNC_TYPES = ("slow", "two-way")
OUTCOMES = ("ok", "failed")
DIRECTIONS = ("from-phone", "to-phone")


@dataclass(frozen=True, slots=True)
class SessionStore:
    dataclass: str
    name: str
    sync_type: str  # "slow" on a first sync, else "two-way"
    items_from_phone: int
    items_to_phone: int


@dataclass(frozen=True, slots=True)
class Session:
    id: int
    client_uuid: str
    owner: str
    started: datetime
    ended: datetime
    outcome: str  # one of OUTCOMES
    reason: str
    datastores: tuple[SessionStore, ...]

    @property
    def updated(self) -> datetime:  # feeds sort and date entries by `updated`
        return self.ended


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One SyncML message of a session, as data: message `number` (the SyncML MsgID order
    within the session) of a session with this `outcome` and these `datastores`, between
    the phone (`phone`: its LocURI, `IMEI:…` or `tel:…`) and the server. `recorded` is the
    message's text as a state document written before the chatlog was kept as data gave
    it (shown as is)."""
    session_id: int
    number: int
    direction: str  # one of DIRECTIONS
    time: datetime
    phone: str = ""
    outcome: str = "ok"
    datastores: tuple[SessionStore, ...] = ()
    recorded: str | None = None

    @property
    def updated(self) -> datetime:
        return self.time


def exchange(outcome: str) -> tuple[str, ...]:
    """The directions of a session's messages, in order: the phone's alert, the server's
    answer (a 401 status when the session failed), then, after a successful one, the
    phone's sync and the server's closing status (SyncML 1.2 / OMA DS message order)."""
    return DIRECTIONS if outcome != "ok" else DIRECTIONS * 2


def messages_of(session: Session, phone: str) -> list[ChatMessage]:
    return [ChatMessage(session.id, number, direction, session.ended, phone, session.outcome, session.datastores)
            for number, direction in enumerate(exchange(session.outcome), start=1)]


class SyncMLSessions(Service):
    """The sessions and chatlog (`world.syncml_sessions`); every method runs under the World's lock."""

    name = "syncml_sessions"

    def _session_entry(self, s: Session) -> dict[str, Any]:
        return {"id": s.id, "client": s.client_uuid, "owner": s.owner, "outcome": s.outcome,
                "started": iso_z(s.started), "ended": iso_z(s.ended), "reason": s.reason,
                "datastores": [_store_entry(d) for d in s.datastores]}

    def _chat_entry(self, m: ChatMessage) -> dict[str, Any]:
        entry: dict[str, Any] = {"session": m.session_id, "number": m.number, "direction": m.direction,
                                 "time": iso_z(m.time)}
        if m.recorded is not None:
            entry["xml"] = m.recorded
        else:
            entry.update(phone=m.phone, outcome=m.outcome, datastores=[_store_entry(d) for d in m.datastores])
        return entry

    slices = (Slice("sessions", "sequence", "sessions", _session_entry),
              Slice("chatlog", "sequence", "chatlog", _chat_entry))

    def __init__(self, world: World, limit: int = DEFAULT_CHATLOG_LIMIT) -> None:
        super().__init__(world)
        self.sessions: deque[Session] = deque(maxlen=limit)
        self.chatlog: deque[ChatMessage] = deque(maxlen=limit)
        self._session_ids = itertools.count(1)

    def of_user(self, user: User) -> list[Session]:
        return [s for s in self.sessions if s.owner == user.name]

    def session(self, user: User, session_id: int) -> Session:
        """NotFound for an unknown (or dropped) session id."""
        for s in self.sessions:
            if s.id == session_id:
                return s
        raise NotFound(f"no SyncML session {session_id}")

    def chat_messages(self, session_id: int | None = None) -> list[ChatMessage]:
        return [m for m in self.chatlog if session_id is None or m.session_id == session_id]

    def run_session(self, client: SyncMLClient, installed: bool) -> Session:
        """A simulated SyncML session, as the phone would run it after accepting an alert.

        Without the sync settings installed (setup accepted) the phone cannot reach the
        server: the session fails. The first successful session reports the model's
        phone-side datastores, which then appear in the client entry (SyncML API: "These
        datastores are generated on the first synchronization of the phone").
        """
        from ocss_testkit.services.syncml.state import SyncMLDatastore

        clock = self.world.clock
        started = clock.now()
        first = not client.datastores
        stores: tuple[SessionStore, ...]
        if not installed:
            stores, outcome = (), "failed"
            reason = "the phone has no sync settings for this server (setup not accepted)"
        elif not client.model.datastores:
            stores, outcome, reason = (), "failed", f"{client.model.name} reported no datastores"
        else:
            stores = tuple(SessionStore(dc, name, "slow" if first else "two-way", 0, 0)
                           for dc, name in client.model.datastores)
            outcome, reason = "ok", ""
        session = Session(next(self._session_ids), client.uuid, client.owner, started, clock.now(),
                          outcome, reason, stores)
        self.sessions.append(session)
        phone = f"IMEI:{client.imei}" if client.imei else f"tel:{client.phone_number}"
        self.chatlog.extend(messages_of(session, phone))
        if outcome == "ok" and first:
            client.datastores = [SyncMLDatastore(dc, name) for dc, name in client.model.datastores]
            client.updated = session.ended
        return session

    # --- the state document ---------------------------------------------------------------
    def load(self, doc: StateReader) -> None:
        names = set(self.world.users)
        for s in doc.at("sessions", []).items():
            s.known("id", "client", "owner", "outcome", "started", "ended", "reason", "datastores")
            self.sessions.append(Session(s.at("id").int(), s.at("client").str(), owner(s, names),
                                         s.at("started").time(), s.at("ended").time(),
                                         s.at("outcome").one_of(*OUTCOMES), s.at("reason", "").str(),
                                         _stores(s.at("datastores", []))))
        for m in doc.at("chatlog", []).items():
            m.known("session", "number", "direction", "time", "xml", "phone", "outcome", "datastores")
            common = (m.at("session").int(), m.at("number").int(), m.at("direction").one_of(*DIRECTIONS),
                      m.at("time").time())
            if m.at("xml", None).value is not None:  # written before the chatlog was kept as data
                self.chatlog.append(ChatMessage(*common, recorded=m.at("xml").str()))
            else:
                outcome = m.at("outcome", "ok").one_of(*OUTCOMES)
                directions = exchange(outcome)
                if not 1 <= common[1] <= len(directions):
                    m.at("number").fail(f"a session that ends {outcome} exchanges messages 1 to {len(directions)}")
                if common[2] != directions[common[1] - 1]:
                    m.at("direction").fail(f"message {common[1]} of a session goes {directions[common[1] - 1]}")
                self.chatlog.append(ChatMessage(*common, m.at("phone").str(False), outcome,
                                                _stores(m.at("datastores", []))))

    def loaded(self) -> None:
        self._session_ids = itertools.count(max((s.id for s in self.sessions), default=0) + 1)


def _store_entry(d: SessionStore) -> dict[str, Any]:
    return {"dataclass": d.dataclass, "name": d.name, "sync_type": d.sync_type,
            "items_from_phone": d.items_from_phone, "items_to_phone": d.items_to_phone}


def _stores(reader: StateReader) -> tuple[SessionStore, ...]:
    return tuple(SessionStore(d.known("dataclass", "name", "sync_type", "items_from_phone", "items_to_phone")
                              .at("dataclass").str(), d.at("name").str(),
                              d.at("sync_type", "slow").one_of(*SYNC_TYPES),
                              d.at("items_from_phone", 0).int(), d.at("items_to_phone", 0).int())
                 for d in reader.items())
