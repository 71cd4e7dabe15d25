"""Request bodies → domain values, after schema validation.

The XSDs keep element order free (the docs vary it), so the cardinalities XSD 1.0 cannot
express under free order are checked here, with messages that name the element.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree

from ocss_testkit.atom.namespaces import A, O, readable
from ocss_testkit.atom.safe import XMLRejected
from ocss_testkit.world.world import GDataDatastore, Token


class MissingClient(XMLRejected):
    """An entry with no oc:client: there is nothing to create or update."""


_PAYLOAD = {"gdata-client": "client", "syncml-client": "client", "activesync-client": "client",
            "datastore-client": "client", "binding": "binding"}


def require_payload(schema: str, entry: etree._Element) -> None:
    """An entry without its oc: payload is "No Entry provided" (001), not a schema error.

    Checked before schema validation, which would otherwise report the missing element.
    """
    name = _PAYLOAD.get(schema)
    if name and entry.tag == A + "entry" and entry.find(O + name) is None:
        raise MissingClient(f"the entry has no oc:{name} element")


def _text(element: etree._Element | None) -> str | None:
    if element is None:
        return None
    return (element.text or "").strip()


def _one(parent: etree._Element, name: str, required: bool = False) -> etree._Element | None:
    found = parent.findall(O + name)
    if len(found) > 1:
        raise XMLRejected(f"oc:{name} may appear only once in {readable(parent.tag)}")
    if required and not found:
        raise XMLRejected(f"{readable(parent.tag)} needs an oc:{name} element")
    return found[0] if found else None


def _client(entry: etree._Element) -> etree._Element:
    if entry.tag != A + "entry":
        raise XMLRejected(f"the root element must be atom:entry, not {etree.QName(entry).localname}")
    clients = entry.findall(O + "client")
    if not clients:
        raise MissingClient("the entry has no oc:client element")
    if len(clients) > 1:
        raise XMLRejected("the entry holds more than one oc:client")
    return clients[0]


@dataclass(frozen=True)
class SyncMLClientRequest:
    phone_number: str
    model_uuid: str
    timezone: str | None
    imei: str


def syncml_client(entry: etree._Element) -> SyncMLClientRequest:
    client = _client(entry)
    return SyncMLClientRequest(
        phone_number=_text(_one(client, "phone_number", required=True)),
        model_uuid=_text(_one(client, "model_uuid", required=True)),
        timezone=_text(_one(client, "timezone")),
        imei=_text(_one(client, "imei")) or "",
    )


@dataclass(frozen=True)
class GDataClientRequest:
    uuid: str | None
    user_id: str | None
    datastores: list[GDataDatastore]


def gdata_client(entry: etree._Element) -> GDataClientRequest:
    client = _client(entry)
    return GDataClientRequest(
        uuid=(_text(_one(client, "uuid")) or None),
        user_id=_text(_one(client, "user_id")),
        datastores=[_gdata_datastore(d) for d in client.findall(O + "datastore")],
    )


def _resolved(element: etree._Element, uri: str | None) -> str | None:
    """A URI of the body against the xml:base in scope, if any (RFC 4287 §2, XML Base §4:
    every element may carry xml:base, and relative references resolve against it)."""
    base = element.base  # lxml combines the xml:base of the element and its ancestors
    if not base or uri is None:
        return uri
    try:
        return urljoin(base, uri)
    except ValueError as exc:  # e.g. "http://[::1": an unclosed IPv6 host
        raise XMLRejected(f"{uri[:100]!r} in {readable(element.tag)}, resolved against xml:base {base[:100]!r}, "
                          f"is not a usable URI: {exc}") from None


def _gdata_datastore(element: etree._Element) -> GDataDatastore:
    dataclass = element.get("dataclass")
    token_element = _one(element, "token")
    token = _token(token_element) if token_element is not None else None
    # "the name attribute can be omitted, in which case the dataclass will be used" (001)
    return GDataDatastore(dataclass, _resolved(element, element.get("href")), element.get("name") or dataclass,
                          token)


def _token(element: etree._Element) -> Token:
    types = element.findall(O + "type") + element.findall(O + "token_type")
    if len(types) > 1:
        raise XMLRejected("oc:token takes one oc:type or oc:token_type, not several")
    key = _one(element, "key", required=True)
    secret = _one(element, "secret", required=True)
    scopes = [_resolved(s, _text(s)) for s in element.findall(O + "scope")]
    if not scopes:
        raise XMLRejected("oc:token needs at least one oc:scope")
    # token_type defaults to 2, an access token (000: add_datastore).
    type_element = types[0] if types else None
    return Token(
        type=int(_text(type_element)) if type_element is not None else 2,
        key=_text(key), secret=_text(secret), scopes=scopes,
        type_tag=etree.QName(type_element).localname if type_element is not None else "type",
    )


def setup_pincode(entry: etree._Element) -> str:
    if entry.tag != A + "entry":
        raise XMLRejected(f"the root element must be atom:entry, not {etree.QName(entry).localname}")
    return _text(_one(entry, "pincode", required=True))


# --- inferred bodies (docs/decisions.md, "Bodies of the inferred routes") --------------------
@dataclass(frozen=True)
class ActiveSyncRequest:
    username: str | None
    password: str | None
    old_pass: str | None


def activesync_client(entry: etree._Element) -> ActiveSyncRequest:
    client = _client(entry)
    # Passwords are taken as sent: surrounding spaces may be part of one.
    password, old_pass = _one(client, "password"), _one(client, "old_pass")
    return ActiveSyncRequest(_text(_one(client, "username")),
                             password.text if password is not None else None,
                             old_pass.text if old_pass is not None else None)


def datastore_client(entry: etree._Element) -> str | None:
    return _text(_one(_client(entry), "name"))


@dataclass(frozen=True)
class ContentRequest:
    title: str | None
    data: str | None
    ctype: str | None
    dataclass: str | None


def content_item(entry: etree._Element) -> ContentRequest:
    if entry.tag != A + "entry":
        raise XMLRejected(f"the root element must be atom:entry, not {etree.QName(entry).localname}")
    content = entry.find(A + "content")
    title = entry.find(A + "title")
    return ContentRequest(
        title=(title.text or "") if title is not None else None,
        data=(content.text or "") if content is not None else None,
        ctype=content.get("type") if content is not None else None,
        dataclass=_text(_one(entry, "dataclass")),
    )


@dataclass(frozen=True)
class BindingRequest:
    source: str | None
    target: str | None
    dominant: str | None


def binding(entry: etree._Element) -> BindingRequest:
    found = entry.findall(O + "binding")
    if len(found) != 1:
        raise MissingClient("the entry needs exactly one oc:binding element")
    b = found[0]
    return BindingRequest(_text(_one(b, "source")), _text(_one(b, "target")), _text(_one(b, "dominant")))


def phone_number(entry: etree._Element) -> str:
    return _text(_one(entry, "phone_number", required=True))
