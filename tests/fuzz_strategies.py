"""Building blocks of the fuzz tests (tests/test_fuzz.py).

- `Wire`: one request as it travels (method, request-target with its escapes, header
  lines, body bytes), printable as a compact reproducer.
- `call_wsgi`: sends a Wire to a FakeApp in-process through the WSGI environ waitress would
  build for it (PATH_INFO unquoted to latin-1, QUERY_STRING and REQUEST_URI as sent,
  repeated headers joined with ", "), so that what fails here fails over HTTP too.
- `seed_world`: a world where alice owns one client of every kind, a binding, content
  items, a SyncML session, a detection code and an OAuth request token, so that fuzzed
  requests reach the handlers' deep code and not only "404 no such client".
- hypothesis strategies for every part of a request: path placeholders, query strings,
  XML bodies mutated from valid ones, JSON bodies for the control plane, OAuth parameters,
  Host headers.
"""
from __future__ import annotations

import copy
import functools
import json
import re
import sys
from dataclasses import dataclass, field
from io import BytesIO
from urllib.parse import quote, unquote_to_bytes

from hypothesis import strategies as st
from lxml import etree
from oauthlib.oauth1 import SIGNATURE_TYPE_QUERY, Client

from ocss_testkit.app import FakeApp
from ocss_testkit.faults import FaultRules
from ocss_testkit.routes import Route

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
CONSUMER_KEY, CONSUMER_SECRET = "demo-consumer-key", "demo-consumer-secret"
NUMBER = "+4798765432"  # alice's phone in the seeded world
PROBE_FAULT = {"action": "status", "status": 503, "method": "GET", "path": "/never/*"}  # matches nothing


# --- one request, and how to send it in-process ----------------------------------------------
@dataclass
class Wire:
    method: str
    target: str  # request-target as sent: path, "?query", percent-escapes intact
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    def describe(self, limit: int = 600) -> str:
        """A compact reproducer: long runs of one character shown as <'9'×5000>."""
        lines = [f"{self.method} {compact(self.target, limit)}"]
        lines += [f"{k}: {compact(v, limit)}" for k, v in self.headers]
        if self.body:
            lines += ["", compact(self.body.decode("utf-8", "backslashreplace"), limit)]
        return "\n".join(lines)


def compact(text: str, limit: int = 600) -> str:
    text = re.sub(r"(.)\1{19,}", lambda m: f"<{m.group(1)!r}×{len(m.group(0))}>", text, flags=re.S)
    return text if len(text) <= limit else text[:limit] + f"…(+{len(text) - limit} chars)"


@dataclass
class Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None


def environ_of(wire: Wire, host_default: str = "localhost") -> dict:
    path, _, query = wire.target.partition("?")
    if path.startswith("/"):
        path = "/" + path.lstrip("/")  # as waitress does
    environ = {
        "REQUEST_METHOD": wire.method.upper(), "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"), "QUERY_STRING": query,
        "REQUEST_URI": wire.target, "SERVER_NAME": "localhost", "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0), "wsgi.input": BytesIO(wire.body), "wsgi.errors": sys.stderr,
        "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
        "wsgi.input_terminated": True,
    }
    joined: dict[str, str] = {}
    for name, value in wire.headers:
        key = name.upper().replace("-", "_")
        joined[key] = f"{joined[key]}, {value}" if key in joined else value
    joined.setdefault("HOST", host_default)
    if wire.body:
        joined.setdefault("CONTENT_LENGTH", str(len(wire.body)))
    for key, value in joined.items():
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
    return environ


def call_wsgi(app: FakeApp, wire: Wire) -> Answer:
    """The answer of the app to one request; an exception escaping the app is a 500."""
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"], seen["headers"] = status, headers

    try:
        chunks = app(environ_of(wire), start_response)
        try:
            body = b"".join(chunks)
        finally:
            getattr(chunks, "close", lambda: None)()
    except Exception as exc:  # noqa: BLE001 - reported as the finding it is
        return Answer(500, "exception escaped the WSGI app", [], repr(exc).encode())
    code, _, reason = seen["status"].partition(" ")
    return Answer(int(code), reason, list(seen["headers"]), body)


# --- OAuth signing --------------------------------------------------------------------------
USERS = ("alice", "bob", "admin")


def sign(wire: Wire, user: str | None, host: str = "localhost", *, in_query: bool = False,
         callback: str | None = None, token: tuple[str, str] | None = None, verifier: str | None = None) -> Wire | None:
    """The request signed (HMAC-SHA1, with oauthlib) for `user`'s access token, or for `token`
    (key, secret), or for the consumer alone (both None, as the request-token step signs).
    None when oauthlib cannot sign it (a URI it refuses): the caller then sends it unsigned."""
    token = token or ((f"{user}-access-token", f"{user}-access-secret") if user else (None, None))
    signer = Client(CONSUMER_KEY, client_secret=CONSUMER_SECRET, resource_owner_key=token[0],
                    resource_owner_secret=token[1], callback_uri=callback, verifier=verifier,
                    signature_type=SIGNATURE_TYPE_QUERY if in_query else "AUTH_HEADER")
    headers = dict(wire.headers)
    form = (wire.header("Content-Type") or "").startswith("application/x-www-form-urlencoded")
    try:
        uri, signed, body = signer.sign(f"http://{host}{wire.target}", http_method=wire.method,
                                        body=wire.body.decode("utf-8") if form and wire.body else None,
                                        headers=headers)
    except (ValueError, TypeError, UnicodeError):
        return None
    target = uri.split(host, 1)[1] if in_query else wire.target
    extra = [(k, v) for k, v in signed.items() if k.lower() == "authorization"]
    return Wire(wire.method, target, [*wire.headers, *extra], wire.body)


