"""The fields and helpers of `World` that its service mixins (`GDataService`,
`SyncMLService`, `ClientsService`, `DetectionService`, `PhoneService`, `TokensService`)
use, declared once with their types so that the type checker can follow a mixin's
``self``. Nothing here runs: `World.__init__` sets every field; the helper signatures
exist for the type checker only.
"""
from __future__ import annotations

import itertools
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from ocss_testkit.services.clients.state import ActiveSyncClient, Binding, DatastoreClient
    from ocss_testkit.services.gdata.state import GDataClient
    from ocss_testkit.services.oauth.state import RequestToken
    from ocss_testkit.services.phones.database import Model, PhonesDB
    from ocss_testkit.services.phones.detection import Detection
    from ocss_testkit.services.syncml.state import ChatMessage, Session, SetupRecord, SyncMLClient
    from ocss_testkit.world.clock import VirtualClock
    from ocss_testkit.world.simulated_phones import PhoneState
    from ocss_testkit.world.world import Message, User

# Every kind of client `World.clients` holds, told apart by their `kind` field.
Client = Union["ActiveSyncClient", "DatastoreClient", "GDataClient", "SyncMLClient"]


class WorldFields:
    """What every service mixin may read on ``self`` (set by `World.__init__`)."""

    phones: PhonesDB
    clock: VirtualClock
    settings: dict[str, Any]
    consumers: dict[str, str]
    users: dict[str, User]
    users_by_token: dict[str, User]
    clients: dict[str, Client]
    setups: deque[SetupRecord]
    outbox: deque[Message]
    sessions: deque[Session]
    chatlog: deque[ChatMessage]
    bindings: dict[int, Binding]
    detections: dict[str, Detection]
    handsets: dict[str, Model]
    phone_states: dict[str, PhoneState]
    autopilots: dict[str, dict[str, Any]]
    schedule: list[tuple[Any, ...]]
    request_tokens: dict[str, RequestToken]
    issued_tokens: deque[str]
    detection_limit: int
    request_token_limit: int
    issued_token_limit: int
    handset_limit: int
    _learned_handsets: deque[str]
    _detection_expiry: deque[tuple[datetime, str]]
    _request_token_expiry: deque[tuple[datetime, str]]
    _request_token_bytes: int
    _setup_numbers: itertools.count[int]
    _session_ids: itertools.count[int]
    _binding_ids: itertools.count[int]

    if TYPE_CHECKING:
        # Defined by World or by a sibling mixin; declared here so each mixin type-checks alone.
        def _owned(self, user: User, client_uuid: str, kind: str) -> Any: ...
        def _list(self, user: User, kind: str) -> list[Any]: ...
        def _new_uuid(self) -> str: ...
        def _remove_client(self, client: Client) -> None: ...
        def _send(self, to: str, kind: str, body: str, client: str | None = None,
                  code: str | None = None) -> Message: ...
        def visit_detection(self, code: str, user_agent: str) -> Detection: ...
        def run_session(self, client: SyncMLClient, installed: bool) -> Session: ...
