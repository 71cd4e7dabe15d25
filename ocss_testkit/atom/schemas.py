"""The hand-written XSDs of xsd/, compiled once and used on the request path.

lxml validates in microseconds; xmlschema is kept for compile checks and detailed
diagnostics in tests and tools (see `explain`).
"""
from __future__ import annotations

import threading
from pathlib import Path

from lxml import etree

from ocss_testkit.atom import safe
from ocss_testkit.atom.namespaces import readable
from ocss_testkit.atom.safe import XMLRejected
from ocss_testkit.package_data import xsd_dir

REQUEST_SCHEMAS = ("gdata-client", "syncml-client", "syncml-setup", "activesync-client", "datastore-client",
                   "content-item", "binding", "detect")
_XML = "{http://www.w3.org/XML/1998/namespace}"  # xml:lang, xml:base (common.xsd)
RESPONSE_SCHEMAS = ("gdata", "syncml", "syncml-setup", "phones", "detection", "clients", "activesync",
                    "datastore", "contents", "sessions")


class SchemaSet:
    """Compiled schemas of one folder (`request` or `response`), keyed by name."""

    def __init__(self, folder: Path, names: tuple[str, ...]) -> None:
        self.folder = folder
        self._schemas = {name: etree.XMLSchema(etree.parse(str(folder / f"{name}.xsd")))
                         for name in names}
        # An XMLSchema keeps one error log; validating under a lock keeps messages whole.
        self._locks = {name: threading.Lock() for name in names}

    def validate(self, name: str, root: etree._Element) -> None:
        """Raises XMLRejected with the first reason the tree fails schema `name`."""
        schema = self._schemas[name]
        with self._locks[name]:
            if schema.validate(root):
                return
            error = schema.error_log[0]
            raise XMLRejected(f"line {error.line}: {readable(error.message).replace(_XML, 'xml:')}")

    def parse_valid(self, name: str, body: bytes, max_depth: int, charset: str | None = None) -> etree._Element | None:
        """The root of a body that parses (`safe.parse`, which raises XMLRejected with the
        parser's reason) and is valid against schema `name`; None when only the schema
        refuses it, so that the caller can first say what is missing (incoming.require_payload)
        and then get the schema's message from `validate`.

        Two passes, not one parser with the schema attached: such a parser lets namespace
        errors through (an undeclared prefix, `xmlns:xml="http://x"`, …: Namespaces in XML
        1.0 §3), and the two passes cost the same (benchmarks/bench_core.py, e1).
        """
        root = safe.parse(body, max_depth, charset)
        schema = self._schemas[name]
        with self._locks[name]:  # the schema's error log is shared
            return root if schema.validate(root) else None


_sets: dict[str, SchemaSet] = {}
_lock = threading.Lock()


def schemas(kind: str) -> SchemaSet:
    """`schemas("request")` / `schemas("response")`: compiled once per process, read-only."""
    with _lock:
        if kind not in _sets:
            names = REQUEST_SCHEMAS if kind == "request" else RESPONSE_SCHEMAS
            _sets[kind] = SchemaSet(xsd_dir() / kind, names)
        return _sets[kind]


def explain(kind: str, name: str, document: bytes) -> list[str]:
    """Every reason a document fails its schema, from xmlschema (slow, thorough)."""
    import xmlschema

    schema = xmlschema.XMLSchema10(str(xsd_dir() / kind / f"{name}.xsd"))
    return [readable(f"{e.path}: {e.reason}") for e in schema.iter_errors(document)]
