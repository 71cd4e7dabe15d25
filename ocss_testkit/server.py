"""The fake on a real HTTP port: waitress (keep-alive, threaded) in a background thread.

Used by the CLI, the pytest plugin and the tests alike; `stop()` always closes the port.
"""
from __future__ import annotations

import http.client
import logging
import threading
import time

import socket

from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.task import WSGITask

from .app import FakeApp

logging.getLogger("waitress.queue").setLevel(logging.ERROR)


class _Task(WSGITask):
    def get_environment(self):
        environ = super().get_environment()
        environ["ocss.drop_connection"] = self._drop
        return environ

    def _drop(self) -> None:
        """A `drop` fault: close the socket with no answer, as a crashed server would."""
        try:
            self.channel.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.close_on_finish = True


class _Channel(HTTPChannel):
    """waitress's channel with two changes: tasks expose `ocss.drop_connection`, and the
    main loop does not spin while a worker is flushing its own output.

    In waitress 3 a worker writes its response itself, holding the channel's outbuf lock;
    the stock `writable()` still answers True meanwhile, so select() returns at once,
    `handle_write` fails to take the lock, and the loop spins holding the GIL the worker
    needs (benchmarks/README.md measured 173 select() calls per request). Here the
    channel is not writable while a worker holds the lock; the worker's trigger (or the
    end of its task) wakes the loop. A body too big for the socket buffer may then wait
    for the end of its task before the loop sends the rest: fine for the fake's bodies.
    """
    task_class = _Task

    def writable(self):
        if self.will_close or self.close_when_flushed:
            return True
        if not self.total_outbufs_len:
            return False
        if not self.requests:
            return True
        if self.outbuf_lock.acquire(False):
            self.outbuf_lock.release()
            return True
        return False


class FakeServer:
    def __init__(self, app: FakeApp | None = None, host: str = "127.0.0.1", port: int = 0,
                 threads: int = 6, **app_options) -> None:
        self.app = app or FakeApp(**app_options)
        self.host = host
        self._requested_port = port
        self.threads = threads
        self._server = None
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

    def start(self, timeout: float = 10.0) -> "FakeServer":
        # asyncore_loop_timeout is a whole number of seconds to waitress (it int()s it: 0.2
        # becomes 0 and the loop polls non-stop, a full core even when idle). Stopping does
        # not wait for it: stop() wakes the loop through its trigger.
        self._server = create_server(self.app, host=self.host, port=self._requested_port,
                                     threads=self.threads, asyncore_loop_timeout=1,
                                     channel_timeout=60, ident="ocss-fake", clear_untrusted_proxy_headers=True)
        self._server.channel_class = _Channel
        self._thread = threading.Thread(target=self._server.run, name="ocss-fake", daemon=True)
        self._thread.start()
        self._wait_until_answering(timeout)
        return self

    def _wait_until_answering(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=1)
                conn.request("GET", "/_fake/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
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

    def __enter__(self) -> "FakeServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
