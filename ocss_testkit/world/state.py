"""The World as one JSON document, and back: the format of `GET/PUT/PATCH /_fake/state`,
of fixture sets (`fixtures/<name>/world.json` holds a partial one) and of state files.

`load(dump(world))` gives an equal World. `load` validates everything and raises Invalid
naming the JSON path of the first problem, before anything is built: a bad document
never half-applies.
"""
from __future__ import annotations

import builtins
import dataclasses
import heapq
import itertools
import json
import math
import re
from datetime import datetime, timezone

from ocss_testkit.services.clients.contents import ContentStore, Item
from ocss_testkit.services.clients.state import ActiveSyncClient, Binding, DatastoreClient
from ocss_testkit.services.gdata.state import GDataClient, GDataDatastore, Token
from ocss_testkit.services.oauth.state import RequestToken
from ocss_testkit.services.phones.database import PhonesDB
from ocss_testkit.services.phones.detection import Detection
from ocss_testkit.services.syncml.state import (
    ChatMessage,
    Session,
    SessionStore,
    SetupRecord,
    SyncMLClient,
    SyncMLDatastore,
)
from ocss_testkit.world.clock import EARLIEST, LATEST, VirtualClock, iso_z, parse_iso_z
from ocss_testkit.world.errors import Invalid
from ocss_testkit.world.simulated_phones import PhoneState

VERSION = 1
KINDS = ("syncml", "gdata", "activesync", "datastore")
# Every integer of the document (ids, counts) is an exact JSON integer (RFC 7493 §2.2):
# ids beyond it could not be looked up from a URL, and counters past them would grow
# numbers Python cannot even print (its 4,300-digit limit).
MAX_INT = 2 ** 53 - 1
MAX_LIFETIME = 100 * 365 * 86400  # seconds: a century, as far as the clock may advance at once
TIME_RANGE = tuple(iso_z(datetime.fromtimestamp(t, timezone.utc)) for t in (EARLIEST, LATEST))


def dump(world) -> dict:
    head = dump_head(world)
    return {
        "version": head["version"],
        "clock": head["clock"],
        "settings": head["settings"],
        "consumers": head["consumers"],
        "users": head["users"],
        "clients": [client_entry(c) for c in sorted(world.clients.values(), key=lambda c: c.uuid)],
        "setups": [setup_entry(r) for r in world.setups],
        "outbox": [m.as_dict() for m in world.outbox],
        "bindings": [b.state() for b in sorted(world.bindings.values(), key=lambda b: b.id)],
        "detections": [d.state() for d in sorted(world.detections.values(), key=lambda d: (d.created, d.code))],
        "handsets": {number: model.id for number, model in sorted(world.handsets.items())},
        "phone_states": {number: p.state() for number, p in sorted(world.phone_states.items())},
        "autopilots": {n: dict(c) for n, c in sorted(world.autopilots.items())},
        "schedule": head["schedule"],
        "sessions": [_session(s) for s in world.sessions],
        "chatlog": [chat_entry(m) for m in world.chatlog],
        "request_tokens": [request_token_entry(t) for t in world.request_tokens.values()],
        "issued_tokens": [e for e in (issued_token_entry(world, t) for t in world.issued_tokens) if e is not None],
    }


# --- one entry of each part (persistence.py writes changed entries one by one) ---------------
HEAD_FIELDS = ("version", "clock", "settings", "consumers", "users", "schedule")


def dump_head(world) -> dict:
    """The small parts of the document, written whole: version, clock, settings,
    consumers, users and the schedule of phone actions."""
    users = sorted(world.users.values(), key=lambda u: u.account_id)
    return {"version": VERSION, "clock": world.clock.state(), "settings": dict(world.settings),
            "consumers": [{"key": k, "secret": s} for k, s in sorted(world.consumers.items())],
            "users": [_user(u) for u in users], "schedule": [list(s) for s in sorted(world.schedule)]}


def client_entry(c) -> dict:
    return {"kind": c.kind, "uuid": c.uuid, "owner": c.owner, "published": iso_z(c.published),
            "updated": iso_z(c.updated), **c.state()}


