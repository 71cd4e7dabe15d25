"""The fake's waitress connection: its parser and tasks, keep-alive, a graceful close.

FakeServer (server.py) serves every connection on a `Channel`, waitress's channel with:

- the parser of http_framing.py, which refuses bad framing and oversized bodies;
- connections: an answer without content (204, an empty 200, any HEAD) keeps the
  connection open like any other, and a connection that ends after an answer is closed
  gracefully, so a client still sending a refused body reads the refusal, not a reset;
- records: each refusal of the parser carries an `X-Request-Id` and is journaled and
  logged by the app it was meant for, as the app's own refusals are (`ErrorTask`), so the
  journal, the dashboard and the pytest plugin show the sentence the client read;
- a main loop that does not spin while a worker is flushing its own output (`Channel`).
"""
from __future__ import annotations

import logging
import socket
import time
from typing import Any

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask as WaitressErrorTask
from waitress.task import WSGITask

from ocss_testkit.app import DEFAULT_MAX_BODY, FakeApp
from ocss_testkit.http_framing import RequestParser, request_target
from ocss_testkit.tenants import TenantsApp

log = logging.getLogger("ocss_testkit")

# How long a connection closed after an answer keeps reading (and discarding) what the
# client still sends, so that its unread bytes do not turn the close into a reset that
# destroys the answer before the client reads it (RFC 9112 §9.6): until the client ends
# the connection, it is silent this long, or this much time passed in all (nginx's
# lingering_timeout and lingering_time).
LINGER_IDLE_SECONDS = 5.0
LINGER_SECONDS = 30.0


def served(server) -> FakeApp | TenantsApp:
    """The FakeApp or TenantsApp a waitress server serves: its `application` is waitress's
    proxy-headers wrapper around it whenever proxy headers are cleared or trusted."""
    return getattr(server, "ocss_app", server.application)


def record_refusal(application, parser: RequestParser) -> str | None:
    """Journal and log `parser`'s refusal in the app it was meant for (FakeApp's or
    TenantsApp's `record_refusal`); its request id, or None for an app that keeps no
    journal (a bare WSGI app)."""
    record = getattr(application, "record_refusal", None)
    if record is None:
        return None
    error = parser.error
    method, path_info, query = request_target(parser.request_line)
    return record(method, path_info, query, error.code, error.reason, str(error.body),
                  parser.refused_at or time.perf_counter())


class ErrorTask(WaitressErrorTask):
    """waitress's answer to a request its parser refused (`Refusal.to_response`),
    recorded before it is sent, so that the journal holds it once the client has read it."""
    response_headers: list[tuple[str, str]]  # waitress's, declared for the type checker

    def execute(self):
        try:
            request_id = record_refusal(served(self.channel.server), self.request)
        except Exception:  # noqa: BLE001 - the client gets its refusal even if recording fails
            log.exception("could not record the refusal %s", self.request.error.body)
            request_id = None
        if request_id is not None:
            self.response_headers.append(("X-Request-Id", request_id))
        super().execute()


class Task(WSGITask):
    """waitress's WSGI task with the `drop` fault's hook and keep-alive for answers
    without content."""
    response_headers: list[tuple[str, str]]  # waitress's, declared for the type checker

    def get_environment(self):
        environ = super().get_environment()
        environ["ocss.drop_connection"] = self._drop
        return environ

    def _drop(self) -> None:
        """A `drop` fault: close the socket with no answer, as a crashed server would."""
        sock = self.channel.socket  # None once the loop closed the channel (the client left)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.close_on_finish = True

    def build_response_header(self):
        """waitress closes every answer that has no Content-Length, even one that has no
        content to delimit (1xx, 204, 304: RFC 9112 §6.3) or is chunked in HTTP/1.1; here
        those keep the connection the client asked to keep."""
        connection = self.request.headers.get("CONNECTION", "").lower()
        keep = not self.close_on_finish and (connection != "close" if self.version == "1.1"
                                             else connection == "keep-alive")
        head = super().build_response_header()
        if not (keep and self.close_on_finish):
            return head
        if self.has_body and not (self.version == "1.1" and self.chunked_response):
            return head  # an HTTP/1.0 body without a length ends with the connection
        self.close_on_finish = False
        self.response_headers = [(name, value) for name, value in self.response_headers
                                 if not (name == "Connection" and value.lower() == "close")]
        if self.version == "1.0":
            self.response_headers.append(("Connection", "Keep-Alive"))
        lines = [f"HTTP/{self.version} {self.status}"]
        lines += ["%s: %s" % field for field in sorted(self.response_headers, key=lambda field: field[0])]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class Channel(HTTPChannel):
    """waitress's channel with the fake's parser and task (above), a graceful close, and
    a main loop that does not spin while a worker is flushing its own output.

    In waitress 3 a worker writes its response itself, holding the channel's outbuf lock;
    the stock `writable()` still answers True meanwhile, so select() returns at once,
    `handle_write` fails to take the lock, and the loop spins holding the GIL the worker
    needs (benchmarks/README.md measured 173 select() calls per request). Here the
    channel is not writable while a worker holds the lock; the worker's trigger (or the
    end of its task) wakes the loop. A body too big for the socket buffer may then wait
    for the end of its task before the loop sends the rest: fine for the fake's bodies.
    """
    task_class = Task
    error_task_class = ErrorTask
    linger_until: float | None = None  # lingering: the answer is sent, the write side shut
    linger_deadline = 0.0
    close_when_flushed: Any  # waitress's, declared for the type checker

    def parser_class(self, adj) -> RequestParser:  # waitress calls `self.parser_class(adj)`
        parser = RequestParser(adj)
        parser.max_body = getattr(served(self.server), "max_body", DEFAULT_MAX_BODY)
        return parser

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

    def readable(self):
        if self.linger_until is not None:
            if time.monotonic() < self.linger_until:
                return True
            self.will_close = True  # writable() now; handle_write closes
            return False
        return super().readable()

    def handle_write(self):
        if self.linger_until is None and self.close_when_flushed and not self.will_close and not self.requests:
            self._send_last_answer()
            return
        super().handle_write()

    def _send_last_answer(self) -> None:
        """The answer that ends this connection: send it, shut the write side, then read
        and discard what the client still sends until it closes (or time is up). Closing
        at once with its bytes unread would send a TCP reset, which can destroy the answer
        before the client reads it."""
        self._flush_exception(self._flush_some)
        if self.socket is None:
            # The send found the peer gone (a `drop` fault shut the socket, or the
            # client reset it) and wasyncore closed the channel already.
            return
        if self.will_close:
            self.handle_close()
        elif not self.total_outbufs_len:
            self.close_when_flushed = False
            try:
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                self.handle_close()
                return
            now = time.monotonic()
            self.linger_deadline = now + LINGER_SECONDS
            self.linger_until = now + LINGER_IDLE_SECONDS

    def handle_read(self):
        if self.linger_until is None:
            return super().handle_read()
        try:
            self.recv(64 * 1024)  # discarded; at the client's end of stream recv() closes
        except OSError:
            self.handle_close()
            return
        if self.connected:
            self.linger_until = min(time.monotonic() + LINGER_IDLE_SECONDS, self.linger_deadline)
