"""phonesetup: register a customer's phone with the ObexCode SyncServer and text it the
sync settings. A small downstream application, written against the OCSS library
(SyncServer API Python interface); ocss-testkit appears in its tests, never here.

    import ocss
    api = ocss.SyncServerAPI(ocss.SyncServerAuth(consumer_key, consumer_secret, token, secret),
                             base_url="https://sync.example.com")
    uuid = provision(api, "+4798765432", "242", "4711")

or from a shell, with the credentials (and `OCSS_BASE_URL`) in the environment the
library reads:

    python phonesetup.py +4798765432 242 4711 --timezone Europe/Oslo

`provision` retries what may go away by itself (a `ServerError`, a `ConnectionError`:
dropped or broken connection, timeout) a bounded number of times with a short exponential
backoff, and gives up with `ProvisionFailed`. Any other refusal (`ClientError`,
`NotAllowedError`, `NotFoundError`) is the caller's mistake and is raised at once.
Registering is not idempotent, and the library never resends a POST itself: after a
failure that leaves it unknown whether the server created the phone (no answer, or an
answer that could not be read), it looks the phone up before registering it again, so a
retry never registers it twice.
"""
from __future__ import annotations

import argparse
import sys
import time

import ocss
from ocss.exceptions import ConnectionError, OCSSAPIError, ServerError

DEFAULT_ATTEMPTS = 4  # per step: the first try and three retries
DEFAULT_BACKOFF = 0.2  # seconds before the first retry, doubled each time
MAX_BACKOFF = 2.0
DEFAULT_TIMEOUT = 10.0  # seconds, for the API object made by main()

# Worth another try: the server failed (5xx), or no usable answer came back.
TEMPORARY = (ServerError, ConnectionError)


def ambiguous(error: OCSSAPIError) -> bool:
    """True when the failed request may have been applied by the server: no answer at all
    (a ConnectionError) or an answer that could not be read (status below 500)."""
    return error.status is None or error.status < 500


class ProvisionFailed(Exception):
    """Gave up after the retry budget; `errors` holds every failed attempt (the library's
    ServerError and ConnectionError instances), oldest first."""

    def __init__(self, step: str, errors: list[OCSSAPIError]) -> None:
        self.step, self.errors = step, errors
        super().__init__(f"{step}: gave up after {len(errors)} attempt(s), last: {errors[-1]}")


def _phones(api: ocss.SyncServerAPI) -> list:
    """The user's SyncML clients as the server lists them now."""
    phones = api.clients.syncml
    phones.refresh()  # what the server holds now, not what this API object saw earlier
    return list(phones)


def list_phones(api: ocss.SyncServerAPI) -> list[dict]:
    """The user's SyncML clients: [{"uuid", "number", "model"}], as the server lists them."""
    return [{"uuid": p.id, "number": p.phone_number, "model": p.model.id} for p in _phones(api)]


def _retrying(step: str, attempt, attempts: int, backoff: float, sleep):
    errors: list[OCSSAPIError] = []
    for n in range(attempts):
        if n:
            sleep(min(backoff * 2 ** (n - 1), MAX_BACKOFF))
        try:
            return attempt(errors)
        except TEMPORARY as error:
            errors.append(error)
    raise ProvisionFailed(step, errors)


def provision(api: ocss.SyncServerAPI, number: str, model: str, pincode: str, *, timezone: str = "UTC",
              attempts: int = DEFAULT_ATTEMPTS, backoff: float = DEFAULT_BACKOFF, sleep=time.sleep) -> str:
    """Register the phone (`model`: a phone model id of the SyncServer's phones database)
    and send it the settings protected by `pincode`; returns the client's id.

    Each of the two steps gets `attempts` tries. Raises ProvisionFailed when a step used
    them all up; the library's ClientError, NotAllowedError or NotFoundError at once.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")

    def register(errors: list[OCSSAPIError]):
        if any(ambiguous(e) for e in errors):  # did an earlier try create it after all?
            for phone in _phones(api):
                if (phone.phone_number, phone.model.id) == (number, model):
                    return phone
        return api.clients.syncml.new(phone_number=number, model=model, timezone=timezone)

    phone = _retrying("register", register, attempts, backoff, sleep)
    # A setup sent twice (an answer lost after the server sent it) only texts the same
    # settings again: harmless, so no look-up here.
    _retrying("setup", lambda errors: phone.send_setup(pincode), attempts, backoff, sleep)
    return phone.id


def main(argv: list[str] | None = None) -> int:
    """The command line: credentials from the environment or netrc, as the library reads
    them (`OCSS_CONSUMER_KEY`, `OCSS_CONSUMER_SECRET`, `OCSS_ACCESS_TOKEN`,
    `OCSS_ACCESS_SECRET`; the server from `OCSS_BASE_URL`)."""
    parser = argparse.ArgumentParser(description="Register a phone and text it the sync settings.")
    parser.add_argument("number", help="the phone number, e.g. +4798765432")
    parser.add_argument("model", help="the phone model id, e.g. 242")
    parser.add_argument("pincode", help="the pincode protecting the settings message")
    parser.add_argument("--timezone", default="UTC")
    parser.add_argument("--attempts", type=int, default=DEFAULT_ATTEMPTS)
    args = parser.parse_args(argv)
    api = ocss.SyncServerAPI(ocss.SyncServerAuth(), timeout=DEFAULT_TIMEOUT)
    try:
        uuid = provision(api, args.number, args.model, args.pincode, timezone=args.timezone,
                         attempts=args.attempts)
    except (ProvisionFailed, OCSSAPIError) as error:
        print(f"phonesetup: {error}", file=sys.stderr)
        return 1
    finally:
        api.close()
    print(uuid)
    return 0


if __name__ == "__main__":
    sys.exit(main())
