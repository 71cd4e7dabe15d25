"""The outbox: every SMS and WAP push the fake would have sent to a phone. Nothing is sent.

Common to every service (the SyncML API sends settings and sync alerts, manual detection
sends a link); the simulated phones (simulated_phones.py) act on what arrives here.
Bounded: past `limit` messages the oldest drop out.
"""
from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ocss_testkit.world.clock import iso_z
from ocss_testkit.world.service import Service, Slice

if TYPE_CHECKING:
    from ocss_testkit.world.state_reader import StateReader
    from ocss_testkit.world.world import World

DEFAULT_OUTBOX_LIMIT = 1000
MESSAGE_KINDS = ("detection-link", "setup-sms", "server-alert")


@dataclass(frozen=True, slots=True)
class Message:
    """Anything that would have reached a phone: an SMS or a WAP push."""
    id: int
    to: str
    kind: str  # one of MESSAGE_KINDS
    body: str
    time: datetime
    client: str | None = None
    code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "to": self.to, "kind": self.kind, "body": self.body,
                "time": iso_z(self.time), "client": self.client, "code": self.code}


class Outbox(Service):
    """The messages, oldest first (`messages`), and `send`, which the services call."""

    name = "outbox"
    slices = (Slice("outbox", "sequence", "messages_sent", lambda service, message: message.as_dict()),)

    def __init__(self, world: World, limit: int = DEFAULT_OUTBOX_LIMIT) -> None:
        super().__init__(world)
        self.messages_sent: deque[Message] = deque(maxlen=limit)
        self._ids = itertools.count(1)
        self._sent_since_tidy = 0  # messages sent since the simulated phones were last tidied

    @property
    def limit(self) -> int:
        return self.messages_sent.maxlen or 1

    def send(self, to: str, kind: str, body: str, client: str | None = None, code: str | None = None) -> Message:
        """Append a message (kind one of MESSAGE_KINDS) and let the simulated phone act on it."""
        message = Message(next(self._ids), to, kind, body, self.world.clock.now(), client, code)
        self.messages_sent.append(message)
        # Phone states and the schedule follow the outbox (simulated_phones.py): tidied once
        # per outbox's worth of messages, so what refers to dropped ones stays bounded.
        self._sent_since_tidy += 1
        if self._sent_since_tidy >= self.limit:
            self._sent_since_tidy = 0
            self.world.simulated_phones.tidy()
        self.world.simulated_phones.autopilot_for(message)
        return message

    def messages(self, to: str | None = None, kind: str | None = None) -> list[Message]:
        return [m for m in self.messages_sent
                if (to is None or m.to == to) and (kind is None or m.kind == kind)]

    def __iter__(self) -> Iterator[Message]:
        return iter(self.messages_sent)

    def __len__(self) -> int:
        return len(self.messages_sent)

    def __getitem__(self, index: int) -> Message:
        return self.messages_sent[index]

    def __reversed__(self) -> Iterator[Message]:
        return reversed(self.messages_sent)

    def load(self, doc: StateReader) -> None:
        for m in doc.at("outbox", []).items():
            m.known("id", "to", "kind", "body", "time", "client", "code")
            kind = m.at("kind").one_of(*MESSAGE_KINDS)
            self.messages_sent.append(Message(m.at("id").int(), m.at("to").str(False), kind, m.at("body").str(),
                                              m.at("time").time(), m.at("client", None).opt_str(),
                                              m.at("code", None).opt_str()))

    def loaded(self) -> None:
        self._ids = itertools.count(max((m.id for m in self.messages_sent), default=0) + 1)
