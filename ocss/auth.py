"""OAuth 1.0a credentials and request signing (SyncServer API Python interface,
'Authentication'; RFC 5849, HMAC-SHA1 signatures in the Authorization header).

Where the credentials come from, value by value, first found wins:

1. the arguments of :class:`SyncServerAuth`;
2. the environment: ``OCSS_CONSUMER_KEY``, ``OCSS_CONSUMER_SECRET``,
   ``OCSS_ACCESS_TOKEN``, ``OCSS_ACCESS_SECRET``;
3. a netrc entry for the API host (``~/.netrc``, or ``netrcfile``)::

       machine api.obexcode.com login CONSUMER_KEY password CONSUMER_SECRET account TOKEN:SECRET

   read when the credentials are given to a :class:`ocss.SyncServerAPI`, whose base URL
   names the host. The ``machine`` is the base URL's bare host name (``127.0.0.1`` for
   ``http://127.0.0.1:8080``); when the URL names a port, an entry for ``host:port``
   (``machine 127.0.0.1:8080``) is looked for first and, when there is one, used instead,
   so that two servers on one host can have their own credentials. A ``default`` entry
   is the last resort, as for every netrc reader.

Value by value means that the sources combine: e.g. the access token from the
environment and the consumer key and secret from netrc.
"""
from __future__ import annotations

import netrc
import os
from typing import Any, cast

from oauthlib.oauth1 import SIGNATURE_HMAC, SIGNATURE_TYPE_AUTH_HEADER
from oauthlib.oauth1 import Client as OAuthClient

from . import checks
from .exceptions import OCSSAPIError

ENVIRONMENT = {
    "consumer_key": "OCSS_CONSUMER_KEY",
    "consumer_secret": "OCSS_CONSUMER_SECRET",
    "access_key": "OCSS_ACCESS_TOKEN",
    "access_secret": "OCSS_ACCESS_SECRET",
}


