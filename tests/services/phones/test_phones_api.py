"""The phones API over real HTTP (routes I1–I4; SyncServer API Python interface, "Phones",
"Vendors", "Models").

Anonymous GETs of vendors and models (the doc's `len(vendor.models)` counts: HTC 26, Nokia 188,
LG 5, Sony Ericsson 84), models by numeric id or UUID, trailing slash or not, 404 for unknown
ids, and 405 with `Allow` for every write ("the phones API is read-only"). Driven by requests
and requests-oauthlib, independent of the toolkit's own client; every XML body is checked
against its response schema.
"""
from __future__ import annotations

import re
import uuid

import pytest
import requests
from lxml import etree
from requests_oauthlib import OAuth1

from ocss_testkit.atom.schemas import schemas

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
NS = {"a": ATOM, "oc": OC}
P = "/v2/phones/"
NOKIA_6233_UUID = "02978288-537f-102b-beff-000ea60275d1"
# 000, "Getting started": `print vendor.name, len(vendor.models)`, in this order, then "etc."
DOC_COUNTS = [("HTC", 26), ("Nokia", 188), ("LG", 5), ("Sony Ericsson", 84)]
TOTAL_MODELS = 369
PHONES_URLS = [P + "vendors/", P + "vendors/1/", P + "vendors/1/models/", P + "models/", P + "models/242/"]


def auth(user: str) -> OAuth1:
    return OAuth1("demo-consumer-key", "demo-consumer-secret", f"{user}-access-token", f"{user}-access-secret")


def get(fake, path: str, user: str | None = None, **kw) -> requests.Response:
    return requests.get(fake.url + path, auth=auth(user) if user else None, timeout=30, **kw)


def atom_root(reply: requests.Response, status: int = 200, reason: str = "OK") -> etree._Element:
    """The validated root of an Atom answer of the phones API."""
    assert (reply.status_code, reply.reason) == (status, reason), (reply.status_code, reply.reason, reply.text)
    assert reply.headers["Content-Type"].split(";")[0] == "application/atom+xml"
    root = etree.fromstring(reply.content)
    schemas("response").validate("phones", root)
    return root


def entries(feed: etree._Element) -> list[etree._Element]:
    return feed.findall("a:entry", NS)


def text(element: etree._Element, path: str) -> str:
    found = element.find(path, NS)
    assert found is not None, f"no {path} in {etree.tostring(element)[:300]!r}"
    return found.text or ""


def link(element: etree._Element, rel: str) -> etree._Element:
    found = element.findall(f"a:link[@rel='{rel}']", NS)
    assert len(found) == 1, f"{len(found)} {rel} links"
    return found[0]


def all_urls(root: etree._Element) -> list[str]:
    urls = [e.text for e in root.iter(f"{{{ATOM}}}id")]
    urls += [e.get("href") for e in root.iter(f"{{{ATOM}}}link")]
    urls += [e.get("src") for e in root.iter(f"{{{ATOM}}}content")]
    return urls


def assert_error(reply: requests.Response, status: int, reason: str, *needles: str) -> None:
    assert reply.status_code != 500, reply.text
    assert (reply.status_code, reply.reason) == (status, reason), (reply.status_code, reply.reason, reply.text)
    assert reply.headers["Content-Type"].startswith("text/plain")
    assert reply.text.startswith(f"{status} {reason}: "), reply.text
    assert "Traceback" not in reply.text
    for needle in needles:
        assert needle.lower() in reply.text.lower(), f"{needle!r} not in {reply.text!r}"


# --- I1: vendors ------------------------------------------------------------------------

def test_vendors_feed_is_anonymous_and_lists_the_documented_counts(fake):
    feed = atom_root(get(fake, P + "vendors/"))
    assert feed.tag == f"{{{ATOM}}}feed"
    assert text(feed, "a:id") == f"{fake.url}/v2/phones/vendors/"
    assert link(feed, "self").get("href") == f"{fake.url}/v2/phones/vendors/"
    assert text(feed, "a:title") == "Phone Vendors"
    assert text(feed, "a:author/a:name") == "ObexCode AS"
    vendors = [(text(e, "oc:vendor/oc:name"), int(text(e, "oc:vendor/oc:models"))) for e in entries(feed)]
    # the doc's four, in the doc's order, then "etc."
    assert vendors[:4] == DOC_COUNTS
    assert len(vendors) > 4
    assert sum(n for _, n in vendors) == TOTAL_MODELS
    for e in entries(feed):
        assert text(e, "a:title") == text(e, "oc:vendor/oc:name")


