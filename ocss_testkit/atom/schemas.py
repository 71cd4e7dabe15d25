"""The hand-written XSDs of xsd/, compiled once and used on the request path.

Every schema of xsd/request/ and xsd/response/ is compiled, found on disk: a name is the
file name of an entry point (`<name>.xsd`, the half of a pair whose target namespace is
Atom; xsd/README.md), so there is no list of names to keep. The route table names the
schema of each request body and answer (routes.Route.request_schema, .response_schema);
tests/test_route_contracts.py checks both ways that the names and the files agree.

lxml validates in microseconds; xmlschema is kept for compile checks and detailed
diagnostics in tests and tools (see `explain`).
"""
from __future__ import annotations

import threading
from pathlib import Path

from lxml import etree

from ocss_testkit.atom import safe
from ocss_testkit.atom.namespaces import ATOM, readable
from ocss_testkit.atom.safe import XMLRejected
from ocss_testkit.package_data import xsd_dir

_XML = "{http://www.w3.org/XML/1998/namespace}"  # xml:lang, xml:base (common.xsd)
_XSD_SUFFIX = ".xsd"


def entry_points(folder: Path) -> tuple[str, ...]:
    """The names of the schemas in `folder`, sorted: every `<name>.xsd` whose
    targetNamespace is Atom. The other files are what those import or include: the
    `<name>.oc.xsd` halves, `common.xsd` (no target namespace) and `xml.xsd` (the xml
    namespace's own schema)."""
    names = []
    for path in sorted(folder.glob("*" + _XSD_SUFFIX)):
        if etree.parse(str(path)).getroot().get("targetNamespace") == ATOM:
            names.append(path.name[:-len(_XSD_SUFFIX)])
    return tuple(names)


class SchemaSet:
    """Compiled schemas of one folder (`request` or `response`), keyed by name: every
    entry point the folder holds (`entry_points`). Asking for another name raises
    KeyError naming the folder and the names it has."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names = entry_points(folder)
        self._schemas = {name: etree.XMLSchema(etree.parse(str(folder / f"{name}{_XSD_SUFFIX}")))
                         for name in self.names}
        # An XMLSchema keeps one error log; validating under a lock keeps messages whole.
        self._locks = {name: threading.Lock() for name in self.names}

    def __contains__(self, name: object) -> bool:
        return name in self._schemas

    def _schema(self, name: str) -> etree.XMLSchema:
        try:
            return self._schemas[name]
        except KeyError:
            raise KeyError(f"no schema {name!r} in {self.folder.name}/ (it has {', '.join(self.names)})") from None

    def validate(self, name: str, root: etree._Element) -> None:
        """Raises XMLRejected with the first reason the tree fails schema `name`."""
        schema = self._schema(name)
        with self._locks[name]:
            if schema.validate(root):
                return
            error = schema.error_log[0]
            raise XMLRejected(f"line {error.line}: {readable(error.message).replace(_XML, 'xml:')}")

    def parse_valid(self, name: str, body: bytes, max_depth: int, charset: str | None = None) -> etree._Element | None:
        """The root of a body that parses (`safe.parse`, which raises XMLRejected with the
        parser's reason) and is valid against schema `name`; None when only the schema
        refuses it, so that the caller can first say what is missing (reader.require_payload)
        and then get the schema's message from `validate`.

        Two passes, not one parser with the schema attached: such a parser lets namespace
        errors through (an undeclared prefix, `xmlns:xml="http://x"`, …: Namespaces in XML
        1.0 §3), and the two passes cost the same (benchmarks/bench_core.py, e1).
        """
        schema = self._schema(name)
        root = safe.parse(body, max_depth, charset)
        with self._locks[name]:  # the schema's error log is shared
            return root if schema.validate(root) else None


_sets: dict[str, SchemaSet] = {}
_lock = threading.Lock()


def schemas(kind: str) -> SchemaSet:
    """`schemas("request")` / `schemas("response")`: compiled once per process, read-only."""
    with _lock:
        if kind not in _sets:
            if kind not in ("request", "response"):
                raise ValueError(f"schemas are of kind request or response, not {kind!r}")
            _sets[kind] = SchemaSet(xsd_dir() / kind)
        return _sets[kind]


def explain(kind: str, name: str, document: bytes) -> list[str]:
    """Every reason a document fails its schema, from xmlschema (slow, thorough)."""
    import xmlschema

    schema = xmlschema.XMLSchema10(str(xsd_dir() / kind / f"{name}.xsd"))
    return [readable(f"{e.path}: {e.reason}") for e in schema.iter_errors(document)]
