"""HTTP responses as the SyncServer sends them: a status with its own reason phrase.

The docs give many statuses non-standard phrases (`200 Updated`, `400 No Entry provided`,
`404 No such Google client.`); werkzeug sends whatever phrase the status string holds.
"""
from __future__ import annotations

import json

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

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


def atom(body: bytes, status: str = "200 OK") -> Response:
    return Response(body, status=status, content_type=ATOM_TYPE)


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
