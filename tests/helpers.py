"""Small shared helpers for the HTTP-level tests of the GData, SyncML and routing APIs.

The tests sign with client libraries that know nothing of the fake (requests-oauthlib,
authlib, plain oauthlib), parse answers with lxml and look elements up by namespace, so
that they check the wire format the docs (seeds 001 and 003) show, not the fake's code.
"""
from __future__ import annotations

import re
from contextlib import contextmanager

import requests
from authlib.integrations.requests_client import OAuth1Session
from lxml import etree
from oauthlib.oauth1 import Client
from requests_oauthlib import OAuth1

from ocss_testkit.atom.schemas import schemas

ATOM = "http://www.w3.org/2005/Atom"
OC = "http://schemas.obexcode.com/syncserver/2009"
NS = {"a": ATOM, "oc": OC}

CONSUMER_KEY, CONSUMER_SECRET = "demo-consumer-key", "demo-consumer-secret"
ATOM_XML = {"Content-Type": "application/atom+xml"}

GOOGLE = "/v2/services/google/"
SYNCML = "/v2/services/syncml/"

# The demo world (fixtures/demo/world.json): admin holds the clients the docs list.
ADMIN_GDATA = "4f1d2dd0-49e4-11de-b387-002215064801"
ADMIN_SYNCML_5310 = "2fb295cc-0e50-11de-81c8-002215064801"  # model 112, +4790981948
ADMIN_SYNCML_5800 = "bfb81234-30a9-11de-b930-002215064801"  # model 56, +4790066951
DEMO_GDATA_SECRETS = ("demo-calendar-key", "demo-calendar-secret", "demo-contacts-key", "demo-contacts-secret")
UNKNOWN_UUID = "00000000-0000-0000-0000-000000000000"

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
PLAIN_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


# --- OAuth clients -----------------------------------------------------------------------
def token(user: str) -> tuple[str, str]:
    return f"{user}-access-token", f"{user}-access-secret"


def oauth1(user: str = "admin") -> OAuth1:
    """requests-oauthlib signer for a demo user (HMAC-SHA1, Authorization header)."""
    key, secret = token(user)
    return OAuth1(CONSUMER_KEY, CONSUMER_SECRET, key, secret)


@contextmanager
def authlib_session(user: str = "admin"):
    """authlib's requests OAuth1Session for a demo user, closed afterwards."""
    key, secret = token(user)
    session = OAuth1Session(CONSUMER_KEY, CONSUMER_SECRET, token=key, token_secret=secret)
    try:
        yield session
    finally:
        session.close()


def signed_headers(user: str, method: str, url: str) -> dict:
    """An Authorization header signed by plain oauthlib for `url` (which may name another
    host than the one the request is sent to: see the Host-header tests)."""
    key, secret = token(user)
    signer = Client(CONSUMER_KEY, client_secret=CONSUMER_SECRET, resource_owner_key=key,
                    resource_owner_secret=secret)
    _, headers, _ = signer.sign(url, http_method=method)
    return dict(headers)


def call(fake, method: str, path: str, user: str | None = "admin", body: str | bytes | None = None,
         headers: dict | None = None) -> requests.Response:
    """One request to the running fake, signed with requests-oauthlib; fails on any 3xx."""
    headers = dict(headers or {})
    if body is not None and "Content-Type" not in headers:
        headers.update(ATOM_XML)
    r = requests.request(method, fake.url + path, data=body, headers=headers,
                         auth=oauth1(user) if user else None, allow_redirects=False, timeout=30)
    # Never a redirect, anywhere: it would break OAuth signatures (docs/decisions.md).
    assert not 300 <= r.status_code < 400, f"{method} {path} redirected: {r.status_code} {r.headers.get('Location')}"
    assert "Location" not in r.headers or r.status_code == 201, f"{method} {path} sent Location"
    return r


# --- XML ---------------------------------------------------------------------------------
def xml(response_or_bytes) -> etree._Element:
    content = getattr(response_or_bytes, "content", response_or_bytes)
    return etree.fromstring(content)


def xp(element: etree._Element, path: str) -> list:
    return element.xpath(path, namespaces=NS)


def one(element: etree._Element, path: str):
    found = xp(element, path)
    assert len(found) == 1, f"expected exactly one {path}, found {len(found)}"
    return found[0]


def text(element: etree._Element, path: str) -> str | None:
    return one(element, path).text


def link(element: etree._Element, rel: str) -> str:
    return one(element, f"a:link[@rel='{rel}']").get("href")


def tag(element: etree._Element) -> tuple[str, str]:
    q = etree.QName(element)
    return q.namespace, q.localname


