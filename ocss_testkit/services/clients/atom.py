"""The generic client listing and bindings on the wire (inferred from the SyncServer API
Python interface, "Clients", "Bindings"; routes I9–I11): the binding body decoded, and
entries rendered in the documented entries' style (docs/decisions.md, "Bodies of the
inferred routes"). A generic entry is the client kind's own entry plus its kind.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from lxml import etree

from ocss_testkit.atom import reader
from ocss_testkit.atom.client_entries import kind_feed
from ocss_testkit.atom.namespaces import O
from ocss_testkit.atom.writer import ATOM_NS, FEED_END, OC_NS, attr, feed_head, finish, leaf, text, when
from ocss_testkit.services.activesync.atom import write_activesync_entry
from ocss_testkit.services.datastore.atom import write_datastore_entry
from ocss_testkit.services.gdata.atom import write_gdata_entry
from ocss_testkit.services.syncml.atom import write_syncml_entry

if TYPE_CHECKING:
    from ocss_testkit.request_context import RequestContext
    from ocss_testkit.services.clients.state import Binding
    from ocss_testkit.world.clients import Client
    from ocss_testkit.world.users import User


# --- the request body (xsd/request/binding.xsd) ------------------------------------------------
@dataclass(frozen=True)
class BindingRequest:
    source: str | None
    target: str | None
    dominant: str | None


@reader.payload("binding")
def decode_binding(entry: etree._Element) -> BindingRequest:
    """The one oc:binding of an entry: MissingPayload with none or several."""
    found = entry.findall(O + "binding")
    if len(found) != 1:
        raise reader.MissingPayload("the entry needs exactly one oc:binding element")
    b = found[0]
    return BindingRequest(reader.text(reader.one(b, "source")), reader.text(reader.one(b, "target")),
                          reader.text(reader.one(b, "dominant")))


# --- clients of every kind (xsd/response/clients.xsd; I9) --------------------------------------
_WRITERS: dict[str, Callable[..., None]] = {  # each kind's entry writer
    "syncml": write_syncml_entry, "gdata": write_gdata_entry, "activesync": write_activesync_entry,
    "datastore": write_datastore_entry}


def any_client_entry(base: str, client: Client, owner: User) -> bytes:
    """An entry of the generic /v2/clients/ listing: the kind's own entry plus its kind."""
    out: list[str] = []
    write_any_client_entry(out, "", ATOM_NS, base, client, owner)
    return finish(out)


def write_any_client_entry(out: list[str], ind: str, ns: str, base: str, client: Client, owner: User) -> None:
    _WRITERS[client.kind](out, ind, ns, base, client, owner, kind=client.kind)


# --- bindings (xsd/response/clients.xsd; I10, I11) ---------------------------------------------
def binding_url(base: str, binding_id: int) -> str:
    return f"{base}v2/clients/bindings/{binding_id}"


def binding_entry(base: str, binding: Binding) -> bytes:
    out: list[str] = []
    _write_binding(out, "", ATOM_NS, base, binding)
    return finish(out)


def _write_binding(out: list[str], ind: str, ns: str, base: str, binding: Binding) -> None:
    i1, i2 = ind + "  ", ind + "    "
    url = binding_url(base, binding.id)
    clients = f"{attr(base)}v2/clients/"
    out += (f"{ind}<entry{ns}>\n{i1}<id>{text(url)}</id>\n{i1}<link href=\"{attr(url)}\" rel=\"self\"/>\n"
            f'{i1}<link href="{clients}{attr(binding.source)}" rel="related" title="source"/>\n'
            f'{i1}<link href="{clients}{attr(binding.target)}" rel="related" title="target"/>\n'
            f"{i1}<published>{when(binding.published)}</published>\n",
            leaf(i1, "title", f"{binding.source} -> {binding.target}"),
            f"{i1}<updated>{when(binding.updated)}</updated>\n{i1}<binding{OC_NS}>\n",
            leaf(i2, "id", str(binding.id)), leaf(i2, "source", binding.source), leaf(i2, "target", binding.target),
            leaf(i2, "dominant", binding.dominant), f"{i1}</binding>\n{ind}</entry>\n")


def bindings_feed(base: str, bindings: list[Binding], now: datetime) -> bytes:
    out: list[str] = []
    feed_head(out, f"{base}v2/clients/bindings/", "Bindings", bindings, now)
    for binding in bindings:
        _write_binding(out, "  ", "", base, binding)
    out.append(FEED_END)
    return finish(out)


# --- the routes' renderers: render(ctx, value) -> bytes (routes.py) ---------------------------
def render_clients(ctx: RequestContext[None], clients: list[Client]) -> bytes:
    return kind_feed(ctx.base, f"{ctx.base}v2/clients/", "Clients", clients, ctx.world.users, write_any_client_entry,
                     ctx.world.clock.now())


def render_client(ctx: RequestContext[None], client: Client) -> bytes:
    return any_client_entry(ctx.base, client, ctx.signed_in)


def render_bindings(ctx: RequestContext, bindings: list[Binding]) -> bytes:
    return bindings_feed(ctx.base, bindings, ctx.world.clock.now())


def render_binding(ctx: RequestContext, binding: Binding) -> bytes:
    return binding_entry(ctx.base, binding)
