"""The entry point: :class:`SyncServerAPI` (SyncServer API Python interface, 'Getting
started' and 'Authentication')."""
from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from . import atom, checks
from .auth import SyncServerAuth
from .base import R, Resource
from .cache import ObjectCache
from .collection import Collection
from .exceptions import NotAllowedError, NotFoundError, ServerError, error_for
from .transport import HTTPTransport, Response, Signer, Transport, netrc_machines, origin_of

if TYPE_CHECKING:
    from .clients import Clients
    from .phones import Phones

DEFAULT_BASE_URL = "https://api.obexcode.com"
USER_AGENT = "ocss-python/1.2"
ATOM_TYPE = "application/atom+xml"


class SyncServerAPI:
    """The SyncServer API, as a hierarchy of Resources and Collections (SyncServer API
    Python interface, 'Getting started').

    ``SyncServerAPI()`` reaches the parts of the service that need no authorization (the
    phone database, :attr:`phones`); ``SyncServerAPI(auth)`` with a
    :class:`~ocss.SyncServerAuth` holding all four OAuth values reaches everything. A
    protected call without credentials raises :class:`~ocss.exceptions.NotAllowedError`
    before any request is sent. Building the object sends nothing.

    :param auth: the OAuth credentials, or None for anonymous use. Values it lacks are
        looked up in netrc for this base URL's host (see :mod:`ocss.auth`).
    :param base_url: the API's URL (``str``); default the environment's ``OCSS_BASE_URL``,
        else ``https://api.obexcode.com``. A path prefix (``https://host/ocss``) is kept.
    :param timeout: seconds to wait for connecting and for each read (a positive ``int``
        or ``float``); a slower answer is a :class:`~ocss.exceptions.ConnectionError`.
    :param transport: where requests go instead of a keep-alive HTTP(S) connection, e.g.
        :class:`ocss.transport.WSGITransport` for an in-process WSGI application.
    :raises TypeError: ``auth`` not a :class:`~ocss.SyncServerAuth` or None, ``base_url``
        not a ``str`` or None, ``timeout`` not a number, ``transport`` without ``request``.
    :raises ValueError: a base URL that is not ``http://`` or ``https://`` with a host (or
        holds credentials, a query, a bad port: :func:`ocss.transport.origin_of`); a
        timeout that is zero, negative, infinite or NaN.
    :raises OCSSAPIError: the netrc file named by ``auth`` cannot be read.

    An API object holds one connection and one object cache: use one per thread.
    """

    def __init__(self, auth: SyncServerAuth | None = None, base_url: str | None = None, timeout: float = 30,
                 *, transport: Transport | None = None) -> None:
        if auth is not None and not isinstance(auth, SyncServerAuth):
            raise TypeError(f"SyncServerAPI(): auth must be a SyncServerAuth or None, not {type(auth).__name__}")
        checks.text(base_url, "SyncServerAPI(): base_url", optional=True)
        self.timeout = checks.timeout(timeout, "SyncServerAPI(): timeout")
        if transport is not None and not callable(getattr(transport, "request", None)):
            raise TypeError(f"SyncServerAPI(): transport must have a request() method, not {type(transport).__name__}")
        self.base_url = (base_url or os.environ.get("OCSS_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        _, _, self._prefix = origin_of(self.base_url)
        self.auth = auth
        if auth is not None:
            auth.use_netrc(*netrc_machines(self.base_url))
        self._transport: Transport = transport if transport is not None else HTTPTransport(self.base_url, timeout)
        self._cache = ObjectCache()
        self._listings: weakref.WeakSet[Collection] = weakref.WeakSet()
        self._phones: Phones | None = None
        self._clients: Clients | None = None

    def __repr__(self) -> str:
        return f"<SyncServerAPI {self.base_url} {'authenticated' if self._authenticated else 'anonymous'}>"

    # --- the hierarchy -----------------------------------------------------------------------
    @property
    def phones(self) -> Phones:
        """The phone database: ``phones.vendors`` and ``phones.models`` (SyncServer API
        Python interface, 'Phones'). Mostly readable without credentials."""
        if self._phones is None:
            from .phones import Phones
            self._phones = Phones(self)
        return self._phones

    @property
    def clients(self) -> Clients:
        """Every client of the account, and the collections of each kind (SyncServer API
        Python interface, 'Clients'). Needs credentials."""
        if self._clients is None:
            from .clients import Clients
            self._clients = Clients(self)
        return self._clients

    def clear_object_cache(self) -> None:
        """Forget every resource and feed fetched so far: the next read requests them
        again (the object cache of the library conventions)."""
        self._cache.clear()
        for collection in list(self._listings):
            collection._listing = None

    def close(self) -> None:
        """Close the connection to the server (a later request opens a new one)."""
        self._transport.close()

    def __enter__(self) -> SyncServerAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- OAuth three-legged flow ---------------------------------------------------------------
    def get_request_token(self, callback: str = "oob") -> tuple[str, str]:
        """Step 1 of the OAuth 1.0a flow (RFC 5849 §2.1): obtain a request token for the
        consumer of :attr:`auth`, kept in ``auth.request_key``/``auth.request_secret``.

        :param callback: where the user's browser goes after approving (an absolute URL,
            ``str``), or ``"oob"`` to show the verifier instead.
        :returns: ``(request_key, request_secret)``.
        :raises TypeError: ``callback`` is not a ``str``.
        :raises ValueError: ``callback`` is empty.
        :raises NotAllowedError: no consumer key and secret (nothing sent), or refused (401).
        :raises ClientError: the server refused the callback (400).
        """
        checks.text(callback, "get_request_token(): callback")
        auth = self._consumer()
        response = self._request("POST", "/oauth/request_token", protected=False,
                                 signer=self._signer(auth, callback=callback, token=(None, None)))
        key, secret = self._token_pair(response, "/oauth/request_token")
        auth.request_key, auth.request_secret = key, secret
        return key, secret

    def get_authorization_url(self) -> str:
        """Step 2 (RFC 5849 §2.2): the URL to send the user to, to approve the request token.
        Sends nothing. A user who denies gets no verifier, and the request token is spent:
        :meth:`get_access_token` then raises NotAllowedError.

        :raises NotAllowedError: no request token yet (call :meth:`get_request_token`).
        """
        auth = self._consumer()
        if not auth.request_key:
            raise NotAllowedError("no request token: call get_request_token() first")
        return f"{self.base_url}/oauth/authorize?" + urlencode({"oauth_token": auth.request_key})

    def get_access_token(self, verifier: str) -> tuple[str, str]:
        """Step 3 (RFC 5849 §2.3): exchange the approved request token and the verifier for
        an access token, stored in ``auth.access_key``/``auth.access_secret``. The object
        cache is cleared: what was read before belonged to no user or another one.

        :param verifier: the verifier the user was shown, or the callback received (``str``).
        :returns: ``(access_key, access_secret)``.
        :raises TypeError: ``verifier`` is not a ``str``.
        :raises ValueError: ``verifier`` is empty.
        :raises NotAllowedError: no request token yet (nothing sent), or refused (401): a
            wrong verifier, or a request token the user denied, that expired or was used.
        :raises ClientError: the server found the request malformed (400).
        """
        checks.text(verifier, "get_access_token(): verifier")
        auth = self._consumer()
        if not (auth.request_key and auth.request_secret):
            raise NotAllowedError("no request token: call get_request_token() first (no request was sent)")
        signer = self._signer(auth, verifier=verifier, token=(auth.request_key, auth.request_secret))
        response = self._request("POST", "/oauth/access_token", protected=False, signer=signer)
        key, secret = self._token_pair(response, "/oauth/access_token")
        auth.access_key, auth.access_secret = key, secret
        auth.request_key = auth.request_secret = None
        self.clear_object_cache()
        return key, secret

    def _consumer(self) -> SyncServerAuth:
        if self.auth is None or not self.auth.has_consumer:
            raise NotAllowedError("the OAuth flow needs a consumer key and secret: "
                                  "SyncServerAPI(SyncServerAuth(consumer_key, consumer_secret))")
        return self.auth

    @staticmethod
    def _token_pair(response: Response, what: str) -> tuple[str, str]:
        values = parse_qs(response.body.decode("utf-8", "replace"))
        key, secret = values.get("oauth_token", [""])[0], values.get("oauth_token_secret", [""])[0]
        if not key or not secret:
            raise ServerError(f"POST {what}: the answer holds no oauth_token and oauth_token_secret",
                              response.status, response.reason, response.body)
        return key, secret

    # --- requests ------------------------------------------------------------------------------
    @property
    def _authenticated(self) -> bool:
        return self.auth is not None and self.auth.complete

    def _signer(self, auth: SyncServerAuth | None, **oauth: Any) -> Signer:
        def sign(method: str, url: str, headers: dict[str, str]) -> dict[str, str]:
            if auth is None:
                return headers
            try:
                return auth.sign(method, url, headers, **oauth)
            except ValueError as exc:  # oauthlib refuses e.g. a URL it cannot sign: nothing is sent
                raise ValueError(f"{method} {url}: cannot be signed ({exc}); nothing was sent") from None
        return sign

    def _request(self, method: str, path: str, body: bytes | None = None, *, params: dict[str, str] | None = None,
                 protected: bool = True, missing: str | None = None, signer: Signer | None = None) -> Response:
        """Send one request; a non-2xx answer raises its exception.

        :param path: the API path (``/v2/...``), below the base URL's own path.
        :param protected: the call needs credentials: refused before sending without them.
        :param missing: the message of the NotFoundError a 404 raises.
        """
        what = f"{method} {path}"
        if protected and not self._authenticated:
            raise NotAllowedError(f"{what} needs OAuth credentials (SyncServerAPI(SyncServerAuth(consumer_key, "
                                  "consumer_secret, access_key, access_secret))); no request was sent")
        target = self._prefix + path + ("?" + urlencode(params) if params else "")
        headers = {"Accept": ATOM_TYPE, "User-Agent": USER_AGENT}
        if body is not None:
            headers["Content-Type"] = ATOM_TYPE
        if signer is None:
            signer = self._signer(self.auth if self._authenticated else None)
        response = self._transport.request(method, target, headers, body, signer)
        if not 200 <= response.status < 300:
            if response.status == 404 and missing is not None:
                raise NotFoundError(missing, response.status, response.reason, response.body)
            raise error_for(response.status, response.reason, response.body, what)
        return response

    @staticmethod
    def _parsed(response: Response, expect: str, what: str) -> atom.Element:
        try:
            return atom.parse(response.body, expect)
        except atom.XMLRejected as exc:
            raise ServerError(f"{what}: the answer is not an Atom {expect}: {exc}", response.status,
                              response.reason, response.body) from None

    @contextmanager
    def _reading(self, response: Response) -> Iterator[None]:
        """A ServerError raised while reading this answer carries its status, reason and body."""
        try:
            yield
        except ServerError as exc:
            if exc.status is None:
                exc.status, exc.reason, exc.body = response.status, response.reason, response.body
            raise

    def _entry(self, response: Response, what: str) -> atom.Element:
        return self._parsed(response, "entry", what)

    def _feed(self, response: Response, what: str) -> atom.Element:
        return self._parsed(response, "feed", what)

    # --- the object cache ------------------------------------------------------------------------
    def _obtain(self, cls: type[R], id: Any, parent: Resource | None = None) -> R:  # noqa: A002
        """The one object for this resource: from the cache, else a new, not yet loaded one."""
        found = self._cache.get(cls.kind, parent._id if parent is not None else "", id)
        if isinstance(found, cls):
            return found
        made = cls(self, id, parent)
        self._cache.put(made)
        return made

    def _adopt(self, cls: type[R], entry: atom.Element, parent: Resource | None = None) -> R:
        """The one object for the resource an entry describes, filled from the entry."""
        key = cls.id_from(entry)
        if key is None:
            raise ServerError(f"an entry without an id where a {cls.kind} was expected")
        obj = self._obtain(cls, key, parent)
        obj._populate(entry)
        self._cache.put(obj)
        return obj

    def _written(self, cls: type[Resource]) -> None:
        """A resource of this class was created, changed or deleted: feeds that may hold
        one are requested again when next read."""
        for collection in list(self._listings):
            if collection._holds(cls):
                collection._listing = None

    def _forget(self, obj: Resource) -> None:
        self._cache.discard(obj)
        obj._data = None
        self._written(type(obj))