def setup_entry(r: SetupRecord) -> dict:
    return {"number": r.number, "client": r.client_uuid, "pincode": r.pincode, "sent": iso_z(r.sent),
            "profile": r.profile}


def chat_entry(m: ChatMessage) -> dict:
    return {"session": m.session_id, "number": m.number, "direction": m.direction, "time": iso_z(m.time),
            "xml": m.xml}


def request_token_entry(t: RequestToken) -> dict:
    return {"token": t.token, "secret": t.secret, "consumer_key": t.consumer_key, "callback": t.callback,
            "created": iso_z(t.created), "user": t.user, "verifier": t.verifier}


def issued_token_entry(world, token: str) -> dict | None:
    user = world.users_by_token.get(token)
    if user is None:
        return None
    return {"user": user.name, "token": token, "secret": user.token_secret, "consumer_key": user.consumer_key}


# name -> entry of one object of a keyed part (`entry(key, object)`), in document form
KEYED_ENTRIES = {
    "clients": lambda key, c: client_entry(c),
    "bindings": lambda key, b: b.state(),
    "detections": lambda key, d: d.state(),
    "request_tokens": lambda key, t: request_token_entry(t),
    "handsets": lambda key, model: model.id,
    "phone_states": lambda key, p: p.state(),
    "autopilots": lambda key, config: dict(config),
}
# name -> entry of one element of an append-only part (`entry(world, element)`)
SEQUENCE_ENTRIES = {
    "setups": lambda world, r: setup_entry(r),
    "outbox": lambda world, m: m.as_dict(),
    "sessions": lambda world, s: _session(s),
    "chatlog": lambda world, m: chat_entry(m),
    "issued_tokens": issued_token_entry,
}


def _user(u) -> dict:
    return {"name": u.name, "account_id": u.account_id, "email": u.email, "consumer_key": u.consumer_key,
            "token": u.token, "token_secret": u.token_secret, "admin": u.admin,
            "may_detect_auto": u.may_detect_auto, "setup_profile": u.setup_profile}


def _session(s: Session) -> dict:
    return {"id": s.id, "client": s.client_uuid, "owner": s.owner, "outcome": s.outcome,
            "started": iso_z(s.started), "ended": iso_z(s.ended), "reason": s.reason,
            "datastores": [{"dataclass": d.dataclass, "name": d.name, "sync_type": d.sync_type,
                            "items_from_phone": d.items_from_phone, "items_to_phone": d.items_to_phone}
                           for d in s.datastores]}


# --- text the API can show ---------------------------------------------------------------------
# XML 1.0 §2.2, Char: what an Atom answer can hold. A state string is shown in Atom answers
# (names, numbers, ids, item data, chat XML), so the document refuses everything else of
# Unicode: C0 controls but tab, line feed and carriage return; U+FFFE and U+FFFF; and the
# surrogates, which are no characters (a str holds one only when a JSON escape such as
# "\ud800" left one unpaired, RFC 7493 §2.1) and which no answer could even encode. The HTTP
# layer holds what comes in to the same rule (answers.py: JSON bodies, paths, parameters).
NOT_XML_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def text_problem(text: str) -> str | None:
    """The first character that makes `text` unfit for an answer, described for a sentence
    ("an unpaired surrogate \\ud800, which is no character (RFC 7493 §2.1)", "U+0000, which
    XML 1.0 cannot hold (§2.2, Char)"), or None when there is none. One regex search."""
    found = NOT_XML_TEXT.search(text)
    if found is None:
        return None
    code = ord(found.group(0))
    if 0xD800 <= code <= 0xDFFF:
        return f"an unpaired surrogate \\u{code:04x}, which is no character (RFC 7493 §2.1)"
    return f"U+{code:04X}, which XML 1.0 cannot hold (§2.2, Char)"


