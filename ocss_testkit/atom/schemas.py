"""The hand-written XSDs of xsd/, compiled once and used on the request path.

lxml validates in microseconds; xmlschema is kept for compile checks and detailed
diagnostics in tests and tools (see `explain`).
"""
from __future__ import annotations

import threading
from pathlib import Path

from lxml import etree

from ..resources import xsd_dir
from .namespaces import readable
from . import safe
from .safe import XMLRejected

REQUEST_SCHEMAS = ("gdata-client", "syncml-client", "syncml-setup", "activesync-client", "datastore-client",
                   "content-item", "binding", "detect")
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
        self._local = threading.local()

    def validate(self, name: str, root: etree._Element) -> None:
        schema = self._schemas[name]
        with self._locks[name]:
            if schema.validate(root):
                return
            error = schema.error_log[0]
            raise XMLRejected(f"line {error.line}: {readable(error.message)}")

    def parse_valid(self, name: str, body: bytes, max_depth: int) -> etree._Element | None:
        """Parse and validate in one pass (the hot path); None when the body fails either.

        A failing body is then parsed and validated again in two passes by the caller,
        which gives the precise message; success costs one pass only.
        """
        safe.precheck(body)
        parsers = getattr(self._local, "parsers", None)
        if parsers is None:
            parsers = self._local.parsers = {}
        parser = parsers.get(name)
        if parser is None:  # one per thread: lxml parsers are not shared between threads
            parser = parsers[name] = safe.hardened_parser(self._schemas[name])
        try:
            root = etree.fromstring(body, parser)
        except (etree.XMLSyntaxError, ValueError):
            return None
        safe.postcheck(root, max_depth)
        return root



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
