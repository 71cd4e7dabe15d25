"""The phones API and handset detection, /v2/phones/ and /d/{code} (inferred from 000).

The phones database never changes, so its bodies are rendered once each and kept; the
base URL, which comes from each request's `Host` header, is spliced in per answer.
"""
from __future__ import annotations

import re
import threading
from collections import OrderedDict
from html import escape

from werkzeug.wrappers import Response

from ocss_testkit.answers import ApiError, atom, empty, status_line
from ocss_testkit.atom import incoming, render
from ocss_testkit.atom import render_inferred as ri
from ocss_testkit.request_context import RequestContext
from ocss_testkit.services.phones.database import PhonesDB
from ocss_testkit.world.errors import Invalid, NotFound
from ocss_testkit.world.state import text_problem

# --- rendered bodies, independent of the Host header ------------------------------------
# Keyed by the Host header, the bodies took ~350 KB per distinct Host (200 Hosts: +90 MB
# RSS). A body is rendered once with a stand-in base URL and kept as the bytes between
# the stand-ins; an answer joins them around the request's base, escaped as lxml would
# have escaped it there (in an attribute or in text). Memory is then the phones database
# rendered once, whatever the Hosts; an answer costs a join (~0.1 ms for the 350 KB models
# feed) where a render costs ~45 ms. A cache of whole bodies bounded in bytes was the other
# design measured: flat memory too, but a new Host cost a render, and anyone can send one
# (benchmarks/README.md, "Memory under distinct input").
_STAND_IN = "http://\ue000ocss-base\ue001/"  # private-use characters: in no phones file
_STAND_IN_BYTES = _STAND_IN.encode("utf-8")
TEMPLATE_LIMIT = 1024  # bodies kept: one per (database, body kind, id); the demo set has 383
TEMPLATE_BYTES = 16 * 1024 * 1024  # and their bytes: the demo set's 383 weigh 0.97 MB
# What lxml can serialize at all (XML 1.0 Char); any other base is rendered directly, so
# that it fails exactly as before (the app refuses such a Host before it gets here).
_XML_SAFE = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_ATTRIBUTE_ESCAPES = {**_TEXT_ESCAPES, '"': "&quot;", "\n": "&#10;", "\t": "&#9;"}


def _escaped(base: str, escapes: dict[str, str]) -> bytes:
    return "".join(escapes.get(c, c) for c in base).encode("utf-8") if any(c in escapes for c in base) \
        else base.encode("utf-8")


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
        text, attribute = _escaped(base, _TEXT_ESCAPES), _escaped(base, _ATTRIBUTE_ESCAPES)
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

    def get(self, key: tuple, make) -> _Template:
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
    if what == "vendors":
        return render.serialize(ri.vendors_feed(base, db, db.updated))
    if what == "vendor":
        return render.serialize(ri.vendor_entry(base, db, _vendor(db, key), db.updated))
    if what == "vendor-models":
        vendor = _vendor(db, key)
        return render.serialize(ri.models_feed(base, db, db.models_of(vendor.id),
                                               ri.vendor_url(base, vendor.id) + "/models/",
                                               f"{vendor.name} models", db.updated))
    if what == "models":
        return render.serialize(ri.models_feed(base, db, list(db.models.values()), f"{base}v2/phones/models/",
                                               "Phone Models", db.updated))
    if what == "model":
        return render.serialize(ri.model_entry(base, db, _model(db, key), db.updated))
    raise ValueError(what)


def _cached(db: PhonesDB, base: str, what: str, key: str = "") -> bytes:
    """The body of a phones answer for this base URL: the same bytes as rendering it."""
    if _XML_SAFE.fullmatch(base):
        template = _templates.get((db, what, key), lambda: _Template(_render(db, _STAND_IN, what, key)))
        if template.spliceable:
            return template.fill(base)
    return _render(db, base, what, key)


def _vendor(db: PhonesDB, ref: str):
    vendor = db.vendor(ref)
    if vendor is None:
        raise NotFound(f"no vendor with id {ref!r}")
    return vendor


def _model(db: PhonesDB, ref: str):
    model = db.model(ref)
    if model is None:
        raise NotFound(f"no model with id {ref!r}")
    return model


def list_vendors(ctx: RequestContext):
    return atom(_cached(ctx.world.phones, ctx.base, "vendors"))


def get_vendor(ctx: RequestContext, vendor_id: str):
    return atom(_cached(ctx.world.phones, ctx.base, "vendor", str(_vendor(ctx.world.phones, vendor_id).id)))


def vendor_models(ctx: RequestContext, vendor_id: str):
    return atom(_cached(ctx.world.phones, ctx.base, "vendor-models",
                        str(_vendor(ctx.world.phones, vendor_id).id)))


def list_models(ctx: RequestContext):
    return atom(_cached(ctx.world.phones, ctx.base, "models"))


def get_model(ctx: RequestContext, model_id: str):
    return atom(_cached(ctx.world.phones, ctx.base, "model", str(_model(ctx.world.phones, model_id).id)))


def read_only(ctx: RequestContext, **_):
    # 000: "the phones API is read-only, and attempts to update() or delete() will fail"
    raise ApiError(405, "Method Not Allowed", "the phones API is read-only", headers=ctx.allow())


# --- detection -------------------------------------------------------------------------
def detect_auto(ctx: RequestContext):
    model = ctx.world.detect_auto(ctx.user, incoming.phone_number(ctx.entry))
    if model is None:
        return empty("204 No Content")
    return atom(ri.model_entry(ctx.base, ctx.world.phones, model, ctx.world.phones.updated))


def detect_manual(ctx: RequestContext):
    detection = ctx.world.detect_manual(ctx.user, incoming.phone_number(ctx.entry), f"{ctx.base}d/{{code}}")
    response = atom(ri.detection_entry(ctx.base, detection), "201 Created")
    response.headers["Location"] = ri.detection_url(ctx.base, detection.code)
    return response


def detect_poll(ctx: RequestContext, code: str):
    return atom(ri.detection_entry(ctx.base, ctx.world.detection(code, ctx.user)))


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>ObexCode phone detection</title></head>
<body><h1>Phone detection</h1><p>{message}</p></body></html>
"""


def detection_page(ctx: RequestContext, code: str, *, record: bool = True):
    """What the phone's browser shows when it opens the SMS link (a WAP-era page).

    `record=False` (a HEAD, e.g. a messenger's link preview) shows the same page and
    records nothing: the detection stays pending for the phone's real visit."""
    user_agent = ctx.request.headers.get("User-Agent", "")
    problem = text_problem(user_agent)
    if problem:  # it would be kept in the state, which holds only text an answer can show
        return Response(_PAGE.format(message=escape(f"Your browser's User-Agent holds {problem}.")),
                        status=status_line(400), content_type="text/html; charset=utf-8")
    try:
        if record:
            model = ctx.world.visit_detection(code, user_agent).model
        else:
            ctx.world.detection(code)  # unknown or expired: Invalid, as visit_detection's NotFound
            model = ctx.world.phones.identify(user_agent)
    except (NotFound, Invalid):
        return Response(_PAGE.format(message="This link is unknown or has expired."), status=status_line(404),
                        content_type="text/html; charset=utf-8")
    if model is None:
        message = "Sorry, we could not recognise your phone. Please register it by hand."
    else:
        message = f"Your phone is a <b>{escape(model.name)}</b>. You can close this page."
    return Response(_PAGE.format(message=message), content_type="text/html; charset=utf-8")
