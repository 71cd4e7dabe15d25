"""Every request/response example of seeds 001 and 003, replayed verbatim over real HTTP.

The doc examples are the only recordings of the real server. Each one is sent as written
(method, path, headers, body; Host and Content-Length set by the client), signed by an
independent OAuth client as `admin` (account id 1, the account the docs were recorded
with), against a world holding what the recording implies existed. The answer must have
the documented status and reason phrase, and a body with the same elements, attributes,
text and order once uuids, timestamps and the host are normalized. Our body must also
validate against the response schema.
"""
from __future__ import annotations

import dataclasses

import pytest
import requests
from authlib.integrations.requests_client import OAuth1Auth
from lxml import etree
from requests_oauthlib import OAuth1

from contracts.doc_examples import load_index, load_message
from contracts.harness.docs import doc_recordings
from contracts.harness.snapshots import DOC_HOST, Normalizer, View, compare, record
from ocss_testkit.atom.schemas import schemas

EXCHANGES = {e["id"]: e for e in load_index()}
DOC_RECORDINGS = doc_recordings()  # the docs' answers normalized, as the contract suite keeps them
SETUP_NUMBER = View(regex=((r"/setup/\d+/", "/setup/<n>/"),))  # a counter of the account's setups

# --- preconditions: what the recording implies existed ----------------------------------
GDATA_51579 = {
    "kind": "gdata", "uuid": "51579fd6-01a5-11de-8505-002215064801", "owner": "admin",
    "user_id": "some_user@gmail.com", "published": "2009-02-23T13:27:21Z",
    "datastores": [{"dataclass": "Calendar", "name": "Calendar",
                    "href": "http://google_something.com/some_user@gmail.com#Test",
                    "token": {"type": 2, "type_tag": "token_type", "key": "secret_key",
                              "secret": "secret_secret",
                              "scopes": ["http://google_something.com/some_user@gmail.com/calendar#Test"]}}],
}
SYNCML_3FE85584 = {
    "kind": "syncml", "uuid": "3fe85584-12d9-11de-b2ce-002215064801", "owner": "admin",
    "phone_number": "+4790066951", "model_uuid": "242", "timezone": "Europe/Oslo",
    "published": "2009-03-17T10:51:55Z", "updated": "2009-03-18T09:41:52Z",
    "setup": {"sent": "2009-03-17T14:01:01Z", "name": "SyncServer"},
    "datastores": [{"dataclass": "Calendar", "name": "Calendar"}, {"dataclass": "Contacts", "name": "Contacts"},
                   {"dataclass": "Calendar", "name": "cal.vcs"}],
}
SYNCML_51D49C2C = {
    "kind": "syncml", "uuid": "51d49c2c-3006-11de-afd4-002215064801", "owner": "admin",
    "phone_number": "+4790066952", "model_uuid": "56", "timezone": "Europe/Oslo",
    "published": "2009-04-23T10:00:00Z",
}


def seed(world, *specs):
    with world.lock:
        for spec in specs:
            world.clients.add(world.clients.from_entry(spec))


def forget_gdata_user(world, user_id):
    with world.lock:
        for uuid in [c.uuid for c in world.clients.values() if getattr(c, "user_id", None) == user_id]:
            world.clients.remove(world.clients[uuid])


def with_setup_profile(world, user, profile):
    with world.lock:
        u = dataclasses.replace(world.users[user], setup_profile=profile)
        world.users[user] = world.users_by_token[u.token] = u


PRECONDITIONS = {
    "gdata-list": lambda w: None,  # the demo world holds 001's listed client
    "gdata-get": lambda w: None,
    "gdata-create": lambda w: forget_gdata_user(w, "some_user@gmail.com"),
    "gdata-update": lambda w: (forget_gdata_user(w, "some_user@gmail.com"), seed(w, GDATA_51579)),
    "gdata-delete": lambda w: (forget_gdata_user(w, "some_user@gmail.com"), seed(w, GDATA_51579)),
    "syncml-list": lambda w: None,  # the demo world holds 003's two listed clients
    "syncml-get": lambda w: seed(w, SYNCML_3FE85584),
    "syncml-create": lambda w: None,
    "syncml-delete": lambda w: seed(w, SYNCML_3FE85584),
    # 003's setup answer names the profile "Mobile Backup": that account's profile name.
    "syncml-setup": lambda w: (seed(w, SYNCML_51D49C2C), with_setup_profile(w, "admin", "Mobile Backup")),
    "syncml-sync": lambda w: seed(w, SYNCML_51D49C2C),
}

ADMIN = ("demo-consumer-key", "demo-consumer-secret", "admin-access-token", "admin-access-secret")
SIGNERS = {
    "requests-oauthlib": lambda: OAuth1(*ADMIN),
    "authlib": lambda: OAuth1Auth(ADMIN[0], ADMIN[1], token=ADMIN[2], token_secret=ADMIN[3]),
}


def test_every_doc_exchange_has_a_precondition():
    assert set(PRECONDITIONS) == set(EXCHANGES)
    assert len(EXCHANGES) == 11


@pytest.mark.parametrize("signer", sorted(SIGNERS))
@pytest.mark.parametrize("exchange_id", sorted(EXCHANGES))
def test_replay(fake, exchange_id, signer):
    exchange = EXCHANGES[exchange_id]
    PRECONDITIONS[exchange_id](fake.app.world)
    request_line, headers, body = load_message(exchange_id, "request")
    method, path, _ = request_line.split(" ")
    sent = {k: v for k, v in headers if k.lower() not in ("host", "content-length")}

    reply = requests.request(method, fake.url + path, data=body or None, headers=sent,
                             auth=SIGNERS[signer](), allow_redirects=False, timeout=10)

    expected, _ = DOC_RECORDINGS[exchange_id]
    actual = record(reply.status_code, reply.reason, reply.headers, reply.content,
                    Normalizer(base_urls=(fake.url, DOC_HOST)), view=SETUP_NUMBER)
    differences = compare(SETUP_NUMBER.expected(expected), actual)
    assert differences == [], "\n".join(differences)
    if reply.content.strip():
        schemas("response").validate(exchange["response_schema"], etree.fromstring(reply.content))
    else:
        assert reply.content == b""


def test_replay_with_base_url_reproduces_the_doc_host(app, wsgi):
    """With --base-url set to the real host, ids and links read exactly as in the docs."""
    app.base_url = DOC_HOST + "/"  # also the URL signatures are checked against: wsgi() signs for it
    reply = wsgi("admin").get("/v2/services/google/4f1d2dd0-49e4-11de-b387-002215064801/")
    assert reply.status == 200
    _, _, doc_body = load_message("gdata-get", "response")
    doc = etree.fromstring(doc_body)
    ours = etree.fromstring(reply.body)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert ours.findtext("a:id", namespaces=ns) == doc.findtext("a:id", namespaces=ns)
    assert [link.attrib for link in ours.findall("a:link", ns)] == [link.attrib for link in doc.findall("a:link", ns)]