def text_culprit(data) -> tuple[str, str, str] | None:
    """The first string or member name of a JSON document (in document order) that
    `text_problem` refuses, as (JSON Pointer, "string" or "member name", the problem);
    None when there is none. Iterative: a document may nest as deep as its parser allows.

    A document whose text is all fine (the usual case) is seen at C speed, serialized once;
    only a suspect one is walked, string by string."""
    if _all_text_fine(data):
        return None
    stack: list = [("", data)]
    while stack:
        pointer, value = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            if problem:
                return pointer, "string", problem
        elif isinstance(value, dict):
            children = []
            for key, child in value.items():
                problem = text_problem(key) if isinstance(key, str) else None
                children.append((f"{pointer}/{escape_pointer(str(key))}", _BadName(problem) if problem else child))
            stack.extend(reversed(children))
        elif isinstance(value, list):
            stack.extend(reversed([(f"{pointer}/{i}", child) for i, child in enumerate(value)]))
        elif isinstance(value, _BadName):
            return pointer, "member name", value.problem
    return None


def _all_text_fine(data) -> bool:
    try:
        dumped = json.dumps(data, ensure_ascii=False, check_circular=False)
        dumped.encode("utf-8")  # raises on an unpaired surrogate
    except (UnicodeEncodeError, TypeError, ValueError, RecursionError):
        return False
    # json.dumps writes U+0000-U+001F as escapes (\u0001, \b, \f): the strings are walked
    # only when one of those (or U+FFFE, U+FFFF) is there; an escaped backslash before a
    # "b" costs a walk that finds nothing.
    return not (_ESCAPED_CONTROL.search(dumped) or "\ufffe" in dumped or "\uffff" in dumped)


_ESCAPED_CONTROL = re.compile(r"\\(?:u00(?:0[0-8bcef]|1[0-9a-f])|[bf])")


class _BadName:
    """Stands in for a member whose name is the culprit, so that it is found in document order."""
    __slots__ = ("problem",)

    def __init__(self, problem: str) -> None:
        self.problem = problem


def escape_pointer(key: str) -> str:
    """One reference token of a JSON Pointer (RFC 6901 §3: `~` as `~0`, `/` as `~1`) for a
    sentence: cut to 64 characters, what cannot be shown (controls, surrogates) escaped."""
    key = key.replace("~", "~0").replace("/", "~1")
    key = key if len(key) <= 64 else key[:64] + "…"
    return key if key.isprintable() else "".join(
        c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii") for c in key)


# --- loading ---------------------------------------------------------------------------------
class _Reader:
    """Typed access to a JSON value that reports the path of whatever is wrong."""

    def __init__(self, value, path: str = "") -> None:
        self.value = value
        self.path = path or "/"

    def fail(self, message: str):
        raise Invalid(f"state {self.path}: {message}")

    def at(self, key, default=...):
        if isinstance(self.value, dict):
            if key not in self.value:
                if default is ...:
                    self.fail(f"missing field {key!r}")
                return _Reader(default, self._child(key))
            return _Reader(self.value[key], self._child(key))
        if isinstance(self.value, list) and isinstance(key, int):
            return _Reader(self.value[key], self._child(key))
        self.fail("expected an object")  # a field asked of a list or a scalar

    def _child(self, key) -> str:
        # An RFC 6901 JSON Pointer, usable as is in a JSON Patch (`/handsets/+47~1x`).
        token = str(key).replace("~", "~0").replace("/", "~1")
        return f"{'' if self.path == '/' else self.path}/{token}"

    def obj(self) -> _Reader:
        if not isinstance(self.value, dict):
            self.fail("expected an object")
        return self

    def known(self, *fields: str) -> _Reader:
        unknown = set(self.obj().value) - set(fields)
        if unknown:
            self.fail(f"unknown field(s) {', '.join(sorted(unknown))}")
        return self

    def items(self) -> list[_Reader]:
        if not isinstance(self.value, list):
            self.fail("expected a list")
        return [self.at(i) for i in range(len(self.value))]

    def pairs(self) -> list[tuple[str, _Reader]]:
        return [(k, self.at(k)) for k in self.obj().value]

    def str(self, allow_empty: bool = True) -> str:
        if not isinstance(self.value, str) or (not allow_empty and not self.value):
            self.fail("expected a non-empty string" if not allow_empty else "expected a string")
        return self.value

    def opt_str(self) -> builtins.str | None:
        return None if self.value is None else self.str()

    def int(self) -> int:
        if not isinstance(self.value, int) or isinstance(self.value, bool):
            self.fail("expected an integer")
        if not -MAX_INT <= self.value <= MAX_INT:
            self.fail(f"expected an integer from -{MAX_INT} to {MAX_INT}")
        return self.value

    def seconds(self, low: float, high: float) -> float:
        """A finite number from `low` to `high` (1e999 reads as infinity in Python's json)."""
        value = self.value
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                math.isfinite(value) and low <= value <= high):
            self.fail(f"expected seconds from {low:g} to {high:g}")
        return value

    def bool(self) -> bool:
        if not isinstance(self.value, bool):
            self.fail("expected true or false")
        return self.value

    def time(self) -> datetime:
        """A UTC time within the virtual clock's range (clock.EARLIEST..LATEST): a time
        the clock could have written. Past it, a year 1 has no timestamp on some systems
        and the fake's arithmetic on times (a token's expiry, a code's lifetime) would
        leave what datetime can hold."""
        try:
            moment = parse_iso_z(self.str())
        except ValueError:
            self.fail("expected a UTC time like 2009-11-01T12:30:00Z")
        if not EARLIEST <= moment.timestamp() <= LATEST:
            self.fail(f"expected a UTC time from {TIME_RANGE[0]} to {TIME_RANGE[1]}, the virtual clock's range")
        return moment

    def opt_time(self) -> datetime | None:
        return None if self.value is None else self.time()


