"""The answer a fault rule asks for (faults.py): a status of its own, a delay before the
real answer, a dropped connection, a truncated or garbage body."""
from __future__ import annotations

import os
import time
from collections.abc import Callable

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

from ocss_testkit.answers import ATOM_TYPE, ApiError, status_line
from ocss_testkit.faults import Fault


class DropConnection(Exception):
    """A fault asked for the connection to be closed without an answer."""


def faulty_answer(fault: Fault, dispatch: Callable[[], Response]) -> Response:
    """Answer as the fault rule says; `dispatch()` gives the request's real answer. Raises
    DropConnection ("drop") or ApiError ("status": the rule's status, reason and body)."""
    if fault.action == "delay":
        time.sleep(fault.delay)
        return dispatch()
    if fault.action == "drop":
        raise DropConnection()
    if fault.action == "garbage":
        return Response(os.urandom(512), status=status_line(fault.status), content_type=ATOM_TYPE)
    if fault.action == "truncate":
        try:
            response = dispatch()
        except ApiError as error:
            response = error.response()
        return _truncated(response)
    reason = fault.reason or HTTP_STATUS_CODES.get(fault.status, "Error")
    raise ApiError(fault.status, reason, fault.body or f"fault {fault.id} injected by the test")


def _truncated(response: Response) -> Response:
    """The response with its full Content-Length but only half the body: the server then
    closes the connection, and the client reads an incomplete message."""
    body = response.get_data()
    half = body[: max(1, len(body) // 2)]

    def chunks():
        yield half
    truncated = Response(chunks(), status=response.status, headers=list(response.headers.items()))
    truncated.headers["Content-Length"] = str(max(len(body), len(half) + 1))
    return truncated
