"""The simulated phone: what a handset does with the messages the fake "sends" it.

Tests drive it step by step (open the detection link, accept or reject settings or a
sync alert), or give a number an autopilot that does so after a virtual delay. Delayed
actions wait in a schedule that runs whenever virtual time has passed their due time
(on every request and on every clock change).

Bounded like the outbox they follow (`tidy_phones`, once per outbox's worth of messages
sent): an answer is kept while its message is in the outbox, a scheduled action while its
message is (an action on a message the outbox dropped could only fail), a phone's state
while it holds an answer or an install, and at most PHONE_LIMIT phones and PHONE_ITEM_LIMIT
answers and installs in all, the phones that acted least recently forgotten first.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ocss_testkit.services.syncml.state import SyncMLClient
from ocss_testkit.world.errors import Invalid, NotFound
from ocss_testkit.world.outbox import MESSAGE_KINDS
from ocss_testkit.world.service import Service, Slice
from ocss_testkit.world.state_reader import MAX_INT, int_key
from ocss_testkit.world.tracked import TrackedDict

if TYPE_CHECKING:
    from ocss_testkit.services.phones.state import Detection
    from ocss_testkit.services.syncml.sessions import Session
    from ocss_testkit.world.outbox import Message
    from ocss_testkit.world.state_reader import StateReader
    from ocss_testkit.world.world import World

AUTOPILOT_ANSWERS = ("accept", "reject")
AUTOPILOT_KEYS = {"user_agent", "visit_after", "setup", "setup_after", "sync", "sync_after"}
PHONE_LIMIT = 10_000  # phone states kept at most (those that acted least recently forgotten first)
PHONE_ITEM_LIMIT = 10_000  # answers and installed clients kept at most, over all phones


@dataclass(slots=True)
class PhoneState:
    number: str
    installed: set[str] = field(default_factory=set)  # clients whose settings were accepted
    answers: dict[int, str] = field(default_factory=dict)  # message id -> accepted | rejected | visited

    def state(self) -> dict:
        return {"installed": sorted(self.installed), "answers": {str(k): v for k, v in self.answers.items()}}


class SimulatedPhones(Service):
    """The phones' states, autopilots and scheduled actions (`world.simulated_phones`);
    every method runs under the World's lock."""

    name = "simulated_phones"

    def _schedule_entry(self) -> list[list[Any]]:
        return [list(s) for s in sorted(self.schedule)]

    slices = (Slice("phone_states", "keyed", "phone_states", lambda service, number, p: p.state()),
              Slice("autopilots", "keyed", "autopilots", lambda service, number, config: dict(config)),
              Slice("schedule", "whole", "schedule", _schedule_entry))

    def __init__(self, world: World) -> None:
        super().__init__(world)
        self.phone_states: TrackedDict[str, PhoneState] = TrackedDict()
        self.autopilots: TrackedDict[str, dict[str, Any]] = TrackedDict()  # number or "*" -> its config
        self.schedule: list[tuple[Any, ...]] = []  # a heap of delayed phone actions

    def phone(self, number: str) -> PhoneState:
        """The phone's state, created the first time it acts (looking creates nothing);
        it becomes the most recently active phone, the last `tidy_phones` forgets."""
        state = self.phone_states.pop(number, None) or PhoneState(number)
        self.phone_states[number] = state
        return state

    def view(self, number: str) -> PhoneState:
        return self.phone_states.get(number) or PhoneState(number)

    def _pending(self, number: str, kind: str, message_id: int | None = None) -> Message:
        """The newest message of a kind this phone has not acted on yet (or that one)."""
        answers = self.view(number).answers
        for message in reversed(self.world.outbox):
            if message.to == number and message.kind == kind and message.id not in answers \
                    and message_id in (None, message.id):
                return message
        raise NotFound(f"no unanswered {kind} message for {number}")

    def visit(self, number: str, user_agent: str, message_id: int | None = None) -> Detection:
        message = self._pending(number, "detection-link", message_id)
        if message.code is None:  # a link the fake sent has its code; a loaded outbox may not
            raise NotFound(f"detection-link message {message.id} to {number} carries no detection code")
        detection = self.world.detection.visit(message.code, user_agent)
        self.phone(number).answers[message.id] = "visited"
        return detection

    def answer_setup(self, number: str, accept: bool = True, message_id: int | None = None) -> str | None:
        """The client whose settings the phone accepted or rejected (None for a setup SMS
        of a loaded outbox that names none)."""
        message = self._pending(number, "setup-sms", message_id)
        state = self.phone(number)
        state.answers[message.id] = "accepted" if accept else "rejected"
        if accept and message.client is not None:
            state.installed.add(message.client)
        return message.client

    def answer_sync(self, number: str, accept: bool = True, message_id: int | None = None) -> Session | None:
        """Accepting a server alert makes the phone run a SyncML session; None if rejected."""
        message = self._pending(number, "server-alert", message_id)
        state = self.phone(number)
        state.answers[message.id] = "accepted" if accept else "rejected"
        if not accept:
            return None
        client = self.world.clients.get(message.client) if message.client is not None else None
        if not isinstance(client, SyncMLClient):  # an alert only ever names a SyncML client
            raise NotFound(f"the client {message.client} of this alert no longer exists")
        return self.world.syncml_sessions.run_session(client, installed=message.client in state.installed)

    # --- autopilot ---------------------------------------------------------------------
    def set_autopilot(self, number: str, config: dict[str, Any] | None) -> None:
        """`number` "*" applies to every phone; `config` None switches it off."""
        if config is None:
            self.autopilots.pop(number, None)
            return
        unknown = set(config) - AUTOPILOT_KEYS
        if unknown:
            raise Invalid(f"unknown autopilot setting(s): {', '.join(sorted(map(str, unknown)))}; "
                          f"use {', '.join(sorted(AUTOPILOT_KEYS))}")
        for key in ("setup", "sync"):
            if config.get(key) not in (None, *AUTOPILOT_ANSWERS):
                raise Invalid(f"autopilot {key} must be one of {', '.join(AUTOPILOT_ANSWERS)}; "
                              f"got {config[key]!r:.40}")
        for key in ("visit_after", "setup_after", "sync_after"):
            value = config.get(key, 0)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1e9:
                raise Invalid(f"autopilot {key} must be a number of seconds >= 0")
        if config.get("user_agent") is not None and not isinstance(config["user_agent"], str):
            raise Invalid("autopilot user_agent must be a string")
        if "visit_after" in config and not config.get("user_agent"):
            raise Invalid("autopilot visit_after needs a user_agent to visit with")
        self.autopilots[number] = dict(config)

    def autopilot_for(self, message: Message) -> None:
        config = self.autopilots.get(message.to) or self.autopilots.get("*")
        if not config:
            return
        plan = {"detection-link": ("visit", "visit_after", bool(config.get("user_agent"))),
                "setup-sms": (config.get("setup"), "setup_after", config.get("setup") is not None),
                "server-alert": (config.get("sync"), "sync_after", config.get("sync") is not None)}
        action, delay_key, wanted = plan.get(message.kind, (None, "", False))
        if wanted:
            due = message.time.timestamp() + config.get(delay_key, 0)
            heapq.heappush(self.schedule, (due, message.id, message.kind, message.to, action,
                                           config.get("user_agent")))
        self.run_due()

    def run_due(self) -> int:
        """Run every scheduled phone action whose virtual time has come; how many ran."""
        now = self.world.clock.timestamp()
        ran = 0
        while self.schedule and self.schedule[0][0] <= now:
            _, message_id, kind, number, action, user_agent = heapq.heappop(self.schedule)
            if message_id in self.view(number).answers:
                continue  # the test answered it by hand already
            try:
                if kind == "detection-link":
                    self.visit(number, user_agent, message_id)
                elif kind == "setup-sms":
                    self.answer_setup(number, action == "accept", message_id)
                elif kind == "server-alert":
                    self.answer_sync(number, action == "accept", message_id)
            except (NotFound, Invalid):
                continue  # the message went stale (client deleted, code expired)
            ran += 1
        return ran

    def tidy(self) -> None:
        """Drop what refers to messages the outbox no longer holds (answers, scheduled
        actions), phone states left empty, and then the least recently active phones while
        more than PHONE_LIMIT, or more than PHONE_ITEM_LIMIT answers and installs, are kept.

        What is dropped cannot be seen to act: a message gone from the outbox can be neither
        answered nor shown, so neither can its answer, and an empty state reads as no state
        (`phone_view`). Costs one pass over the phones, the answers and the schedule: the
        World runs it once per outbox's worth of messages (`Outbox.send`)."""
        held = {message.id for message in self.world.outbox}
        states = self.phone_states
        items = 0
        for number, state in list(dict.items(states)):
            stale = [mid for mid in state.answers if mid not in held]
            if stale:
                for mid in stale:
                    del state.answers[mid]
                states[number] = state  # written again: persistence saves what was touched
            if not state.answers and not state.installed:
                del states[number]
            else:
                items += len(state.answers) + len(state.installed)
        excess = len(states) - PHONE_LIMIT
        for number in list(states):  # dict order: least recently active first (`phone`)
            if excess <= 0 and items <= PHONE_ITEM_LIMIT:
                break
            state = states.pop(number)
            excess -= 1
            items -= len(state.answers) + len(state.installed)
        live = [entry for entry in self.schedule if entry[1] in held]
        if len(live) < len(self.schedule):
            heapq.heapify(live)
            self.schedule[:] = live

    # --- the state document ---------------------------------------------------------------
    def load(self, doc: StateReader) -> None:
        for number, p in doc.at("phone_states", {}).pairs():
            p.known("installed", "answers")
            self.phone_states[number] = PhoneState(
                number, {i.str() for i in p.at("installed", []).items()},
                {int(k): v.one_of("visited", "accepted", "rejected") for k, v in p.at("answers", {}).pairs()
                 if int_key(k, v)})
        for number, config in doc.at("autopilots", {}).pairs():
            try:
                self.set_autopilot(number, config.obj().value)
            except Invalid as exc:
                config.fail(str(exc))
        scheduled: set[int] = set()
        for s in doc.at("schedule", []).items():
            self.schedule.append(_scheduled(s, scheduled))
        heapq.heapify(self.schedule)  # a document written by hand need not be in heap order


def _scheduled(s: StateReader, scheduled: set[int]) -> tuple[Any, ...]:
    """One entry of the schedule, checked field by field: the schedule is a heap of tuples,
    compared whole, and run on every later request, so one bad entry would break every
    request after it."""
    entry = s.value
    if not (isinstance(entry, list) and len(entry) == 6):
        s.fail("expected [due, message id, kind, number, action, user agent]")
    s.at(0).seconds(-MAX_INT, MAX_INT)
    message_id = s.at(1).int()
    if message_id in scheduled:
        s.at(1).fail(f"message {message_id} is scheduled twice")
    scheduled.add(message_id)
    s.at(2).one_of(*MESSAGE_KINDS)
    s.at(3).str(False)
    if s.at(4).opt_str() not in (None, "visit", "accept", "reject"):
        s.at(4).fail("expected visit, accept, reject or null")
    s.at(5).opt_str()
    return tuple(entry)