def load(data, phones: PhonesDB, world_factory, **world_options):
    """A new World from a state document (fixture sets may leave most fields out).

    Raises Invalid("state <JSON Pointer>: <problem>") for the first problem: a string or
    member name anywhere in the document that no answer could show (`text_problem`),
    checked first and in one place, then whatever the fields below refuse."""
    from ocss_testkit.world.world import Message, User

    culprit = text_culprit(data)
    if culprit is not None:
        pointer, what, problem = culprit
        raise Invalid(f"state {pointer or '/'}: the {what} holds {problem}: no answer could show it")
    doc = _Reader(data).known("$schema", "version", "description", "phones", "clock", "settings", "consumers",
                              "users", "clients", "setups", "outbox", "bindings", "detections", "handsets",
                              "phone_states", "autopilots", "schedule", "sessions", "chatlog", "request_tokens",
                              "issued_tokens")
    # Read by people, editors and the fixture loader (phones), not by the World.
    doc.at("$schema", "").str()
    doc.at("description", "").str()
    doc.at("phones", "-").str(False)
    version = doc.at("version", VERSION).int()
    if version != VERSION:
        doc.at("version").fail(f"unsupported state version {version} (this toolkit writes {VERSION})")

    consumers = {}
    for c in doc.at("consumers", []).items():
        c.known("key", "secret")
        consumers[c.at("key").str(False)] = c.at("secret").str(False)
    users = []
    for u in doc.at("users", []).items():
        u.known(*User.__slots__)
        user = User(name=u.at("name").str(False), account_id=u.at("account_id").int(), email=u.at("email").str(),
                    consumer_key=u.at("consumer_key").str(False), token=u.at("token").str(False),
                    token_secret=u.at("token_secret").str(False), admin=u.at("admin", False).bool(),
                    may_detect_auto=u.at("may_detect_auto", False).bool(),
                    setup_profile=u.at("setup_profile", "SyncServer").str())
        if user.consumer_key not in consumers:
            u.at("consumer_key").fail(f"names unknown consumer {user.consumer_key!r}")
        users.append(user)
    _unique(doc.at("users", []), [u.name for u in users], "user name")
    _unique(doc.at("users", []), [u.token for u in users], "access token")

    settings = doc.at("settings", {}).known("detection_code_lifetime").value
    if "detection_code_lifetime" in settings:
        doc.at("settings").at("detection_code_lifetime").seconds(1, MAX_LIFETIME)
    clock = VirtualClock()
    clock_doc = doc.at("clock", None)
    if clock_doc.value is not None:
        clock_doc.known("now", "frozen", "offset")
        if "now" in clock_doc.value:  # read only when frozen, but never accepted malformed
            clock_doc.at("now").time()
        if clock_doc.at("frozen", False).bool():
            clock.freeze(clock_doc.at("now").time())
        else:
            offset = clock_doc.at("offset", 0).seconds(-(LATEST - EARLIEST), LATEST - EARLIEST)
            clock.restore_offset(offset)
    world = world_factory(phones, users, consumers, clock=clock, settings=settings, **world_options)
    names = set(world.users)

    for c in doc.at("clients", []).items():
        client = _client(c, phones, names)
        if client.uuid in world.clients:
            c.at("uuid").fail(f"duplicate client {client.uuid}")
        world.clients[client.uuid] = client

    for r in doc.at("setups", []).items():
        r.known("number", "client", "pincode", "sent", "profile")
        world.setups.append(SetupRecord(r.at("number").int(), r.at("client").str(), r.at("pincode").str(),
                                        r.at("sent").time(), r.at("profile", "SyncServer").str()))
    for m in doc.at("outbox", []).items():
        m.known("id", "to", "kind", "body", "time", "client", "code")
        kind = m.at("kind").str()
        if kind not in ("detection-link", "setup-sms", "server-alert"):
            m.at("kind").fail("expected detection-link, setup-sms or server-alert")
        world.outbox.append(Message(m.at("id").int(), m.at("to").str(False), kind, m.at("body").str(),
                                    m.at("time").time(), m.at("client", None).opt_str(),
                                    m.at("code", None).opt_str()))
    for b in doc.at("bindings", []).items():
        b.known("id", "owner", "source", "target", "dominant", "published", "updated")
        binding = Binding(b.at("id").int(), _owner(b, names), b.at("source").str(), b.at("target").str(),
                          b.at("dominant", "source").str(), b.at("published").time(), b.at("updated").time())
        for role in ("source", "target"):
            if getattr(binding, role) not in world.clients:
                b.at(role).fail(f"names unknown client {getattr(binding, role)}")
        if binding.dominant not in ("source", "target"):
            b.at("dominant").fail("expected source or target")
        world.bindings[binding.id] = binding
    for d in doc.at("detections", []).items():
        d.known("code", "owner", "phone_number", "created", "expires", "status", "model", "user_agent")
        model = _model(d.at("model", None), phones) if d.at("model", None).value is not None else None
        status = d.at("status", "pending").str()
        if status not in ("pending", "detected", "failed"):
            d.at("status").fail("expected pending, detected or failed")
        created = d.at("created").time()
        world.detections[d.at("code").str(False)] = Detection(
            d.at("code").str(), _owner(d, names), d.at("phone_number").str(False), created,
            d.at("expires").time(), status, model, d.at("user_agent", None).opt_str(), created)
    for number, ref in doc.at("handsets", {}).pairs():
        world.handsets[number] = _model(ref, phones)
    for number, p in doc.at("phone_states", {}).pairs():
        p.known("installed", "answers")
        world.phone_states[number] = PhoneState(
            number, {i.str() for i in p.at("installed", []).items()},
            {int(k): _one_of(v, "visited", "accepted", "rejected") for k, v in p.at("answers", {}).pairs()
             if _is_int(k, v)})
    for number, config in doc.at("autopilots", {}).pairs():
        try:
            world.set_autopilot(number, config.obj().value)
        except Invalid as exc:
            config.fail(str(exc))
    scheduled = set()
    for s in doc.at("schedule", []).items():
        entry = s.value
        if not (isinstance(entry, list) and len(entry) == 6):
            s.fail("expected [due, message id, kind, number, action, user agent]")
        # Checked field by field: the schedule is a heap of tuples, compared whole, and run
        # on every later request, so one bad entry would break every request after it.
        s.at(0).seconds(-MAX_INT, MAX_INT)
        message_id = s.at(1).int()
        if message_id in scheduled:
            s.at(1).fail(f"message {message_id} is scheduled twice")
        scheduled.add(message_id)
        if s.at(2).str() not in ("detection-link", "setup-sms", "server-alert"):
            s.at(2).fail("expected detection-link, setup-sms or server-alert")
        s.at(3).str(False)
        if s.at(4).opt_str() not in (None, "visit", "accept", "reject"):
            s.at(4).fail("expected visit, accept, reject or null")
        s.at(5).opt_str()
        world.schedule.append(tuple(entry))
    heapq.heapify(world.schedule)  # a document written by hand need not be in heap order
    for s in doc.at("sessions", []).items():
        world.sessions.append(_load_session(s, names))
    for m in doc.at("chatlog", []).items():
        m.known("session", "number", "direction", "time", "xml")
        world.chatlog.append(ChatMessage(m.at("session").int(), m.at("number").int(),
                                         _one_of(m.at("direction"), "from-phone", "to-phone"),
                                         m.at("time").time(), m.at("xml").str()))
    for t in doc.at("request_tokens", []).items():
        t.known("token", "secret", "consumer_key", "callback", "created", "user", "verifier")
        world.request_tokens[t.at("token").str(False)] = RequestToken(
            t.at("token").str(), t.at("secret").str(), t.at("consumer_key").str(), t.at("callback").str(),
            t.at("created").time(), t.at("user", None).opt_str(), t.at("verifier", None).opt_str())
    for t in doc.at("issued_tokens", []).items():
        t.known("user", "token", "secret", "consumer_key")
        user = world.users.get(t.at("user").str())
        if user is None:
            t.at("user").fail("names unknown user")
        issued = dataclasses.replace(user, token=t.at("token").str(False), token_secret=t.at("secret").str(False),
                                     consumer_key=t.at("consumer_key").str(False))
        world.users_by_token[issued.token] = issued
        world.issued_tokens.append(issued.token)

    # Counters continue after the highest id in the document.
    world._setup_numbers = itertools.count(max((r.number for r in world.setups), default=0) + 1)
    world._message_ids = itertools.count(max((m.id for m in world.outbox), default=0) + 1)
    world._session_ids = itertools.count(max((s.id for s in world.sessions), default=0) + 1)
    world._binding_ids = itertools.count(max(world.bindings, default=0) + 1)
    world.index_expiry()
    return world


