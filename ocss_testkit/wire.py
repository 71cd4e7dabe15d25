"""HTTP responses as the SyncServer sends them: a status with its own reason phrase.

The docs give many statuses non-standard phrases (`200 Updated`, `400 No Entry provided`,
`404 No such Google client.`); werkzeug sends whatever phrase the status string holds.
"""
from __future__ import annotations

import json

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

from .atom.render import serialize

ATOM_TYPE = "application/atom+xml"


class ApiError(Exception):
    """An answer that is not a success: status, reason phrase, and a sentence for humans."""

    def __init__(self, status: int, reason: str, detail: str = "", headers: dict | None = None) -> None:
        super().__init__(f"{status} {reason}: {detail}" if detail else f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.detail = detail
        self.headers = headers or {}

    def response(self, request_id: str | None = None) -> Response:
        text = f"{self.status} {self.reason}"
        if self.detail:
            text += f": {self.detail}"
        headers = dict(self.headers)
        if request_id:
            headers["X-Request-Id"] = request_id
        return Response(text + "\n", status=f"{self.status} {self.reason}",
                        content_type="text/plain; charset=utf-8", headers=headers)


class AtomResponse(Response):
    """An Atom answer whose XML is serialized after the World's lock is released.

    Handlers build the element tree under the lock (it copies every value it shows);
    lxml's tostring releases the GIL while it works, and doing that inside the lock made
    the other workers queue behind it (benchmarks/README.md).
    """
    element = None

    def finish(self) -> None:
        if self.element is not None:
            self.set_data(serialize(self.element))
            self.element = None


def atom(body, status: str = "200 OK") -> Response:
    """`body`: bytes, or an lxml element the app serializes once the lock is released."""
    if isinstance(body, bytes):
        return Response(body, status=status, content_type=ATOM_TYPE)
    response = AtomResponse(b"", status=status, content_type=ATOM_TYPE)
    response.element = body
    return response


def empty(status: str, content_type: str | None = None) -> Response:
    response = Response(b"", status=status)
    if content_type:
        response.headers["Content-Type"] = content_type
    else:
        del response.headers["Content-Type"]
    return response


def status_line(code: int) -> str:
    """`404 Not Found`: werkzeug would send `404 NOT FOUND` for a bare integer status."""
    return f"{code} {HTTP_STATUS_CODES.get(code, 'Unknown')}"


def json_response(data, status: int = 200) -> Response:
    return Response(json.dumps(data, indent=1, sort_keys=True) + "\n", status=status_line(status),
                    content_type="application/json")
