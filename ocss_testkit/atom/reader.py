"""Reading validated request bodies: the helpers every service's decoders
(`services/*/atom.py`) share.

The XSDs keep element order free (the docs vary it), so the cardinalities XSD 1.0 cannot
express under free order are checked here, with messages that name the element. Every
function raises XMLRejected (the app answers 400 Bad Request with its message) or
MissingPayload (400 No Entry provided).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar, overload
from urllib.parse import urljoin

from lxml import etree

from ocss_testkit.atom.namespaces import A, O, readable
from ocss_testkit.atom.safe import XMLRejected


class MissingPayload(XMLRejected):
    """An entry without the oc: element it exists to carry (an oc:client to create or
    update, an oc:binding): "400 No Entry provided" (Google Data Client API, "Add a new
    client" and "Update a client")."""


Decoder = TypeVar("Decoder", bound=Callable[[etree._Element], object])

# Each marked decoder -> the oc: element its entry must carry (`payload`).
_PAYLOADS: dict[Callable[[etree._Element], object], str] = {}


def payload(name: str) -> Callable[[Decoder], Decoder]:
    """Mark a decoder whose entry must carry an `oc:{name}` element: a body without it is
    refused as MissingPayload (`require_payload`) before the schema would name the missing
    element in its own words."""
    def mark(decode: Decoder) -> Decoder:
        _PAYLOADS[decode] = name
        return decode
    return mark


def require_payload(decode: Callable[[etree._Element], object], entry: etree._Element) -> None:
    """Raise MissingPayload when `decode` is marked with `payload` and the atom:entry
    `entry` lacks that element; checked on a body the schema refused, to say first what is
    missing."""
    name = _PAYLOADS.get(decode)
    if name and entry.tag == A + "entry" and entry.find(O + name) is None:
        raise MissingPayload(f"the entry has no oc:{name} element")


@overload
def text(element: etree._Element) -> str: ...
@overload
def text(element: etree._Element | None) -> str | None: ...
def text(element: etree._Element | None) -> str | None:
    """The stripped text of `element` ("" for an empty one), None when there is none: the
    XSD types derive from xs:token, which allows surrounding whitespace."""
    if element is None:
        return None
    return (element.text or "").strip()


@overload
def one(parent: etree._Element, name: str, required: Literal[True]) -> etree._Element: ...
@overload
def one(parent: etree._Element, name: str, required: bool = False) -> etree._Element | None: ...
def one(parent: etree._Element, name: str, required: bool = False) -> etree._Element | None:
    """The one `oc:{name}` child of `parent`, or None. XMLRejected when there are several,
    or none and `required`."""
    found = parent.findall(O + name)
    if len(found) > 1:
        raise XMLRejected(f"oc:{name} may appear only once in {readable(etree.QName(parent).text)}")
    if required and not found:
        raise XMLRejected(f"{readable(etree.QName(parent).text)} needs an oc:{name} element")
    return found[0] if found else None


def attribute(element: etree._Element, name: str) -> str:
    """The attribute `name` of `element`, one its schema requires; XMLRejected naming it
    when absent (a body the schema did not check)."""
    value = element.get(name)
    if value is None:
        raise XMLRejected(f"{readable(etree.QName(element).text)} needs a {name} attribute")
    return value


def entry_root(root: etree._Element) -> etree._Element:
    """`root` itself when it is an atom:entry; XMLRejected naming it otherwise."""
    if root.tag != A + "entry":
        raise XMLRejected(f"the root element must be atom:entry, not {etree.QName(root).localname}")
    return root


def client_of(entry: etree._Element) -> etree._Element:
    """The one oc:client of an atom:entry: MissingPayload without one, XMLRejected with
    several or another root."""
    clients = entry_root(entry).findall(O + "client")
    if not clients:
        raise MissingPayload("the entry has no oc:client element")
    if len(clients) > 1:
        raise XMLRejected("the entry holds more than one oc:client")
    return clients[0]


@overload
def resolved(element: etree._Element, uri: str) -> str: ...
@overload
def resolved(element: etree._Element, uri: str | None) -> str | None: ...
def resolved(element: etree._Element, uri: str | None) -> str | None:
    """A URI of the body against the xml:base in scope, if any (RFC 4287 §2, XML Base §4:
    every element may carry xml:base, and relative references resolve against it)."""
    base = element.base  # lxml combines the xml:base of the element and its ancestors
    if not base or uri is None:
        return uri
    try:
        return urljoin(base, uri)
    except ValueError as exc:  # e.g. "http://[::1": an unclosed IPv6 host
        raise XMLRejected(f"{uri[:100]!r} in {readable(etree.QName(element).text)}, resolved against xml:base "
                          f"{base[:100]!r}, is not a usable URI: {exc}") from None