@pytest.mark.parametrize("name, count", DOC_COUNTS)
def test_each_vendors_models_feed_has_the_documented_number_of_entries(fake, name, count):
    feed = atom_root(get(fake, P + "vendors/"))
    vendor = next(e for e in entries(feed) if text(e, "oc:vendor/oc:name") == name)
    vendor_id = text(vendor, "oc:vendor/oc:id")
    models_url = link(vendor, "related").get("href")
    assert models_url == f"{fake.url}/v2/phones/vendors/{vendor_id}/models/"
    assert link(vendor, "related").get("title") == f"{name} models"
    models = atom_root(requests.get(models_url, timeout=30))
    assert text(models, "a:id") == models_url
    assert text(models, "a:title") == f"{name} models"
    assert len(entries(models)) == count == int(text(vendor, "oc:vendor/oc:models"))
    for model in entries(models):
        assert text(model, "oc:model/oc:vendor") == name
        assert text(model, "oc:model/oc:vendor_id") == vendor_id
        assert link(model, "related").get("href") == f"{fake.url}/v2/phones/vendors/{vendor_id}"


def test_every_vendors_models_feed_matches_its_count(fake):
    feed = atom_root(get(fake, P + "vendors/"))
    seen = set()
    for vendor in entries(feed):
        models = atom_root(requests.get(link(vendor, "related").get("href"), timeout=30))
        ids = {text(m, "oc:model/oc:id") for m in entries(models)}
        assert len(ids) == len(entries(models)) == int(text(vendor, "oc:vendor/oc:models"))
        assert not ids & seen
        seen |= ids
    assert len(seen) == TOTAL_MODELS


def test_vendor_entry(fake):
    entry = atom_root(get(fake, P + "vendors/1/"))
    assert entry.tag == f"{{{ATOM}}}entry"
    url = f"{fake.url}/v2/phones/vendors/1"
    assert text(entry, "a:id") == url
    assert link(entry, "self").get("href") == url
    assert link(entry, "alternate").get("href") == url
    assert entry.find("a:content", NS).get("src") == url
    assert text(entry, "a:title") == "Nokia"
    vendor = entry.find("oc:vendor", NS)
    assert text(vendor, "oc:id") == "1"
    assert text(vendor, "oc:name") == "Nokia"
    assert text(vendor, "oc:models") == "188"
    assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", text(vendor, "oc:uuid"))
    assert text(vendor, "oc:image_url").startswith("http")
    assert link(entry, "related").get("href") == url + "/models/"


def test_vendor_by_uuid_is_the_same_entry(fake):
    by_id = get(fake, P + "vendors/1/")
    vendor_uuid = text(atom_root(by_id), "oc:vendor/oc:uuid")
    by_uuid = get(fake, P + f"vendors/{vendor_uuid}/")
    atom_root(by_uuid)
    assert by_uuid.content == by_id.content
    models = get(fake, P + f"vendors/{vendor_uuid}/models/")
    assert len(entries(atom_root(models))) == 188


# --- I3: models -------------------------------------------------------------------------

def test_models_feed_lists_every_model_once(fake):
    feed = atom_root(get(fake, P + "models/"))
    assert text(feed, "a:id") == f"{fake.url}/v2/phones/models/"
    assert link(feed, "self").get("href") == f"{fake.url}/v2/phones/models/"
    assert text(feed, "a:title") == "Phone Models"
    models = entries(feed)
    assert len(models) == TOTAL_MODELS
    assert len({text(m, "oc:model/oc:id") for m in models}) == TOTAL_MODELS
    assert len({text(m, "oc:model/oc:uuid") for m in models}) == TOTAL_MODELS
    for m in models:
        assert text(m, "a:id") == f"{fake.url}/v2/phones/models/{text(m, 'oc:model/oc:id')}"
        assert text(m, "a:title") == text(m, "oc:model/oc:name")
    names = {text(m, "oc:model/oc:id"): text(m, "oc:model/oc:name") for m in models}
    assert names["242"] == "Nokia 6233"
    assert names["112"] == "Nokia 5310 XpressMusic"
    assert names["56"] == "Nokia 5800 XpressMusic"


@pytest.mark.parametrize("ref", ["242", "242/", NOKIA_6233_UUID, NOKIA_6233_UUID + "/", NOKIA_6233_UUID.upper()])
def test_model_by_numeric_id_or_uuid_is_nokia_6233(fake, ref):
    entry = atom_root(get(fake, P + "models/" + ref))
    url = f"{fake.url}/v2/phones/models/242"
    assert text(entry, "a:id") == url  # one canonical id whichever form was asked for
    assert link(entry, "self").get("href") == url
    assert text(entry, "a:title") == "Nokia 6233"
    model = entry.find("oc:model", NS)
    assert text(model, "oc:id") == "242"
    assert text(model, "oc:uuid") == NOKIA_6233_UUID
    assert text(model, "oc:name") == "Nokia 6233"
    assert text(model, "oc:vendor") == "Nokia"
    assert text(model, "oc:vendor_id") == "1"
    assert text(model, "oc:server_alert") == "true"
    assert text(model, "oc:image_url") == "http://www.obexcode.com/media/phones/nokia/6233.jpg"
    related = link(entry, "related")
    assert related.get("href") == f"{fake.url}/v2/phones/vendors/1"
    assert related.get("title") == "Nokia"


