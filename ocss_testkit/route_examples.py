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

The bodies of the documented routes are the API documentation's own request examples,
byte for byte (Google Data Client API, 'Add a new client' and 'Update a client'; SyncML
API, 'Create a new client' and 'Setup and Phone Configuration').
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from oauthlib.oauth1 import Client as OAuthClient

from ocss_testkit.routes import CONTROL_ROUTES, ROUTES, Route

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
ATOM_TYPE = "application/atom+xml"
JSON_TYPE = "application/json"
REGENERATE = "ocss-fake routes --examples > docs/api-reference.md"
MAX_LINES = 40  # of a body shown; the rest is counted, not shown

# --- the world every example starts from ------------------------------------------------------
CLOCK = "2009-11-01T12:30:00Z"
GDATA = "4f1d2dd0-49e4-11de-b387-002215064801"  # admin's Google Data client in the demo world
SYNCML = "2fb295cc-0e50-11de-81c8-002215064801"  # admin's Nokia 5310 XpressMusic, +4790981948
SYNCML_PHONE = "+4790981948"
DATASTORE = "6c2b8a1e-c6f1-11de-9d6a-002215064801"
ITEM = "8f3a4c2e-0b7d-4e1a-9c55-3d2f1e0a7b64"
ACTIVESYNC = "7d4e2b90-c6f1-11de-9d6a-002215064801"
CODE = "Xq3vR9pLm2Tc"  # a pending manual detection of +4790066951
DETECT_PHONE = "+4790066951"
REQUEST_TOKEN = "example-request-token"  # approved by admin; its verifier is VERIFIER
VERIFIER = "example-verifier"
NEW_REQUEST_TOKEN = "example-unapproved-token"  # not approved yet
CALLBACK = "http://localhost:8000/callback"
NOKIA_6233_UA = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"
VCARD = "BEGIN:VCARD\nVERSION:2.1\nN:Nordmann;Ola\nTEL;CELL:+4790066951\nEND:VCARD"

EXAMPLE_WORLD = [
    {"op": "replace", "path": "/clock", "value": {"frozen": True, "now": CLOCK}},
    {"op": "add", "path": "/clients/-", "value": {
        "kind": "datastore", "uuid": DATASTORE, "owner": "admin", "name": "Address book",
        "published": "2009-10-30T09:00:00Z", "updated": "2009-10-30T09:05:00Z",
        "contents": [{"id": ITEM, "title": "Ola Nordmann", "data": VCARD, "type": "text/x-vcard",
                      "dataclass": "contacts", "created": "2009-10-30T09:05:00Z",
                      "updated": "2009-10-30T09:05:00Z"}]}},
    {"op": "add", "path": "/clients/-", "value": {
        "kind": "activesync", "uuid": ACTIVESYNC, "owner": "admin", "username": "admin@example.com",
        "password": "old-secret", "published": "2009-10-30T09:10:00Z"}},
    {"op": "add", "path": "/bindings/-", "value": {
        "id": 1, "owner": "admin", "source": SYNCML, "target": DATASTORE, "dominant": "source",
        "published": "2009-10-30T09:20:00Z", "updated": "2009-10-30T09:20:00Z"}},
    {"op": "add", "path": "/handsets/+4790066951", "value": 242},  # identified before: detect/auto knows it
    {"op": "add", "path": "/detections/-", "value": {
        "code": CODE, "owner": "admin", "phone_number": DETECT_PHONE, "created": "2009-11-01T12:20:00Z",
        "expires": "2009-11-01T13:20:00Z", "status": "pending"}},
    {"op": "add", "path": "/outbox/-", "value": {
        "id": 1, "to": DETECT_PHONE, "kind": "detection-link", "time": "2009-11-01T12:20:00Z",
        "body": f"Open http://localhost/d/{CODE} on your phone to identify it.", "code": CODE}},
    {"op": "add", "path": "/sessions/-", "value": {
        "id": 1, "client": SYNCML, "owner": "admin", "outcome": "ok", "started": "2009-10-31T08:00:00Z",
        "ended": "2009-10-31T08:00:40Z", "datastores": [
            {"dataclass": "Contacts", "name": "Contacts", "sync_type": "two-way", "items_from_phone": 2,
             "items_to_phone": 1}]}},
    {"op": "add", "path": "/chatlog/-", "value": {
        "session": 1, "number": 1, "direction": "from-phone", "time": "2009-10-31T08:00:01Z",
        "xml": "<SyncML><SyncHdr><VerDTD>1.2</VerDTD><SessionID>1</SessionID></SyncHdr></SyncML>"}},
    {"op": "add", "path": "/request_tokens/-", "value": {
        "token": REQUEST_TOKEN, "secret": "example-request-secret", "consumer_key": "demo-consumer-key",
        "callback": CALLBACK, "created": "2009-11-01T12:29:00Z", "user": "admin", "verifier": VERIFIER}},
    {"op": "add", "path": "/request_tokens/-", "value": {
        "token": NEW_REQUEST_TOKEN, "secret": "example-unapproved-secret", "consumer_key": "demo-consumer-key",
        "callback": CALLBACK, "created": "2009-11-01T12:29:30Z"}},
]


