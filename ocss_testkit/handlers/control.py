"""The control plane under /_fake/ (SPEC §6): JSON for tests and tools, never under /v2/."""
from __future__ import annotations

from ..wire import ApiError, json_response
from . import Call


def health(call: Call):
    return json_response({"status": "ok", "fixtures": call.app.fixtures.name,
                          "world": call.world.summary()})


def reset(call: Call):
    call.app.reset()
    return json_response({"status": "reset", "fixtures": call.app.fixtures.name})


def outbox(call: Call):
    args = call.request.args
    unknown = set(args) - {"to", "kind"}
    if unknown:
        raise ApiError(400, "Bad Request", f"unknown outbox filter(s): {', '.join(sorted(unknown))}; use to, kind")
    messages = call.world.messages(to=args.get("to"), kind=args.get("kind"))
    return json_response({"messages": [m.as_dict() for m in messages]})
