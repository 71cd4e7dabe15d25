"""An example request for every route of `routes.ROUTES` and `routes.CONTROL_ROUTES`.

Each example is sent as it is here to a fresh fake holding the example world
(example_world.py), signed as `admin` unless it says otherwise; exchange.py runs it.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from ocss_testkit.route_examples.example_world import (
    ACTIVESYNC,
    CODE,
    DATASTORE,
    DETECT_PHONE,
    GDATA,
    ITEM,
    NEW_REQUEST_TOKEN,
    NOKIA_6233_UA,
    SYNCML,
    SYNCML_PHONE,
)
from ocss_testkit.route_examples.request_bodies import (
    ACTIVESYNC_CREATE,
    ACTIVESYNC_UPDATE,
    BINDING,
    BINDING_UPDATE,
    CONTENT_CREATE,
    CONTENT_UPDATE,
    DATASTORE_CREATE,
    DATASTORE_UPDATE,
    DETECT,
    FAULT,
    GDATA_CREATE,
    GDATA_UPDATE,
    GDATA_UPDATE_BY_UUID,
    SMALL_STATE,
    SYNCML_CREATE,
    SYNCML_SETUP,
    json_body,
)
from ocss_testkit.routes import Route

JSON_TYPE = "application/json"
MAX_LINES = 40  # of a body shown; the rest is counted, not shown


@dataclass(frozen=True)
class Example:
    """One request to one route. `path` is concrete (query included); `sign` is "token"
    (OAuth with `user`'s access token), "consumer" (the consumer alone, with a callback:
    a request token's request), "verifier" (the approved request token and its verifier)
    or None (unsigned). `given` are requests sent first, on the same fake (answers not
    shown); `note` says what the example shows when that is not obvious."""
    path: str
    body: bytes = b""
    content_type: str | None = None
    user: str = "admin"
    sign: str | None = "token"
    headers: tuple[tuple[str, str], ...] = ()
    given: tuple[tuple[str, str, bytes], ...] = ()
    note: str = ""
    shown_lines: int = MAX_LINES  # of the answer's body; 0: its media type only


G, S, P, C = "/v2/services/google/", "/v2/services/syncml/", "/v2/phones/", "/v2/clients/"
AS, DS = "/v2/services/activesync/", "/v2/services/datastore/"
SETUP_GIVEN = (("POST", f"{S}{SYNCML}/setup/", SYNCML_SETUP),)
SYNC_GIVEN = (("POST", f"{S}{SYNCML}/sync/", b""),)
FAULT_GIVEN = (("POST", "/_fake/faults", json_body(FAULT)),)
TENANT = "ci-job-42"
TENANT_GIVEN = (("PUT", f"/_fake/tenants/{TENANT}", b""),)


def _anonymous(path: str, body: bytes = b"", content_type: str | None = None, **kw) -> Example:
    return Example(path, body, content_type, sign=None, **kw)


def _control(path: str, body=None, **kw) -> Example:
    return Example(path, b"" if body is None else json_body(body), JSON_TYPE if body is not None else None,
                   sign=None, **kw)


_READ_ONLY = "the phones API is read-only: every write answers 405 with Allow"
_GENERIC = "the generic client interface is read-only: every write answers 405 with Allow"

EXAMPLES: dict[tuple[str, str], Example] = {
    # Google Data Client API
    ("GET", G): Example(G),
    ("GET", G + "all.xml"): Example(G + "all.xml", note="the feed's id and self link: the same listing"),
    ("POST", G): Example(G, GDATA_CREATE, given=(("DELETE", f"{G}{GDATA}/", b""),),
                         note="a Google account is registered once: the demo client for "
                              "some_user@gmail.com is deleted first"),
    ("PUT", G): Example(G, GDATA_UPDATE_BY_UUID, note="the client is named by oc:uuid in the body"),
    ("DELETE", G): Example(G, note="the collection itself cannot be deleted"),
    ("GET", G + "{uuid}/"): Example(f"{G}{GDATA}/"),
    ("PUT", G + "{uuid}/"): Example(f"{G}{GDATA}/", GDATA_UPDATE, note="datastores are added (merged), not replaced"),
    ("DELETE", G + "{uuid}/"): Example(f"{G}{GDATA}/"),
    ("GET", G + "{uuid}/edit"): Example(f"{G}{GDATA}/edit"),
    ("PUT", G + "{uuid}/edit"): Example(f"{G}{GDATA}/edit", GDATA_UPDATE),
    ("DELETE", G + "{uuid}/edit"): Example(f"{G}{GDATA}/edit"),
    # SyncML API
    ("GET", S): Example(S),
    ("POST", S): Example(S, SYNCML_CREATE),
    ("GET", S + "sessions/"): Example(S + "sessions/"),
    ("GET", S + "sessions/chatlog/"): Example(S + "sessions/chatlog/", note="administrators only: 403 for others"),
    ("GET", S + "sessions/{session}/chatlog/"): Example(S + "sessions/1/chatlog/"),
    ("GET", S + "datastores/"): Example(S + "datastores/", note="documented as not implemented yet"),
    ("POST", S + "setup/"): Example(S + "setup/", note="setup is sent to one client: POST …/syncml/{uuid}/setup/"),
    ("POST", S + "sync/"): Example(S + "sync/", note="sync is requested of one client: POST …/syncml/{uuid}/sync/"),
    ("GET", S + "{uuid}"): Example(S + SYNCML),
    ("DELETE", S + "{uuid}"): Example(S + SYNCML),
    ("PUT", S + "{uuid}"): Example(S + SYNCML, note="SyncML clients cannot be edited, by design: register "
                                                     "the new phone instead"),
    ("POST", S + "{uuid}/setup/"): Example(f"{S}{SYNCML}/setup/", SYNCML_SETUP,
                                           note="records a setup SMS with the pincode in the outbox"),
    ("GET", S + "{uuid}/setup/{setup}/"): Example(f"{S}{SYNCML}/setup/1/", given=SETUP_GIVEN,
                                                  note="the id the setup POST answered: the same entry"),
    ("POST", S + "{uuid}/sync/"): Example(f"{S}{SYNCML}/sync/", note="records a server-alert push in the outbox"),
    ("GET", S + "sessions/{session}/"): Example(S + "sessions/1/"),
    # phones database and handset detection
    ("GET", P + "vendors/"): _anonymous(P + "vendors/"),
    ("GET", P + "vendors/{vendor}/"): _anonymous(P + "vendors/1/"),
    ("GET", P + "vendors/{vendor}/models/"): _anonymous(P + "vendors/1/models/"),
    ("GET", P + "models/"): _anonymous(P + "models/"),
    ("GET", P + "models/{model}/"): _anonymous(P + "models/242/", note="a model's numeric id or its UUID"),
    **{(method, P + tail): _anonymous(P + concrete, note=_READ_ONLY)
       for tail, concrete in (("vendors/", "vendors/"), ("vendors/{vendor}/", "vendors/1/"),
                              ("vendors/{vendor}/models/", "vendors/1/models/"), ("models/", "models/"),
                              ("models/{model}/", "models/242/"))
       for method in ("POST", "PUT", "DELETE")},
    ("POST", P + "detect/auto/"): Example(P + "detect/auto/", DETECT, user="alice",
                                          note="needs the user's may_detect_auto flag (alice has it); "
                                               "204 when the service has not identified the handset before"),
    ("POST", P + "detect/manual/"): Example(P + "detect/manual/", DETECT,
                                            note="an SMS with the link {base}/d/{code} goes to the outbox"),
    ("GET", P + "detect/manual/{code}/"): Example(f"{P}detect/manual/{CODE}/"),
    ("GET", "/d/{code}"): _anonymous(f"/d/{CODE}", headers=(("User-Agent", NOKIA_6233_UA),),
                                     note="the phone opens the link; its User-Agent identifies the model"),
    # clients of every kind, bindings, ActiveSync, datastore clients and their contents
    ("GET", C): Example(C),
    ("GET", C + "{uuid}/"): Example(f"{C}{SYNCML}/"),
    **{(method, path): Example(concrete, note=_GENERIC)
       for path, concrete in ((C, C), (C + "{uuid}/", f"{C}{SYNCML}/")) for method in ("POST", "PUT", "DELETE")},
    ("GET", C + "bindings/"): Example(C + "bindings/"),
    ("POST", C + "bindings/"): Example(C + "bindings/", BINDING, note="oc:dominant defaults to source"),
    ("GET", C + "bindings/{binding}/"): Example(C + "bindings/1/"),
    ("PUT", C + "bindings/{binding}/"): Example(C + "bindings/1/", BINDING_UPDATE),
    ("DELETE", C + "bindings/{binding}/"): Example(C + "bindings/1/"),
    ("GET", AS): Example(AS),
    ("POST", AS): Example(AS, ACTIVESYNC_CREATE, note="the password is write-only: never shown"),
    ("GET", AS + "{uuid}/"): Example(f"{AS}{ACTIVESYNC}/"),
    ("PUT", AS + "{uuid}/"): Example(f"{AS}{ACTIVESYNC}/", ACTIVESYNC_UPDATE,
                                     note="a password change needs the right oc:old_pass"),
    ("DELETE", AS + "{uuid}/"): Example(f"{AS}{ACTIVESYNC}/"),
    ("GET", DS): Example(DS),
    ("POST", DS): Example(DS, DATASTORE_CREATE),
    ("GET", DS + "{uuid}/"): Example(f"{DS}{DATASTORE}/"),
    ("PUT", DS + "{uuid}/"): Example(f"{DS}{DATASTORE}/", DATASTORE_UPDATE),
    ("DELETE", DS + "{uuid}/"): Example(f"{DS}{DATASTORE}/"),
    ("GET", DS + "{uuid}/contents/"): Example(f"{DS}{DATASTORE}/contents/?since=2009-10-01T00:00:00Z",
                                              note="with since, every entry says its oc:operation"),
    ("POST", DS + "{uuid}/contents/"): Example(f"{DS}{DATASTORE}/contents/", CONTENT_CREATE,
                                               note="the dataclass defaults from the MIME type"),
    ("GET", DS + "{uuid}/contents/{item}/"): Example(f"{DS}{DATASTORE}/contents/{ITEM}/"),
    ("PUT", DS + "{uuid}/contents/{item}/"): Example(f"{DS}{DATASTORE}/contents/{ITEM}/", CONTENT_UPDATE),
    ("DELETE", DS + "{uuid}/contents/{item}/"): Example(f"{DS}{DATASTORE}/contents/{ITEM}/"),
    # OAuth 1.0a three-legged flow
    **{(method, "/oauth/request_token"): Example("/oauth/request_token", sign="consumer",
                                                 note="signed with the consumer alone, with oauth_callback")
       for method in ("GET", "POST")},
    ("GET", "/oauth/authorize"): _anonymous(f"/oauth/authorize?oauth_token={NEW_REQUEST_TOKEN}",
                                            note="the page where a demo user approves the request token"),
    ("POST", "/oauth/authorize"): _anonymous(
        "/oauth/authorize", urlencode({"oauth_token": NEW_REQUEST_TOKEN, "user": "admin", "approve": "yes"}).encode(),
        "application/x-www-form-urlencoded", note="redirects to the consumer's callback with the verifier"),
    **{(method, "/oauth/access_token"): Example("/oauth/access_token", sign="verifier",
                                                note="signed with the approved request token and its verifier")
       for method in ("GET", "POST")},
    # control plane
    ("GET", "/_fake/"): _control("/_fake/", shown_lines=0, note="the dashboard: open it in a browser"),
    ("GET", "/_fake/health"): _control("/_fake/health"),
    ("POST", "/_fake/reset"): _control("/_fake/reset"),
    ("GET", "/_fake/outbox"): _control("/_fake/outbox?kind=setup-sms", given=SETUP_GIVEN),
    ("GET", "/_fake/state"): _control("/_fake/state"),
    ("PUT", "/_fake/state"): _control("/_fake/state", SMALL_STATE,
                                      note="fields left out take their defaults: here a world of one user"),
    ("PATCH", "/_fake/state"): Example(
        "/_fake/state", json_body([{"op": "add", "path": "/clients/-", "value": {
            "kind": "datastore", "uuid": "9e1f3b7c-c6f1-11de-9d6a-002215064801", "owner": "bob",
            "name": "Bob's notes", "published": "2009-11-01T12:00:00Z"}}]),
        "application/json-patch+json", sign=None, note="RFC 6902: every operation applies, or none"),
    ("GET", "/_fake/journal"): _control("/_fake/journal", given=(("GET", G, b""),)),
    ("DELETE", "/_fake/journal"): _control("/_fake/journal"),
    ("GET", "/_fake/faults"): _control("/_fake/faults", given=FAULT_GIVEN),
    ("POST", "/_fake/faults"): _control("/_fake/faults", FAULT,
                                        note="the next GET under /v2/services/syncml/ answers 503"),
    ("DELETE", "/_fake/faults"): _control("/_fake/faults", given=FAULT_GIVEN),
    ("DELETE", "/_fake/faults/{fault}"): _control("/_fake/faults/1", given=FAULT_GIVEN),
    ("GET", "/_fake/clock"): _control("/_fake/clock"),
    ("POST", "/_fake/clock"): _control("/_fake/clock", {"advance": 3600},
                                       note="fields freeze, set, advance: applied in that order"),
    ("GET", "/_fake/phone/{number}"): _control(f"/_fake/phone/{SYNCML_PHONE}", given=SETUP_GIVEN),
    ("POST", "/_fake/phone/{number}/visit"): _control(f"/_fake/phone/{DETECT_PHONE}/visit",
                                                      {"user_agent": NOKIA_6233_UA},
                                                      note="opens the newest detection link"),
    **{("POST", f"/_fake/phone/{{number}}/{action}-setup"): _control(
        f"/_fake/phone/{SYNCML_PHONE}/{action}-setup", given=SETUP_GIVEN) for action in ("accept", "reject")},
    **{("POST", f"/_fake/phone/{{number}}/{action}-sync"): _control(
        f"/_fake/phone/{SYNCML_PHONE}/{action}-sync", given=SYNC_GIVEN) for action in ("accept", "reject")},
    ("PUT", "/_fake/phone/{number}/autopilot"): _control(f"/_fake/phone/{SYNCML_PHONE}/autopilot",
                                                         {"setup": "accept", "setup_after": 30}),
    ("DELETE", "/_fake/phone/{number}/autopilot"): _control(f"/_fake/phone/{SYNCML_PHONE}/autopilot"),
    # tenants of `ocss-fake serve`, each served under /t/{tenant}/
    ("GET", "/_fake/tenants"): _control("/_fake/tenants", given=TENANT_GIVEN,
                                        note="every tenant but the default one (the unprefixed paths)"),
    ("PUT", "/_fake/tenants/{tenant}"): _control(f"/_fake/tenants/{TENANT}", {"fixtures": "demo"},
                                                 note='{} or no body: the server\'s fixture set; {"state": {…}}: '
                                                      "a whole state document; 200 when it replaced a tenant"),
    ("DELETE", "/_fake/tenants/{tenant}"): _control(f"/_fake/tenants/{TENANT}", given=TENANT_GIVEN),
}


def example_for(route: Route) -> Example:
    """The example of `route`; KeyError names a route that has none."""
    try:
        return EXAMPLES[(route.method, route.path)]
    except KeyError:
        raise KeyError(f"no example for {route.method} {route.path}: add one to EXAMPLES "
                       f"in ocss_testkit/route_examples/examples.py") from None