# --- the seeded world -----------------------------------------------------------------------
class Seeded:
    """The app, its seeded state document, and the ids of what was seeded (by kind)."""

    def __init__(self, app: FakeApp, state: dict, known: dict[str, str]) -> None:
        self.app, self.state, self.known = app, state, known
        self.baseline = None  # the snapshot of the seeded state, once restored
        self.clean = False  # whether the app is still exactly in that state

    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example
        return "<the seeded world>"

    def snapshot(self):
        """What a refused request must leave as it was: the state document and the fault rules."""
        return self.app.world.to_dict(), [f.as_dict() for f in self.app.faults.rules()]

    def restore(self):
        """Back to the seeded state, with one fault rule (id 1) that matches nothing; returns
        its snapshot. Skipped when the last request left the state as it was."""
        if not self.clean:
            self.app.replace_state(copy.deepcopy(self.state))
            self.app.faults = FaultRules()
            self.app.faults.add(dict(PROBE_FAULT))
            self.baseline = self.snapshot()
        self.app.journal.clear()
        self.clean = True
        return self.baseline

    def settle(self, after) -> None:
        """Record the snapshot taken after a request: the next restore is free if it is the seed's."""
        self.clean = after == self.baseline

    def resolve(self, text: str) -> str:
        return re.sub(r"@(\w+)@", lambda m: self.known.get(m.group(1), m.group(0)), text)


def entry(inner: str) -> str:
    return f'<entry xmlns="{ATOM}" xmlns:oc="{OC}">{inner}</entry>'


def _uuid(answer: Answer) -> str:
    root = etree.fromstring(answer.body)
    return root.findtext(f"{{{OC}}}client/{{{OC}}}uuid")


def seed_world() -> Seeded:
    app = FakeApp()

    def api(method: str, path: str, user: str | None, body: str = "", ctype: str = "application/atom+xml",
            expect: int = 200) -> Answer:
        headers = [("Content-Type", ctype)] if body else []
        wire = Wire(method, path, headers, body.encode())
        if user:
            wire = sign(wire, user)
        answer = call_wsgi(app, wire)
        assert answer.status == expect, (method, path, answer.status, answer.body[:300])
        return answer

    known: dict[str, str] = {"number": NUMBER, "code": "", "fault": "1", "session": "1", "model": "242",
                             "setup": "1", "vendor": str(min(app.world.phones.vendors))}
    syncml = _uuid(api("POST", "/v2/services/syncml/", "alice", entry(
        f"<oc:client><oc:phone_number>{NUMBER}</oc:phone_number><oc:model_uuid>242</oc:model_uuid>"
        "<oc:timezone>Europe/Oslo</oc:timezone></oc:client>"), expect=201))
    api("POST", f"/v2/services/syncml/{syncml}/setup/", "alice", entry("<oc:pincode>1234</oc:pincode>"), expect=201)
    api("POST", f"/v2/services/syncml/{syncml}/sync/", "alice")
    api("POST", f"/_fake/phone/{quote(NUMBER)}/accept-setup", None)
    api("POST", f"/_fake/phone/{quote(NUMBER)}/accept-sync", None)
    api("POST", f"/v2/services/syncml/{syncml}/sync/", "alice")  # an unanswered alert for accept-sync
    gdata = _uuid(api("POST", "/v2/services/google/", "alice", GDATA_BODY.replace("@user_id@", "fuzz@gmail.com"),
                      expect=201))
    activesync = _uuid(api("POST", "/v2/services/activesync/", "alice", entry(
        "<oc:client><oc:username>ann</oc:username><oc:password>pass-word-1</oc:password></oc:client>"),
        expect=201))
    datastore = _uuid(api("POST", "/v2/services/datastore/", "alice",
                          entry("<oc:client><oc:name>Notes</oc:name></oc:client>"), expect=201))
    item = api("POST", f"/v2/services/datastore/{datastore}/contents/", "alice",
               entry('<title>Ola</title><content type="text/x-vcard">BEGIN:VCARD\nEND:VCARD</content>'
                     "<oc:dataclass>Contacts</oc:dataclass>"), expect=201)
    api("POST", f"/v2/services/datastore/{datastore}/contents/", "alice",
        entry('<content type="text/plain">two</content>'), expect=201)
    item_id = etree.fromstring(item.body).findtext(f"{{{ATOM}}}id").rstrip("/").rsplit("/", 1)[-1]
    bob_store = _uuid(api("POST", "/v2/services/datastore/", "bob",
                          entry("<oc:client><oc:name>Bob's</oc:name></oc:client>"), expect=201))
    binding = etree.fromstring(api("POST", "/v2/clients/bindings/", "alice", entry(
        f"<oc:binding><oc:source>{syncml}</oc:source><oc:target>{datastore}</oc:target></oc:binding>"),
        expect=201).body)
    binding_id = binding.findtext(f"{{{OC}}}binding/{{{OC}}}id") or \
        binding.findtext(f"{{{ATOM}}}id").rstrip("/").rsplit("/", 1)[-1]
    detection = etree.fromstring(api("POST", "/v2/phones/detect/manual/", "alice",
                                     entry(f"<oc:phone_number>{NUMBER}</oc:phone_number>"), expect=201).body)
    code = detection.findtext(f".//{{{OC}}}code")
    api("POST", f"/v2/services/syncml/{syncml}/setup/", "alice", entry("<oc:pincode>4321</oc:pincode>"),
        expect=201)  # an unanswered setup SMS for accept-setup / reject-setup

    def request_token() -> dict:
        answer = call_wsgi(app, sign(Wire("POST", "/oauth/request_token"), None, callback="oob"))
        assert answer.status == 200, answer.body
        return dict(p.split("=", 1) for p in answer.body.decode().split("&"))
    pending = request_token()["oauth_token"]
    approved = request_token()
    answer = api("POST", "/oauth/authorize", None, f"oauth_token={approved['oauth_token']}&user=alice&approve=yes",
                 ctype="application/x-www-form-urlencoded")
    verifier = dict(p.split("=", 1) for p in answer.body.decode().split("&"))["oauth_verifier"]
    admin_gdata = next(c.uuid for c in app.world.clients.values() if c.kind == "gdata" and c.owner == "admin")
    admin_syncml = next(c.uuid for c in app.world.clients.values() if c.kind == "syncml" and c.owner == "admin")
    known.update(syncml=syncml, gdata=gdata, activesync=activesync, datastore=datastore, item=item_id,
                 binding=binding_id, code=code, request_token=pending, approved_token=approved["oauth_token"],
                 approved_secret=approved["oauth_token_secret"], verifier=verifier, bob_datastore=bob_store,
                 admin_gdata=admin_gdata, admin_syncml=admin_syncml)
    seeded = Seeded(app, app.world.to_dict(), known)
    seeded.restore()
    return seeded


