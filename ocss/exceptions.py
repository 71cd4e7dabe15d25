"""The exceptions of the OCSS library (SyncServer API Python interface, 'Exceptions').

Two kinds of errors, told apart by class:

* errors of use -- an argument of the wrong type, or a value the library can tell is
  wrong without asking the server (see :mod:`ocss.checks`) -- are raised as Python
  raises them, ``TypeError`` and ``ValueError``, before anything is sent;
* everything that involves the server -- its answers, its silence, and the calls the
  library refuses on its behalf -- raises a subclass of :class:`OCSSAPIError`.
  Catching ``OCSSAPIError`` catches all, and only, those. Each carries the HTTP answer
  that caused it, when there was one:

  * ``status`` -- the HTTP status code (``int``) as received, ``None`` when no answer
    was received (a refused, dropped or timed-out connection) or when the library
    refused the call itself;
  * ``reason`` -- the reason phrase of the status line (``str``), or ``None``;
  * ``body`` -- the raw response body (``bytes``), or ``None`` when there was no answer.

How answers map onto classes:

========================  ==========================================================
``ConnectionError``       no answer: the connection was refused, dropped, or timed
                          out; or the answer broke off (truncated) or was too large
``ServerError``           a 5xx; or an answer the library cannot read, with its
                          status as received (e.g. a ``200 OK`` whose body is not the
                          Atom XML the operation returns)
``NotAllowedError``       401, 403, 405; and calls the library refuses itself, with
                          ``status`` None and nothing sent (read-only resources, a
                          protected call without credentials)
``NotFoundError``         404 (also a ``KeyError``)
``ClientError``           every other 4xx (400, 409, 413, 415, ...)
``OCSSAPIError``          an unexpected 1xx or 3xx
========================  ==========================================================
"""
from __future__ import annotations

__all__ = ["OCSSAPIError", "ConnectionError", "ServerError", "ClientError", "NotFoundError",
           "NotAllowedError", "error_for"]

_SHOWN_BODY = 300  # characters of a response body quoted in a message


class OCSSAPIError(Exception):
    """Base class of the exceptions for everything that involves the server: its answers,
    its silence, and the calls the library refuses on its behalf (SyncServer API Python
    interface, 'Exceptions'). Errors of use (wrong argument types or values, found before
    anything is sent) are ``TypeError`` and ``ValueError`` instead.

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
    """No answer: the API server could not be reached, closed or reset the connection
    without answering, or did not answer within the API object's ``timeout``; or the
    answer broke off before its end (truncated) or exceeded the size the library accepts.
    ``status`` is None (only an oversized answer carries the status it began with).

    The library has already made its own reconnect attempt where that is safe: an
    idempotent request (GET, PUT, DELETE) is sent once more, on a new connection, when the
    keep-alive connection it went out on had been closed by the server; nothing else is
    retried. Trying again later is usually enough (SyncServer API Python interface,
    'Exceptions')."""


class ServerError(OCSSAPIError):
    """The server failed to process the request (a 5xx answer); or it answered, but with
    something the library cannot read -- a body that is not the Atom document (or the
    OAuth token form) the operation returns, e.g. random bytes behind a ``200 OK``.
    ``status``, ``reason`` and ``body`` are those of the answer as received, so such an
    error can carry ``status`` 200. Worth reporting to ObexCode (SyncServer API Python
    interface, 'Exceptions')."""


class ClientError(OCSSAPIError):
    """The server refused the request as malformed or conflicting (400 and the other 4xx
    not listed elsewhere, e.g. 409, 413, 415): a value of the right type that the service
    does not accept, such as an unknown model or a malformed phone number (SyncServer API
    Python interface, 'Exceptions'). ``detect_poll()`` raises it for an unknown code too,
    whatever the server's status."""


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
