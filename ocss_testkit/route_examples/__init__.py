"""An example request for every route, kept in one place, and the API reference built from them.

`ocss-fake routes --examples` prints the reference (committed as docs/api-reference.md):
for every route of `routes.ROUTES` and `routes.CONTROL_ROUTES`, its provenance, whether it
needs OAuth, an example request — with a body wherever the route takes one — and the
answer a fresh in-process fake gives it (status line, the headers that matter, body).

Every example runs on its own fresh fake: the `demo` fixture set with EXAMPLE_WORLD applied
(a JSON Patch, RFC 6902, adding one object of every kind with fixed ids and freezing the
virtual clock at CLOCK), signed as `admin` unless the example says otherwise. Values the
fake makes up per request (new uuids, detection codes, OAuth tokens and verifiers, the
journal's real times) are shown as fixed stand-ins, so the reference is the same on
every run. A test validates every body against its route's request schema (xsd/request/)
and keeps docs/api-reference.md equal to `reference()`.

The modules, by job: example_world.py (the world every example starts from),
request_bodies.py (the bodies, the documented routes' byte for byte the API
documentation's own), examples.py (the example of every route), exchange.py (running
one), reference.py (the reference and the route table). Their public names are here too.
"""
from __future__ import annotations

from ocss_testkit.route_examples.example_world import CLOCK, EXAMPLE_WORLD
from ocss_testkit.route_examples.examples import EXAMPLES, MAX_LINES, Example, example_for
from ocss_testkit.route_examples.exchange import SHOWN_HEADERS, Exchange, fresh_app, run
from ocss_testkit.route_examples.reference import ALL_ROUTES, REGENERATE, reference, reference_json, table_markdown
from ocss_testkit.route_examples.request_bodies import (
    GDATA_CREATE,
    GDATA_UPDATE,
    GDATA_UPDATE_BY_UUID,
    SYNCML_CREATE,
    SYNCML_SETUP,
)

__all__ = ["ALL_ROUTES", "CLOCK", "EXAMPLES", "EXAMPLE_WORLD", "GDATA_CREATE", "GDATA_UPDATE", "GDATA_UPDATE_BY_UUID",
           "MAX_LINES", "REGENERATE", "SHOWN_HEADERS", "SYNCML_CREATE", "SYNCML_SETUP", "Example", "Exchange",
           "example_for", "fresh_app", "reference", "reference_json", "run", "table_markdown"]
