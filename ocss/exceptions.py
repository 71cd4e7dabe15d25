"""The exceptions of the OCSS library (SyncServer API Python interface, 'Exceptions').

Every exception the library raises derives from :class:`OCSSAPIError`; catching it
catches all, and only, the errors caused by using the library. Each carries the HTTP
answer that caused it, when there was one:

* ``status`` -- the HTTP status code (``int``), ``None`` when no response was received
  (a refused connection, a timeout) or when the library refused the call itself;
* ``reason`` -- the reason phrase of the status line (``str``), or ``None``;
* ``body`` -- the raw response body (``bytes``), or ``None`` when there was no response.

How statuses map onto classes:

========================  ======================================================
``ConnectionError``       no usable answer: refused, dropped, timed out, truncated
``ServerError``           5xx, or a 2xx whose body is not the Atom XML expected
``NotAllowedError``       401, 403, 405, and calls the library refuses itself
                          (read-only resources, no credentials): nothing is sent
``NotFoundError``         404 (also a ``KeyError``)
``ClientError``           every other 4xx (400, 409, 413, 415, ...)
========================  ======================================================
"""
from __future__ import annotations

__all__ = ["OCSSAPIError", "ConnectionError", "ServerError", "ClientError", "NotFoundError",
           "NotAllowedError", "error_for"]

_SHOWN_BODY = 300  # characters of a response body quoted in a message


class OCSSAPIError(Exception):
    """Base class of every exception raised by the library (SyncServer API Python
    interface, 'Exceptions').

    :param message: what went wrong, one sentence.
    :param status: HTTP status code of the answer, or ``None`` when there was none.
    :param reason: the reason phrase of that answer, or ``None``.
    :param body: the raw response body (``bytes``), or ``None``.
    """

    def __init__(self, message: str, status: int | None = None, reason: str | None = None,
                 body: bytes | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.body = body

    @property
    def message(self) -> str:
        """The message the exception was created with (``str``)."""
        return str(self.args[0]) if self.args else ""


class ConnectionError(OCSSAPIError):  # noqa: A001 - the name the library documentation gives
    """Something went wrong with the connection to the API server: it could not be
    reached, closed the connection without answering, answered too slowly (the API
    object's ``timeout``), or sent an incomplete message. The library has already made
    its own reconnect attempt where that is safe (one retry of an idempotent request on a
    dropped keep-alive connection); trying again later is usually enough
    (SyncServer API Python interface, 'Exceptions')."""


class ServerError(OCSSAPIError):
    """The server failed to process the request (a 5xx answer), or answered with a body
    that is not the Atom document the operation returns. Worth reporting to ObexCode
    (SyncServer API Python interface, 'Exceptions')."""


class ClientError(OCSSAPIError):
    """The server refused the request as malformed or conflicting (400 and the other 4xx
    not listed elsewhere, e.g. 409, 413, 415); also a value the library cannot put into a
    request at all (SyncServer API Python interface, 'Exceptions')."""


class NotFoundError(OCSSAPIError, KeyError):
    """The requested resource does not exist on the server (404), e.g. a missing member
    of a collection. Also a ``KeyError``, so collections behave like dicts; like a
    ``KeyError`` its ``str()`` is the quoted message::

        ocss.exceptions.NotFoundError: "No Vendor with ID 'invalid-vendor-id'"

    (SyncServer API Python interface, 'Collections' and 'Exceptions')."""

    __str__ = KeyError.__str__


class NotAllowedError(OCSSAPIError):
    """Access was denied: missing or refused credentials (401, 403), an operation the
    resource does not support (405), or an operation the library refuses locally before
    sending anything -- ``update()``/``delete()`` on the read-only phones API and generic
    clients collection, or any protected call without OAuth credentials; those carry
    ``status`` ``None`` (SyncServer API Python interface, 'Exceptions')."""


def _shown(body: bytes | None) -> str:
    if not body:
        return ""
    text = body.decode("utf-8", "replace").strip()
    if len(text) > _SHOWN_BODY:
        text = text[:_SHOWN_BODY] + "..."
    return text


def error_for(status: int, reason: str, body: bytes | None, what: str) -> OCSSAPIError:
    """The exception for a non-2xx answer to ``what`` (e.g. ``"GET /v2/clients/"``).

    :returns: an instance of the class the status maps onto (see the module docstring);
        ``OCSSAPIError`` itself for an unexpected 1xx/3xx.
    """
    detail = _shown(body)
    head = f"{status} {reason}"
    if detail.startswith(head):  # a plain-text body that repeats the status line
        detail = detail[len(head):].lstrip(" :")
    message = f"{what}: {status} {reason}" + (f": {detail}" if detail else "")
    cls: type[OCSSAPIError]
    if status == 404:
        cls = NotFoundError
    elif status in (401, 403, 405):
        cls = NotAllowedError
    elif 400 <= status < 500:
        cls = ClientError
    elif status >= 500:
        cls = ServerError
    else:
        cls = OCSSAPIError
    return cls(message, status, reason, body)
