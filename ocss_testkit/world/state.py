"""The World as one JSON document, and back: the format of `GET/PUT/PATCH /_fake/state`,
of fixture sets (`fixtures/<name>/world.json` holds a partial one) and of state files.

This module keeps the envelope: version, clock, settings, consumers and users. Every
other member belongs to the service that owns it (`Service.slices`, `dump`, `load`), and
the World lists its services in the order they load.

`load(dump(world))` gives an equal World. `load` validates everything and raises Invalid
naming the JSON Pointer of the first problem, before the World is handed out: a bad
document never half-applies.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ocss_testkit.services.phones.database import PhonesDB
from ocss_testkit.world.clock import EARLIEST, LATEST, VirtualClock
from ocss_testkit.world.errors import Invalid
from ocss_testkit.world.state_reader import StateReader, unique
from ocss_testkit.world.text_rules import text_culprit
from ocss_testkit.world.users import User

if TYPE_CHECKING:
    from ocss_testkit.world.world import World

VERSION = 1
MAX_LIFETIME = 100 * 365 * 86400  # seconds: a century, as far as the clock may advance at once
# Members of the document no World reads: for people, editors and the fixture loader (phones).
ANNOTATIONS = ("$schema", "description", "phones")
ENVELOPE = ("version", "clock", "settings", "consumers", "users")


def dump(world: World) -> dict[str, Any]:
    """The whole document: the envelope, then each service's members."""
    document = dump_envelope(world)
    for service in world.services:
        document.update(service.dump())
    return document


def dump_envelope(world: World) -> dict[str, Any]:
    """The small members every service shares, written whole: version, clock, settings,
    consumers and users."""
    users = sorted(world.users.values(), key=lambda u: u.account_id)
    return {"version": VERSION, "clock": world.clock.state(), "settings": dict(world.settings),
            "consumers": [{"key": k, "secret": s} for k, s in sorted(world.consumers.items())],
            "users": [user_entry(u) for u in users]}


def user_entry(u: User) -> dict[str, Any]:
    return {"name": u.name, "account_id": u.account_id, "email": u.email, "consumer_key": u.consumer_key,
            "token": u.token, "token_secret": u.token_secret, "admin": u.admin,
            "may_detect_auto": u.may_detect_auto, "setup_profile": u.setup_profile}


def load(data: Any, phones: PhonesDB, world_factory: Callable[..., World], **world_options: Any) -> World:
    """A new World from a state document (fixture sets may leave most members out).

    Raises Invalid("state <JSON Pointer>: <problem>") for the first problem: a string or
    member name anywhere in the document that no answer could show (`text_problem`),
    checked first and in one place, then whatever the envelope and each service refuse."""
    culprit = text_culprit(data)
    if culprit is not None:
        pointer, what, problem = culprit
        raise Invalid(f"state {pointer or '/'}: the {what} holds {problem}: no answer could show it")
    doc = StateReader(data).obj()
    for name in ANNOTATIONS:
        doc.at(name, "-").str(name != "phones")
    version = doc.at("version", VERSION).int()
    if version != VERSION:
        doc.at("version").fail(f"unsupported state version {version} (this toolkit writes {VERSION})")
    consumers = _consumers(doc)
    users = _users(doc, consumers)
    settings = doc.at("settings", {}).known("detection_code_lifetime").value
    if "detection_code_lifetime" in settings:
        doc.at("settings").at("detection_code_lifetime").seconds(1, MAX_LIFETIME)
    world = world_factory(phones, users, consumers, clock=_clock(doc), settings=settings, **world_options)
    doc.known(*ANNOTATIONS, *ENVELOPE, *(s.name for _, s, _ in world.slices()))
    for service in world.services:
        service.load(doc)
    for service in world.services:
        service.loaded()
    for service in world.services:
        service.check()
    return world


def _consumers(doc: StateReader) -> dict[str, str]:
    consumers = {}
    for c in doc.at("consumers", []).items():
        c.known("key", "secret")
        consumers[c.at("key").str(False)] = c.at("secret").str(False)
    return consumers


def _users(doc: StateReader, consumers: dict[str, str]) -> list[User]:
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
    unique(doc.at("users", []), [u.name for u in users], "user name")
    unique(doc.at("users", []), [u.token for u in users], "access token")
    return users


def _clock(doc: StateReader) -> VirtualClock:
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
    return clock
