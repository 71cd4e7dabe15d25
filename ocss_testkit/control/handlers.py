"""The control plane under /_fake/ (docs/decisions.md, "Control plane"): JSON for tests and
tools, never under /v2/."""
from __future__ import annotations

from ocss_testkit.answers import ApiError, json_response, shown
from ocss_testkit.controls import message_kind_problem
from ocss_testkit.faults import FaultError
from ocss_testkit.journal import RequestFilter
from ocss_testkit.request_context import RequestContext
from ocss_testkit.strict_json import MAX_INT, load_json, parse_id
from ocss_testkit.world.clock import EARLIEST, LATEST, instant


def health(ctx: RequestContext):
    return json_response({"status": "ok", "fixtures": ctx.app.fixtures.name,
                          "world": ctx.world.summary()})


def reset(ctx: RequestContext):
    ctx.app.reset()
    return json_response({"status": "reset", "fixtures": ctx.app.fixtures.name})


def outbox(ctx: RequestContext):
    args = ctx.request.args
    unknown = set(args) - {"to", "kind"}
    if unknown:
        raise ApiError(400, "Bad Request", f"unknown outbox filter(s): {', '.join(sorted(unknown))}; use to, kind")
    kind = args.get("kind")
    problem = message_kind_problem(kind) if kind is not None else None
    if problem:  # a typo must not read as "nothing sent"
        raise ApiError(400, "Bad Request", problem)
    messages = ctx.world.outbox.messages(to=args.get("to"), kind=kind)
    return json_response({"messages": [m.as_dict() for m in messages]})


def _json_body(ctx: RequestContext, allow_empty: bool = True, text_checked: bool = False) -> dict:
    """The JSON object of the body. `text_checked`: the caller's own loader refuses text
    an answer cannot show, naming the path (the state document: 422), so the reader
    leaves it to it."""
    if not ctx.request.get_data():
        if not allow_empty:
            raise ApiError(400, "Bad Request", "the body is empty")
        return {}
    data = load_json(ctx.request.get_data(), text_checked=text_checked)  # numbers bounded, members once
    if not isinstance(data, dict):
        raise ApiError(400, "Bad Request", "the body must be a JSON object")
    return data


# --- virtual clock (every timestamp the fake writes) -----------------------------------------
MAX_ADVANCE = 100 * 365 * 86400  # a century: past that, timestamps leave what datetime can hold


def clock(ctx: RequestContext):
    return json_response(ctx.world.clock.as_dict())


def set_clock(ctx: RequestContext):
    """{"freeze": true|false, "set": "2009-11-01T12:30:00Z", "advance": seconds}: applied in that
    order, all or nothing. `set` takes an ISO 8601 time with its offset (`Z` or `+01:00`),
    whole seconds (clock.instant); `advance` seconds from 0 to MAX_ADVANCE."""
    data = _json_body(ctx)
    unknown = set(data) - {"freeze", "set", "advance"}
    if unknown:
        raise ApiError(400, "Bad Request",
                       f"unknown clock field(s): {', '.join(sorted(unknown))}; use freeze, set, advance")
    at = None
    if "set" in data:
        # What the Python handle's clock.set takes, but a datetime (clock.instant).
        try:
            at = instant(data["set"])
        except (TypeError, ValueError) as exc:
            raise ApiError(400, "Bad Request", f"set: {exc}") from None
    advance = data.get("advance", 0)
    if isinstance(advance, bool) or not isinstance(advance, (int, float)) or not 0 <= advance <= MAX_ADVANCE:
        raise ApiError(400, "Bad Request", f"advance must be a number of seconds from 0 to {MAX_ADVANCE}")
    if "freeze" in data and not isinstance(data["freeze"], bool):
        raise ApiError(400, "Bad Request", "freeze must be true or false")
    c = ctx.world.clock
    target = (at if at is not None else c.timestamp()) + advance
    if not EARLIEST <= target <= LATEST:  # checked before anything moves: all or nothing
        raise ApiError(400, "Bad Request", "the virtual clock stays between 1970-01-01T00:00:00Z "
                                           "and 9999-12-31T23:59:59Z")
    if data.get("freeze") is True:
        c.freeze()
    elif data.get("freeze") is False:
        c.unfreeze()
    if at is not None:
        c.set(data["set"])
    if advance:
        c.advance(advance)
    ran = ctx.world.simulated_phones.run_due()
    return json_response({**c.as_dict(), "phone_actions_run": ran})


# --- the simulated phone -------------------------------------------------------------------
def phone(ctx: RequestContext, number: str):
    state = ctx.world.simulated_phones.view(number).state()
    return json_response({"number": number, **state,
                          "messages": [m.as_dict() for m in ctx.world.outbox.messages(to=number)]})


