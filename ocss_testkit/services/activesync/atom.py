"""ActiveSync clients on the wire (inferred from the SyncServer API Python interface,
"ActiveSync"; route I12): the request body decoded, and the entries rendered in the
documented entries' style (docs/decisions.md, "Bodies of the inferred routes").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from ocss_testkit.atom import reader
from ocss_testkit.atom.client_entries import client_entry_head, kind_feed
from ocss_testkit.atom.writer import ATOM_NS, finish, leaf

if TYPE_CHECKING:
    from ocss_testkit.request_context import RequestContext
    from ocss_testkit.services.activesync.state import ActiveSyncClient
    from ocss_testkit.world.users import User


# --- the request body (xsd/request/activesync-client.xsd) -------------------------------------
@dataclass(frozen=True)
class ActiveSyncRequest:
    username: str | None
    password: str | None
    old_pass: str | None


@reader.payload("client")
def decode_client(entry: etree._Element) -> ActiveSyncRequest:
    """Every field optional (an update may carry some); passwords are taken as sent, as
    surrounding spaces may be part of one."""
    client = reader.client_of(entry)
    password, old_pass = reader.one(client, "password"), reader.one(client, "old_pass")
    return ActiveSyncRequest(reader.text(reader.one(client, "username")),
                             password.text if password is not None else None,
                             old_pass.text if old_pass is not None else None)


# --- answers (xsd/response/activesync.xsd) -----------------------------------------------------
def activesync_entry(base: str, client: ActiveSyncClient, owner: User) -> bytes:
    out: list[str] = []
    write_activesync_entry(out, "", ATOM_NS, base, client, owner)
    return finish(out)


def write_activesync_entry(out: list[str], ind: str, ns: str, base: str, client: ActiveSyncClient, owner: User,
                           kind: str | None = None) -> None:
    i2 = client_entry_head(out, ind, ns, base, client, owner, client.username, kind)
    out += (leaf(i2, "username", client.username),  # password and old_pass are write-only
            f"{ind}  </client>\n{ind}</entry>\n")


# --- the routes' renderers: render(ctx, value) -> bytes (routes.py) ---------------------------
def render_feed(ctx: RequestContext, clients: list[ActiveSyncClient]) -> bytes:
    return kind_feed(ctx.base, f"{ctx.base}v2/services/activesync/", "ActiveSync Clients", clients, ctx.world.users,
                     write_activesync_entry, ctx.world.clock.now())


def render_entry(ctx: RequestContext, client: ActiveSyncClient) -> bytes:
    return activesync_entry(ctx.base, client, ctx.signed_in)
