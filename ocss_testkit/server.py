"""The fake on a real HTTP port: waitress (keep-alive, threaded) in a background thread.

Used by the CLI, the pytest plugin and the tests alike; `stop()` always closes the port.
waitress parses the wire; what the fake changes in it is in http_framing.py (framing and
size refusals: 400, 413, 501, each a sentence in text/plain, journaled like the app's) and
http_channel.py (keep-alive for answers without content, a graceful close, no busy loop).
"""
from __future__ import annotations

import http.client
import logging
import threading
import time
from typing import Any

from waitress import create_server

from ocss_testkit.app import FakeApp
from ocss_testkit.http_channel import Channel
from ocss_testkit.tenants import TenantsApp

logging.getLogger("waitress.queue").setLevel(logging.ERROR)



class FakeServer:
    """`app` on a real HTTP port: a FakeApp (one world; made from `app_options` if not
    given), or a tenants.TenantsApp (`ocss-fake serve`), which is then what is served,
    as `tenants`, while `app` is its default tenant's FakeApp."""

    def __init__(self, app: FakeApp | TenantsApp | None = None, host: str = "127.0.0.1", port: int = 0,
                 threads: int = 6, **app_options) -> None:
        if isinstance(app, TenantsApp):
            self.tenants: TenantsApp | None = app
            self.app = app.default
        else:
            self.tenants = None
            self.app = app or FakeApp(**app_options)
        self.host = host
        self._requested_port = port
        self.threads = threads
        self._server: Any = None  # waitress's server (waitress ships no types)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not started")
        return self._server.effective_port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self, timeout: float = 10.0) -> FakeServer:
        # asyncore_loop_timeout is a whole number of seconds to waitress (it int()s it: 0.2
        # becomes 0 and the loop polls non-stop, a full core even when idle). Stopping does
        # not wait for it: stop() wakes the loop through its trigger. The body limit is the
        # app's, applied by http_framing.RequestParser with the fake's sentence (waitress's
        # own would count a chunked body's framing against it, and answer in its own
        # words): waitress's is set beyond reach.
        server = create_server(self.tenants or self.app, host=self.host, port=self._requested_port,
                               threads=self.threads, asyncore_loop_timeout=1,
                               channel_timeout=60, ident="ocss-fake",
                               # Forwarded headers are read by the app (forwarded.py: also in-process,
                               # with X-Forwarded-Prefix, and a 400 sentence for a malformed one); waitress
                               # strips them unless the app trusts its proxy.
                               clear_untrusted_proxy_headers=not getattr(self.app, "trust_forwarded", False),
                               max_request_body_size=2 ** 62)
        server.channel_class = Channel
        server.ocss_app = self.tenants or self.app  # `application` may be waitress's proxy wrapper
        self._server = server
        self._thread = threading.Thread(target=server.run, name="ocss-fake", daemon=True)
        self._thread.start()
        self._wait_until_answering(timeout)
        return self

    def _wait_until_answering(self, timeout: float) -> None:
        """Poll `/_fake/health` until it answers 200; past `timeout` seconds stop the server
        and raise (the last connection error, or RuntimeError naming the last status)."""
        deadline = time.monotonic() + timeout
        while True:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=1)
            try:
                conn.request("GET", "/_fake/health")
                status = conn.getresponse().status
                if status == 200:
                    return
                problem: Exception = RuntimeError(f"GET /_fake/health answered {status}, not 200")
            except (OSError, http.client.HTTPException) as exc:
                problem = exc
            finally:
                conn.close()
            if time.monotonic() > deadline:
                self.stop()
                raise problem
            time.sleep(0.02)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        # Workers first (they finish their requests, the loop still flushing for them),
        # then the sockets, closed inside the loop's own thread: closing them from here
        # while select() waits on them fails with EBADF in the loop.
        server.task_dispatcher.shutdown(timeout=5)
        trigger = server.trigger

        def close_in_loop() -> None:
            # Everything but the trigger closes here; the trigger only leaves the map (the
            # loop ends when the map is empty) and is closed below, after the join: so the
            # wake-up write of pull_trigger can never meet a closed, or reused, descriptor.
            for fd, dispatcher in list(server._map.items()):
                if dispatcher is trigger:
                    del server._map[fd]
                else:
                    dispatcher.close()

        trigger.pull_trigger(close_in_loop)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        trigger.close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
