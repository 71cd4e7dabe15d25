"""FakeServer.start waits for `/_fake/health`, and gives up after its timeout."""
from __future__ import annotations

import time

import pytest

from ocss_testkit.app import FakeApp
from ocss_testkit.server import FakeServer


class _Unhealthy(FakeApp):
    """A fake whose health check answers 503: start() must not wait for it forever."""

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/_fake/health":
            start_response("503 Service Unavailable", [("Content-Length", "0")])
            return [b""]
        return super().__call__(environ, start_response)


def test_start_gives_up_on_a_health_check_that_never_answers_200():
    server = FakeServer(_Unhealthy(), port=0)
    began = time.monotonic()
    with pytest.raises(RuntimeError, match="answered 503"):
        server.start(timeout=0.5)
    assert time.monotonic() - began < 10  # bounded by the timeout, not a hang
    with pytest.raises(RuntimeError, match="not started"):
        server.port  # noqa: B018 - stopped again


def test_start_returns_once_healthy():
    server = FakeServer(port=0).start()
    try:
        assert server.url.startswith("http://127.0.0.1:")
    finally:
        server.stop()