# --- request bodies ---------------------------------------------------------------------------
def _entry(inner: str) -> bytes:
    return f'<entry xmlns="{ATOM}" xmlns:oc="{OC}">\n{inner}\n</entry>\n'.encode()


# The API documentation's request examples, byte for byte (a test compares them with the
# verbatim copies in contracts/doc_examples/).
GDATA_CREATE = b"""<entry xmlns="http://www.w3.org/2005/Atom">
  <client xmlns="http://schemas.obexcode.com/syncserver/2009">
    <user_id>some_user@gmail.com</user_id>
    <datastore dataclass="Calendar" href="http://google_something.com/some_user@gmail.com/calendar#Test" name="Calendar">
      <token>
        <token_type>2</token_type>
        <key>secret_key</key>
        <secret>secret_secret</secret>
        <scope>http://google_something.com/some_user@gmail.com/calendar#Test</scope>
      </token>
    </datastore>
  </client>
</entry>
"""  # noqa: E501 - the documentation's example, byte for byte
GDATA_UPDATE = b"""<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">
  <oc:client>
    <oc:user_id>some_user@gmail.com</oc:user_id>
    <oc:datastore dataclass="Contacts" href="http://google_something.com/some_user@gmail.com#Friends" name="Contacts">
      <oc:token>
        <oc:token_type>2</oc:token_type>
        <oc:key>secret_key</oc:key>
        <oc:secret>secret_secret</oc:secret>
        <oc:scope>http://google_something.com/some_user@gmail.com#Friends</oc:scope>
      </oc:token>
    </oc:datastore>
  </oc:client>
</entry>
"""
SYNCML_CREATE = b"""<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">
  <oc:client>
    <oc:phone_number>+4798765432</oc:phone_number>
    <oc:model_uuid>02978288-537f-102b-beff-000ea60275d1</oc:model_uuid>
    <oc:timezone>Europe/Paris</oc:timezone>
  </oc:client>
</entry>
"""
SYNCML_SETUP = b"""<entry xmlns="http://www.w3.org/2005/Atom"
       xmlns:oc="http://schemas.obexcode.com/syncserver/2009">
  <oc:pincode>1234</oc:pincode>
</entry>
"""
# The same update on the collection URL: the client named by oc:uuid (Google Data Client
# API, 'Update a client').
GDATA_UPDATE_BY_UUID = GDATA_UPDATE.replace(b"  <oc:client>\n",
                                            f"  <oc:client>\n    <oc:uuid>{GDATA}</oc:uuid>\n".encode())
DETECT = _entry("  <oc:phone_number>+4790066951</oc:phone_number>")
BINDING = _entry(f"  <oc:binding>\n    <oc:source>{SYNCML}</oc:source>\n    <oc:target>{DATASTORE}</oc:target>\n"
                 "  </oc:binding>")
BINDING_UPDATE = _entry(f"  <oc:binding>\n    <oc:source>{SYNCML}</oc:source>\n    <oc:target>{DATASTORE}</oc:target>\n"
                        "    <oc:dominant>target</oc:dominant>\n  </oc:binding>")
ACTIVESYNC_CREATE = _entry("  <oc:client>\n    <oc:username>alice@example.com</oc:username>\n"
                           "    <oc:password>first-secret</oc:password>\n  </oc:client>")
ACTIVESYNC_UPDATE = _entry("  <oc:client>\n    <oc:old_pass>old-secret</oc:old_pass>\n"
                           "    <oc:password>new-secret</oc:password>\n  </oc:client>")