# --- choices -------------------------------------------------------------------------------
# A strategy object costs hypothesis real work the first time it is drawn from (validation,
# labels): one made per draw made most of the fuzz tests' time. These are made once.
@functools.cache
def _choice(options: tuple) -> st.SearchStrategy:
    return st.sampled_from(options)


@functools.cache
def _between(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


def pick(draw, options):
    """One of `options` (hashable values)."""
    return draw(_choice(tuple(options)))


def between(draw, low: int, high: int) -> int:
    return draw(_between(low, high))


def one(draw, items):
    """One of `items` (a non-empty sequence), which need not be hashable."""
    return items[between(draw, 0, len(items) - 1)] if len(items) > 1 else items[0]


# --- values ---------------------------------------------------------------------------------
HUGE = "9" * 5000  # past Python's 4,300-digit int() limit
NUMBERS = [HUGE, "9" * 4301, "1" + "0" * 400, "-" + HUGE, "-1", "0", "00", "007", "+1", " 1", "1 ", "1.5",
           "1e309", "-0", "\u00b2", "\u0661\u0662", "\uff11", "0x10", "1_0", str(2 ** 63), str(2 ** 64 + 1),
           "NaN", "inf"]
TEXTS = ["", " ", "\t", "\x00", "\x7f", "\x1b[0m", "é", "日本語", "😀", "\u202e", "\ufeff", "A" * 300, "A" * 5000,
         "..", ".", "%", "'", '"', "<x>", "&amp;", "]]>", "\\", "*", "?", "#", ";", "=", "&", "+", "null",
         "true", "[]", "{}", "%s%n", "${x}", "\r\nX-Injected: 1", "\ud800", "\udfff", "\ufffe", "\x01",
         "%FF%FE", "%C0%AF", "%u0041", "%2", "%00"]
DATES = ["2009-11-01T12:30:00Z", "2009-11-01T123000Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
         "9999-12-31T23:59:59Z", "9999-12-31T235959Z", "2009-02-30T12:30:00Z", "2009-13-01T25:61:61Z",
         "\uff12\uff10\uff10\uff19-11-01T12:30:00Z", "2009-11-01T12:30:00+01:00", "2009-11-01", "12:30",
         "-2009-11-01T12:30:00Z", "2009-11-01T12:30:00.123Z", "+10000-01-01T00:00:00Z", "1970-01-01T000000Z",
         "2038-01-19T03:14:08Z"]
NASTY = NUMBERS + TEXTS + DATES


def nasty_text() -> st.SearchStrategy[str]:
    """A string a handler might choke on: huge or odd numbers, odd text, odd dates, or any text."""
    return _NASTY_TEXT


_NASTY_TEXT = st.one_of(
    st.sampled_from(NASTY),
    st.integers(-(2 ** 70), 2 ** 70).map(str),
    st.integers(4200, 6000).map(lambda n: "1" * n),
    st.text(max_size=30),
    st.text(st.characters(codec="ascii"), max_size=12),
)


def pct(text: str, safe: str = "") -> str:
    """Percent-encoded as UTF-8; a lone surrogate is encoded as the bytes a careless client sends."""
    return quote(text.encode("utf-8", "surrogatepass"), safe=safe)


def _raw_ok(text: str) -> bool:
    return all(0x21 <= ord(c) <= 0xFF and c not in "?#%" for c in text)


def url_piece(draw, text: str, safe: str = "") -> str:
    """A value as it appears in a URL: escaped, escaped with raw '%' kept (bad escapes), or
    raw latin-1 characters (as a careless client sends them)."""
    mode = one(draw, ["quote", "quote", "keep-percent", "raw"])
    if mode == "raw" and _raw_ok(text):
        return text
    return pct(text, safe=safe + ("%" if mode == "keep-percent" else ""))


# Which known value a placeholder takes, by the route it is in.
def known_key(route_path: str, placeholder: str) -> list[str]:
    if placeholder == "uuid":
        for prefix, keys in (("/v2/services/google/", ["gdata", "admin_gdata"]),
                             ("/v2/services/syncml/", ["syncml", "admin_syncml"]),
                             ("/v2/services/activesync/", ["activesync"]),
                             ("/v2/services/datastore/", ["datastore", "bob_datastore"]),
                             ("/v2/clients/", ["syncml", "datastore", "admin_gdata"])):
            if route_path.startswith(prefix):
                return keys
    return [placeholder]


def route_path(draw, route: Route) -> str:
    """The route's path with every placeholder filled: mostly a real id of the seeded world
    (as @key@, resolved when sent), else a fuzzed segment. The trailing slash is optional."""
    def fill(m: re.Match) -> str:
        keys = known_key(route.path, m.group(1))
        if between(draw, 0, 9) < 4:
            return "@%s@" % one(draw, keys)
        return url_piece(draw, draw(nasty_text()), safe=one(draw, ["", "/"]))
    path = re.sub(r"\{(\w+)\}", fill, route.path)
    if path.endswith("/") and len(path) > 1 and between(draw, 0, 1):
        path = path[:-1]
    return path


# Query parameters each handler reads, by path template.
QUERY_PARAMS = {
    "/v2/services/datastore/{uuid}/contents/": ["since", "dataclass"],
    "/_fake/outbox": ["to", "kind"],
    "/_fake/journal": ["after", "problems"],
    "/oauth/authorize": ["oauth_token"],
}
QUERY_VALUES = {"since": DATES, "dataclass": ["Contacts", "Notes", "contacts", ""],
                "to": [NUMBER, "+4790981948"], "kind": ["setup-sms", "detection-link", "server-alert"],
                "after": NUMBERS, "problems": ["1", "true", "0"], "oauth_token": ["@request_token@"]}
OTHER_PARAMS = ["oauth_token", "oauth_timestamp", "oauth_signature", "x", "", "since", "dataclass", "a[]",
                "%zz", "=", "after"]


def query_string(draw, route: Route) -> str:
    """'' or '?…': the route's own parameters (repeated, odd values) and others."""
    if between(draw, 0, 3) == 0:
        return ""
    names = QUERY_PARAMS.get(route.path, [])
    pairs = []
    for _ in range(between(draw, 1, 4)):
        name = one(draw, names) if names and between(draw, 0, 1) else one(draw, OTHER_PARAMS)
        values = QUERY_VALUES.get(name, [])
        value = one(draw, values) if values and between(draw, 0, 1) else draw(nasty_text())
        value_text = value if value == "@request_token@" else url_piece(draw, value)
        name_text = name if name in ("%zz", "=") else quote(name, safe="[]")
        form = one(draw, ["pair", "pair", "pair", "bare", "empty"])
        pairs.append(name_text if form == "bare" else f"{name_text}=" if form == "empty"
                     else f"{name_text}={value_text}")
    separator = one(draw, ["&", "&", "&", ";", "&&"])
    return "?" + separator.join(pairs)


# --- XML bodies -----------------------------------------------------------------------------
GDATA_BODY = entry(
    "<oc:client><oc:user_id>@user_id@</oc:user_id>"
    '<oc:datastore dataclass="Calendar" href="http://www.google.com/calendar/feeds/x/private/full" name="Cal">'
    "<oc:token><oc:token_type>2</oc:token_type><oc:key>k</oc:key><oc:secret>s</oc:secret>"
    "<oc:scope>http://www.google.com/calendar/feeds/</oc:scope></oc:token></oc:datastore></oc:client>")

VALID_BODIES: dict[str, list[str]] = {
    "gdata-client": [
        GDATA_BODY.replace("@user_id@", "fuzz@gmail.com"),
        GDATA_BODY.replace("@user_id@", "fuzz@gmail.com").replace("<oc:client>",
                                                                  "<oc:client><oc:uuid>@gdata@</oc:uuid>"),
        f'<entry xmlns="{ATOM}"><client xmlns="{OC}"><user_id>new@gmail.com</user_id>'
        '<datastore dataclass="Contacts" href="http://google_something.com/u#Friends" name="Contacts"><token>'
        "<token_type>2</token_type><key>secret_key</key><secret>secret_secret</secret>"
        "<scope>http://google_something.com/u#Friends</scope></token></datastore></client></entry>",
    ],
    "syncml-client": [entry("<oc:client><oc:phone_number>+4790000001</oc:phone_number>"
                            "<oc:model_uuid>02978288-537f-102b-beff-000ea60275d1</oc:model_uuid>"
                            "<oc:timezone>Europe/Paris</oc:timezone></oc:client>"),
                      entry("<oc:client><oc:phone_number>+4790000002</oc:phone_number><oc:model_uuid>112"
                            "</oc:model_uuid><oc:imei>490154203237518</oc:imei></oc:client>")],
    "syncml-setup": [entry("<oc:pincode>1234</oc:pincode>")],
    "detect": [entry(f"<oc:phone_number>{NUMBER}</oc:phone_number>"),
               entry("<oc:phone_number>+4790000003</oc:phone_number>")],
    "binding": [entry("<oc:binding><oc:source>@syncml@</oc:source><oc:target>@datastore@</oc:target>"
                      "<oc:dominant>target</oc:dominant></oc:binding>"),
                entry("<oc:binding><oc:source>@gdata@</oc:source><oc:target>@activesync@</oc:target></oc:binding>")],
    "activesync-client": [entry("<oc:client><oc:username>ann</oc:username><oc:password>pw-2</oc:password>"
                                "<oc:old_pass>pass-word-1</oc:old_pass></oc:client>"),
                          entry("<oc:client><oc:username>ben</oc:username><oc:password>pw</oc:password></oc:client>")],
    "datastore-client": [entry("<oc:client><oc:name>Work notes</oc:name></oc:client>")],
    "content-item": [entry('<title>Kari</title><content type="text/x-vcard">BEGIN:VCARD\nFN:Kari\nEND:VCARD'
                           "</content><oc:dataclass>Contacts</oc:dataclass>"),
                     entry('<content type="text/plain">note</content>'), entry("<title>only a title</title>")],
}

XML_CONTENT_TYPES = ["application/atom+xml", "application/atom+xml", "application/atom+xml; charset=utf-8",
                     "application/atom+xml; charset=iso-8859-1", "application/atom+xml; charset=utf-16",
                     "application/atom+xml; charset=bogus", "application/atom+xml; charset=\"", "application/xml",
                     "text/xml; charset=us-ascii", "application/json", "text/plain", "", "a/b; c",
                     "application/atom+xml;;;", "application/atom+xml; type=entry; charset=UTF-8",
                     "multipart/form-data; boundary=x", "application/x-www-form-urlencoded"]


def _elements(text: str) -> list[re.Match]:
    return list(re.finditer(r"<([\w:]+)[^>]*>[^<]*</\1>", text))


def xml_mutation(draw, text: str) -> str:
    """One change to an XML document, from subtle (a value) to brutal (cut bytes)."""
    op = one(draw, ["value", "value", "value", "attribute", "duplicate", "remove", "unknown",
                               "namespace", "prolog", "lang", "wrap", "truncate", "insert", "deep"])
    elements = _elements(text)
    if op == "value" and elements:
        m = one(draw, elements)
        value = draw(nasty_text())
        value = value if between(draw, 0, 1) else value.replace("&", "&amp;").replace("<", "&lt;")
        start, end = m.start() + m.group(0).index(">") + 1, m.end() - len(m.group(1)) - 3
        return text[:start] + value + text[end:]
    if op == "attribute":
        attrs = list(re.finditer(r'(\w+)="([^"]*)"', text))
        attrs = [a for a in attrs if not a.group(0).startswith("xmlns")]
        if attrs:
            a = one(draw, attrs)
            value = draw(nasty_text()).replace('"', "&quot;").replace("<", "&lt;").replace("&", "&amp;")
            return text[:a.start(2)] + value + text[a.end(2):]
    if op == "duplicate" and elements:
        m = one(draw, elements)
        return text[:m.end()] + m.group(0) + text[m.end():]
    if op == "remove" and elements:
        m = one(draw, elements)
        return text[:m.start()] + text[m.end():]
    if op == "unknown":
        tag = one(draw, ["<oc:bogus>1</oc:bogus>", "<bogus/>", "<title>t</title>", '<link href="x"/>',
                                    "<oc:client/>", "<entry/>", "<!-- c -->", "<?pi x?>", "<![CDATA[x]]>",
                                    "<oc:uuid>@syncml@</oc:uuid>"])
        at = one(draw, [m.end() for m in elements] or [len(text) - len("</entry>")])
        return text[:at] + tag + text[at:]
    if op == "namespace":
        return one(draw, [
            text.replace(OC, "urn:other", 1), text.replace(ATOM, "http://www.w3.org/2005/atom", 1),
            text.replace('xmlns:oc="', 'xmlns:xml="http://x" xmlns:oc="', 1),
            text.replace('xmlns:oc="', 'xmlns:xmlns="urn:x" xmlns:oc="', 1),
            text.replace("<entry ", "<a:entry xmlns:a=\"%s\" " % ATOM, 1).replace("</entry>", "</a:entry>"),
            text.replace("oc:", "OC:").replace("xmlns:OC", "xmlns:oc"),
            text.replace("<entry ", "<feed ", 1).replace("</entry>", "</feed>")])
    if op == "prolog":
        prolog = one(draw, [
            '<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>',
            '<?xml version="1.0" encoding="bogus"?>', '<?xml version="1.1"?>', '<?xml version="2.0"?>',
            '<?xml version="1.0" encoding="UTF-16"?>', "\ufeff", '<!DOCTYPE entry [<!ENTITY x "y">]>',
            '<!DOCTYPE entry SYSTEM "http://127.0.0.1:1/x.dtd">', "<?xml-stylesheet href='x'?>", " ", "\n\n",
            '<!DOCTYPE e [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>'])
        return prolog + text
    starts = list(re.finditer(r"<([\w:]+)(?=[ >])", text))
    if op == "lang" and starts:
        attr = one(draw, ['xml:lang="nb"', 'xml:base="http://x/"', 'xml:lang=""', 'xml:space="preserve"',
                          'xml:bogus="1"', 'oc:extra="1"', 'xmlns:z="urn:z" z:a="1"'])
        m = one(draw, starts)
        return text[:m.end()] + " " + attr + text[m.end():]
    if op == "wrap":
        return one(draw, ["", " ", "<entry/>", text + text, text + "<x/>", text + "garbage",
                                     "<entry xmlns='%s'>" % ATOM, text.replace("</entry>", ""),
                                     "\x00" + text, text.replace("<", "< ", 1), "null", "{}"])
    if op == "truncate":
        cut = between(draw, 0, 1000) * len(text) // 1001
        return text[:cut]
    if op == "insert":
        at = between(draw, 0, 1000) * len(text) // 1000
        return text[:at] + one(draw, ["<", ">", "&", "&#0;", "&#x110000;", "&bogus;", "\x01", "\udcff",
                                                 "é", "]]>", '"', "</entry>", "<?", "<!--"]) + text[at:]
    depth = one(draw, [50, 200, 5000])
    return text.replace("</entry>", "<x>" * depth + "</x>" * depth + "</entry>")


def encode(text: str, encoding: str) -> bytes:
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


def xml_body(draw, schema: str) -> tuple[str, bytes]:
    """(Content-Type, body): a valid body of the schema, changed 0–3 times, encoded oddly now and then."""
    text = one(draw, VALID_BODIES[schema])
    for _ in range(between(draw, 0, 3)):
        text = xml_mutation(draw, text)
    encoding = one(draw, ["utf-8"] * 6 + ["latin-1", "utf-16", "utf-16-be", "utf-32"])
    return one(draw, XML_CONTENT_TYPES), encode(text, encoding)


# --- JSON bodies (the control plane) --------------------------------------------------------
def json_values() -> st.SearchStrategy:
    """Any JSON value, with the numbers and strings that break careless code."""
    return _JSON_VALUES


_JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2 ** 70), 2 ** 70), st.sampled_from(
    [0, -1, 1, 2 ** 63, 10 ** 400, 1e308, -1e308, 0.5, 1e-320]), st.floats(allow_nan=False),
    st.sampled_from(NASTY), st.text(max_size=20))