class SyncServerAuth:
    """The OAuth credentials an API object signs its requests with (SyncServer API Python
    interface, 'Authentication').

    ``SyncServerAuth(consumer_key, consumer_secret, access_key, access_secret)``; each value
    left out (``None``) is looked up in the environment, then in netrc (see the module
    docstring). A consumer key and secret alone are enough to run the three-legged OAuth
    flow (:meth:`ocss.SyncServerAPI.get_request_token`); the protected parts of the API
    need all four values.

    :param consumer_key: the consumer key from the web portal's OAuth tokens page (``str``).
    :param consumer_secret: its secret (``str``).
    :param access_key: the access token (``str``).
    :param access_secret: the access token's secret (``str``).
    :param netrcfile: path of the netrc file to read instead of ``~/.netrc`` (``str`` or
        path-like).
    :raises TypeError: a value that is not a ``str`` or None; a ``netrcfile`` that is not
        a path.

    The netrc file is read by :class:`ocss.SyncServerAPI`, which knows the host; it raises
    :class:`~ocss.exceptions.OCSSAPIError` when ``netrcfile`` cannot be read or parsed, or
    the entry's ``account`` is not ``TOKEN:SECRET``.
    """

    def __init__(self, consumer_key: str | None = None, consumer_secret: str | None = None,
                 access_key: str | None = None, access_secret: str | None = None,
                 netrcfile: str | os.PathLike[str] | None = None) -> None:
        env = os.environ
        given = {"consumer_key": consumer_key, "consumer_secret": consumer_secret,
                 "access_key": access_key, "access_secret": access_secret}
        for name, value in given.items():
            checks.text(value, f"SyncServerAuth(): {name}", optional=True, empty=True)
        if netrcfile is not None and not isinstance(netrcfile, (str, os.PathLike)):
            raise TypeError(f"SyncServerAuth(): netrcfile must be a path (str or os.PathLike) or None, "
                            f"not {type(netrcfile).__name__}")
        for name, variable in ENVIRONMENT.items():
            if given[name] is None and env.get(variable):
                given[name] = env[variable]
        self.consumer_key: str | None = given["consumer_key"]
        self.consumer_secret: str | None = given["consumer_secret"]
        self.access_key: str | None = given["access_key"]
        self.access_secret: str | None = given["access_secret"]
        self.request_key: str | None = None  # set by SyncServerAPI.get_request_token()
        self.request_secret: str | None = None
        self.netrcfile = os.fspath(netrcfile) if netrcfile is not None else None
        self._netrc_read: set[tuple[str, ...]] = set()

    def __repr__(self) -> str:  # never shows a secret
        return (f"<SyncServerAuth consumer_key={self.consumer_key!r} "
                f"access_key={'set' if self.access_key else None}>")

    @property
    def has_consumer(self) -> bool:
        """True when both the consumer key and secret are known."""
        return bool(self.consumer_key and self.consumer_secret)

    @property
    def complete(self) -> bool:
        """True when all four values are known: protected calls can be signed."""
        return self.has_consumer and bool(self.access_key and self.access_secret)

    def use_netrc(self, *machines: str) -> None:
        """Fill the values still missing from the netrc entry of the first of ``machines``
        that has one (e.g. ``"127.0.0.1:8080"``, then ``"127.0.0.1"``), else from the
        ``default`` entry; once per list of machines.

        :raises OCSSAPIError: an explicit ``netrcfile`` that cannot be read or parsed, or
            an ``account`` that is not ``TOKEN:SECRET``.
        """
        if self.complete or not machines or machines in self._netrc_read:
            return
        self._netrc_read.add(machines)
        found = self._netrc_entry(machines)
        if found is None:
            return
        host, login, account, password = found
        self.consumer_key = self.consumer_key or login or None
        self.consumer_secret = self.consumer_secret or password or None
        if account:
            token, colon, secret = account.partition(":")
            if not colon:
                raise OCSSAPIError(f"netrc entry for {host}: account must be TOKEN:SECRET")
            self.access_key = self.access_key or token or None
            self.access_secret = self.access_secret or secret or None

    def _netrc_entry(self, machines: tuple[str, ...]) -> tuple[str, str, str, str] | None:
        """(machine, login, account, password) of the entry used, or None."""
        path = self.netrcfile
        if path is None:
            default = os.path.join(os.path.expanduser("~"), ".netrc")
            if not os.path.isfile(default):
                return None
            path = default
        try:
            entries = netrc.netrc(path)
        except (OSError, netrc.NetrcParseError) as exc:
            raise OCSSAPIError(f"cannot read the netrc file {path}: {exc}") from None
        for machine in machines:
            if machine in entries.hosts:
                login, account, password = entries.hosts[machine]
                return machine, login or "", account or "", password or ""
        found = entries.authenticators(machines[-1])  # the default entry, if any
        if found is None:
            return None
        login, account, password = found
        return "default", login or "", account or "", password or ""

    def sign(self, method: str, url: str, headers: dict[str, str], *, callback: str | None = None,
             verifier: str | None = None, token: tuple[str | None, str | None] | None = None) -> dict[str, str]:
        """``headers`` plus an OAuth 1.0a HMAC-SHA1 ``Authorization`` header for this request.

        A new nonce and timestamp every call, so a retried request is signed afresh.
        The body is not signed: the API's bodies are Atom XML, not form parameters
        (RFC 5849 §3.4.1.3).

        :param url: the absolute URL, query included, as it is sent.
        :param token: the token to sign with instead of the access token (the request
            token, during the three-legged flow); None: the access token, if any.
        """
        key, secret = token if token is not None else (self.access_key, self.access_secret)
        client = OAuthClient(self.consumer_key or "", client_secret=self.consumer_secret or "",
                             resource_owner_key=key, resource_owner_secret=secret,
                             callback_uri=callback, verifier=verifier,
                             signature_method=SIGNATURE_HMAC, signature_type=SIGNATURE_TYPE_AUTH_HEADER)
        _, signed, _ = client.sign(url, http_method=cast(Any, method), headers=dict(headers))
        return {str(k): str(v) for k, v in signed.items()}
