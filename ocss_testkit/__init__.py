"""A faithful, fast fake of the ObexCode SyncServer API (2009), for tests.

The public surface: :class:`World` (state), :func:`make_app` (the WSGI app) and
:class:`FakeServer` (the app on a real HTTP port).
"""
from ocss_testkit.app import make_app
from ocss_testkit.server import FakeServer
from ocss_testkit.world.world import World

__all__ = ["World", "make_app", "FakeServer", "__version__"]
__version__ = "0.1.0"
