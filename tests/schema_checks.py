"""Validating a document with both validators, for the schema tests: lxml (what the
server uses) and xmlschema (an independent implementation)."""
from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import xmlschema
from lxml import etree

XSD_DIR = Path(__file__).resolve().parent.parent / "xsd"


def _bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body


@cache
def lxml_schema(kind: str, name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / kind / f"{name}.xsd")))


@cache
def xmlschema_schema(kind: str, name: str) -> xmlschema.XMLSchema10:
    return xmlschema.XMLSchema10(str(XSD_DIR / kind / f"{name}.xsd"))


def lxml_errors(kind: str, name: str, body: bytes | str) -> list[str]:
    """lxml's error messages for ``body`` ([] when valid)."""
    schema = lxml_schema(kind, name)
    if schema.validate(etree.fromstring(_bytes(body))):
        return []
    return [entry.message for entry in schema.error_log]


def xmlschema_errors(kind: str, name: str, body: bytes | str) -> list[str]:
    return [str(err) for err in xmlschema_schema(kind, name).iter_errors(io.BytesIO(_bytes(body)))]


def assert_valid(kind: str, name: str, body: bytes | str) -> None:
    assert lxml_errors(kind, name, body) == []
    assert xmlschema_errors(kind, name, body) == []


def assert_invalid(kind: str, name: str, body: bytes | str, *must_name: str) -> str:
    """Invalid for both validators; lxml's messages mention every string of ``must_name``.
    Returns lxml's messages, one per line."""
    messages = lxml_errors(kind, name, body)
    assert messages, f"lxml accepted an invalid {kind}/{name} document"
    assert xmlschema_errors(kind, name, body), f"xmlschema accepted an invalid {kind}/{name} document"
    text = "\n".join(messages)
    for needle in must_name:
        assert needle in text, f"{needle!r} not named in lxml's messages:\n{text}"
    return text
