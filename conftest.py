"""Fixtures for the toolkit's own tests: one fake on a real port per session (per xdist
worker), reset before every test, plus an in-process app for WSGI-level tests."""
from __future__ import annotations

import pytest
import requests
from requests_oauthlib import OAuth1

from ocss_testkit.app import FakeApp
from ocss_testkit.client import Credentials, SignedClient
from ocss_testkit.server import FakeServer

pytest_plugins = ["pytester"]

DEMO_USERS = ("alice", "bob", "admin")


@pytest.fixture(scope="session")
def fake_server():
    server = FakeServer(host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server):
    """The session's server with a fresh demo world."""
    fake_server.app.reset()
    return fake_server


@pytest.fixture
def app():
    """A private in-process app (no sockets), fresh demo world."""
    return FakeApp()


@pytest.fixture
def creds(fake_server):
    def of(user: str) -> Credentials:
        return Credentials.of(fake_server.app, user)
    return of


@pytest.fixture
def client(fake):
    """`client("alice")`: a signed keep-alive HTTP client of the running fake."""
    made = []

    def make(user: str | None = "admin") -> SignedClient:
        c = SignedClient(fake.url, Credentials.of(fake.app, user) if user else None)
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


@pytest.fixture
def wsgi(app):
    def make(user: str | None = "admin") -> SignedClient:
        return SignedClient(app, Credentials.of(app, user) if user else None)
    return make


@pytest.fixture
def http(fake):
    """`http("alice")`: a keep-alive requests session signed by requests-oauthlib."""
    sessions: dict[str, requests.Session] = {}

    def of(user: str) -> requests.Session:
        if user not in sessions:
            session = sessions[user] = requests.Session()
            session.auth = OAuth1("demo-consumer-key", "demo-consumer-secret",
                                  f"{user}-access-token", f"{user}-access-secret")
        return sessions[user]
    yield of
    for session in sessions.values():
        session.close()