def _is_int(key: str, reader: _Reader) -> bool:
    # ASCII digits and bounded before int(): "²" is a digit int() refuses, and 5,000 digits
    # are past its limit; either would escape as a ValueError instead of naming the key.
    if not (key.isascii() and key.isdigit() and len(key) <= len(str(MAX_INT)) and int(key) <= MAX_INT):
        reader.fail(f"answers are keyed by message id (an integer up to {MAX_INT}), not {key[:40]!r}")
    return True


def _one_of(reader: _Reader, *choices: str) -> str:
    # Closed sets: a token's type_tag becomes an XML element name, a sync_type a SyncML alert
    # code; another value would fail when rendered, long after the document was accepted.
    value = reader.str()
    if value not in choices:
        reader.fail(f"expected {', '.join(choices[:-1])} or {choices[-1]}")
    return value


def _unique(reader: _Reader, values: list, what: str) -> None:
    seen = set()
    for v in values:
        if v in seen:
            reader.fail(f"duplicate {what} {v!r}")
        seen.add(v)


def _owner(reader: _Reader, names: set) -> str:
    owner = reader.at("owner").str(False)
    if owner not in names:
        reader.at("owner").fail(f"names unknown user {owner!r}")
    return owner


def _model(reader: _Reader, phones: PhonesDB):
    value = reader.value
    model = phones.model(str(value)) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    if model is None:
        reader.fail(f"unknown phone model {value!r}")
    return model


