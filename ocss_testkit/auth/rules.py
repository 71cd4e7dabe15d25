"""What an OAuth 1.0a protocol parameter must be before any signature is computed: the
limits, the timestamp window and the stand-in credentials of a refusal.

docs/decisions.md, "OAuth 1.0a": keys of any form the fixtures hold, a 600 s timestamp
window (RFC 5849 §3.3 leaves the window to the server), an Authorization header read only
up to a bound.
"""
from __future__ import annotations

import time
from typing import TypeGuard

TIMESTAMP_LIFETIME = 600  # seconds a timestamp may lie from now, either way
MAX_CREDENTIAL_LENGTH = 512  # characters of a consumer key, token, nonce or verifier
MAX_AUTHORIZATION = 8 * 1024  # characters of an Authorization header the fake reads at all

# An unknown consumer or token is verified all the same, with these stand-ins (as oauthlib's
# dummy credentials are), so that its refusal takes as long as a bad signature.
DUMMY_SECRET = "ocss-dummy-secret"
DUMMY_CLIENT = "ocss-dummy-consumer"
DUMMY_ACCESS_TOKEN = "ocss-dummy-token"
DUMMY_REQUEST_TOKEN = "ocss-dummy-request-token"

# What a signed API request must carry (RFC 5849 §3.1; oauth_version is optional).
REQUIRED = ("oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_signature",
            "oauth_timestamp", "oauth_nonce")


def header_too_long(authorization: str) -> str | None:
    """The refusal sentence for an Authorization header (its value) of more than
    MAX_AUTHORIZATION characters, else None.

    Checked first, before the header is parsed: splitting it (urllib's parse_http_list,
    which oauthlib uses) walks it in Python, ~0.3 µs a character, so a 200,000-character
    header cost 58 ms of CPU for its 401, unsigned. The longest header of plausible values
    (consumer key, token, nonce and verifier of 512 characters each, percent-encoded to at
    most 1,536) is ~6.4 KiB with the other parameters; 8 KiB is also the most a header line
    may hold in Apache httpd (LimitRequestFieldSize) and nginx
    (large_client_header_buffers) by default."""
    if len(authorization) <= MAX_AUTHORIZATION:
        return None
    return (f"the Authorization header is {len(authorization):,} characters long, over the "
            f"{MAX_AUTHORIZATION:,} this server reads: an OAuth 1.0a header (RFC 5849 §3.5.1) holds "
            "a few hundred")


def plausible(value: str | None) -> TypeGuard[str]:
    """A consumer key, token, nonce or verifier the fake takes: 1 to MAX_CREDENTIAL_LENGTH
    printable characters (fixture credentials come in any charset)."""
    return value is not None and 0 < len(value) <= MAX_CREDENTIAL_LENGTH and value.isprintable()


def in_window(timestamp: str) -> bool:
    """oauthlib's timestamp rule (its endpoints/base.py: 10 characters, within
    TIMESTAMP_LIFETIME seconds of now), in ASCII digits only (RFC 5849 §3.3: a positive
    integer). oauthlib reads it with int(), which also takes other scripts' digits
    ("١٧٩٦…"); NonceStore keeps no record of such a key, so one accepted could be replayed.
    What a refusal says of it is `explain.refusal`'s."""
    return (len(timestamp) == 10 and timestamp.isascii() and timestamp.isdigit()
            and abs(time.time() - int(timestamp)) <= TIMESTAMP_LIFETIME)


def cut(message: str, limit: int = 200) -> str:
    """`message` cut to `limit` characters and "…": oauthlib's messages quote the whole
    query string, which the client already has."""
    return message if len(message) <= limit else message[:limit] + "…"