DATASTORE_CREATE = _entry("  <oc:client>\n    <oc:name>Notes</oc:name>\n  </oc:client>")
DATASTORE_UPDATE = _entry("  <oc:client>\n    <oc:name>Address book (work)</oc:name>\n  </oc:client>")
CONTENT_CREATE = _entry("  <title>Kari Nordmann</title>\n"
                        "  <content type=\"text/x-vcard\">BEGIN:VCARD\nVERSION:2.1\nN:Nordmann;Kari\n"
                        "TEL;CELL:+4790012345\nEND:VCARD</content>")
CONTENT_UPDATE = _entry("  <title>Ola Nordmann</title>\n"
                        "  <content type=\"text/x-vcard\">BEGIN:VCARD\nVERSION:2.1\nN:Nordmann;Ola\n"
                        "TEL;CELL:+4790066952\nEND:VCARD</content>\n  <oc:dataclass>contacts</oc:dataclass>")


def _json(value) -> bytes:
    return json.dumps(value, indent=2).encode()


SMALL_STATE = {"consumers": [{"key": "demo-consumer-key", "secret": "demo-consumer-secret"}],
               "users": [{"name": "carol", "account_id": 7, "email": "carol@example.com",
                          "consumer_key": "demo-consumer-key", "token": "carol-access-token",
                          "token_secret": "carol-access-secret"}]}
FAULT = {"action": "status", "status": 503, "method": "GET", "path": "/v2/services/syncml/*", "times": 1}


# --- the examples -----------------------------------------------------------------------------
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
FAULT_GIVEN = (("POST", "/_fake/faults", _json(FAULT)),)
TENANT = "ci-job-42"
TENANT_GIVEN = (("PUT", f"/_fake/tenants/{TENANT}", b""),)


def _anonymous(path: str, body: bytes = b"", content_type: str | None = None, **kw) -> Example:
    return Example(path, body, content_type, sign=None, **kw)


