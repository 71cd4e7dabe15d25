"""GET /_fake/: an HTML dashboard over the control plane, for a person looking at the fake.

One self-contained page, `ocss_testkit/dashboard.html` (it ships inside the package): no
external asset, no CDN, and its small script only calls the JSON endpoints beside it
(/_fake/health, state, outbox, journal, clock, phone/{number}/…, reset). It inserts data
with textContent only. The response carries a Content-Security-Policy that allows exactly
the page's own inline script and style (by hash) and requests to its own origin, so the
page cannot load or send anything elsewhere even if a value in the state tried to.

The phones database is read-only and shared by every World, so the page gets the model
names it shows (detections, SyncML clients) embedded as a JSON data block.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from functools import lru_cache
from importlib import resources

from werkzeug.wrappers import Response

from ocss_testkit.request_context import RequestContext

TEMPLATE = "dashboard.html"
MODELS_SLOT = "@@MODELS@@"  # inside <script type="application/json" id="models">


@lru_cache(maxsize=1)
def _template() -> tuple[str, str]:
    """The page and its Content-Security-Policy (hashes of its one script and one style)."""
    html = resources.files("ocss_testkit").joinpath(TEMPLATE).read_text(encoding="utf-8")
    sources = {}
    for tag in ("script", "style"):
        found = re.findall(rf"<{tag}>(.*?)</{tag}>", html, flags=re.DOTALL)  # bare tags only: not the data block
        if len(found) != 1 or MODELS_SLOT not in html:
            raise RuntimeError(f"{TEMPLATE} must hold exactly one bare <{tag}> and the models slot")
        digest = base64.b64encode(hashlib.sha256(found[0].encode("utf-8")).digest()).decode("ascii")
        sources[tag] = f"'sha256-{digest}'"
    policy = ("default-src 'none'; "
              f"script-src {sources['script']}; style-src {sources['style']}; "
              "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return html, policy


def _models_json(phones) -> str:
    """{"242": "Nokia 6233", "02978288-…": "Nokia 6233", …}, safe inside a <script> data block."""
    names = {}
    for model in phones.models.values():
        names[str(model.id)] = model.name
        names[model.uuid.lower()] = model.name
    text = json.dumps(names, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page(ctx: RequestContext):
    html, policy = _template()
    body = html.replace(MODELS_SLOT, _models_json(ctx.world.phones), 1)
    return Response(body, status="200 OK", content_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
                             "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
                             "X-Frame-Options": "DENY"})
