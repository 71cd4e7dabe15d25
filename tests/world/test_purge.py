"""Nothing that grows with traffic grows without bound (issue: detections, setup records
and OAuth tokens were never purged): expired detections and request tokens are purged on
the virtual clock when new ones are made, every store has a limit, and a purge is never
visible through the API (a purged code answers exactly as an expired one did)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from werkzeug.test import Client as WSGIClient

from ocss_testkit import make_app
from ocss_testkit.client import Credentials, SignedClient
from ocss_testkit.controls import ClockControl
from ocss_testkit.services.oauth.state import REQUEST_TOKEN_BYTES, REQUEST_TOKEN_LIFETIME
from ocss_testkit.services.phones.state import DEFAULT_CODE_LIFETIME, USER_AGENT_LIMIT
from ocss_testkit.world.errors import NotFound

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
T0 = datetime(2009, 11, 1, 12, 30, tzinfo=timezone.utc)
NOKIA_6233 = "Nokia6233/2.0 (05.60) Profile/MIDP-2.0 Configuration/CLDC-1.1"
DETECT = "/v2/phones/detect/manual/"


def detect_body(number: str) -> str:
    return f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><oc:phone_number>{number}</oc:phone_number></entry>'


def code_of(reply) -> str:
    from lxml import etree
    return etree.fromstring(reply.body).findtext(f".//{{{OC}}}code")


def answer(reply) -> tuple:
    """What a client sees, minus the request id."""
    return reply.status, reply.reason, reply.body, reply.headers.get("Content-Type")


@pytest.fixture
def frozen():
    app = make_app()
    ClockControl(app).freeze(T0)
    return app, SignedClient(app, Credentials.of(app, "alice"))


# --- detections ------------------------------------------------------------------------------------
def test_an_expired_code_answers_the_same_before_and_after_it_is_purged(frozen):
    app, alice = frozen
    code = code_of(alice.post(DETECT, detect_body("+4798765432")))
    page = WSGIClient(app)
    ClockControl(app).advance(DEFAULT_CODE_LIFETIME)
    assert code in app.world.detection.detections  # expired, not yet purged
    before = app.world.to_dict()
    expired = answer(alice.get(f"{DETECT}{code}/"))
    expired_page = page.get(f"/d/{code}", headers={"User-Agent": NOKIA_6233})
    assert app.world.to_dict() == before  # looking purges nothing: a read changes no state
    assert expired[0] == 400 and b"expired" in expired[2] and code.encode() in expired[2]

    assert alice.post(DETECT, detect_body("+4798765433")).status == 201  # creating one purges
    assert code not in app.world.detection.detections
    assert code not in {d["code"] for d in app.world.to_dict()["detections"]}
    assert answer(alice.get(f"{DETECT}{code}/")) == expired
    purged_page = page.get(f"/d/{code}", headers={"User-Agent": NOKIA_6233})
    assert (purged_page.status, purged_page.get_data()) == (expired_page.status, expired_page.get_data())
    assert purged_page.status_code == 404
    # and a code never issued answers the same way, naming its own code
    never = answer(alice.get(f"{DETECT}no-such-code/"))
    assert never[:2] == expired[:2] and never[2].replace(b"no-such-code", code.encode()) == expired[2]


def test_live_codes_are_kept_and_only_expired_ones_purged(frozen):
    app, alice = frozen
    old = code_of(alice.post(DETECT, detect_body("+4798765400")))
    ClockControl(app).advance(DEFAULT_CODE_LIFETIME - 10)
    young = code_of(alice.post(DETECT, detect_body("+4798765401")))
    ClockControl(app).advance(10)  # old has just expired, young has an hour left
    assert alice.post(DETECT, detect_body("+4798765402")).status == 201
    assert old not in app.world.detection.detections and young in app.world.detection.detections
    assert alice.get(f"{DETECT}{young}/").status == 200


def test_purging_is_amortised_and_keeps_the_store_bounded(frozen):
    app, alice = frozen
    world = app.world
    peak = 0
    with world.lock:
        for n in range(600):
            world.detection.detect_manual(world.users["alice"], f"+47{n:08d}", "http://x/d/{code}")
            if n % 50 == 49:
                world.clock.advance(DEFAULT_CODE_LIFETIME / 2)  # each code lives two rounds
            peak = max(peak, len(world.detection.detections), len(world.detection._detection_expiry))
    assert peak <= 150  # at most three rounds of 50 at once: never the 600 made
    assert len(world.detection._detection_expiry) == len(world.detection.detections)


def test_at_most_the_limit_of_live_detections_the_oldest_dropped_first(frozen):
    app, alice = frozen
    app.world.detection.detection_limit = 3
    codes = [code_of(alice.post(DETECT, detect_body(f"+479876540{n}"))) for n in range(5)]
    assert list(app.world.detection.detections) == codes[2:]
    dropped = answer(alice.get(f"{DETECT}{codes[0]}/"))
    assert dropped[0] == 400 and b"unknown or has expired" in dropped[2]
    assert alice.get(f"{DETECT}{codes[4]}/").status == 200


def test_a_visiting_browser_user_agent_is_kept_only_up_to_the_limit(frozen):
    app, alice = frozen
    code = code_of(alice.post(DETECT, detect_body("+4798765432")))
    long_agent = NOKIA_6233 + " x" * 5000
    page = WSGIClient(app).get(f"/d/{code}", headers={"User-Agent": long_agent})
    assert page.status_code == 200
    detection = app.world.detection.detections[code]
    assert detection.status == "detected" and detection.model.id is not None  # identified from all of it
    assert detection.user_agent == long_agent[:USER_AGENT_LIMIT]


# --- setup records -----------------------------------------------------------------------------------
def test_setup_records_are_bounded_like_the_outbox():
    app = make_app(outbox_limit=5)
    world = app.world
    alice = world.users["alice"]
    with world.lock:
        client = world.syncml.create_client(alice, "+4798765432", "242")
        numbers = [world.syncml.send_setup(alice, client.uuid, f"{n:04d}").number for n in range(8)]
    assert numbers == list(range(1, 9))
    assert [r.number for r in world.syncml.setups] == numbers[-5:]  # the oldest dropped first
    assert len(world.outbox) == 5
    document = world.to_dict()
    assert [s["number"] for s in document["setups"]] == numbers[-5:]
    again = type(world).from_dict(document, world.phones, outbox_limit=5)
    with again.lock:  # numbering goes on after a reload
        assert again.syncml.send_setup(again.users["alice"], client.uuid, "9999").number == 9


# --- OAuth request tokens and issued access tokens ---------------------------------------------------
def test_expired_and_spent_request_tokens_are_purged_when_new_ones_are_issued(frozen):
    app, _ = frozen
    world = app.world
    with world.lock:
        expiring = world.tokens.issue_request_token("demo-consumer-key", "oob")
        spent = world.tokens.issue_request_token("demo-consumer-key", "oob")
        world.tokens.approve_request_token(spent.token, "bob")
        world.tokens.exchange_request_token(spent.token)
        world.clock.advance(REQUEST_TOKEN_LIFETIME + 1)
        with pytest.raises(NotFound) as expired:
            world.tokens.request_token(expiring.token)
        assert expiring.token in world.tokens.request_tokens  # expired, not yet purged
        fresh = world.tokens.issue_request_token("demo-consumer-key", "oob")
        assert list(world.tokens.request_tokens) == [fresh.token]
        with pytest.raises(NotFound) as purged:
            world.tokens.request_token(expiring.token)
    assert str(purged.value) == str(expired.value) == "unknown or expired request token"
    assert [e for _, e in world.tokens._request_token_expiry] == [fresh.token]


def test_request_tokens_are_bounded_in_count_and_bytes(frozen):
    app, _ = frozen
    world = app.world
    world.tokens.request_token_limit = 4
    with world.lock:
        tokens = [world.tokens.issue_request_token("demo-consumer-key", "oob").token for _ in range(6)]
        assert list(world.tokens.request_tokens) == tokens[2:]
        world.tokens.request_token_limit = 10_000
        heavy = "http://127.0.0.1/" + "c" * 200_000  # a callback as long as a header may be
        for _ in range(100):
            world.tokens.issue_request_token("demo-consumer-key", heavy)
        held = sum(rt.weight for rt in world.tokens.request_tokens.values())
    assert held <= REQUEST_TOKEN_BYTES
    assert 10 < len(world.tokens.request_tokens) < 100


def test_access_tokens_issued_by_the_flow_are_bounded_the_oldest_revoked(frozen):
    app, _ = frozen
    world = app.world
    world.tokens.issued_token_limit = 2
    with world.lock:
        issued = []
        for _ in range(3):
            rt = world.tokens.issue_request_token("demo-consumer-key", "oob")
            world.tokens.approve_request_token(rt.token, "bob")
            issued.append(world.tokens.exchange_request_token(rt.token))
    assert list(world.tokens.issued_tokens) == [u.token for u in issued[1:]]
    consumer = ("demo-consumer-key", "demo-consumer-secret")
    revoked = SignedClient(app, Credentials(*consumer, issued[0].token, issued[0].token_secret))
    kept = SignedClient(app, Credentials(*consumer, issued[2].token, issued[2].token_secret))
    refused = revoked.get("/v2/services/syncml/")
    assert refused.status == 401 and "unknown access token" in refused.text
    assert kept.get("/v2/services/syncml/").status == 200
    assert SignedClient(app, Credentials.of(app, "bob")).get("/v2/services/syncml/").status == 200  # fixtures stay
    assert [t["token"] for t in world.to_dict()["issued_tokens"]] == [u.token for u in issued[1:]]


def test_a_long_run_leaves_a_small_state(frozen):
    """The run of the issue (10k detections, 5k setups, 5k request tokens), scaled down:
    with the virtual clock moving, the state keeps only what is still live."""
    app, _ = frozen
    world = app.world
    alice = world.users["alice"]
    with world.lock:
        client = world.syncml.create_client(alice, "+4798765432", "242")
        for n in range(2000):
            world.detection.detect_manual(alice, f"+47{n:08d}", "http://x/d/{code}")
            world.syncml.send_setup(alice, client.uuid, "1234")
            world.tokens.issue_request_token("demo-consumer-key", "oob")
            if n % 100 == 99:
                world.clock.advance(REQUEST_TOKEN_LIFETIME)
    document = world.to_dict()
    assert len(document["detections"]) <= 700  # live: the last hour of virtual time
    assert len(document["request_tokens"]) <= 200  # live: the last ten minutes
    assert len(document["setups"]) == len(document["outbox"]) == 1000  # the outbox limit


def test_numbers_learned_by_detection_are_bounded_the_fixture_ones_kept(frozen):
    app, alice = frozen
    world = app.world
    document = world.to_dict()
    document["handsets"] = {"+4711111111": 242}  # as a fixture set or a state file seeds them
    app.replace_state(document)
    world = app.world
    seeded = dict(world.detection.handsets)
    assert len(seeded) == 1
    world.detection.handset_limit = 3
    with world.lock:
        for n in range(5):
            world.detection.detect_manual(world.users["alice"], f"+4790000{n:03d}", "http://x/d/{code}")
            world.simulated_phones.visit(f"+4790000{n:03d}", NOKIA_6233)
    learned = [f"+4790000{n:03d}" for n in range(2, 5)]
    assert dict(world.detection.handsets) == {**seeded, **{n: world.detection.handsets[n] for n in learned}}
    assert len(world.detection.handsets) == len(seeded) + 3