def _json_containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3))


_JSON_VALUES = st.recursive(_JSON_SCALARS, _json_containers, max_leaves=6)


FAULT_EXAMPLES = [{"action": "status", "status": 503, "method": "GET", "path": "/v2/services/syncml/*", "times": 1},
                  {"action": "delay", "delay": 2.5, "path": "/v2/*"}, {"action": "drop", "method": "POST"},
                  {"action": "truncate", "path": "/v2/phones/*"}, {"action": "garbage", "status": 200},
                  {"action": "status", "status": 404, "reason": "Gone", "body": "x", "times": 3}]
JSON_EXAMPLES: dict[str, list] = {
    "POST /_fake/faults": FAULT_EXAMPLES,
    "POST /_fake/clock": [{"freeze": True, "set": "2009-11-01T12:30:00Z", "advance": 30}, {"advance": 1.5},
                          {"freeze": False}, {"set": "9999-12-31T23:59:59Z"}],
    "POST /_fake/phone/{number}/visit": [{"user_agent": "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 "
                                                        "Configuration/CLDC-1.1"}, {"message": 1}, {}],
    "POST /_fake/phone/{number}/accept-setup": [{}, {"message": 1}],
    "POST /_fake/phone/{number}/reject-setup": [{}, {"message": 2}],
    "POST /_fake/phone/{number}/accept-sync": [{}, {"message": 3}],
    "POST /_fake/phone/{number}/reject-sync": [{}, {"message": 4}],
    "PUT /_fake/phone/{number}/autopilot": [{"user_agent": "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 "
                                                           "Configuration/CLDC-1.1", "visit_after": 5,
                                             "setup": "accept", "setup_after": 30, "sync": "accept",
                                             "sync_after": 10}, {}, {"setup": "reject"}],
}
JSON_CONTENT_TYPES = ["application/json", "application/json", "application/json; charset=utf-8",
                      "application/json-patch+json", "text/plain", "", "application/atom+xml",
                      "application/json; charset=utf-16"]


