"""The phones database and handset detection on the wire (inferred from the SyncServer API
Python interface, "Phones", "Models"; routes I1–I7): the detection request decoded, and
vendor, model and detection entries rendered in the documented entries' style
(docs/decisions.md, "Bodies of the inferred routes").

The phones GETs are rendered once per database and spliced with each request's base URL
(cached_bodies.py); how the bytes are written: atom/writer.py.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from lxml import etree

from ocss_testkit.atom import reader
from ocss_testkit.atom.writer import (
    ATOM_NS,
    BOTH_NS,
    FEED_END,
    OC_NS,
    attr,
    feed_head,
    finish,
    inferred_entry_head,
    leaf,
)
from ocss_testkit.atom.writer import when as stamp  # `when` names the phones database's date below

if TYPE_CHECKING:
    from ocss_testkit.request_context import RequestContext
    from ocss_testkit.services.phones.database import Model, PhonesDB, Vendor
    from ocss_testkit.services.phones.state import Detection


# --- the request body (xsd/request/detect.xsd) ------------------------------------------------
def decode_phone_number(entry: etree._Element) -> str:
    """The oc:phone_number of a detect_auto or detect_manual POST."""
    return reader.text(reader.one(entry, "phone_number", required=True))


# --- vendors and models (xsd/response/phones.xsd; I1–I3, I5) ----------------------------------
def vendor_url(base: str, vendor_id: int) -> str:
    return f"{base}v2/phones/vendors/{vendor_id}"


def model_url(base: str, model_id: int) -> str:
    return f"{base}v2/phones/models/{model_id}"


def vendor_entry(base: str, db: PhonesDB, vendor: Vendor, when: datetime) -> bytes:
    out: list[str] = []
    _write_vendor(out, "", ATOM_NS, base, db, vendor, when)
    return finish(out)


def _write_vendor(out: list[str], ind: str, ns: str, base: str, db: PhonesDB, vendor: Vendor,
                  when: datetime) -> None:
    i1, i2 = ind + "  ", ind + "    "
    url = vendor_url(base, vendor.id)
    inferred_entry_head(out, ind, ns, url, vendor.name, when, when,
                        related=[(url + "/models/", f"{vendor.name} models")])
    out += (f"{i1}<vendor{OC_NS}>\n", leaf(i2, "id", str(vendor.id)), leaf(i2, "uuid", vendor.uuid),
            leaf(i2, "name", vendor.name), leaf(i2, "image_url", vendor.image_url),
            leaf(i2, "models", str(len(db.models_of(vendor.id)))), f"{i1}</vendor>\n{ind}</entry>\n")


def model_entry(base: str, db: PhonesDB, model: Model, when: datetime) -> bytes:
    out: list[str] = []
    _write_model(out, "", ATOM_NS, base, db, model, when)
    return finish(out)


def _write_model(out: list[str], ind: str, ns: str, base: str, db: PhonesDB, model: Model, when: datetime) -> None:
    i1, i2 = ind + "  ", ind + "    "
    vendor = db.vendors[model.vendor_id]
    inferred_entry_head(out, ind, ns, model_url(base, model.id), model.name, when, when,
                        related=[(vendor_url(base, vendor.id), vendor.name)])
    out += (f"{i1}<model{OC_NS}>\n", leaf(i2, "id", str(model.id)), leaf(i2, "uuid", model.uuid),
            leaf(i2, "name", model.name), leaf(i2, "image_url", model.image_url), leaf(i2, "vendor", vendor.name),
            leaf(i2, "vendor_id", str(vendor.id)), leaf(i2, "server_alert", "true" if model.server_alert else "false"),
            f"{i1}</model>\n{ind}</entry>\n")


def vendors_feed(base: str, db: PhonesDB, when: datetime) -> bytes:
    out: list[str] = []
    feed_head(out, f"{base}v2/phones/vendors/", "Phone Vendors", [], when)
    for vendor in db.vendors.values():
        _write_vendor(out, "  ", "", base, db, vendor, when)
    out.append(FEED_END)
    return finish(out)


def models_feed(base: str, db: PhonesDB, models: list[Model], url: str, title: str, when: datetime) -> bytes:
    out: list[str] = []
    feed_head(out, url, title, [], when)
    for model in models:
        _write_model(out, "  ", "", base, db, model, when)
    out.append(FEED_END)
    return finish(out)


# --- detection (xsd/response/detection.xsd; I6, I7) --------------------------------------------
def detection_url(base: str, code: str) -> str:
    return f"{base}v2/phones/detect/manual/{code}/"


def detection_entry(base: str, detection: Detection) -> bytes:
    url = detection_url(base, detection.code)
    out = [f"<entry{BOTH_NS}>\n", leaf("  ", "id", url),
           leaf("  ", "title", f"Handset detection for {detection.phone_number}"),
           f"  <updated>{stamp(detection.updated or detection.created)}</updated>\n",
           f'  <link href="{attr(url)}" rel="self"/>\n']
    if detection.model is not None:
        out.append(f'  <link href="{attr(model_url(base, detection.model.id))}" rel="related" '
                   f'title="{attr(detection.model.name)}"/>\n')
    out += (leaf("  ", "oc:code", detection.code), leaf("  ", "oc:phone_number", detection.phone_number),
            leaf("  ", "oc:status", detection.status))
    if detection.model is not None:
        out.append(leaf("  ", "oc:model_uuid", detection.model.uuid))
    out.append("</entry>\n")
    return finish(out)


# --- the routes' renderers: render(ctx, value) -> bytes (routes.py) ---------------------------
def render_detected(ctx: RequestContext, model: Model) -> bytes:
    """The model detect_auto identified (SyncServer API Python interface, "Models")."""
    return model_entry(ctx.base, ctx.world.phones, model, ctx.world.phones.updated)


def render_detection(ctx: RequestContext, detection: Detection) -> bytes:
    """A manual detection as created or polled ("Models": detect_manual, detect_poll)."""
    return detection_entry(ctx.base, detection)
