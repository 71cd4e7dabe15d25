"""Parsing untrusted XML: no DTDs, no entities, no network, bounded depth.

lxml never fetches or expands anything with these settings; a document that even
declares a DOCTYPE is refused outright, so XXE, billion laughs and external DTDs all
end in the same fast 400.
"""
from __future__ import annotations

import threading

from lxml import etree

from .namespaces import readable

DEFAULT_MAX_DEPTH = 32


class XMLRejected(Exception):
    """The body is not acceptable XML; the message says why, for a human."""


class EmptyBody(XMLRejected):
    pass


_local = threading.local()


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared between threads.
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
            huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False)
    return parser


def parse(body: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> etree._Element:
    if not body or not body.strip():
        raise EmptyBody("the request body is empty")
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise XMLRejected("DOCTYPE and entity declarations are not accepted")
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise XMLRejected(f"malformed XML: {exc.msg or exc}") from None
    except ValueError as exc:  # e.g. unsupported encodings
        raise XMLRejected(f"malformed XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # other encodings than the byte scan saw
        raise XMLRejected("DOCTYPE and entity declarations are not accepted")
    _check_depth(root, max_depth)
    return root


def _check_depth(root: etree._Element, max_depth: int) -> None:
    stack = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > max_depth:
            raise XMLRejected(f"XML nested deeper than {max_depth} levels at {readable(element.tag)}")
        for child in element:
            if not isinstance(child.tag, str):  # entity references left unresolved
                raise XMLRejected("entity references are not accepted")
            stack.append((child, depth + 1))
