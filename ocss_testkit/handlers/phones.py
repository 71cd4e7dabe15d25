"""The phones API and handset detection, /v2/phones/ and /d/{code} (inferred from 000).

The phones database never changes, so its rendered bodies are cached per base URL.
"""
from __future__ import annotations

from functools import lru_cache
from html import escape

from werkzeug.wrappers import Response

from ..atom import incoming, render
from ..atom import render_inferred as ri
from ..model.errors import NotFound
from ..model.phones import PhonesDB
from ..wire import ApiError, atom, empty, status_line
from . import Call


@lru_cache(maxsize=4096)
def _cached(db: PhonesDB, base: str, what: str, key: str = "") -> bytes:
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


def list_vendors(call: Call):
    return atom(_cached(call.world.phones, call.base, "vendors"))


def get_vendor(call: Call, vendor_id: str):
    return atom(_cached(call.world.phones, call.base, "vendor", str(_vendor(call.world.phones, vendor_id).id)))


def vendor_models(call: Call, vendor_id: str):
    return atom(_cached(call.world.phones, call.base, "vendor-models",
                        str(_vendor(call.world.phones, vendor_id).id)))


def list_models(call: Call):
    return atom(_cached(call.world.phones, call.base, "models"))


def get_model(call: Call, model_id: str):
    return atom(_cached(call.world.phones, call.base, "model", str(_model(call.world.phones, model_id).id)))


def read_only(call: Call, **_):
    # 000: "the phones API is read-only, and attempts to update() or delete() will fail"
    raise ApiError(405, "Method Not Allowed", "the phones API is read-only", headers=call.allow())


# --- detection -------------------------------------------------------------------------
def detect_auto(call: Call):
    model = call.world.detect_auto(call.user, incoming.phone_number(call.entry))
    if model is None:
        return empty("204 No Content")
    return atom(ri.model_entry(call.base, call.world.phones, model, call.world.phones.updated))


def detect_manual(call: Call):
    detection = call.world.detect_manual(call.user, incoming.phone_number(call.entry), f"{call.base}d/{{code}}")
    response = atom(ri.detection_entry(call.base, detection), "201 Created")
    response.headers["Location"] = ri.detection_url(call.base, detection.code)
    return response


def detect_poll(call: Call, code: str):
    return atom(ri.detection_entry(call.base, call.world.detection(code, call.user)))


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>ObexCode phone detection</title></head>
<body><h1>Phone detection</h1><p>{message}</p></body></html>
"""


def detection_page(call: Call, code: str):
    """What the phone's browser shows when it opens the SMS link (a WAP-era page)."""
    user_agent = call.request.headers.get("User-Agent", "")
    try:
        detection = call.world.visit_detection(code, user_agent)
    except NotFound:
        return Response(_PAGE.format(message="This link is unknown or has expired."), status=status_line(404),
                        content_type="text/html; charset=utf-8")
    if detection.model is None:
        message = "Sorry, we could not recognise your phone. Please register it by hand."
    else:
        message = f"Your phone is a <b>{escape(detection.model.name)}</b>. You can close this page."
    return Response(_PAGE.format(message=message), content_type="text/html; charset=utf-8")
