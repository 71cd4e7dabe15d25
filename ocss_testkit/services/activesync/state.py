"""ActiveSync clients (SyncServer API Python interface, 'ActiveSync'; route I12): an
Exchange account's user name and write-only password."""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from ocss_testkit.world.clients import COMMON_FIELDS, ClientKind
from ocss_testkit.world.errors import Invalid

if TYPE_CHECKING:
    from ocss_testkit.world.state_reader import StateReader
    from ocss_testkit.world.users import User


@dataclass(slots=True)
class ActiveSyncClient:
    uuid: str
    owner: str
    username: str
    password: str  # write-only: never rendered (the library: "not automatically populated")
    published: datetime
    updated: datetime
    kind: Literal["activesync"] = "activesync"

    def state(self) -> dict[str, Any]:
        return {"username": self.username, "password": self.password}


class ActiveSyncService(ClientKind[ActiveSyncClient]):
    """ActiveSync clients (`world.activesync`); every method runs under the World's lock."""

    name = "activesync"
    kind = "activesync"

    def create_client(self, user: User, username: str, password: str) -> ActiveSyncClient:
        now = self.world.clock.now()
        client = ActiveSyncClient(self.world.clients.new_uuid(), user.name, username, password, now, now)
        return self.keep(client)

    def update_client(self, user: User, client_uuid: str, username: str | None, password: str | None,
                      old_pass: str | None) -> ActiveSyncClient:
        """Invalid when a new password comes without the current one, or a wrong one (the
        library's 'ActiveSync': old_pass and password)."""
        client = self.client(user, client_uuid)
        if password is not None:
            if old_pass is None:
                raise Invalid("changing the password needs oc:old_pass, the current password")
            if not hmac.compare_digest(old_pass.encode(), client.password.encode()):
                raise Invalid("oc:old_pass does not match the current password")
            client.password = password
        elif old_pass is not None:
            raise Invalid("oc:old_pass given without a new oc:password")
        if username is not None:
            client.username = username
        client.updated = self.world.clock.now()
        return client

    def load_client(self, c: StateReader, common: dict[str, Any]) -> ActiveSyncClient:
        c.known(*COMMON_FIELDS, "username", "password")
        return ActiveSyncClient(username=c.at("username").str(False), password=c.at("password").str(), **common)
