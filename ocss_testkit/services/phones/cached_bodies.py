"""The phones API's answers (routes I1–I3), rendered once per database, whatever the Host.

The phones database never changes, so its bodies are rendered once each and kept; the
base URL, which comes from each request's `Host` header, is spliced in per answer.

Keyed by the Host header, the bodies took ~350 KB per distinct Host (200 Hosts: +90 MB
RSS). A body is rendered once with a stand-in base URL and kept as the bytes between
the stand-ins; an answer joins them around the request's base, escaped as lxml would
have escaped it there (in an attribute or in text). Memory is then the phones database
rendered once, whatever the Hosts; an answer costs a join (~0.1 ms for the 350 KB models
feed) where a render costs ~45 ms. A cache of whole bodies bounded in bytes was the other
design measured: flat memory too, but a new Host cost a render, and anyone can send one
(benchmarks/README.md, "Memory under distinct input").
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from ocss_testkit.atom import writer
from ocss_testkit.services.phones.atom import model_entry, models_feed, vendor_entry, vendor_url, vendors_feed
from ocss_testkit.world.text_rules import NOT_XML_TEXT

if TYPE_CHECKING:
    from ocss_testkit.request_context import RequestContext
    from ocss_testkit.services.phones.database import Model, PhonesDB, Vendor

_Found = TypeVar("_Found")
_STAND_IN = "http://\ue000ocss-base\ue001/"  # private-use characters: in no phones file
_STAND_IN_BYTES = _STAND_IN.encode("utf-8")
TEMPLATE_LIMIT = 1024  # bodies kept: one per (database, body kind, id); the demo set has 383
TEMPLATE_BYTES = 16 * 1024 * 1024  # and their bytes: the demo set's 383 weigh 0.97 MB


class _Template:
    """A body split at its base URLs; `in_attribute[i]` tells where gap i sits.

    Not `spliceable` (and empty) if the stand-in showed up anywhere but before
    `v2/phones/`: a phones file holding it is rendered per request instead."""
    __slots__ = ("parts", "in_attribute", "size", "spliceable")

    def __init__(self, body: bytes) -> None:
        self.parts = body.split(_STAND_IN_BYTES)
        self.spliceable = all(part.startswith(b"v2/phones/") for part in self.parts[1:])
        if not self.spliceable:
            self.parts = []
        self.in_attribute = [part.endswith(b'"') for part in self.parts[:-1]]
        self.size = sum(map(len, self.parts))

    def fill(self, base: str) -> bytes:
        text, attribute = writer.text(base).encode("utf-8"), writer.attr(base).encode("utf-8")
        if text == attribute:
            return text.join(self.parts)
        out = [self.parts[0]]
        for part, in_attribute in zip(self.parts[1:], self.in_attribute):
            out += (attribute if in_attribute else text, part)
        return b"".join(out)


class _Templates:
    """Least recently used first out, bounded in entries and in bytes."""

    def __init__(self, limit: int = TEMPLATE_LIMIT, max_bytes: int = TEMPLATE_BYTES) -> None:
        self.limit, self.max_bytes = limit, max_bytes
        self._items: OrderedDict[tuple, _Template] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...], make: Callable[[], _Template]) -> _Template:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        made = make()  # outside the lock: a render takes up to ~50 ms
        with self._lock:
            if key not in self._items and made.size <= self.max_bytes:
                self._items[key] = made
                self._bytes += made.size
                while len(self._items) > self.limit or self._bytes > self.max_bytes:
                    _, dropped = self._items.popitem(last=False)
                    self._bytes -= dropped.size
        return made

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def stats(self) -> dict:
        with self._lock:
            return {"entries": len(self._items), "bytes": self._bytes}


_templates = _Templates()


def _render(db: PhonesDB, base: str, what: str, key: str) -> bytes:
    """Body `what` ("vendors", "vendor", "vendor-models", "models", "model") for the vendor
    or model `key` (an id the database knows: KeyError otherwise), rendered for `base`."""
    if what == "vendors":
        return vendors_feed(base, db, db.updated)
    if what == "vendor":
        return vendor_entry(base, db, _known(db.vendor(key), key), db.updated)
    if what == "vendor-models":
        vendor = _known(db.vendor(key), key)
        return models_feed(base, db, db.models_of(vendor.id), vendor_url(base, vendor.id) + "/models/",
                           f"{vendor.name} models", db.updated)
    if what == "models":
        return models_feed(base, db, list(db.models.values()), f"{base}v2/phones/models/", "Phone Models",
                           db.updated)
    if what == "model":
        return model_entry(base, db, _known(db.model(key), key), db.updated)
    raise ValueError(what)


def _known(found: _Found | None, key: str) -> _Found:
    if found is None:  # the handlers look vendors and models up first (a 404 there)
        raise KeyError(f"no vendor or model {key!r} in the phones database")
    return found


def _cached(db: PhonesDB, base: str, what: str, key: str = "") -> bytes:
    """The body of a phones answer for this base URL: the same bytes as rendering it."""
    # A base an answer cannot hold (XML 1.0 Char) is rendered directly, so that it fails
    # exactly as before (the app refuses such a Host before it gets here).
    if NOT_XML_TEXT.search(base) is None:
        template = _templates.get((db, what, key), lambda: _Template(_render(db, _STAND_IN, what, key)))
        if template.spliceable:
            return template.fill(base)
    return _render(db, base, what, key)


# --- the routes' renderers: render(ctx, value) -> bytes (routes.py) ---------------------------
def render_vendors(ctx: RequestContext, db: PhonesDB) -> bytes:
    return _cached(db, ctx.base, "vendors")


def render_vendor(ctx: RequestContext, vendor: Vendor) -> bytes:
    return _cached(ctx.world.phones, ctx.base, "vendor", str(vendor.id))


def render_vendor_models(ctx: RequestContext, vendor: Vendor) -> bytes:
    return _cached(ctx.world.phones, ctx.base, "vendor-models", str(vendor.id))


def render_models(ctx: RequestContext, db: PhonesDB) -> bytes:
    return _cached(db, ctx.base, "models")


def render_model(ctx: RequestContext, model: Model) -> bytes:
    return _cached(ctx.world.phones, ctx.base, "model", str(model.id))