def _client(c: _Reader, phones: PhonesDB, names: set):
    kind = c.at("kind").str()
    if kind not in KINDS:
        c.at("kind").fail(f"expected one of {', '.join(KINDS)}")
    common = dict(uuid=c.at("uuid").str(False).lower(), owner=_owner(c, names), published=c.at("published").time())
    common["updated"] = c.at("updated", c.at("published").value).time()
    base = ("kind", "uuid", "owner", "published", "updated")
    if kind == "gdata":
        c.known(*base, "user_id", "datastores")
        stores = []
        for d in c.at("datastores", []).items():
            d.known("dataclass", "href", "name", "token")
            token = None
            t = d.at("token", None)
            if t.value is not None:
                t.known("type", "key", "secret", "scopes", "type_tag")
                token = Token(t.at("type", 2).int(), t.at("key", None).opt_str(), t.at("secret", None).opt_str(),
                              [s.str() for s in t.at("scopes", []).items()],
                              _one_of(t.at("type_tag", "type"), "type", "token_type"))
            dataclass = d.at("dataclass").str(False)
            stores.append(GDataDatastore(dataclass, d.at("href").str(False), d.at("name", dataclass).str(), token))
        return GDataClient(user_id=c.at("user_id").str(False), datastores=stores, **common)
    if kind == "syncml":
        c.known(*base, "phone_number", "model_uuid", "timezone", "imei", "setup", "datastores")
        from ocss_testkit.services.syncml.state import valid_timezone
        ref = c.at("model_uuid")
        model = _model(ref, phones)
        timezone = c.at("timezone", "UTC").str()
        if not valid_timezone(timezone):
            c.at("timezone").fail(f"unknown timezone {timezone!r}")
        setup = c.at("setup", {}).known("sent", "name")
        return SyncMLClient(
            phone_number=c.at("phone_number").str(False), model_ref=str(ref.value), model=model, timezone=timezone,
            imei=c.at("imei", "").str(), setup_sent=setup.at("sent", None).opt_time(),
            setup_name=setup.at("name", "").str(),
            datastores=[SyncMLDatastore(d.known("dataclass", "name").at("dataclass").str(False), d.at("name").str())
                        for d in c.at("datastores", []).items()], **common)
    if kind == "activesync":
        c.known(*base, "username", "password")
        return ActiveSyncClient(username=c.at("username").str(False), password=c.at("password").str(), **common)
    c.known(*base, "name", "contents", "tombstones")
    client = DatastoreClient(name=c.at("name").str(False), contents=ContentStore(), **common)
    items = [_item(i, deleted=False) for i in c.at("contents", []).items()]
    items += [_item(i, deleted=True) for i in c.at("tombstones", []).items()]
    client.contents.restore(items)
    return client


