"""The string-template renderers write the very bytes the element-tree renderers wrote.

`tests/render_reference.py` keeps the renderers the fake used before (lxml's element
factory, then `tostring(encoding="utf-8", pretty_print=True)`). Every renderer of the
services' `atom.py` modules (and the escaping of `ocss_testkit.atom.writer`) is compared
with its former self:

- over randomized worlds (hypothesis, derandomized: a fixed seed, no example database, a
  bounded number of examples): users, clients of every kind, bindings, datastore items and
  tombstones, sessions, chatlog messages, detections, setup records and a phones database,
  whose strings mix what XML escapes (`& < > " ' \\r \\n \\t`), non-ASCII and astral
  characters, empty strings, and now and then a character XML cannot hold (both must then
  refuse, with ValueError);
- exhaustively for escaping: every code point, as element text and as attribute value.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from lxml import etree

from ocss_testkit.atom import client_entries, writer
from ocss_testkit.services.activesync import atom as activesync_atom
from ocss_testkit.services.activesync.state import ActiveSyncClient
from ocss_testkit.services.clients import atom as clients_atom
from ocss_testkit.services.clients.state import Binding
from ocss_testkit.services.datastore import atom as datastore_atom
from ocss_testkit.services.datastore.contents import Item
from ocss_testkit.services.datastore.state import DatastoreClient
from ocss_testkit.services.gdata import atom as gdata_atom
from ocss_testkit.services.gdata.state import GDataClient, GDataDatastore, Token
from ocss_testkit.services.phones import atom as phones_atom
from ocss_testkit.services.phones.database import Model, PhonesDB, Vendor
from ocss_testkit.services.phones.state import Detection
from ocss_testkit.services.syncml import atom as syncml_atom
from ocss_testkit.services.syncml.sessions import ChatMessage, Session, SessionStore, exchange
from ocss_testkit.services.syncml.state import SetupRecord, SyncMLClient, SyncMLDatastore
from ocss_testkit.world.users import User
from tests import render_reference as old

EXAMPLES = 100
# No shrinking: a failure names the renderer and shows both bodies, and shrinking a world
# can take minutes; the test stays bounded in time whatever happens.
BOUNDED = settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True, print_blob=False,
                   phases=[Phase.explicit, Phase.generate],
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- strategies -----------------------------------------------------------------------------
_SPECIAL = "&<>\"'\r\n\t ;#"
_WIDE = "éø日本\u0085\u2028\u00a0\ufffd\ue000😀\U0010ffff"
_NOT_XML = "\x00\x01\x0b\x1f\ufffe\uffff\ud800"
plain_text = st.text(alphabet=st.sampled_from("abcXYZ019-_./:+@" + _SPECIAL + _WIDE), max_size=12)
# One value in 50 holds a character XML 1.0 cannot hold: both renderers must refuse it.
any_text = st.tuples(st.integers(0, 49), plain_text, st.sampled_from(_NOT_XML), plain_text).map(
    lambda t: t[1] + t[2] + t[3] if t[0] == 0 else t[1])
_ZONES = [timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-9, minutes=-30))]
moments = st.builds(lambda seconds, zone: datetime.fromtimestamp(seconds, timezone.utc).astimezone(zone),
                    st.integers(0, 253402300799 - 86400), st.sampled_from(_ZONES))
bases = st.sampled_from(["http://127.0.0.1:8080/", "http://localhost/t/ci-1/", "http://[::1]:9/",
                         "http://h/a&b/", 'http://h/"q"/', "http://h/<x>/", "http://xn--bcher-kva.example/"])
ids = st.integers(0, 2 ** 53 - 1)


@st.composite
def users(draw, name: str | None = None) -> User:
    return User(name if name is not None else draw(any_text), draw(st.integers(0, 10 ** 6)), draw(any_text),
                "ck", "tk", "ts")


@st.composite
def syncml_clients(draw, owner: str, model: Model) -> SyncMLClient:
    return SyncMLClient(draw(any_text), owner, draw(any_text), draw(any_text), model, draw(any_text),
                        draw(any_text), draw(moments), draw(moments), draw(st.none() | moments),
                        draw(any_text),
                        draw(st.lists(st.builds(SyncMLDatastore, any_text, st.none() | any_text), max_size=3)))


tokens = st.builds(Token, st.integers(-5, 10 ** 9), st.none() | any_text, st.none() | any_text,
                   st.lists(any_text, max_size=3), st.sampled_from(["type", "token_type"]))


@st.composite
def gdata_clients(draw, owner: str) -> GDataClient:
    stores = draw(st.lists(st.builds(GDataDatastore, any_text, any_text, any_text, st.none() | tokens), max_size=3))
    return GDataClient(draw(any_text), owner, draw(any_text), stores, draw(moments), draw(moments))


@st.composite
def activesync_clients(draw, owner: str) -> ActiveSyncClient:
    return ActiveSyncClient(draw(any_text), owner, draw(any_text), draw(any_text), draw(moments), draw(moments))


@st.composite
def datastore_clients(draw, owner: str) -> DatastoreClient:
    return DatastoreClient(draw(any_text), owner, draw(any_text), draw(moments), draw(moments))


@st.composite
def items(draw) -> Item:
    return Item(draw(any_text), draw(any_text), draw(any_text), draw(any_text), draw(any_text), draw(moments),
                draw(moments), draw(st.none() | moments))


@st.composite
def chat_messages(draw) -> ChatMessage:
    """A chatlog message kept as data (any message of a session's exchange), or one
    recorded as text by a state document written before."""
    outcome = draw(st.sampled_from(["ok", "failed"]))
    stores = draw(st.lists(st.builds(SessionStore, any_text, any_text, st.sampled_from(["slow", "two-way"]),
                                     st.integers(0, 9), st.integers(0, 9)), max_size=3))
    directions = exchange(outcome)
    number = draw(st.integers(1, len(directions)))
    return ChatMessage(draw(ids), number, directions[number - 1], draw(moments), draw(any_text), outcome,
                       tuple(stores), draw(st.none() | any_text))


@st.composite
def sessions(draw) -> Session:
    stores = draw(st.lists(st.builds(SessionStore, any_text, any_text, any_text, st.integers(0, 9),
                                     st.integers(0, 9)), max_size=3))
    return Session(draw(ids), draw(any_text), draw(any_text), draw(moments), draw(moments), draw(any_text),
                   draw(any_text), tuple(stores))


@st.composite
def phone_dbs(draw) -> PhonesDB:
    vendors = [Vendor(i, draw(any_text), draw(any_text), draw(any_text)) for i in range(draw(st.integers(1, 3)))]
    models = [Model(100 + i, draw(any_text), draw(any_text), draw(st.sampled_from(vendors)).id, draw(any_text),
                    (), draw(st.booleans()), ()) for i in range(draw(st.integers(0, 4)))]
    return PhonesDB(vendors, models, draw(moments))


@st.composite
def worlds(draw) -> dict:
    """What one render needs: an owner (and another user), clients of every kind, and the rest."""
    db = draw(phone_dbs())
    owner = draw(users())
    others = {owner.name: owner}
    models = list(db.models.values()) or [Model(1, "u", "Nokia & Co <5310>", next(iter(db.vendors)), "i", (),
                                                False, ())]
    clients = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["syncml", "gdata", "activesync", "datastore"]))
        if kind == "syncml":
            clients.append(draw(syncml_clients(owner.name, draw(st.sampled_from(models)))))
        elif kind == "gdata":
            clients.append(draw(gdata_clients(owner.name)))
        elif kind == "activesync":
            clients.append(draw(activesync_clients(owner.name)))
        else:
            clients.append(draw(datastore_clients(owner.name)))
    return {
        "base": draw(bases), "now": draw(moments), "db": db, "owner": owner, "owners": others, "clients": clients,
        "bindings": draw(st.lists(st.builds(Binding, ids, st.just(owner.name), any_text, any_text, any_text,
                                            moments, moments), max_size=3)),
        "rows": draw(st.lists(st.tuples(items(), st.none() | st.sampled_from(["insert", "update", "delete"])),
                              max_size=3)),
        "sessions": draw(st.lists(sessions(), max_size=3)),
        "messages": draw(st.lists(chat_messages(), max_size=3)),
        "detection": Detection(draw(any_text), owner.name, draw(any_text), draw(moments), draw(moments),
                               draw(st.sampled_from(["pending", "detected", "failed"])),
                               draw(st.none() | st.sampled_from(models)), None, draw(st.none() | moments)),
        "setup": SetupRecord(draw(st.integers(1, 10 ** 6)), draw(any_text), draw(any_text), draw(moments),
                             draw(any_text)),
        "feed_url": draw(st.sampled_from(["http://h/v2/x/", "http://h/&amp;/"])), "title": draw(any_text),
    }


# --- comparing ------------------------------------------------------------------------------
def same(reference, template) -> None:
    """`template()` returns the bytes `serialize(reference())` does, or both raise ValueError
    (a value XML cannot hold; lxml raises a UnicodeEncodeError, a ValueError, for a lone surrogate)."""
    try:
        expected = old.serialize(reference())
    except ValueError:
        with pytest.raises(ValueError):
            template()
        return
    assert template() == expected


def renders(w: dict):
    """(name, reference renderer, template renderer) for every body the fake writes."""
    base, now, db, owner, owners = w["base"], w["now"], w["db"], w["owner"], w["owners"]
    clients = w["clients"]
    syncml = [c for c in clients if c.kind == "syncml"]
    gdata = [c for c in clients if c.kind == "gdata"]
    activesync = [c for c in clients if c.kind == "activesync"]
    stores = [c for c in clients if c.kind == "datastore"]
    yield "syncml feed", lambda: old.syncml_feed(base, syncml, owners, now), \
        lambda: syncml_atom.syncml_feed(base, syncml, owners, now)
    yield "gdata feed", lambda: old.gdata_feed(base, gdata, owners, now), \
        lambda: gdata_atom.gdata_feed(base, gdata, owners, now)
    for client in syncml:
        yield "syncml entry", lambda c=client: old.syncml_entry(base, c, owner), \
            lambda c=client: syncml_atom.syncml_entry(base, c, owner)
    for client in gdata:
        for shape in (gdata_atom.GDATA_LIST, gdata_atom.GDATA_ECHO, gdata_atom.GDATA_TEXT):
            yield f"gdata entry {shape}", lambda c=client, s=shape: old.gdata_entry(base, c, owner, s), \
                lambda c=client, s=shape: gdata_atom.gdata_entry(base, c, owner, s)
    yield "setup entry", lambda: old.setup_entry(base, w["setup"]), lambda: syncml_atom.setup_entry(base, w["setup"])
    for client in clients:
        yield "any client entry", lambda c=client: old.any_client_entry(base, c, owner), \
            lambda c=client: clients_atom.any_client_entry(base, c, owner)
    for listed, old_entry, new_write in ((clients, old.any_client_entry, clients_atom.write_any_client_entry),
                                         (activesync, old.activesync_entry, activesync_atom.write_activesync_entry),
                                         (stores, old.datastore_entry, datastore_atom.write_datastore_entry)):
        yield "kind feed", \
            lambda cs=listed, e=old_entry: old.kind_feed(base, w["feed_url"], w["title"], cs, owners, e, now), \
            lambda cs=listed, e=new_write: client_entries.kind_feed(base, w["feed_url"], w["title"], cs, owners, e,
                                                                    now)
    for client in activesync:
        yield "activesync entry", lambda c=client: old.activesync_entry(base, c, owner), \
            lambda c=client: activesync_atom.activesync_entry(base, c, owner)
    for client in stores:
        yield "datastore entry", lambda c=client: old.datastore_entry(base, c, owner), \
            lambda c=client: datastore_atom.datastore_entry(base, c, owner)
        yield "contents feed", lambda c=client: old.contents_feed(base, c, w["rows"], now), \
            lambda c=client: datastore_atom.contents_feed(base, c, w["rows"], now)
        for item, operation in w["rows"]:
            yield "content entry", lambda c=client, i=item, o=operation: old.content_entry(base, c, i, o), \
                lambda c=client, i=item, o=operation: datastore_atom.content_entry(base, c, i, o)
    yield "bindings feed", lambda: old.bindings_feed(base, w["bindings"], now), \
        lambda: clients_atom.bindings_feed(base, w["bindings"], now)
    for binding in w["bindings"]:
        yield "binding entry", lambda b=binding: old.binding_entry(base, b), \
            lambda b=binding: clients_atom.binding_entry(base, b)
    yield "sessions feed", lambda: old.sessions_feed(base, w["sessions"], now), \
        lambda: syncml_atom.sessions_feed(base, w["sessions"], now)
    for session in w["sessions"]:
        yield "session entry", lambda s=session: old.session_entry(base, s), \
            lambda s=session: syncml_atom.session_entry(base, s)
    yield "chatlog feed", lambda: old.chatlog_feed(base, w["feed_url"], w["messages"], now), \
        lambda: syncml_atom.chatlog_feed(base, w["feed_url"], w["messages"], now)
    yield "detection entry", lambda: old.detection_entry(base, w["detection"]), \
        lambda: phones_atom.detection_entry(base, w["detection"])
    yield "vendors feed", lambda: old.vendors_feed(base, db, now), lambda: phones_atom.vendors_feed(base, db, now)
    models = list(db.models.values())
    yield "models feed", lambda: old.models_feed(base, db, models, w["feed_url"], w["title"], now), \
        lambda: phones_atom.models_feed(base, db, models, w["feed_url"], w["title"], now)
    for vendor in db.vendors.values():
        yield "vendor entry", lambda v=vendor: old.vendor_entry(base, db, v, now), \
            lambda v=vendor: phones_atom.vendor_entry(base, db, v, now)
    for model in models:
        yield "model entry", lambda m=model: old.model_entry(base, db, m, now), \
            lambda m=model: phones_atom.model_entry(base, db, m, now)


@BOUNDED
@given(worlds())
def test_every_renderer_writes_the_bytes_of_its_element_tree_predecessor(world):
    for name, reference, template in renders(world):
        try:
            same(reference, template)
        except AssertionError as failure:
            raise AssertionError(f"{name}: {failure}") from None


def test_the_demo_world_renders_alike_for_every_user():
    """The fixture world itself, every route's body for every user (no hypothesis)."""
    from ocss_testkit.app import FakeApp

    world = FakeApp().world
    bodies = 0
    for user in world.users.values():
        sample = {"base": "http://127.0.0.1:8080/", "now": world.clock.now(), "db": world.phones, "owner": user,
                  "owners": world.users, "clients": world.clients.of_user(user),
                  "bindings": world.bindings.of_user(user), "rows": [],
                  "sessions": world.syncml_sessions.of_user(user), "messages": world.syncml_sessions.chat_messages(),
                  "detection": Detection("c0de", user.name, "+4790000000", world.clock.now(), world.clock.now()),
                  "setup": SetupRecord(1, "uuid", "1234", world.clock.now(), "SyncServer"),
                  "feed_url": "http://127.0.0.1:8080/v2/clients/", "title": "Clients"}
        for name, reference, template in renders(sample):
            assert template() == old.serialize(reference()), name
            bodies += 1
    assert bodies > 3 * 20  # the vendor and model entries of the whole phones database among them


# --- escaping, exhaustively ------------------------------------------------------------------
def _lxml_text(value: str) -> str:
    element = etree.Element("x")
    element.text = value
    return etree.tostring(element, encoding="utf-8").decode("utf-8")[3:-4]


def _lxml_attr(value: str) -> str:
    element = etree.Element("x", a=value)
    return etree.tostring(element, encoding="utf-8").decode("utf-8")[6:-3]


def _invalid(code: int) -> bool:
    return code < 0x20 and chr(code) not in "\t\n\r" or 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF)


