"""Driving the simulated world from Python: the phone and the clock.

The same operations as the control plane's `/_fake/phone/…` and `/_fake/clock`, for
tests that hold the app (in-process or the FakeServer's `.app`). Each call takes the
World's lock, so it is atomic with respect to requests in flight.

    phone = Phone(app, "+4798765432")
    phone.accept_setup(); phone.accept_sync()
    Clock(app).advance(30)     # runs autopilot actions that fell due
"""
from __future__ import annotations

from datetime import datetime


class Phone:
    def __init__(self, app, number: str) -> None:
        self.app = app
        self.number = number

    def _call(self, name: str, *args):
        world = self.app.world
        with world.lock:
            return getattr(world, name)(self.number, *args)

    def visit(self, user_agent: str):
        """Open the newest detection link sent to this number, with this browser."""
        return self._call("phone_visit", user_agent)

    def accept_setup(self) -> str:
        return self._call("phone_answer_setup", True)

    def reject_setup(self) -> str:
        return self._call("phone_answer_setup", False)

    def accept_sync(self):
        """Accept the newest server alert: runs a SyncML session and returns it."""
        return self._call("phone_answer_sync", True)

    def reject_sync(self) -> None:
        return self._call("phone_answer_sync", False)

    def autopilot(self, **config) -> None:
        """e.g. `autopilot(setup="accept", setup_after=30, user_agent=…, visit_after=5)`;
        no arguments switch it off."""
        world = self.app.world
        with world.lock:
            world.set_autopilot(self.number, config or None)

    @property
    def messages(self) -> list:
        world = self.app.world
        with world.lock:
            return world.messages(to=self.number)


class Clock:
    """The virtual clock of the app's current World; moving it runs due phone actions."""

    def __init__(self, app) -> None:
        self.app = app

    def _move(self, how: str, *args) -> int:
        world = self.app.world
        with world.lock:
            getattr(world.clock, how)(*args)
            return world.run_due()

    def now(self) -> datetime:
        return self.app.world.clock.now()

    def freeze(self, at: datetime | None = None) -> int:
        return self._move("freeze", at)

    def unfreeze(self) -> int:
        return self._move("unfreeze")

    def set(self, at: datetime) -> int:
        return self._move("set", at)

    def advance(self, seconds: float) -> int:
        return self._move("advance", seconds)
