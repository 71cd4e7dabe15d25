"""The phones API and handset detection, /v2/phones/ and /d/{code} (inferred from the
SyncServer API Python interface, "Phones", "Models").

A handler gets the decoded body as `ctx.body` (atom.py: the phone number) and returns the
domain value for its route to render (the phones bodies: cached_bodies.py, rendered once
per database; detections: atom.py), or a Response.
"""
from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, NoReturn

from werkzeug.wrappers import Response

from ocss_testkit.answers import Answer, ApiError, empty, status_line
from ocss_testkit.request_context import RequestContext
from ocss_testkit.services.phones.atom import detection_url
from ocss_testkit.services.phones.database import Model, PhonesDB, Vendor
from ocss_testkit.world.errors import Invalid, NotFound
from ocss_testkit.world.text_rules import text_problem

if TYPE_CHECKING:
    from ocss_testkit.services.phones.state import Detection


def _vendor(db: PhonesDB, ref: str) -> Vendor:
    vendor = db.vendor(ref)
    if vendor is None:
        raise NotFound(f"no vendor with id {ref!r}")
    return vendor


def _model(db: PhonesDB, ref: str) -> Model:
    model = db.model(ref)
    if model is None:
        raise NotFound(f"no model with id {ref!r}")
    return model


def list_vendors(ctx: RequestContext[None]) -> PhonesDB:
    return ctx.world.phones


def get_vendor(ctx: RequestContext[None], vendor_id: str) -> Vendor:
    return _vendor(ctx.world.phones, vendor_id)


def vendor_models(ctx: RequestContext[None], vendor_id: str) -> Vendor:
    return _vendor(ctx.world.phones, vendor_id)


def list_models(ctx: RequestContext[None]) -> PhonesDB:
    return ctx.world.phones


def get_model(ctx: RequestContext[None], model_id: str) -> Model:
    return _model(ctx.world.phones, model_id)


def read_only(ctx: RequestContext[None], **_: str) -> NoReturn:
    # 000: "the phones API is read-only, and attempts to update() or delete() will fail"
    raise ApiError(405, "Method Not Allowed", "the phones API is read-only", headers=ctx.allow())


# --- detection -------------------------------------------------------------------------
def detect_auto(ctx: RequestContext[str]) -> Model | Response:
    model = ctx.world.detection.detect_auto(ctx.signed_in, ctx.body)
    if model is None:
        return empty("204 No Content")
    return model


def detect_manual(ctx: RequestContext[str]) -> Answer:
    detection = ctx.world.detection.detect_manual(ctx.signed_in, ctx.body, f"{ctx.base}d/{{code}}")
    return Answer(detection, headers={"Location": detection_url(ctx.base, detection.code)})


def detect_poll(ctx: RequestContext[None], code: str) -> Detection:
    return ctx.world.detection.detection(code, ctx.signed_in)


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>ObexCode phone detection</title></head>
<body><h1>Phone detection</h1><p>{message}</p></body></html>
"""


def detection_page(ctx: RequestContext[None], code: str, *, record: bool = True) -> Response:
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
            model = ctx.world.detection.visit(code, user_agent).model
        else:
            ctx.world.detection.detection(code)  # unknown or expired: Invalid, as visit_detection's NotFound
            model = ctx.world.phones.identify(user_agent)
    except (NotFound, Invalid):
        return Response(_PAGE.format(message="This link is unknown or has expired."), status=status_line(404),
                        content_type="text/html; charset=utf-8")
    if model is None:
        message = "Sorry, we could not recognise your phone. Please register it by hand."
    else:
        message = f"Your phone is a <b>{escape(model.name)}</b>. You can close this page."
    return Response(_PAGE.format(message=message), content_type="text/html; charset=utf-8")
