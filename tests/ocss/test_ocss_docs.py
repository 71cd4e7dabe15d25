"""The OCSS library's documentation runs: every `>>>` example in docs/ocss-library.md is a
doctest, run here from top to bottom against a fake started from the example world the
document names (docs/ocss-library-world/), over real HTTP.

The document is Markdown: its fence lines (```) are blanked before parsing, so that an
example's expected output ends where its code block does. Line numbers are kept, so a
failure points at the document's own line.
"""
from __future__ import annotations

import doctest
import io
import re
from pathlib import Path

import pytest

from ocss_testkit.server import FakeServer

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "ocss-library.md"
WORLD = ROOT / "docs" / "ocss-library-world"

# The interactive examples of the 2009 documentation ("SyncServer API Python interface"),
# in Python 3: each must stay in the document as an example, with its printed result
# right after it. Guards against an edit that quietly drops one.
DOCUMENTED = [
    ("for vendor in api.phones.vendors:\n    print(vendor.name, len(vendor.models))\n",
     "HTC 26\nNokia 188\nLG 5\nSony Ericsson 84\n...\n"),
    ("'1' in api.phones.vendors\n", "True\n"),
    ("api.phones.vendors['invalid-vendor-id']\n",
     "ocss.exceptions.NotFoundError: \"No Vendor with ID 'invalid-vendor-id'\"\n"),
    ("len(store.contents)\n", "15\n"),
    ("len(store.contents(since=datetime.datetime(2009, 11, 1, 12, 30)))\n", "10\n"),
    ("len(store.contents(since=\"2009-12-09T130500Z\"))\n", "5\n"),
    ("len(store.contents(dataclass='contacts'))\n", "8\n"),
    ("len(store.contents(dataclass='contacts', since='2009-11-01T123000Z'))\n", "5\n"),
    ("api.phones\n", "<Phones collection at 0x...>\n"),
    ("api.phones.vendors\n", "<Vendors collection at 0x...>\n"),
    ("api.phones.models\n", "<Models collection at 0x...>\n"),
    ("api.phones.vendors['1'].models\n", "<Models collection at 0x...>\n"),
    ("api.clients\n", "<Clients collection at 0x...>\n"),
    ("api.clients.bindings\n", "<Bindings collection at 0x...>\n"),
    ("api.clients.bindings[123]\n", "<Binding id=123>\n"),
    ("api.clients.syncml\n", "<Syncml collection at 0x...>\n"),
    ("api.clients.activesync\n", "<Activesync collection at 0x...>\n"),
    ("api.clients.datastore\n", "<Datastore collection at 0x...>\n"),
    ("store.contents\n", "<ContentCollection collection at 0x...>\n"),
    ("api.clients.gdata\n", "<GData collection at 0x...>\n"),
]


def doc_text() -> str:
    text = DOC.read_text("utf-8")
    return re.sub(r"(?m)^```\w*[ \t]*$", "", text)


def examples() -> list[doctest.Example]:
    return doctest.DocTestParser().get_examples(doc_text(), str(DOC))


def test_the_documented_examples_are_all_in_the_document():
    found = {(e.source, e.want) for e in examples()}
    found |= {(e.source, e.exc_msg) for e in examples() if e.exc_msg}
    missing = [source for source, want in DOCUMENTED if (source, want) not in found]
    assert not missing, f"examples gone from {DOC.name}: {missing}"


@pytest.fixture
def docs_fake(monkeypatch, tmp_path):
    # The document states every credential and URL it uses: none may come from the
    # environment or a netrc file of whoever runs the tests.
    for name in ("OCSS_BASE_URL", "OCSS_CONSUMER_KEY", "OCSS_CONSUMER_SECRET", "OCSS_ACCESS_TOKEN",
                 "OCSS_ACCESS_SECRET", "NETRC"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with FakeServer(port=0, fixtures=str(WORLD)) as server:
        yield server


def test_the_document_runs_against_the_fake(docs_fake):
    import ocss

    test = doctest.DocTestParser().get_doctest(doc_text(), {"FAKE_URL": docs_fake.url, "__name__": "ocss_docs"},
                                               DOC.name, str(DOC), 0)
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS, verbose=False)
    try:
        results = runner.run(test, out=out.write)
    finally:
        for value in test.globs.values():
            if isinstance(value, ocss.SyncServerAPI):
                value.close()
        test.globs.clear()
    assert results.failed == 0, out.getvalue()
    assert results.attempted >= 120, f"only {results.attempted} examples ran"
