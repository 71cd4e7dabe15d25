"""The users of the simulated SyncServer: an account, its OAuth consumer and access token."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class User:
    name: str
    account_id: int
    email: str
    consumer_key: str
    token: str
    token_secret: str
    admin: bool = False
    may_detect_auto: bool = False
    setup_profile: str = "SyncServer"