def _control(path: str, body=None, **kw) -> Example:
    return Example(path, b"" if body is None else _json(body), JSON_TYPE if body is not None else None,
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
        "/_fake/state", _json([{"op": "add", "path": "/clients/-", "value": {
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
                       f"in ocss_testkit/route_examples.py") from None


# --- running an example -----------------------------------------------------------------------
@dataclass(frozen=True)
class Exchange:
    """An example as sent and as answered, as text for people (volatile values replaced)."""
    request: str
    status: int
    reason: str
    response: str


SHOWN_HEADERS = ("Content-Type", "Location", "Allow", "WWW-Authenticate")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
# Values the fake makes up: shown as fixed stand-ins (name -> pattern whose group 1 is one).
_MADE_UP = (
    ("code", re.compile(r"<oc:code>([^<]+)</oc:code>")),
    ("code", re.compile(r"/detect/manual/([A-Za-z0-9_-]{8,})/")),
    ("code", re.compile(r"/d/([A-Za-z0-9_-]{8,})\b")),
    ("code", re.compile(r'"code": "([^"]+)"')),
    ("token", re.compile(r"oauth_token=([^&\s\"]+)")),
    ("secret", re.compile(r"oauth_token_secret=([^&\s\"]+)")),
    ("verifier", re.compile(r"oauth_verifier=([^&\s\"]+)")),
)
_REAL_TIME_KEYS = {"time": "<real time, seconds since the epoch>", "duration_ms": "<milliseconds>"}


def _signed(example: Example, method: str, url: str, app) -> dict:
    if example.sign is None:
        return {}
    world = app.world
    user = world.users[example.user]
    secret = world.consumers[user.consumer_key]
    if example.sign == "token":
        signer = OAuthClient(user.consumer_key, client_secret=secret, resource_owner_key=user.token,
                             resource_owner_secret=user.token_secret)
    elif example.sign == "consumer":
        signer = OAuthClient(user.consumer_key, client_secret=secret, callback_uri=CALLBACK)
    elif example.sign == "verifier":
        token = world.request_tokens[REQUEST_TOKEN]
        signer = OAuthClient(user.consumer_key, client_secret=secret, resource_owner_key=token.token,
                             resource_owner_secret=token.secret, verifier=token.verifier)
    else:
        raise ValueError(f"sign must be token, consumer, verifier or None, not {example.sign!r}")
    _, headers, _ = signer.sign(url, http_method=method)
    return dict(headers)


def _shown_authorization(example: Example, app) -> str | None:
    """The Authorization header as people should read it: who signs, without the
    per-request nonce, timestamp and signature."""
    if example.sign is None:
        return None
    user = app.world.users[example.user]
    parts = [f'oauth_consumer_key="{user.consumer_key}"']
    if example.sign == "token":
        parts.append(f'oauth_token="{user.token}"')
    elif example.sign == "consumer":
        parts.append(f'oauth_callback="{CALLBACK}"')
    else:
        parts += [f'oauth_token="{REQUEST_TOKEN}"', f'oauth_verifier="{VERIFIER}"']
    parts.append('oauth_signature_method="HMAC-SHA1", oauth_timestamp, oauth_nonce, oauth_signature')
    return "OAuth " + ", ".join(parts)


def fresh_app():
    """A fresh in-process fake holding the examples' world, the default tenant of a
    TenantsApp (for the /_fake/tenants examples) whose clocks stand still at CLOCK."""
    from datetime import datetime

    from ocss_testkit.app import FakeApp
    from ocss_testkit.tenants import TenantsApp

    app = FakeApp("demo")
    app.patch_state(EXAMPLE_WORLD)
    at = datetime.fromisoformat(CLOCK.replace("Z", "+00:00")).timestamp()
    TenantsApp(app, clock=lambda: 0.0, wall=lambda: at)
    return app


def run(route: Route, example: Example | None = None) -> Exchange:
    """Send `route`'s example (or `example`) to a fresh fake: the request and the answer
    as text. KeyError for a route without an example; RuntimeError when one of the
    example's `given` requests is refused (the example no longer fits the fake)."""
    from ocss_testkit.client import SignedClient

    example = example or example_for(route)
    app = fresh_app()
    phones = app.world.phones
    known = " ".join([json.dumps(app.world.to_dict()), example.path, example.body.decode("utf-8"),
                      *(v.uuid for v in phones.vendors.values()), *(m.uuid for m in phones.models.values())])
    client = SignedClient(app)  # signs nothing itself: the headers are made here, per mode
    for method, path, body in example.given:
        headers = _signed(Example(path), method, client.base + path, app) if not path.startswith("/_fake") else {}
        if body:
            headers["Content-Type"] = JSON_TYPE if path.startswith("/_fake") else ATOM_TYPE
        reply = client.request(method, path, body, headers)
        if reply.status >= 400:
            raise RuntimeError(f"example of {route.method} {route.path}: given {method} {path} "
                               f"answered {reply.status} {reply.reason}: {reply.text[:300]}")
    headers = dict(example.headers)
    if example.body:
        headers["Content-Type"] = example.content_type or ATOM_TYPE
    headers.update(_signed(example, route.method, client.base + example.path, app))
    reply = client.request(route.method, example.path, example.body, headers)

    request = [f"{route.method} {example.path} HTTP/1.1", "Host: localhost"]
    request += [f"{name}: {value}" for name, value in headers.items() if name != "Authorization"]
    authorization = _shown_authorization(example, app)
    if authorization:
        request.append(f"Authorization: {authorization}")
    if example.body:
        request += ["", example.body.decode("utf-8").rstrip("\n")]

    response = [f"HTTP/1.1 {reply.status} {reply.reason}"]
    response += [f"{name}: {reply.headers[name]}" for name in SHOWN_HEADERS if name in reply.headers]
    shown = _shown_body(reply.body, reply.headers.get("Content-Type", ""), example.shown_lines)
    if shown:
        response += ["", shown]
    text = _stand_ins("\n".join(response), known)
    return Exchange("\n".join(request), reply.status, reply.reason, text)


def _shown_body(body: bytes, content_type: str, limit: int = MAX_LINES) -> str:
    text = body.decode("utf-8", errors="replace")
    if content_type.startswith("application/json") and text.strip():
        text = json.dumps(_real_times(json.loads(text)), indent=2, ensure_ascii=False)
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    if limit == 0 and lines:
        return f"… ({content_type.split(';')[0]}, not shown)"
    if len(lines) > limit + limit // 4:  # a cut saves at least a quarter
        lines = lines[:limit] + [f"… ({len(lines) - limit} more lines)"]
    return "\n".join(lines)


def _real_times(value):
    """The journal's real times and durations differ on every run: shown as what they are."""
    if isinstance(value, dict):
        return {k: (_REAL_TIME_KEYS[k] if k in _REAL_TIME_KEYS and isinstance(v, float) else _real_times(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_real_times(v) for v in value]
    return value


def _stand_ins(text: str, known: str) -> str:
    """New uuids, and codes, tokens and verifiers the fake made up, replaced by fixed
    stand-ins in order of appearance (one value, one stand-in); `known` holds every value
    that existed before the request (the world, the request, the phones database)."""
    uuids: dict[str, str] = {}

    def uuid(match: re.Match) -> str:
        value = match.group(0)
        if value in known:
            return value
        return uuids.setdefault(value, f"00000000-0000-4000-8000-{len(uuids) + 1:012d}")

    text = _UUID.sub(uuid, text)
    made: dict[str, str] = {}
    counts: dict[str, int] = {}
    for name, pattern in _MADE_UP:
        for value in pattern.findall(text):
            if value not in known and value not in made and not value.startswith("<"):
                counts[name] = counts.get(name, 0) + 1
                made[value] = f"<new {name} {counts[name]}>"
    for value, stand_in in sorted(made.items(), key=lambda kv: -len(kv[0])):  # longest first
        text = text.replace(value, stand_in)
    return text


# --- the reference ----------------------------------------------------------------------------
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
        body = f"`{r.body}`" if r.body else _body_kind(r)
        out.append(f"| {r.spec_id or '—'} | {r.method} | {path} | {r.provenance.kind} | "
                   f"{r.provenance.source} | {'OAuth' if r.auth else 'none'} | {body} |")
    return out


def _body_kind(route: Route) -> str:
    """What a route without a request schema takes: JSON (control plane), a form, or nothing."""
    example = EXAMPLES.get((route.method, route.path))
    if not (example and example.body):
        return "—"
    return {JSON_TYPE: "JSON", "application/json-patch+json": "JSON Patch",
            "application/x-www-form-urlencoded": "form"}.get(example.content_type, example.content_type)


def reference(routes: tuple[Route, ...] = ALL_ROUTES) -> str:
    """docs/api-reference.md: the route table, then every route with its example."""
    out = ["# API reference", "",
           f"<!-- Generated: `{REGENERATE}`. Do not edit by hand; a test keeps this file equal to",
           "     what that command prints. Example bodies live in ocss_testkit/route_examples.py. -->", "",
           "Every route the fake serves, from its route table (`ocss_testkit/routes.py`). "
           "**documented** routes reproduce an exchange of the API documentation, cited by title and "
           "section; **inferred** routes serve what the documentation describes without giving a URL, "
           "built in the documented style; **control** routes are the fake's own API. Why each inference "
           "was made: [decisions.md](decisions.md).", "",
           f"Every example below was sent to a fresh in-process fake: the `demo` fixture set plus a few "
           f"objects with fixed ids (`EXAMPLE_WORLD` in `ocss_testkit/route_examples.py`), the virtual "
           f"clock frozen at {CLOCK}, signed as `admin` unless it says otherwise. The `Authorization` "
           "header is shown without its per-request nonce, timestamp and signature; values the fake "
           "makes up per request (new uuids, detection codes, OAuth tokens) are shown as fixed stand-ins, "
           f"and bodies longer than {MAX_LINES} lines are cut.", "",
           *table_markdown(routes, links=True), ""]
    for route in routes:
        example = example_for(route)
        exchange = run(route, example)
        out += [f"## {_title(route)}", "",
                f"{route.provenance.kind}: {route.provenance.source} · auth: "
                f"{'OAuth 1.0a' if route.auth else 'none'}"
                + (f" · request body: `{route.body}` (xsd/request/{route.body}.xsd)" if route.body else ""), ""]
        if example.note:
            out += [example.note[0].upper() + example.note[1:] + ".", ""]
        if example.given:
            out += ["First: " + "; ".join(f"`{m} {p}`" for m, p, _ in example.given) + ".", ""]
        signer = {"token": f" (signed as {example.user})", "consumer": " (signed by the consumer)",
                  "verifier": " (signed with the request token)", None: ""}[example.sign]
        out += [f"Request{signer}:", "", "```http", exchange.request, "```", "",
                "Response:", "", "```http", exchange.response, "```", ""]
    return "\n".join(out).rstrip("\n") + "\n"


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