def _known(data: dict, allowed: tuple[str, ...], what: str) -> dict:
    """A misspelt member (`mesage`) would be ignored, and the phone act on another message."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ApiError(400, "Bad Request", f"unknown {what} field(s): {', '.join(sorted(unknown))}; "
                                           f"use {', '.join(allowed)}")
    return data


def _message_id(data: dict) -> int | None:
    """`{"message": id}` picks which message the phone acts on; default: the newest."""
    message = data.get("message")
    if message is not None and (not isinstance(message, int) or isinstance(message, bool)):
        raise ApiError(400, "Bad Request", "message must be an outbox message id")
    return message


def phone_visit(ctx: RequestContext, number: str):
    data = _known(_json_body(ctx), ("user_agent", "message"), "visit")
    user_agent = data.get("user_agent") or ctx.request.headers.get("User-Agent", "")
    if not isinstance(user_agent, str):
        raise ApiError(400, "Bad Request", "user_agent must be a string")
    detection = ctx.world.simulated_phones.visit(number, user_agent, _message_id(data))
    return json_response({"code": detection.code, "status": detection.status,
                          "model": detection.model.name if detection.model else None})


def phone_setup(ctx: RequestContext, number: str):
    accept = ctx.request.path.rstrip("/").endswith("accept-setup")
    message = _message_id(_known(_json_body(ctx), ("message",), "setup answer"))
    client = ctx.world.simulated_phones.answer_setup(number, accept, message)
    return json_response({"client": client, "answer": "accepted" if accept else "rejected"})


def phone_sync(ctx: RequestContext, number: str):
    accept = ctx.request.path.rstrip("/").endswith("accept-sync")
    message = _message_id(_known(_json_body(ctx), ("message",), "sync answer"))
    session = ctx.world.simulated_phones.answer_sync(number, accept, message)
    if session is None:
        return json_response({"answer": "rejected"})
    return json_response({"answer": "accepted", "session": session.id, "outcome": session.outcome,
                          "reason": session.reason, "datastores": [d.name for d in session.datastores]})


def autopilot(ctx: RequestContext, number: str):
    """PUT a config ({} or null-valued fields allowed) to switch it on; DELETE to switch off."""
    if ctx.request.method == "DELETE":
        ctx.world.simulated_phones.set_autopilot(number, None)
        return json_response({"number": number, "autopilot": None})
    config = _json_body(ctx)
    ctx.world.simulated_phones.set_autopilot(number, config)  # Invalid: 400 naming the valid settings
    return json_response({"number": number, "autopilot": config})


# --- the whole state (issue: seeding with JSON Patch) ------------------------------------------
def get_state(ctx: RequestContext):
    with ctx.app.world.lock:
        return json_response(ctx.app.world.to_dict())


def put_state(ctx: RequestContext):
    """Replace the whole state; a document that does not load changes nothing."""
    if ctx.request.mimetype != "application/json":
        raise ApiError(415, "Unsupported Media Type", "PUT the state as application/json")
    data = _json_body(ctx, allow_empty=False, text_checked=True)
    ctx.app.replace_state(data)
    return json_response({"status": "replaced"})


def patch_state(ctx: RequestContext):
    """RFC 6902 over the state document (jsonpatch): all operations apply, or none."""
    if ctx.request.mimetype != "application/json-patch+json":
        raise ApiError(415, "Unsupported Media Type", "PATCH the state with application/json-patch+json")
    operations = load_json(ctx.request.get_data())
    ctx.app.patch_state(operations)
    return json_response({"status": "patched", "operations": len(operations)})


# --- journal and faults ------------------------------------------------------------------------
JOURNAL_FILTERS = ("after", "problems", "method", "path", "user", "status")
FLAGS = {"1": True, "true": True, "0": False, "false": False}


def journal(ctx: RequestContext):
    """The entries after id `after`, only problems with `problems=1`, only those matching
    `method`, `path` (exact or a pattern like fault rules'), `user` (empty: no user) and
    `status` (a code or a class like 4xx); `count` is how many were found."""
    args = ctx.request.args
    unknown = set(args) - set(JOURNAL_FILTERS)
    if unknown:
        raise ApiError(400, "Bad Request", f"unknown journal filter(s): {', '.join(sorted(unknown))}; "
                                           f"use {', '.join(JOURNAL_FILTERS)}")
    after = parse_id(args.get("after", "0"))
    if after is None:
        raise ApiError(400, "Bad Request", f"after={shown(args['after'])}: after must be an entry id, "
                                           f"an integer from 0 to {MAX_INT}")
    problems = FLAGS.get(args.get("problems", "0").lower())
    if problems is None:
        raise ApiError(400, "Bad Request", f"problems={shown(args['problems'])}: problems must be one of "
                                           f"{', '.join(FLAGS)}")
    entries = ctx.app.journal.entries(after, problems_only=problems)
    users = set(ctx.world.users) | {e.user for e in entries if e.user}
    try:
        wanted = RequestFilter.of(args.get("method"), args.get("path"), args.get("user"), args.get("status"),
                                  users=users)
    except ValueError as exc:
        raise ApiError(400, "Bad Request", str(exc)) from None
    entries = [e for e in entries if wanted.matches(e)]
    return json_response({"limit": ctx.app.journal.limit, "count": len(entries),
                          "entries": [e.as_dict() for e in entries]})


def clear_journal(ctx: RequestContext):
    ctx.app.journal.clear()
    return json_response({"status": "cleared"})


def faults(ctx: RequestContext):
    """`{"faults": [rule, …]}` by id: the live rules and the last spent ones (`"spent":
    true`, `"remaining": 0`), so a test can read a used-up rule's `hits` (faults.Fault)."""
    return json_response({"faults": [f.as_dict() for f in ctx.app.faults.rules()]})


def add_fault(ctx: RequestContext):
    try:
        fault = ctx.app.faults.add(_json_body(ctx, allow_empty=False))
    except FaultError as exc:
        raise ApiError(400, "Bad Request", f"fault: {exc}") from None
    return json_response(fault.as_dict(), 201)


def clear_faults(ctx: RequestContext):
    ctx.app.faults.clear()
    return json_response({"status": "cleared"})


def remove_fault(ctx: RequestContext, fault_id: str):
    number = parse_id(fault_id)  # None past wire.MAX_INT: no fault has such an id
    if number is None or not ctx.app.faults.remove(number):
        raise ApiError(404, "Not Found", f"no fault {shown(fault_id)}")
    return json_response({"status": "removed", "id": number})
