"""The docs' request/response examples as the first snapshots.

`python -m contracts.harness.docs` writes `contracts/snapshots/<exchange>.json` for every
exchange of `contracts/doc_examples/`; a test keeps the committed files equal to this.
"""
from __future__ import annotations

import sys

from contracts.doc_examples import load_index, load_message

from .snapshots import DOC_HOST, Normalizer, Recording, SnapshotStore, record

# Values the docs themselves get wrong; each is a decision (docs/decisions.md, "Where the docs disagree").
ERRATA = {
    # `<timezone>Europe/Oslo"</timezone>` is a typo in an example: timezones are IANA names.
    "syncml-list": [(b'Europe/Oslo"', b"Europe/Oslo")],
}


def doc_recordings() -> dict[str, tuple[Recording, dict]]:
    out = {}
    for exchange in load_index():
        key = exchange["id"]
        request_line, _, _ = load_message(key, "request")
        status_line, headers, body = load_message(key, "response")
        for wrong, right in ERRATA.get(key, []):
            body = body.replace(wrong, right)
        _, status, reason = status_line.split(" ", 2)
        method, path, _ = request_line.split(" ")
        header_map = {name.title(): value for name, value in headers}
        recording = record(int(status), reason, header_map, body, Normalizer(base_urls=(DOC_HOST,)),
                           {"method": method, "path": path})
        first, last = exchange["response_lines"]
        meta = {"provenance": {"kind": "documented", "doc": exchange["doc"], "section": exchange["section"]},
                "recorded": f"from the API documentation, {exchange['doc']}, '{exchange['section']}' "
                            f"(lines {first}-{last})"
                            + (" (erratum: a typo corrected, docs/decisions.md)" if key in ERRATA else "")}
        out[key] = (recording, meta)
    return out


def main(argv=None) -> int:
    store = SnapshotStore()
    for key, (recording, meta) in doc_recordings().items():
        print(store.save(key, recording, meta))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
