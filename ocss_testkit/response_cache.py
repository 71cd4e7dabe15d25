"""Rendered answers of signed GETs, served again while the World they show is unchanged.

Which answers: a GET (not a HEAD) of a signed API route that does not write (`Route.writes`
false: the client feeds and entries, bindings, datastore contents, sessions, the chatlog,
detection polls), and the anonymous GETs of the phones database (`PUBLIC`: vendors and
models, SyncServer API Python interface, "Phones"). Such a handler reads the World and
nothing else of the request than its user, base URL, path and query; the HEAD rules of
app.py already rely on it changing nothing. Only 200 answers are kept; an error is
rendered every time. A hit is sent as the bytes kept (answers.Prepared): status line,
headers as werkzeug sent them the first time, body; no Response is built for it.

Kept under (route, World serial, user (None: anonymous), base URL, path, query without its
`oauth_` parameters), with the World's version and the virtual clock's second it was
rendered at, and served only while both are still the same:

- the version moves whenever anyone takes the World's lock (world/versioned_lock.py): any
  other request, the control plane, controls.Phone and controls.ClockControl, autopilot actions, a
  state file's load. Resets and state PUT/PATCH make a new World, whose serial no earlier
  World had. The GETs served here take the lock without moving it (`reading()`), and move
  it themselves when the phone actions that fell due before them changed something;
- the clock's second is part of the answer: an empty feed's `updated` is the clock's time
  (`VirtualClock.now()`, its `timestamp()` cut to the second), a detection code expires on
  it, and the clock runs on by itself or is moved without the lock; an answer of another
  second (`int(timestamp())`: two instants of one such second are one of `now()` too) is
  never served.

A render during which the version or the second moved (the handler took the lock again; a
second went by) is not kept. An entry found stale is dropped when next looked up; the rest
go least recently used first, past MAX_ENTRIES answers or MAX_BYTES bytes (bodies and the
key's strings), and no body over MAX_BODY bytes is kept. One cache serves every FakeApp of
the process (tenants included), so that its bounds are the process's.

Measured in benchmarks/README.md, "Levers 2 and 3: rendering and the response cache" and
"Lever 5: request plumbing".
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from werkzeug.wrappers import Response

from ocss_testkit.answers import Prepared

MAX_ENTRIES = 1024
MAX_BYTES = 8 * 1024 * 1024
MAX_BODY = 1024 * 1024
_ENTRY_OVERHEAD = 256  # bytes an entry costs besides its body, key strings and headers (tuples), roughly
# Anonymous routes whose GETs are kept: the phones database, which their handlers read with
# their path arguments and nothing else (services/phones/handlers.py).
PUBLIC = ("/v2/phones/vendors/", "/v2/phones/models/")


def _query(query: str) -> str:
    """The query a handler reads: its `oauth_` parameters (RFC 5849 §3.5.3) left out, as
    every handler ignores them, and they differ in every signed request."""
    if "oauth_" not in query:
        return query
    return "&".join(part for part in query.split("&") if not part.startswith("oauth_"))


class ResponseCache:
    """Answers of cacheable GETs, bounded in entries and bytes (thread-safe)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES, max_body: int = MAX_BODY) -> None:
        self.max_entries, self.max_bytes, self.max_body = max_entries, max_bytes, max_body
        # key -> (version, second, (status line, WSGI headers, body), size)
        self._items: OrderedDict[tuple, tuple] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def reader(self, route, ctx, world) -> Reader | None:
        """A Reader for this request, or None when its answer is not to be cached."""
        request = ctx.request
        if request.method != "GET" or route.method != "GET" or route.writes:
            return None
        if route.auth:
            if ctx.user is None:
                return None
            user = ctx.user.name
        elif route.path.startswith(PUBLIC):
            user = None
        else:
            return None
        key = (route, world.lock.serial, user, ctx.base, request.path,
               _query(request.environ.get("QUERY_STRING", "")))
        return Reader(self, key, world)

    def _get(self, key: tuple, version: int, second) -> Prepared | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                self.misses += 1
                return None
            if found[0] != version or found[1] != second:
                del self._items[key]
                self._bytes -= found[3]
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
        return Prepared(*found[2])

    def _put(self, key: tuple, version: int, second, response: Response) -> None:
        body = response.get_data()
        if len(body) > self.max_body or response.autocorrect_location_header:
            return  # too big; or its Location would depend on the request (never so in the fake)
        # What werkzeug sends for it (a copy of its headers, Location and Content-Location as
        # URIs, Content-Length): the environ is read only to correct a Location, not done here.
        headers = tuple(response.get_wsgi_headers({}).to_wsgi_list())
        size = (len(body) + len(key[2] or "") + len(key[3]) + len(key[4]) + len(key[5])
                + sum(len(name) + len(value) for name, value in headers) + _ENTRY_OVERHEAD)
        entry = (version, second, (response.status, headers, body), size)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[3]
            self._items[key] = entry
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self._bytes -= dropped[3]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def stats(self) -> dict:
        """`{"entries", "bytes", "hits", "misses"}`: entries and bytes held now, lookups since start."""
        with self._lock:
            return {"entries": len(self._items), "bytes": self._bytes, "hits": self.hits, "misses": self.misses}


class Reader:
    """One cacheable GET in flight: `lookup` then, on a miss, `store` the handler's answer.

    Both run with the World's lock held for reading (`world.lock.reading()`)."""
    __slots__ = ("cache", "key", "world", "version", "second")

    def __init__(self, cache: ResponseCache, key: tuple, world) -> None:
        self.cache, self.key, self.world = cache, key, world

    def lookup(self, changed: bool = False) -> Prepared | None:
        """The kept answer, or None. `changed`: the phone actions that fell due before this
        GET changed the World (the version is moved first)."""
        lock = self.world.lock
        if changed:
            lock.bump()
        self.version, self.second = lock.version, int(self.world.clock.timestamp())
        return self.cache._get(self.key, self.version, self.second)

    def store(self, response: Response) -> None:
        """Keep the handler's answer: a 200 rendered with the World and the clock as `lookup`
        found them."""
        if response.status_code != 200 or response.is_streamed:
            return  # an error, or a body made while it is sent
        if self.world.lock.version != self.version or int(self.world.clock.timestamp()) != self.second:
            return
        self.cache._put(self.key, self.version, self.second, response)


# The process's cache: every FakeApp's unless given another (or None: no caching).
shared = ResponseCache()
