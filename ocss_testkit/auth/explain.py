"""The sentences of an OAuth 401: why a signed request was refused, and for a signature
that did not verify, the signature base string the fake computed (RFC 5849 §3.4.1).

Computed on the refusal path only; each is bounded, so the app sends it whole.
"""
from __future__ import annotations

import time

from ocss_testkit.answers import shown
from ocss_testkit.auth.rules import MAX_CREDENTIAL_LENGTH, REQUIRED, TIMESTAMP_LIFETIME, plausible

SIGNATURE_MISMATCH = "invalid signature"  # how the explained sentence begins
MAX_BASE_STRING = 1024  # characters of a signature base string a refusal quotes
MAX_URL_SHOWN = 256  # characters of the verified URL a refusal quotes


def explain_signature(method: str, base_uri: str, base: str) -> str:
    """Why an HMAC-SHA1 signature did not verify, as far as the fake can tell: the method,
    the URL and the signature base string (RFC 5849 §3.4.1) it computed the signature
    over, exactly as it built it while verifying, and what usually makes a client's
    differ.

    `base_uri` is the base string URI (RFC 5849 §3.4.1.2), `base` the signature base
    string, both as oauthlib's `signature` functions build them. The base string holds no
    secret and the sentence never quotes the signature; it is cut to MAX_BASE_STRING
    characters (the URL to MAX_URL_SHOWN), so the whole stays under about 2 KiB. Begins
    with SIGNATURE_MISMATCH."""
    # The base string is percent-encoded (ASCII only); the URL is shown as the client would
    # type it, with anything unprintable escaped.
    url = base_uri.encode("unicode_escape").decode("ascii") if not base_uri.isprintable() else base_uri
    if len(url) > MAX_URL_SHOWN:
        url = url[:MAX_URL_SHOWN] + "…"
    quoted = base if len(base) <= MAX_BASE_STRING else (
        base[:MAX_BASE_STRING] + f"…(+{len(base) - MAX_BASE_STRING} characters)")
    return (f"{SIGNATURE_MISMATCH}: the fake verified {method} {url} (scheme, host and port "
            "from --base-url, else trusted forwarded headers, else the Host header) "
            "over the signature base string (RFC 5849 §3.4.1) "
            f"{quoted} . Compare it with the one your client signed: a request signed for another host "
            "or port (localhost and 127.0.0.1 differ), a proxy that rewrote the Host header or the "
            "path, or a query parameter added, dropped or encoded differently after signing changes "
            "it; if both are equal, the consumer secret or the token secret does not match.")


def refusal(params: dict, replayed: bool = False, client: bool = True, owner: bool = True,
            mismatch: str | None = None) -> str:
    """A human reason for a refused signed request, the first of its faults in the order
    oauthlib's resource endpoint checks them. `params` are the protocol parameters as read
    (values unescaped); `replayed`: the nonce was seen (RFC 5849 §3.3); `client`, `owner`:
    whether the consumer key and the token (for that consumer) are known; `mismatch`: the
    explanation of a signature that did not verify (`explain_signature`), None if it did
    or was not computed."""
    missing = [p for p in REQUIRED if not params.get(p)]
    if missing:
        return "missing OAuth parameters: " + ", ".join(missing)
    if params.get("oauth_signature_method") != "HMAC-SHA1":
        return f"unsupported signature method {shown(params['oauth_signature_method'])}: use HMAC-SHA1"
    if params.get("oauth_version", "1.0") != "1.0":
        return f"oauth_version must be 1.0, not {shown(params['oauth_version'])}"
    timestamp = params["oauth_timestamp"]
    # ASCII digits only (int() would take "١٧٠٠", " 17", "1_7"), and at most 10 of them
    # before any arithmetic: 400 nines overflow a float (RFC 5849 §3.3: a positive integer).
    if not (timestamp.isascii() and timestamp.isdigit()):
        return (f"oauth_timestamp {shown(timestamp)} is not a number: send whole seconds "
                "since 1970-01-01T00:00:00Z in ASCII digits")
    if len(timestamp) > 10:
        return (f"oauth_timestamp has {len(timestamp)} digits: send whole seconds since "
                "1970-01-01T00:00:00Z (10 digits)")
    skew = abs(time.time() - int(timestamp))
    if skew > TIMESTAMP_LIFETIME:
        return f"oauth_timestamp is {int(skew)} s away from now (limit {TIMESTAMP_LIFETIME} s)"
    for name in ("oauth_consumer_key", "oauth_token", "oauth_nonce"):
        if not plausible(params[name]):
            return (f"{name} {shown(params[name])} is not a plausible value: 1 to "
                    f"{MAX_CREDENTIAL_LENGTH} printable characters")
    if replayed:
        return "nonce already used (replayed request)"
    if not client:
        return "unknown consumer key"
    if not owner:
        return "unknown access token (or not issued to this consumer)"
    if mismatch is not None:
        return mismatch
    return "request refused by OAuth verification"