# --- request bodies (as the docs write them) ------------------------------------------------
def gdata_create(user_id: str, *, dataclass: str = "Calendar", href: str | None = None,
                 name: str | None = None, type_tag: str = "token_type", key: str = "secret_key",
                 secret: str = "secret_secret", scopes: tuple[str, ...] | None = None) -> str:
    """001 "Add a new client": default namespaces, no prefixes."""
    href = href or f"http://google_something.com/{user_id}/calendar#Test"
    scopes = scopes or (href,)
    name_attr = f' name="{name}"' if name is not None else ""
    scope_xml = "".join(f"<scope>{s}</scope>" for s in scopes)
    return (f'<entry xmlns="{ATOM}">\n'
            f'  <client xmlns="{OC}">\n'
            f"    <user_id>{user_id}</user_id>\n"
            f'    <datastore dataclass="{dataclass}" href="{href}"{name_attr}>\n'
            f"      <token><{type_tag}>2</{type_tag}><key>{key}</key><secret>{secret}</secret>{scope_xml}</token>\n"
            f"    </datastore>\n"
            f"  </client>\n"
            f"</entry>")


def gdata_update(*, user_id: str | None = None, uuid: str | None = None, dataclass: str = "Contacts",
                 href: str = "http://google_something.com/some_user@gmail.com#Friends", name: str = "Contacts",
                 key: str = "update_key", secret: str = "update_secret") -> str:
    """001 "Update a client": oc: prefixes."""
    parts = []
    if uuid:
        parts.append(f"<oc:uuid>{uuid}</oc:uuid>")
    if user_id:
        parts.append(f"<oc:user_id>{user_id}</oc:user_id>")
    parts.append(f'<oc:datastore dataclass="{dataclass}" href="{href}" name="{name}">'
                 f"<oc:token><oc:token_type>2</oc:token_type><oc:key>{key}</oc:key>"
                 f"<oc:secret>{secret}</oc:secret><oc:scope>{href}</oc:scope></oc:token></oc:datastore>")
    return (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}">\n  <oc:client>\n    '
            + "\n    ".join(parts) + "\n  </oc:client>\n</entry>")


def syncml_create(phone: str = "+4798765432", model: str = "02978288-537f-102b-beff-000ea60275d1",
                  timezone: str | None = "Europe/Paris") -> str:
    """003 "Create a new client"."""
    tz = f"<oc:timezone>{timezone}</oc:timezone>" if timezone is not None else ""
    return (f'<entry xmlns="{ATOM}" xmlns:oc="{OC}">\n  <oc:client>\n'
            f"    <oc:phone_number>{phone}</oc:phone_number>\n"
            f"    <oc:model_uuid>{model}</oc:model_uuid>\n    {tz}\n  </oc:client>\n</entry>")


def setup_body(pincode: str = "1234") -> str:
    """003 "Setup and Phone Configuration"."""
    return f'<entry xmlns="{ATOM}"\n       xmlns:oc="{OC}">\n  <oc:pincode>{pincode}</oc:pincode>\n</entry>'


def run_a_session(fake) -> None:
    """SyncML session 1 exists: alice's phone accepted its settings and a server alert."""
    world = fake.app.world
    alice = world.users["alice"]
    with world.lock:
        client = world.syncml.create_client(alice, "+4798765432", "242", "Europe/Oslo")
        world.syncml.send_setup(alice, client.uuid, "1234")
        world.syncml.request_sync(alice, client.uuid)
        world.simulated_phones.answer_setup("+4798765432")
        assert world.simulated_phones.answer_sync("+4798765432").id == 1


@contextmanager
def unchanged(fake):
    """Asserts that what runs inside leaves the fake's whole state as it was."""
    before = fake.app.world.to_dict()
    yield
    assert fake.app.world.to_dict() == before, "a refused request changed the world"


def assert_error(reply: requests.Response, status: int, reason: str, *needles: str) -> None:
    assert reply.status_code != 500, reply.text
    assert (reply.status_code, reply.reason) == (status, reason), (reply.status_code, reply.reason, reply.text)
    assert reply.text.startswith(f"{status} {reason}: "), reply.text
    assert len(reply.text.split(": ", 1)[1].strip()) > 10, reply.text
    assert "Traceback" not in reply.text
    for needle in needles:
        assert needle.lower() in reply.text.lower(), f"{needle!r} not in {reply.text!r}"


def valid_atom(reply: requests.Response, schema: str, status: int = 200, reason: str = "OK") -> etree._Element:
    """Check status, reason and media type, then parse and validate against the response schema."""
    assert (reply.status_code, reply.reason) == (status, reason), (reply.status_code, reply.reason, reply.text)
    assert reply.headers["Content-Type"].split(";")[0] == "application/atom+xml"
    root = etree.fromstring(reply.content)
    schemas("response").validate(schema, root)
    return root


def find_text(element: etree._Element, path: str) -> str | None:
    """The text at `path` (ElementPath with prefixes a: and oc:), None when absent."""
    found = element.find(path, NS)
    return None if found is None else (found.text or "")
