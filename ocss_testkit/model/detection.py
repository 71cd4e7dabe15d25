"""Handset detection (000: detect_auto, detect_manual, detect_poll; SPEC I5–I8).

Manual detection sends the phone an SMS with a link; the phone's browser opens it and
its User-Agent names the model. Auto detection answers from what the simulated operator
already knows about a number: handsets seeded by fixtures, or detected before.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from .errors import Forbidden, Invalid, NotFound
from .phones import Model

DEFAULT_CODE_LIFETIME = 3600  # seconds of virtual time a detection link stays valid


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

    def state(self) -> dict:
        from ..clock import iso_z
        return {"code": self.code, "owner": self.owner, "phone_number": self.phone_number,
                "created": iso_z(self.created), "expires": iso_z(self.expires), "status": self.status,
                "model": self.model.id if self.model else None, "user_agent": self.user_agent}


class DetectionService:
    """Mixed into World; every method runs under the World's lock."""

    def detect_auto(self, user, phone_number: str) -> Model | None:
        if not user.may_detect_auto:
            raise Forbidden(f"user {user.name} may not use automatic detection")
        return self.handsets.get(phone_number)

    def detect_manual(self, user, phone_number: str, link_template: str) -> Detection:
        """`link_template` holds `{code}`: the absolute URL the SMS carries."""
        now = self.clock.now()
        code = secrets.token_urlsafe(9)
        detection = Detection(code, user.name, phone_number, now,
                              now + timedelta(seconds=self.settings["detection_code_lifetime"]), updated=now)
        self.detections[code] = detection
        self._send(phone_number, "detection-link",
                   f"Open {link_template.format(code=code)} on your phone to identify it.", code=code)
        return detection

    def detection(self, code: str, user=None) -> Detection:
        """A live detection; unknown or expired codes are Invalid (the library's ClientError)."""
        detection = self.detections.get(code)
        if detection is None:
            raise Invalid(f"unknown detection code {code!r}")
        if self.clock.now() >= detection.expires:
            raise Invalid(f"detection code {code!r} expired at {detection.expires:%Y-%m-%dT%H:%M:%SZ}")
        if user is not None and detection.owner != user.name:
            raise Forbidden(f"detection code {code!r} belongs to another user")
        return detection

    def visit_detection(self, code: str, user_agent: str) -> Detection:
        """The phone's browser opens the link: identify the model from its User-Agent."""
        try:
            detection = self.detection(code)
        except Invalid as exc:
            raise NotFound(str(exc)) from None
        model = self.phones.identify(user_agent or "")
        detection.user_agent = user_agent
        detection.updated = self.clock.now()
        if model is None:
            detection.status, detection.model = "failed", None
        else:
            detection.status, detection.model = "detected", model
            self.handsets[detection.phone_number] = model  # auto detection knows it from now on
        return detection
