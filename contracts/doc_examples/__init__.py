"""The request/response examples of the API docs, kept verbatim as a test corpus.

Every HTTP example of the Google Data Client API and the SyncML API is stored here as it
appears in the doc, one file per message: ``<id>.request.http`` and ``<id>.response.http``.  A file holds the request or
status line, the header lines, one blank line and the body, copied byte for byte from the
doc (LF line ends, the doc's wrong ``Content-Length`` values, the ``Europe/Oslo"`` typo),
plus one final newline after a body (with it, the ``Content-Length: 3083`` of the SyncML
API's listing is exact).  ``gdata-typical-entry.xml`` is the stand-alone entry listing at the
top of the Google Data Client API ("XML Object description", body only).

``index.json`` describes every exchange: ``id``, ``doc`` (the API document's title),
``section`` (its heading),
``method``, ``path``, ``status``, ``reason`` (exact phrase), ``request_schema`` /
``response_schema`` (the ``xsd/`` schema validating the body, or null when there is none),
and ``request_lines`` / ``response_lines`` (first and last line of each message in the
document's text).
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
TYPICAL_ENTRY = HERE / "gdata-typical-entry.xml"


def load_index() -> list[dict]:
    """Return the exchanges described in ``index.json``, in doc order."""
    return json.loads((HERE / "index.json").read_text(encoding="utf-8"))


def message_path(exchange_id: str, kind: str) -> Path:
    """Path of one stored message; ``kind`` is ``"request"`` or ``"response"``."""
    if kind not in ("request", "response"):
        raise ValueError(f"kind must be 'request' or 'response', not {kind!r}")
    return HERE / f"{exchange_id}.{kind}.http"


def parse_http(text: str | bytes) -> tuple[str, list[tuple[str, str]], bytes]:
    """Split a raw HTTP message into ``(start_line, headers, body)``.

    Accepts LF or CRLF line ends.  ``headers`` keeps the doc's order and spelling
    (``Content-type`` stays as written), values stripped of surrounding blanks.  ``body`` is
    everything after the first blank line, unchanged (``b""`` when there is none).
    """
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    head, body = raw, b""
    cuts = [(raw.find(sep), sep) for sep in (b"\r\n\r\n", b"\n\n") if sep in raw]
    if cuts:
        cut, sep = min(cuts)
        head, body = raw[:cut], raw[cut + len(sep):]
    lines = head.decode("utf-8").replace("\r\n", "\n").split("\n")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"not a header line: {line!r}")
        headers.append((name.strip(), value.strip()))
    return lines[0], headers, body


def load_message(exchange_id: str, kind: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """``parse_http`` of one stored message."""
    return parse_http(message_path(exchange_id, kind).read_bytes())
