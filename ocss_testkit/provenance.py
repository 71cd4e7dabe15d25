"""Where a route comes from: the document it reproduces or infers from, cited by title and
section (routes.py; docs/decisions.md, "Route ids")."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """A document routes come from: cited by its `title` (its own heading) wherever people
    read it; `key` is a stable short name for tools (the JSON route table)."""
    key: str
    title: str

    def __str__(self) -> str:
        return self.title


GDATA_API = Document("gdata-api", "Google Data Client API")
SYNCML_API = Document("syncml-api", "SyncML API")
LIBRARY_API = Document("ocss-library", "SyncServer API Python interface")  # operations, not URLs
# The fake's own API: documented by this project (docs/decisions.md), not by ObexCode.
DECISIONS = Document("decisions", "docs/decisions.md")
DOCUMENTS = {d.key: d for d in (GDATA_API, SYNCML_API, LIBRARY_API, DECISIONS)}
# The titles, as the contract suite's `documented(doc, section, spec)` markers cite them.
GDATA_DOC = GDATA_API.title
SYNCML_DOC = SYNCML_API.title
LIBRARY_DOC = LIBRARY_API.title


@dataclass(frozen=True)
class Provenance:
    kind: str  # "documented" | "inferred" | "control"
    doc: Document
    section: str  # the section heading in `doc`

    @property
    def title(self) -> str:
        return self.doc.title

    @property
    def source(self) -> str:
        """How people cite it: `Google Data Client API, 'Add a new client'`."""
        return f"{self.doc.title}, '{self.section}'"

    def __str__(self) -> str:
        return f"{self.kind}: {self.source}"


def documented(doc: Document, section: str) -> Provenance:
    return Provenance("documented", doc, section)


def inferred(doc: Document, section: str) -> Provenance:
    return Provenance("inferred", doc, section)
