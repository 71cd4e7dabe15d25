"""A faithful, fast fake of the ObexCode SyncServer API (2009), for tests.

What a user imports, all from here:

- the fake: :func:`make_app` / :class:`FakeApp` (the WSGI application, in-process),
  :class:`FakeServer` (the app on a real HTTP port, started and stopped by you);
- the handle tests hold a fake by (what the pytest plugin's ``ocss_fake`` fixture is):
  :class:`FakeHandle`, and its parts :class:`Outbox`, :class:`Journal`,
  :class:`FaultControl`, :class:`State`, :class:`Phone`, :class:`ClockControl`;
- signed requests: :class:`Credentials`, :class:`SignedClient`;
- the state: :class:`World` (made of one service per API: ``world.gdata``,
  ``world.syncml``, ``world.outbox``, …) and :class:`FixtureSet` (the seed data a World is
  built from);
- what the handle returns: :class:`Message` (outbox), :class:`Fault` (a fault rule),
  :class:`Entry` (a journal entry);
- errors: :class:`FixtureError` (a fixture set that cannot load), :class:`DomainError`
  (the World refused an operation; its subclasses name why).

The pytest plugin (``ocss_testkit.plugin``) registers itself; the contract suite lives in
``contracts/``; ``ocss-fake`` is the command line (``ocss_testkit.cli``).
"""
from ocss_testkit.app import FakeApp, make_app
from ocss_testkit.client import Credentials, SignedClient
from ocss_testkit.controls import ClockControl, Phone
from ocss_testkit.fake_handle import FakeHandle, FaultControl, Journal, Outbox, State
from ocss_testkit.faults import Fault
from ocss_testkit.journal import Entry
from ocss_testkit.server import FakeServer
from ocss_testkit.world.errors import DomainError
from ocss_testkit.world.fixtures import FixtureError, FixtureSet
from ocss_testkit.world.outbox import Message
from ocss_testkit.world.world import World

__all__ = ["FakeApp", "make_app", "FakeServer", "FakeHandle", "Outbox", "Journal", "FaultControl", "State",
           "Phone", "ClockControl", "Credentials", "SignedClient", "World", "FixtureSet", "Message", "Fault",
           "Entry", "FixtureError", "DomainError", "__version__"]
__version__ = "0.1.0"