def json_paths(doc, prefix=()) -> list[tuple]:
    """Every location in a JSON document, as a tuple of keys and indexes."""
    found = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += json_paths(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:4]):
            found += json_paths(v, prefix + (i,))
    return found


def pointer(path: tuple) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def json_mutation(draw, doc):
    """The document with one location changed: another value, gone, or a new key beside it."""
    doc = copy.deepcopy(doc)
    path = one(draw, json_paths(doc))
    if not path:
        return draw(json_values())
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    op = one(draw, ["replace", "replace", "replace", "delete", "add"])
    if op == "replace":
        parent[path[-1]] = draw(json_values())
    elif op == "delete":
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[one(draw, ["bogus", "", "id", "version", "\ud800", "x\udfff", "\x00"])] = draw(json_values())
    else:
        parent.append(draw(json_values()))
    return doc


XML_HOSTILE = ["\x00", "\x01", "\x1b", "\x7f", "\ufffe", "\uffff", "\ud800", "\udfff", "\x85", "\u2028"]
NUMBER_EDGES = [-1, 0, 2 ** 31, 2 ** 53 + 1, 2 ** 63, 2 ** 64, 10 ** 30, -(10 ** 30)]


def state_mutation(draw, doc) -> str:
    """The state document with 1–3 values changed but kept of their type (so the loader's type
    checks pass and the value reaches what shows it): strings get a character XML cannot hold,
    a huge one, an odd date; numbers get edges; booleans flip."""
    doc = copy.deepcopy(doc)
    leaves = [p for p in json_paths(doc) if p and not isinstance(_at(doc, p), (dict, list))]
    strings = [p for p in leaves if isinstance(_at(doc, p), str)]
    for _ in range(between(draw, 1, 3)):
        path = one(draw, strings if between(draw, 0, 4) else leaves)
        parent, value = _at(doc, path[:-1]), _at(doc, path)
        if isinstance(value, bool):
            new = not value
        elif isinstance(value, (int, float)):
            new = one(draw, NUMBER_EDGES)
        elif isinstance(value, str):
            choice = between(draw, 0, 5)
            new = (value + one(draw, XML_HOSTILE) if choice <= 2 else one(draw, XML_HOSTILE) if choice == 3
                   else one(draw, DATES + ["", " ", "x" * 5000]) if choice == 4 else draw(nasty_text()))
        else:
            new = draw(nasty_text())
        parent[path[-1]] = new
    return dumps(doc)