def test_every_code_point_is_escaped_as_lxml_escapes_it():
    """Every character XML 1.0 allows, in runs of 512, as text and as attribute value."""
    valid = [chr(c) for c in range(0x110000) if not _invalid(c)]
    for start in range(0, len(valid), 512):
        run = "".join(valid[start:start + 512])
        assert writer.text(run) == _lxml_text(run), hex(ord(run[0]))
        assert writer.attr(run) == _lxml_attr(run), hex(ord(run[0]))


@pytest.mark.parametrize("code", [c for c in range(0x110000) if _invalid(c)][::7] + [0xFFFE, 0xFFFF, 0xDFFF])
def test_a_character_xml_cannot_hold_is_refused_as_lxml_refuses_it(code):
    value = f"a{chr(code)}b"
    for lxml_way, template_way in ((_lxml_text, writer.text), (_lxml_attr, writer.attr)):
        with pytest.raises(ValueError):
            lxml_way(value)
        with pytest.raises(ValueError):
            template_way(value)


def test_a_value_that_is_not_a_string_is_refused_as_lxml_refuses_it():
    for value in (12, 1.5, None):
        for lxml_way, template_way in ((_lxml_text, writer.text), (_lxml_attr, writer.attr)):
            if value is not None or lxml_way is _lxml_attr:  # text None is no text: `<x/>`
                with pytest.raises(TypeError):
                    lxml_way(value)
            with pytest.raises(TypeError):
                template_way(value)
