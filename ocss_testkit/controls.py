"""Driving the simulated world from Python: the phone and the clock.

The same operations as the control plane's `/_fake/phone/…` and `/_fake/clock`, for
tests that hold the app (in-process or the FakeServer's `.app`). Each call takes the
World's lock, so it is atomic with respect to requests in flight.

    phone = Phone(app, "+4798765432")
    phone.accept_setup(); phone.accept_sync()
    ClockControl(app).advance(30)     # runs autopilot actions that fell due
    ClockControl(app).set("2009-11-01T12:30:00Z")

What they return (dataclasses of ocss_testkit.model; fields listed here so that no test
needs to read the model):

- `Message` (the outbox, `Phone.messages`): `id` (int, the outbox's number), `to` (the
  phone number), `kind` (one of MESSAGE_KINDS), `body` (the SMS text: the detection link,
  the settings with their pincode, the alert), `time` (an aware UTC datetime of the
  virtual clock), `client` (the client's uuid, None for a detection link), `code` (the
  detection code of a detection link, else None);
- `Detection` (`Phone.visit`): `code`, `owner` (the user who asked), `phone_number`,
  `created`, `expires`, `updated` (aware datetimes), `status` (`pending`, `detected` or
  `failed`), `model` (the detected phone model, with `.id` and `.name`, or None),
  `user_agent` (the browser's, as the visit sent it);
- `Session` (`Phone.accept_sync`): `id`, `client_uuid`, `owner`, `started`, `ended`
  (aware datetimes), `outcome` (`ok` or `failed`), `reason` (why it failed, `""` when
  ok), `datastores` (a tuple, each with `dataclass`, `name`, `sync_type` — `slow` on a
  first sync, else `two-way` —, `items_from_phone`, `items_to_phone`).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from ocss_testkit.world.errors import Invalid
from ocss_testkit.world.outbox import MESSAGE_KINDS


def message_kind_problem(kind) -> str | None:
    """Why `kind` is no message kind (a typo would silently match nothing), or None."""
    if kind not in MESSAGE_KINDS:
        return f"kind must be one of {', '.join(MESSAGE_KINDS)}; got {kind!r:.40}"
    return None


class Phone:
    """The simulated handset at `number`. Each action answers the newest message of its
    kind this phone has not answered yet, or the one whose outbox id is `message`, and
    raises `ocss_testkit.world.errors.NotFound` (its sentence names the kind and number)
    when there is none."""

    def __init__(self, app, number: str) -> None:
        self.app = app
        self.number = number

    @staticmethod
    def _check_message(message: object) -> None:
        """TypeError unless `message` is None or an outbox message id (an int, not a bool)."""
        if message is not None and (isinstance(message, bool) or not isinstance(message, int)):
            raise TypeError(f"message must be an outbox message id (int); got {type(message).__name__}")

    def _call(self, name: str, *args, message: int | None = None):
        self._check_message(message)
        world = self.app.world
        with world.lock:
            return getattr(world.simulated_phones, name)(self.number, *args, message)

    def visit(self, user_agent: str, message: int | None = None):
        """Open the newest detection link sent to this number (or the message with that
        outbox id) with this browser; returns the `Detection`, detected (or failed) by
        that User-Agent."""
        if not isinstance(user_agent, str):
            raise TypeError(f"user_agent must be a string; got {type(user_agent).__name__}")
        return self._call("visit", user_agent, message=message)

    def accept_setup(self, message: int | None = None) -> str:
        """Install the newest setup SMS's settings (or those of that message); returns the
        client's uuid."""
        return self._call("answer_setup", True, message=message)

    def reject_setup(self, message: int | None = None) -> str:
        """Refuse the newest setup SMS (or that message); returns the client's uuid."""
        return self._call("answer_setup", False, message=message)

    def accept_sync(self, message: int | None = None):
        """Accept the newest server alert (or that message): runs a SyncML session and
        returns it (`Session`; its `outcome` is `failed` when the settings were never
        installed)."""
        return self._call("answer_sync", True, message=message)

    def reject_sync(self, message: int | None = None) -> None:
        """Refuse the newest server alert (or that message)."""
        return self._call("answer_sync", False, message=message)

    def autopilot(self, **config) -> None:
        """Answer future messages by itself after a virtual delay, e.g. `autopilot(setup=
        "accept", setup_after=30, user_agent=…, visit_after=5, sync="reject")`: `setup`
        and `sync` are `accept` or `reject`, the `…_after` delays seconds of virtual time
        (default 0), `user_agent` makes it visit detection links. No arguments switch it
        off. Raises ValueError naming the valid settings for an unknown key or value."""
        world = self.app.world
        with world.lock:
            try:
                world.simulated_phones.set_autopilot(self.number, config or None)
            except Invalid as exc:
                raise ValueError(str(exc)) from None

    @property
    def messages(self) -> list:
        """Every `Message` in the outbox to this number, oldest first."""
        world = self.app.world
        with world.lock:
            return world.outbox.messages(to=self.number)


class ClockControl:
    """The virtual clock of the app's current World; moving it runs due phone actions.

    A time is an ISO 8601 string with its offset (`"2009-11-01T12:30:00Z"`,
    `"2009-11-01T13:30:00+01:00"`, whole seconds) or a timezone-aware datetime, exactly
    what `POST /_fake/clock` takes as `set`; a naive datetime is refused (ValueError), as
    the fake will not guess its zone. A duration is seconds (int or float) or a timedelta.
    Another type raises TypeError naming these forms; a time outside 1970..9999 or a
    negative duration raises ValueError, and nothing moves. `freeze`, `unfreeze`, `set`
    and `advance` return how many scheduled phone actions (autopilot) they ran."""

    def __init__(self, app) -> None:
        self.app = app

    def _move(self, how: str, *args) -> int:
        world = self.app.world
        with world.lock:
            getattr(world.clock, how)(*args)
            return world.simulated_phones.run_due()

    def now(self) -> datetime:
        """The virtual time: an aware UTC datetime, whole seconds."""
        return self.app.world.clock.now()

    @property
    def frozen(self) -> bool:
        return self.app.world.clock.frozen

    def freeze(self, at: str | datetime | None = None) -> int:
        """Stop the clock, at `at` or at the current virtual time."""
        return self._move("freeze", at)

    def unfreeze(self) -> int:
        """Let it run again from where it stands."""
        return self._move("unfreeze")

    def set(self, at: str | datetime) -> int:
        """Move it to `at` (frozen or running, it stays so)."""
        return self._move("set", at)

    def advance(self, seconds: float | timedelta) -> int:
        """Move it forward."""
        return self._move("advance", seconds)
