"""The API reference (docs/api-reference.md) and the route table, built from the examples.

`reference()` is what `ocss-fake routes --examples` prints: the route table, then for
every route its provenance, whether it needs OAuth, its example request and the answer a
fresh in-process fake gives it (exchange.py).
"""
from __future__ import annotations

import re

from ocss_testkit.route_examples.example_world import CLOCK
from ocss_testkit.route_examples.examples import EXAMPLES, JSON_TYPE, MAX_LINES, example_for
from ocss_testkit.route_examples.exchange import ATOM_TYPE, run
from ocss_testkit.routes import CONTROL_ROUTES, ROUTES, Route

REGENERATE = "ocss-fake routes --examples --output docs/api-reference.md"
ALL_ROUTES: tuple[Route, ...] = ROUTES + CONTROL_ROUTES


def _title(route: Route) -> str:
    return f"{route.spec_id + ' · ' if route.spec_id else ''}{route.method} {route.path}"


def _anchor(route: Route) -> str:
    """GitHub's anchor of the route's heading."""
    text = _title(route).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def table_markdown(routes: tuple[Route, ...] = ALL_ROUTES, links: bool = False) -> list[str]:
    """The route table as Markdown lines: id, method, path, provenance, source, auth, body."""
    out = ["| id | method | path | provenance | source | auth | request body |",
           "|---|---|---|---|---|---|---|"]
    for r in routes:
        path = f"[`{r.path}`](#{_anchor(r)})" if links else f"`{r.path}`"
        body = f"`{r.request_schema}`" if r.request_schema else _body_kind(r)
        out.append(f"| {r.spec_id or '—'} | {r.method} | {path} | {r.provenance.kind} | "
                   f"{r.provenance.source} | {'OAuth' if r.auth else 'none'} | {body} |")
    return out


def _body_kind(route: Route) -> str:
    """What a route without a request schema takes: JSON (control plane), a form, or nothing."""
    example = EXAMPLES.get((route.method, route.path))
    if not (example and example.body):
        return "—"
    content_type = example.content_type or ATOM_TYPE  # what exchange.run sends it as
    return {JSON_TYPE: "JSON", "application/json-patch+json": "JSON Patch",
            "application/x-www-form-urlencoded": "form"}.get(content_type, content_type)


def reference(routes: tuple[Route, ...] = ALL_ROUTES) -> str:
    """docs/api-reference.md: the route table, then every route with its example."""
    out = [*_introduction(), *table_markdown(routes, links=True), ""]
    for route in routes:
        out += _section(route)
    return "\n".join(out).rstrip("\n") + "\n"


def _introduction() -> list[str]:
    """The reference's heading and what it holds, as lines."""
    return ["# API reference", "",
            f"<!-- Generated: `{REGENERATE}`. Do not edit by hand; a test keeps this file equal to",
            "     what that command writes. Example bodies live in ocss_testkit/route_examples/. -->", "",
            "Every route the fake serves, from its route table (`ocss_testkit/routes.py`). "
            "**documented** routes reproduce an exchange of the API documentation, cited by title and "
            "section; **inferred** routes serve what the documentation describes without giving a URL, "
            "built in the documented style; **control** routes are the fake's own API. Why each inference "
            "was made: [decisions.md](decisions.md).", "",
            f"Every example below was sent to a fresh in-process fake: the `demo` fixture set plus a few "
            f"objects with fixed ids (`EXAMPLE_WORLD` in `ocss_testkit/route_examples/example_world.py`), the "
            f"virtual clock frozen at {CLOCK}, signed as `admin` unless it says otherwise. The `Authorization` "
            "header is shown without its per-request nonce, timestamp and signature; values the fake "
            "makes up per request (new uuids, detection codes, OAuth tokens) are shown as fixed stand-ins, "
            f"and bodies longer than {MAX_LINES} lines are cut.", ""]


def _section(route: Route) -> list[str]:
    """A route's section of the reference: its heading, provenance, note, request and answer."""
    example = example_for(route)
    exchange = run(route, example)
    out = [f"## {_title(route)}", "",
           f"{route.provenance.kind}: {route.provenance.source} · auth: "
           f"{'OAuth 1.0a' if route.auth else 'none'}"
           + (f" · request body: `{route.request_schema}` (xsd/request/{route.request_schema}.xsd)"
              if route.request_schema else ""), ""]
    if example.note:
        out += [example.note[0].upper() + example.note[1:] + ".", ""]
    if example.given:
        out += ["First: " + "; ".join(f"`{m} {p}`" for m, p, _ in example.given) + ".", ""]
    signer = {"token": f" (signed as {example.user})", "consumer": " (signed by the consumer)",
              "verifier": " (signed with the request token)", None: ""}[example.sign]
    return out + [f"Request{signer}:", "", "```http", exchange.request, "```", "",
                  "Response:", "", "```http", exchange.response, "```", ""]


def reference_json(routes: tuple[Route, ...] = ALL_ROUTES) -> list[dict]:
    """The route table as data with every route's example request and answer."""
    from ocss_testkit.routes import table

    rows = table(routes)
    for row, route in zip(rows, routes):
        example = example_for(route)
        exchange = run(route, example)
        row["example"] = {"request": exchange.request, "status": exchange.status, "reason": exchange.reason,
                          "response": exchange.response, "note": example.note}
    return rows