def json_diff(old, new, path: tuple = ()) -> list[str]:
    """Where two JSON documents differ, as "pointer: old -> new" lines."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [line for k in sorted(set(old) | set(new), key=str)
                for line in json_diff(old.get(k, "<absent>"), new.get(k, "<absent>"), path + (k,))]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [line for i, (a, b) in enumerate(zip(old, new)) for line in json_diff(a, b, path + (i,))]
    return [] if old == new else [f"{pointer(path) or '/'}: {compact(repr(old), 80)} -> {compact(repr(new), 200)}"]


def _at(doc, path: tuple):
    for key in path:
        doc = doc[key]
    return doc


def dumps(value) -> str:
    try:
        return json.dumps(value)
    except ValueError:  # an integer past the digit limit
        return "1" * 5000


def json_text(draw, doc) -> str:
    """A JSON document, often changed, now and then mangled as text."""
    value = doc
    for _ in range(between(draw, 0, 2)):
        value = json_mutation(draw, value)
    text = dumps(value)
    mangle = between(draw, 0, 11)
    if mangle == 0:
        text = text[:between(draw, 0, 1000) * len(text) // 1000]
    elif mangle == 1:
        text = one(draw, ["[" * 100_000, '{"a":' * 50_000, "1" * 5000, "1e400", "-1e400", "NaN",
                                     "Infinity", '"\\ud800"', "\ufeff{}", "{} {}", "null", "[]", "\x00",
                                     '{"a": 1, "a": 2}', "{'a': 1}", " ", "\"" + "a" * 70_000 + "\""])
    return text


def patch_operations(draw, state: dict) -> str:
    """An RFC 6902 patch aimed at real places of the state document, with odd values."""
    ops = []
    for _ in range(between(draw, 1, 3)):
        path = pointer(one(draw, json_paths(state)))
        if between(draw, 0, 5) == 0:
            path = one(draw, ["", "/", "/users/-", "/users/99", "/users/01", "/users/" + HUGE, "a", "/\ud800",
                                         "/clients/-1", "/~2", "/clock/frozen/x"])
        op = {"op": one(draw, ["add", "replace", "remove", "test", "move", "copy", "bogus"]),
              "path": path, "value": draw(json_values())}
        if op["op"] in ("move", "copy"):
            op["from"] = pointer(one(draw, json_paths(state)))
        ops.append(op)
    return dumps(ops) if between(draw, 0, 1) else json_text(draw, ops)


# --- OAuth parameters and Host headers ------------------------------------------------------
OAUTH_PARAMS = ["oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_signature",
                "oauth_timestamp", "oauth_nonce", "oauth_version", "oauth_body_hash", "oauth_callback",
                "oauth_verifier", "realm"]
OAUTH_VALUES = {"oauth_timestamp": ["9" * 400, HUGE, "-1", "0", "1e10", "", "nan", "١٢٣", "99999999999999999999"],
                "oauth_signature_method": ["HMAC-SHA1", "PLAINTEXT", "RSA-SHA1", "HMAC-SHA256", "x" * 5000, ""],
                "oauth_version": ["1.0", "2.0", "1", "", "9" * 5000]}


def oauth_header(draw) -> str:
    """An Authorization header of the OAuth scheme with absurd, missing or repeated parameters."""
    pairs = []
    for _ in range(between(draw, 0, 8)):
        name = one(draw, OAUTH_PARAMS + ["oauth_bogus", "OAUTH_TOKEN", ""])
        values = OAUTH_VALUES.get(name, [])
        value = one(draw, values) if values and between(draw, 0, 1) else draw(nasty_text())
        pairs.append(f'{name}="{pct(value) if between(draw, 0, 4) else value}"')
    scheme = one(draw, ["OAuth ", "OAuth ", "oauth ", "Bearer ", "OAuth", "Basic "])
    return scheme + one(draw, [", ", ",", " ,  "]).join(pairs)


HOSTS = ["localhost", "localhost:80", "LOCALHOST", "h" * 63, "h" * 64, "h" * 64 + ".example", "a." + "h" * 64,
         "[::1]", "[::1]:8080", "[::1", "::1", "example.com:99999", "example.com:-1", "example.com:", ":80", "",
         "xn--", "xn--zz", "xn--a.com", "é.com", "日本.jp", "a..b", "a/b", "a b", "a\x00b", "%41", "a:b:c",
         "1.2.3.4:0", "h" * 300, "_.com", "a" * 253 + ".com", "ex ample.com", "a@b", "a?b", "a#b", "\u2024.com",
         "\uff21.com", "-a.com", "a-.com", "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 63]


def host_values() -> st.SearchStrategy[str]:
    return _HOST_VALUES


_HOST_VALUES = st.one_of(st.sampled_from(HOSTS), st.text(max_size=70),
                         st.text("abcdefghijklmnopqrstuvwxyz0123456789.-:[]", min_size=1, max_size=80))


# --- raw HTTP/1.1 messages (for a real server) -----------------------------------------------
@dataclass
class RawCase:
    data: bytes  # the bytes sent
    method: str
    target: str  # the request-target sent
    complete: bool = True  # False: the server may rightly wait for more, then drop it at EOF
    expect_big: bool = False  # Expect: 100-continue with a body over any limit: only headers sent
    version_1x: bool = True
    other_coding: bool = False  # a transfer coding other than chunked

    def describe(self, limit: int = 1500) -> str:
        return compact(self.data.decode("latin-1"), limit)


def chunked(body: bytes, draw) -> tuple[bytes, bool]:
    """The body in chunked transfer coding, now and then broken (False: incomplete)."""
    pieces = [body[i:i + 7] for i in range(0, len(body), 7)] if body else []
    out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
    how = one(draw, ["ok"] * 5 + ["ext", "trailer", "bad-size", "huge-size", "negative", "no-end", "lf-only"])
    if how == "ext":
        return out.replace(b"\r\n", b";name=value\r\n", 1) + b"0\r\n\r\n", True
    if how == "trailer":
        return out + b"0\r\nX-Trailer: 1\r\n\r\n", True
    if how == "bad-size":
        return b"zz\r\n" + body + b"\r\n0\r\n\r\n", True
    if how == "huge-size":
        return b"f" * 40 + b"\r\n" + body + b"\r\n0\r\n\r\n", False
    if how == "negative":
        return b"-1\r\n" + body + b"\r\n0\r\n\r\n", True
    if how == "no-end":
        return out, False
    if how == "lf-only":
        return (out + b"0\r\n\r\n").replace(b"\r\n", b"\n"), False
    return out + b"0\r\n\r\n", True


ODD_TARGETS = ["*", "http://evil.example/_fake/health", "//_fake//health", "/v2/../_fake/state", "/%2e%2e/_fake",
               "/_fake/health#frag", "/_fake/health?" + "a" * 8000, "/" + "a" * 9000, "/\xe9", "/%00", "",
               "/_fake/health?x=\xff", "/v2/services/syncml/%2F..%2F"]


def raw_request(draw, method: str, target: str, headers: list[tuple[str, str]], body: bytes,
                host: str) -> RawCase:
    """An HTTP/1.1 message for the request, with its framing and header lines fuzzed."""
    case = RawCase(b"", method, target)
    version = one(draw, ["HTTP/1.1"] * 8 + ["HTTP/1.0", "HTTP/2.0", "HTTP/0.9", "HTTP/1.1x", "http/1.1", "HTTP/1.10"])
    case.version_1x = version in ("HTTP/1.1", "HTTP/1.0")
    if between(draw, 0, 9) == 0:
        target = case.target = one(draw, ODD_TARGETS)
    lines = [f"{method} {target} {version}"]
    host_lines = one(draw, ["one"] * 6 + ["none", "two", "two-same", "odd"])
    if host_lines != "none":
        lines.append(f"Host: {host}")
    if host_lines == "two":
        lines.append("Host: other.example")
    elif host_lines == "two-same":
        lines.append(f"Host: {host}")
    elif host_lines == "odd":
        lines[-1] = "Host: " + draw(host_values())
    lines += [f"{k}: {v}" for k, v in headers]
    framing = one(draw, ["length"] * 6 + ["chunked", "chunked", "other-coding", "both", "bad-length", "two-lengths",
                                         "short-length", "long-length", "expect", "expect-big", "none"])
    payload = body
    if framing == "length":
        lines.append(f"Content-Length: {len(body)}")
    elif framing == "chunked":
        payload, case.complete = chunked(body, draw)
        coding = one(draw, ["chunked"] * 3 + ["Chunked", "chunked, chunked", "gzip, chunked", " chunked"])
        case.other_coding = "gzip" in coding  # RFC 9112 §6.1: 501 for a coding the server cannot decode
        lines.append("Transfer-Encoding: " + coding)
    elif framing == "other-coding":
        case.other_coding = True
        lines.append("Transfer-Encoding: " + one(draw, ["gzip", "identity", "chunked, gzip", "deflate", "br", "x",
                                                        "chunked;q=1", ""]))
        case.complete = False  # no way to know where the body ends
    elif framing == "both":
        payload, case.complete = chunked(body, draw)
        lines += ["Transfer-Encoding: chunked", f"Content-Length: {len(body) + 3}"]
    elif framing == "bad-length":
        lines.append("Content-Length: " + one(draw, ["-1", "9" * 5000, "1 2", "+5", "0x10", "", "abc", " 5",
                                                     "5, 5", "5, 6", "1e3", "\u0661"]))
        case.complete = False
    elif framing == "two-lengths":
        lines += [f"Content-Length: {len(body)}", f"Content-Length: {len(body) + one(draw, [0, 1])}"]
        case.complete = False
    elif framing == "short-length":  # the rest reads as the next request: junk
        lines.append(f"Content-Length: {max(0, len(body) - 5)}")
    elif framing == "long-length":
        lines.append(f"Content-Length: {len(body) + 10}")
        case.complete = False
    elif framing in ("expect", "expect-big"):
        lines.append("Expect: 100-continue")
        if framing == "expect-big":
            lines.append("Content-Length: " + one(draw, ["2147483648", "1048577", "9" * 30]))
            case.expect_big, payload = True, b""
        else:
            lines.append(f"Content-Length: {len(body)}")
    else:
        payload = b""
    for _ in range(between(draw, 0, 2)):
        lines.append(one(draw, ["X-Folded: a\r\n  continued", "Bad Header: x", ": empty name", "X-Bin: \xff\xfe",
                                "X-Nul: a\x00b", "X-Long: " + "x" * 70_000, "Authorization: OAuth realm=\"x\"",
                                "Content-Type: text/plain", "Connection: keep-alive, Upgrade", "Upgrade: h2c",
                                "X-Forwarded-Host: evil.example", "X-Forwarded-Proto: https", "Forwarded: host=evil",
                                "Cookie: " + "c=1; " * 500, "Accept: */*;q=" + "9" * 5000, "Te: trailers",
                                "Connection: close", "Range: bytes=0-1,2-3", "If-Modified-Since: garbage"]))
    case.data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + payload
    return case