def _item(i: _Reader, deleted: bool) -> Item:
    i.known("id", "title", "data", "type", "dataclass", "created", "updated", "deleted")
    item = Item(i.at("id").str(False), i.at("title", "").str(), i.at("data", "").str(), i.at("type").str(False),
                i.at("dataclass").str(False), i.at("created").time(), i.at("updated").time(),
                i.at("deleted", None).opt_time())
    if deleted and item.deleted is None:
        i.at("deleted").fail("a tombstone needs its deletion time")
    if not deleted and item.deleted is not None:
        i.at("deleted").fail("a live item has no deletion time")
    return item


def _load_session(s: _Reader, names: set) -> Session:
    s.known("id", "client", "owner", "outcome", "started", "ended", "reason", "datastores")
    stores = tuple(SessionStore(d.known("dataclass", "name", "sync_type", "items_from_phone", "items_to_phone")
                                .at("dataclass").str(), d.at("name").str(),
                                _one_of(d.at("sync_type", "slow"), "slow", "two-way"),
                                d.at("items_from_phone", 0).int(), d.at("items_to_phone", 0).int())
                   for d in s.at("datastores", []).items())
    outcome = s.at("outcome").str()
    if outcome not in ("ok", "failed"):
        s.at("outcome").fail("expected ok or failed")
    return Session(s.at("id").int(), s.at("client").str(), _owner(s, names), s.at("started").time(),
                   s.at("ended").time(), outcome, s.at("reason", "").str(), stores)

