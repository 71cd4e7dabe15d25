"""What the entries of the inferred client kinds share (ActiveSync, datastore, and the
generic /v2/clients/ listing; docs/decisions.md, "Bodies of the inferred routes"): a
client's URL, the entry's head up to its open oc:client, and a feed of clients.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ocss_testkit.atom.writer import FEED_END, OC_NS, category, feed_head, finish, inferred_entry_head, leaf

if TYPE_CHECKING:
    from ocss_testkit.world.clients import Client
    from ocss_testkit.world.users import User

# The path segment of each client kind under /v2/services/.
_SERVICE_PATHS = {"syncml": "syncml", "gdata": "google", "activesync": "activesync", "datastore": "datastore"}


def client_url(base: str, client: Client) -> str:
    """The client's URL (`client.kind`, `client.uuid`), the id of its entry."""
    return f"{base}v2/services/{_SERVICE_PATHS[client.kind]}/{client.uuid}"


def client_entry_head(out: list[str], ind: str, ns: str, base: str, client: Client, owner: User, title: str,
                      kind: str | None, related: list[tuple[str, str]] | None = None) -> str:
    """Write the entry up to its open `<client>` element (uuid and user_id written); the
    indentation of its children. `kind` adds the generic listing's category."""
    i1, i2 = ind + "  ", ind + "    "
    inferred_entry_head(out, ind, ns, client_url(base, client), title, client.published, client.updated,
                        author=(owner.name, owner.email), related=related)
    if kind is not None:
        out.append(category(i1, kind))
    out += (f"{i1}<client{OC_NS}>\n", leaf(i2, "uuid", client.uuid), leaf(i2, "user_id", str(owner.account_id)))
    return i2


def kind_feed(base: str, url: str, title: str, clients: Sequence[Client], owners: Mapping[str, User],
              write: Callable[..., None], now: datetime) -> bytes:
    """A feed of clients, each entry appended by `write(out, ind, ns, base, client, owner)`
    (a kind's `write_…_entry`), `owners` the users by name."""
    out: list[str] = []
    feed_head(out, url, title, clients, now)
    for client in clients:
        write(out, "  ", "", base, client, owners[client.owner])
    out.append(FEED_END)
    return finish(out)
