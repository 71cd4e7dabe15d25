"""Handset detection (SyncServer API Python interface, 'Models': detect_auto, detect_manual,
detect_poll; routes I5–I8).

Manual detection sends the phone an SMS with a link; the phone's browser opens it and
its User-Agent names the model. Auto detection answers from what the simulated operator
already knows about a number: handsets seeded by fixtures, or detected before (the
newest DEFAULT_HANDSET_LIMIT numbers learned so).

A code lives `detection_code_lifetime` seconds of virtual time. Expired detections are
purged whenever a new one is created (the oldest first, from an expiry queue: amortised
O(1) per creation, never a scan), and at most `detection_limit` live ones are kept (the
oldest dropped first). A code that is unknown, expired, or purged for either reason gets
the same answer, so when a purge happens is never visible through the API.
"""
from __future__ import annotations

import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ocss_testkit.services.phones.database import IDENTIFY_LIMIT, Model
from ocss_testkit.world.clock import expiry, iso_z
from ocss_testkit.world.errors import Forbidden, Invalid, NotFound
from ocss_testkit.world.service import Service, Slice
from ocss_testkit.world.state_reader import model as model_at
from ocss_testkit.world.state_reader import owner
from ocss_testkit.world.tracked import TrackedDict

if TYPE_CHECKING:
    from ocss_testkit.world.state_reader import StateReader
    from ocss_testkit.world.users import User
    from ocss_testkit.world.world import World

DEFAULT_CODE_LIFETIME = 3600  # seconds of virtual time a detection link stays valid
DEFAULT_DETECTION_LIMIT = 10_000  # live detections kept at most (oldest dropped first)
DEFAULT_HANDSET_LIMIT = 10_000  # numbers learned by detection kept at most (oldest forgotten first)
STATUSES = ("pending", "detected", "failed")
USER_AGENT_LIMIT = IDENTIFY_LIMIT  # characters of a visiting browser's User-Agent kept: those it was identified from


@dataclass(slots=True)
class Detection:
    code: str
    owner: str
    phone_number: str
    created: datetime
    expires: datetime
    status: str = "pending"  # pending | detected | failed
    model: Model | None = None
    user_agent: str | None = None
    updated: datetime | None = None

    def state(self) -> dict[str, Any]:
        return {"code": self.code, "owner": self.owner, "phone_number": self.phone_number,
                "created": iso_z(self.created), "expires": iso_z(self.expires), "status": self.status,
                "model": self.model.id if self.model else None, "user_agent": self.user_agent,
                "updated": iso_z(self.updated or self.created)}


class DetectionService(Service):
    """Detections and the handsets auto detection knows (`world.detection`); every method
    runs under the World's lock."""

    name = "detection"
    slices = (Slice("detections", "keyed", "detections", lambda service, key, d: d.state(), key_field="code",
                    document_order=lambda e: (e["created"], e["code"])),  # creation order
              Slice("handsets", "keyed", "handsets", lambda service, number, model: model.id))

    def __init__(self, world: World, limit: int = DEFAULT_DETECTION_LIMIT) -> None:
        super().__init__(world)
        self.detections: TrackedDict[str, Detection] = TrackedDict()  # by code
        self.handsets: TrackedDict[str, Model] = TrackedDict()  # what the simulated operator knows: number -> Model
        self.detection_limit = limit
        self.handset_limit = DEFAULT_HANDSET_LIMIT
        self._learned_handsets: deque[str] = deque()
        # Oldest first: purging pops the head (amortised O(1) per creation).
        self._detection_expiry: deque[tuple[datetime, str]] = deque()

    def load(self, doc: StateReader) -> None:
        names, phones = set(self.world.users), self.world.phones
        for d in doc.at("detections", []).items():
            d.known("code", "owner", "phone_number", "created", "expires", "status", "model", "user_agent",
                    "updated")
            found = d.at("model", None)
            detected = model_at(found, phones) if found.value is not None else None
            status = d.at("status", "pending").one_of(*STATUSES)
            created = d.at("created").time()
            self.detections[d.at("code").str(False)] = Detection(
                d.at("code").str(), owner(d, names), d.at("phone_number").str(False), created,
                d.at("expires").time(), status, detected, d.at("user_agent", None).opt_str(),
                d.at("updated", d.at("created").value).time())
        for number, ref in doc.at("handsets", {}).pairs():
            self.handsets[number] = model_at(ref, phones)

    def loaded(self) -> None:
        self._detection_expiry = deque(sorted((d.expires, code) for code, d in dict.items(self.detections)))

    def detect_auto(self, user: User, phone_number: str) -> Model | None:
        if not user.may_detect_auto:
            raise Forbidden(f"user {user.name} may not use automatic detection")
        return self.handsets.get(phone_number)

    def detect_manual(self, user: User, phone_number: str, link_template: str) -> Detection:
        """`link_template` holds `{code}`: the absolute URL the SMS carries."""
        now = self.world.clock.now()
        self._purge_detections(now)
        code = secrets.token_urlsafe(9)
        detection = Detection(code, user.name, phone_number, now,
                              expiry(now, self.world.settings["detection_code_lifetime"]), updated=now)
        self.detections[code] = detection
        self._detection_expiry.append((detection.expires, code))
        self.world.outbox.send(phone_number, "detection-link",
                   f"Open {link_template.format(code=code)} on your phone to identify it.", code=code)
        return detection

    def _purge_detections(self, now: datetime) -> None:
        """Drop expired detections, and the oldest beyond the limit, to make room for one more.

        The queue is in creation order; with a virtual clock set back, a later code may
        expire first and then waits for the ones ahead of it (the limit still holds).
        """
        queue, detections = self._detection_expiry, self.detections
        while queue and (queue[0][0] <= now or len(detections) >= self.detection_limit):
            _, code = queue.popleft()
            detections.pop(code, None)

    def detection(self, code: str, user: User | None = None) -> Detection:
        """A live detection; an unknown or expired code is Invalid (the library's ClientError:
        "raise a ClientError if an invalid code was used", OCSS Python interface, 'Phones').

        One message for both: an expired code may already have been purged, and must
        answer the same either way."""
        detection = self.detections.get(code)
        if detection is None or self.world.clock.now() >= detection.expires:
            raise Invalid(f"detection code {code!r} is unknown or has expired")
        if user is not None and detection.owner != user.name:
            raise Forbidden(f"detection code {code!r} belongs to another user")
        return detection

    def visit(self, code: str, user_agent: str) -> Detection:
        """The phone's browser opens the link: identify the model from its User-Agent."""
        try:
            detection = self.detection(code)
        except Invalid as exc:
            raise NotFound(str(exc)) from None
        model = self.world.phones.identify(user_agent or "")
        detection.user_agent = user_agent[:USER_AGENT_LIMIT] if user_agent is not None else None
        detection.updated = self.world.clock.now()
        if model is None:
            detection.status, detection.model = "failed", None
        else:
            detection.status, detection.model = "detected", model
            self._learn_handset(detection.phone_number, model)
        return detection

    def _learn_handset(self, number: str, model: Model) -> None:
        """Auto detection knows the number from now on: the newest `handset_limit` numbers
        learned this way are kept (those of the fixture set or a loaded state always)."""
        if number not in self.handsets:
            self._learned_handsets.append(number)
        self.handsets[number] = model
        while len(self._learned_handsets) > self.handset_limit:
            self.handsets.pop(self._learned_handsets.popleft(), None)
