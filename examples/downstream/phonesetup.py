"""phonesetup: register a customer's phone with the ObexCode SyncServer and text it the
sync settings. A small downstream application, written against the API documentation
only (requests + requests-oauthlib); ocss-testkit appears in its tests, never here.

    from requests_oauthlib import OAuth1
    auth = OAuth1(consumer_key, consumer_secret, token, token_secret)
    uuid = provision("https://sync.example.com", auth, "+4798765432", "242", "4711")

`provision` retries what may go away by itself (a 5xx answer, a dropped or broken
connection, a timeout) a bounded number of times with a short exponential backoff, and
gives up with `ProvisionFailed`. A 4xx is the caller's mistake and is never retried.
Registering is not idempotent: after a failure that leaves it unknown whether the server
created the phone (the connection broke before the answer was read), it looks the phone
up before registering it again, so a retry never registers it twice.
"""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import requests

ATOM = "{http://www.w3.org/2005/Atom}"
OC = "{http://schemas.obexcode.com/syncserver/2009}"
ATOM_TYPE = "application/atom+xml"
SYNCML = "/v2/services/syncml/"

DEFAULT_ATTEMPTS = 4  # per request: the first try and three retries
DEFAULT_BACKOFF = 0.2  # seconds before the first retry, doubled each time
MAX_BACKOFF = 2.0
DEFAULT_TIMEOUT = 10.0

# Raised by requests when the answer never came or came broken: the request may or may
# not have been applied by the server.
_BROKEN = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class SyncServerError(Exception):
    """The server refused the request (4xx) or answered something unexpected."""

    def __init__(self, status: int | None, reason: str, detail: str = "") -> None:
        self.status, self.reason, self.detail = status, reason, detail
        super().__init__(f"{status} {reason}" + (f": {detail}" if detail else ""))


class TemporaryError(SyncServerError):
    """Worth retrying: a 5xx (status set) or a broken connection (status None; the
    request may have been applied)."""

    @property
    def ambiguous(self) -> bool:
        return self.status is None


class ProvisionFailed(Exception):
    """Gave up after the retry budget; `errors` holds every failed attempt, oldest first."""

    def __init__(self, step: str, errors: list[TemporaryError]) -> None:
        self.step, self.errors = step, errors
        super().__init__(f"{step}: gave up after {len(errors)} attempt(s), last: {errors[-1]}")


def _url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def _send(method: str, url: str, auth, body: str | None, expect: int, timeout: float) -> requests.Response:
    headers = {"Content-Type": ATOM_TYPE} if body is not None else {}
    try:
        reply = requests.request(method, url, auth=auth, headers=headers,
                                 data=body.encode("utf-8") if body is not None else None, timeout=timeout)
        content = reply.content  # read it all now, so a truncated answer fails here
    except _BROKEN as exc:
        raise TemporaryError(None, "no answer", f"{type(exc).__name__}: {exc}") from exc
    if reply.status_code >= 500:
        raise TemporaryError(reply.status_code, reply.reason, content[:200].decode("utf-8", "replace"))
    if reply.status_code != expect:
        raise SyncServerError(reply.status_code, reply.reason, content[:500].decode("utf-8", "replace"))
    return reply


def _xml(reply: requests.Response) -> ET.Element:
    try:
        return ET.fromstring(reply.content)
    except ET.ParseError as exc:
        raise SyncServerError(reply.status_code, reply.reason, f"answer is not XML: {exc}") from None


def register_phone(base_url: str, auth, number: str, model: str, timezone: str = "UTC",
                   *, timeout: float = DEFAULT_TIMEOUT) -> str:
    """POST a new SyncML client; returns its uuid. One attempt, no retry."""
    entry = (f'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
             f"<oc:client><oc:phone_number>{escape(number)}</oc:phone_number>"
             f"<oc:model_uuid>{escape(model)}</oc:model_uuid><oc:timezone>{escape(timezone)}</oc:timezone>"
             f"</oc:client></entry>")
    reply = _send("POST", _url(base_url, SYNCML), auth, entry, 201, timeout)
    uuid = _xml(reply).findtext(f"{OC}client/{OC}uuid")
    if not uuid:
        raise SyncServerError(reply.status_code, reply.reason, "the created entry has no oc:client/oc:uuid")
    return uuid


def send_setup(base_url: str, auth, uuid: str, pincode: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
    """Ask the server to text the phone its sync settings, protected by `pincode`. One attempt."""
    entry = (f'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
             f"<oc:pincode>{escape(pincode)}</oc:pincode></entry>")
    _send("POST", _url(base_url, f"{SYNCML}{uuid}/setup/"), auth, entry, 201, timeout)


def list_phones(base_url: str, auth, *, timeout: float = DEFAULT_TIMEOUT) -> list[dict]:
    """The user's SyncML clients: [{"uuid", "number", "model"}], as the feed lists them."""
    feed = _xml(_send("GET", _url(base_url, SYNCML), auth, None, 200, timeout))
    return [{"uuid": c.findtext(f"{OC}uuid"), "number": c.findtext(f"{OC}phone_number"),
             "model": c.findtext(f"{OC}model_uuid")}
            for c in feed.iter(f"{OC}client")]


def _retrying(step: str, attempt, attempts: int, backoff: float, sleep):
    errors: list[TemporaryError] = []
    for n in range(attempts):
        if n:
            sleep(min(backoff * 2 ** (n - 1), MAX_BACKOFF))
        try:
            return attempt(errors)
        except TemporaryError as error:
            errors.append(error)
    raise ProvisionFailed(step, errors)


def provision(base_url: str, auth, number: str, model: str, pincode: str, *, timezone: str = "UTC",
              attempts: int = DEFAULT_ATTEMPTS, backoff: float = DEFAULT_BACKOFF,
              timeout: float = DEFAULT_TIMEOUT, sleep=time.sleep) -> str:
    """Register the phone and send it the settings; returns the client's uuid.

    Each of the two steps gets `attempts` tries. Raises ProvisionFailed when a step used
    them all up, SyncServerError at once on a 4xx.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")

    def register(errors: list[TemporaryError]) -> str:
        if any(e.ambiguous for e in errors):  # did an earlier try create it after all?
            for phone in list_phones(base_url, auth, timeout=timeout):
                if (phone["number"], phone["model"]) == (number, model):
                    return phone["uuid"]
        return register_phone(base_url, auth, number, model, timezone, timeout=timeout)

    uuid = _retrying("register", register, attempts, backoff, sleep)
    # A setup sent twice (an answer lost after the server sent it) only texts the same
    # settings again: harmless, so no look-up here.
    _retrying("setup", lambda errors: send_setup(base_url, auth, uuid, pincode, timeout=timeout),
              attempts, backoff, sleep)
    return uuid