def test_the_vendor_link_of_a_model_leads_to_its_vendor(fake):
    entry = atom_root(get(fake, P + "models/401/"))
    assert text(entry, "oc:model/oc:name") == "Samsung SGH-E250"
    assert text(entry, "oc:model/oc:server_alert") == "false"
    vendor = atom_root(requests.get(link(entry, "related").get("href"), timeout=30))
    assert text(vendor, "oc:vendor/oc:name") == "Samsung"


def test_model_in_the_feed_equals_the_model_entry(fake):
    feed = atom_root(get(fake, P + "models/"))
    in_feed = next(m for m in entries(feed) if text(m, "oc:model/oc:id") == "501")
    alone = atom_root(get(fake, P + "models/501"))
    def fields(entry):
        return [(child.tag, child.text) for child in entry.find("oc:model", NS)]
    assert fields(in_feed) == fields(alone)
    assert len(fields(alone)) == 7
    assert text(alone, "oc:model/oc:name") == "HTC Touch Diamond"
    assert text(alone, "oc:model/oc:server_alert") == "false"


@pytest.mark.parametrize("path", PHONES_URLS)
def test_trailing_slash_or_not_gives_the_same_body(fake, path):
    with_slash, without = get(fake, path), get(fake, path.rstrip("/"))
    atom_root(with_slash)
    atom_root(without)
    assert without.content == with_slash.content
    assert not without.history, "answered with a redirect"


@pytest.mark.parametrize("path", PHONES_URLS)
def test_signed_requests_get_the_same_answer(fake, path):
    anonymous, signed = get(fake, path), get(fake, path, user="bob")
    atom_root(signed)
    assert signed.content == anonymous.content


@pytest.mark.parametrize("path", PHONES_URLS)
def test_ids_and_links_are_absolute_from_the_host(fake, path):
    root = atom_root(get(fake, path))
    urls = all_urls(root)
    assert urls and all(u.startswith(fake.url + "/v2/phones/") for u in urls), urls[:5]
    other = atom_root(get(fake, path, headers={"Host": "phones.example:8080"}))
    urls = all_urls(other)
    assert urls and all(u.startswith("http://phones.example:8080/v2/phones/") for u in urls), urls[:5]
    assert fake.url.encode() not in etree.tostring(other)


# --- unknown ids: 404 ---------------------------------------------------------------------

@pytest.mark.parametrize("path, needle", [
    (P + "vendors/99/", "99"),
    (P + "vendors/99", "99"),
    (P + "vendors/not-a-vendor/", "not-a-vendor"),
    (P + f"vendors/{uuid.UUID(int=7)}/", str(uuid.UUID(int=7))),
    (P + "vendors/99/models/", "99"),
    (P + "models/99999/", "99999"),
    (P + "models/99999", "99999"),
    (P + "models/0/", "0"),
    (P + f"models/{uuid.UUID(int=242)}/", str(uuid.UUID(int=242))),
    (P + "models/Nokia 6233/", "Nokia 6233"),
])
def test_unknown_vendor_or_model_is_404(fake, path, needle):
    before = fake.app.world.to_dict()
    for user in (None, "alice"):
        assert_error(get(fake, path, user=user), 404, "Not Found", needle)
    assert fake.app.world.to_dict() == before


# --- I4: every write is 405 ---------------------------------------------------------------

MODEL_BODY = (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}"><title>X</title>'
              "<oc:model><oc:name>Nokia 9999</oc:name></oc:model></entry>")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("path", PHONES_URLS + [p.rstrip("/") for p in PHONES_URLS])
@pytest.mark.parametrize("user", [None, "admin"])
def test_every_write_is_405_read_only(fake, method, path, user):
    before = fake.app.world.to_dict()
    body = MODEL_BODY.encode() if method != "DELETE" else None
    headers = {"Content-Type": "application/atom+xml"} if body else {}
    reply = requests.request(method, fake.url + path, data=body, headers=headers,
                             auth=auth(user) if user else None, timeout=30)
    assert_error(reply, 405, "Method Not Allowed", "read-only")
    assert {m.strip() for m in reply.headers["Allow"].split(",")} == {"GET", "HEAD"}
    assert fake.app.world.to_dict() == before
    # the database is untouched
    assert text(atom_root(get(fake, P + "models/242/")), "a:title") == "Nokia 6233"


def test_head_answers_like_get_without_a_body(fake):
    reply = requests.head(fake.url + P + "models/242/", timeout=30)
    assert (reply.status_code, reply.reason) == (200, "OK")
    assert reply.headers["Content-Type"].split(";")[0] == "application/atom+xml"
    assert reply.content == b""
