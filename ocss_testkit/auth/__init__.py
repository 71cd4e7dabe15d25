"""OAuth 1.0a (HMAC-SHA1, RFC 5849) for the fake, with oauthlib doing the maths.

docs/decisions.md, "OAuth 1.0a": keys of any form the fixtures hold, plain http, a 600 s
timestamp window, a nonce remembered only once its signature verified (so a forged
request cannot burn a real client's nonce), and `oauth_body_hash` checked against the
body when present. A refusal says why in one bounded sentence; for a signature that does
not verify, it quotes the signature base string the fake computed.

Modules, by their job:
  verify        the check of a signed API request, on oauthlib's primitives; Authenticator
  params        where the protocol parameters are (header, query, form body), read once each
  base_string   the signature base string (RFC 5849 §3.4.1), built once, and the HMAC
  nonces        NonceStore: the nonces seen within the window, bounded
  explain       the sentences of a refusal, the base string quoted
  rules         limits, the timestamp window, plausible credentials
  three_legged  the request-token and access-token steps, on oauthlib's endpoints

This package exports what the rest of the fake and its tests import from it.
"""
from __future__ import annotations

from oauthlib.oauth1.rfc5849 import utils as oauth_utils  # tests patch its parsers to prove they are not called

from ocss_testkit.auth.explain import MAX_BASE_STRING, SIGNATURE_MISMATCH
from ocss_testkit.auth.nonces import NonceStore
from ocss_testkit.auth.params import authorization_params, refuse_duplicates
from ocss_testkit.auth.rules import MAX_AUTHORIZATION, TIMESTAMP_LIFETIME
from ocss_testkit.auth.verify import Authenticator, AuthResult

__all__ = ["MAX_AUTHORIZATION", "MAX_BASE_STRING", "SIGNATURE_MISMATCH", "TIMESTAMP_LIFETIME", "AuthResult",
           "Authenticator", "NonceStore", "authorization_params", "oauth_utils", "refuse_duplicates"]
