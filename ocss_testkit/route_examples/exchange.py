"""Running a route example: send it to a fresh in-process fake, and show the request and
the answer as text for people.

Values the fake makes up per request (new uuids, detection codes, OAuth tokens and
verifiers, the journal's real times) are shown as fixed stand-ins, and the Authorization
header without its per-request nonce, timestamp and signature, so the text is the same
on every run.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from oauthlib.oauth1 import Client as OAuthClient

from ocss_testkit.route_examples.example_world import CALLBACK, CLOCK, EXAMPLE_WORLD, REQUEST_TOKEN, VERIFIER
from ocss_testkit.route_examples.examples import JSON_TYPE, MAX_LINES, Example, example_for
from ocss_testkit.routes import Route

if TYPE_CHECKING:
    from ocss_testkit.app import FakeApp

ATOM_TYPE = "application/atom+xml"


@dataclass(frozen=True)
class Exchange:
    """An example as sent and as answered, as text for people (volatile values replaced);
    `body` and `content_type` are the answer's own, as sent (for the tests that validate
    it against the route's response schema)."""
    request: str
    status: int
    reason: str
    response: str
    body: bytes = b""
    content_type: str = ""


SHOWN_HEADERS = ("Content-Type", "Location", "Allow", "WWW-Authenticate")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
# Values the fake makes up: shown as fixed stand-ins (name -> pattern whose group 1 is one).
_MADE_UP = (
    ("code", re.compile(r"<oc:code>([^<]+)</oc:code>")),
    ("code", re.compile(r"/detect/manual/([A-Za-z0-9_-]{8,})/")),
    ("code", re.compile(r"/d/([A-Za-z0-9_-]{8,})\b")),
    ("code", re.compile(r'"code": "([^"]+)"')),
    ("token", re.compile(r"oauth_token=([^&\s\"]+)")),
    ("secret", re.compile(r"oauth_token_secret=([^&\s\"]+)")),
    ("verifier", re.compile(r"oauth_verifier=([^&\s\"]+)")),
)
_REAL_TIME_KEYS = {"time": "<real time, seconds since the epoch>", "duration_ms": "<milliseconds>"}


def _signed(example: Example, method: str, url: str, app) -> dict:
    if example.sign is None:
        return {}
    world = app.world
    user = world.users[example.user]
    secret = world.consumers[user.consumer_key]
    if example.sign == "token":
        signer = OAuthClient(user.consumer_key, client_secret=secret, resource_owner_key=user.token,
                             resource_owner_secret=user.token_secret)
    elif example.sign == "consumer":
        signer = OAuthClient(user.consumer_key, client_secret=secret, callback_uri=CALLBACK)
    elif example.sign == "verifier":
        token = world.tokens.request_tokens[REQUEST_TOKEN]
        signer = OAuthClient(user.consumer_key, client_secret=secret, resource_owner_key=token.token,
                             resource_owner_secret=token.secret, verifier=token.verifier)
    else:
        raise ValueError(f"sign must be token, consumer, verifier or None, not {example.sign!r}")
    _, headers, _ = signer.sign(url, http_method=method)
    return dict(headers)


def _shown_authorization(example: Example, app) -> str | None:
    """The Authorization header as people should read it: who signs, without the
    per-request nonce, timestamp and signature."""
    if example.sign is None:
        return None
    user = app.world.users[example.user]
    parts = [f'oauth_consumer_key="{user.consumer_key}"']
    if example.sign == "token":
        parts.append(f'oauth_token="{user.token}"')
    elif example.sign == "consumer":
        parts.append(f'oauth_callback="{CALLBACK}"')
    else:
        parts += [f'oauth_token="{REQUEST_TOKEN}"', f'oauth_verifier="{VERIFIER}"']
    parts.append('oauth_signature_method="HMAC-SHA1", oauth_timestamp, oauth_nonce, oauth_signature')
    return "OAuth " + ", ".join(parts)


def fresh_app() -> FakeApp:
    """A fresh in-process fake holding the examples' world, the default tenant of a
    TenantsApp (for the /_fake/tenants examples) whose clocks stand still at CLOCK."""
    from datetime import datetime

    from ocss_testkit.app import FakeApp
    from ocss_testkit.tenants import TenantsApp

    app = FakeApp("demo")
    app.patch_state(EXAMPLE_WORLD)
    at = datetime.fromisoformat(CLOCK.replace("Z", "+00:00")).timestamp()
    TenantsApp(app, clock=lambda: 0.0, wall=lambda: at)
    return app


def run(route: Route, example: Example | None = None, app: FakeApp | None = None) -> Exchange:
    """Send `route`'s example (or `example`) to a fresh fake (or to `app`, which must hold
    a world `fresh_app` made): the request and the answer as text. KeyError for a route
    without an example; RuntimeError when one of the example's `given` requests is
    refused (the example no longer fits the fake)."""
    from ocss_testkit.client import SignedClient

    example = example or example_for(route)
    app = app or fresh_app()
    phones = app.world.phones
    known = " ".join([json.dumps(app.world.to_dict()), example.path, example.body.decode("utf-8"),
                      *(v.uuid for v in phones.vendors.values()), *(m.uuid for m in phones.models.values())])
    client = SignedClient(app)  # signs nothing itself: the headers are made here, per mode
    _send_given(route, example, client, app)
    headers = dict(example.headers)
    if example.body:
        headers["Content-Type"] = example.content_type or ATOM_TYPE
    headers.update(_signed(example, route.method, client.base + example.path, app))
    request = _request_text(route, example, headers, app)  # before the request changes the world
    reply = client.request(route.method, example.path, example.body, headers)
    response = [f"HTTP/1.1 {reply.status} {reply.reason}"]
    response += [f"{name}: {reply.headers[name]}" for name in SHOWN_HEADERS if name in reply.headers]
    shown = _shown_body(reply.body, reply.headers.get("Content-Type", ""), example.shown_lines)
    if shown:
        response += ["", shown]
    text = _stand_ins("\n".join(response), known)
    return Exchange(request, reply.status, reply.reason, text, reply.body, reply.headers.get("Content-Type", ""))


def _send_given(route: Route, example: Example, client, app) -> None:
    """Send the example's `given` requests (API ones signed as `admin`); RuntimeError
    for the first one refused."""
    for method, path, body in example.given:
        headers = _signed(Example(path), method, client.base + path, app) if not path.startswith("/_fake") else {}
        if body:
            headers["Content-Type"] = JSON_TYPE if path.startswith("/_fake") else ATOM_TYPE
        reply = client.request(method, path, body, headers)
        if reply.status >= 400:
            raise RuntimeError(f"example of {route.method} {route.path}: given {method} {path} "
                               f"answered {reply.status} {reply.reason}: {reply.text[:300]}")


def _request_text(route: Route, example: Example, headers: dict, app) -> str:
    """The request as sent, its Authorization header as people should read it."""
    request = [f"{route.method} {example.path} HTTP/1.1", "Host: localhost"]
    request += [f"{name}: {value}" for name, value in headers.items() if name != "Authorization"]
    authorization = _shown_authorization(example, app)
    if authorization:
        request.append(f"Authorization: {authorization}")
    if example.body:
        request += ["", example.body.decode("utf-8").rstrip("\n")]
    return "\n".join(request)


def _shown_body(body: bytes, content_type: str, limit: int = MAX_LINES) -> str:
    text = body.decode("utf-8", errors="replace")
    if content_type.startswith("application/json") and text.strip():
        text = json.dumps(_real_times(json.loads(text)), indent=2, ensure_ascii=False)
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    if limit == 0 and lines:
        return f"… ({content_type.split(';')[0]}, not shown)"
    if len(lines) > limit + limit // 4:  # a cut saves at least a quarter
        lines = lines[:limit] + [f"… ({len(lines) - limit} more lines)"]
    return "\n".join(lines)


def _real_times(value):
    """The journal's real times and durations differ on every run: shown as what they are."""
    if isinstance(value, dict):
        return {k: (_REAL_TIME_KEYS[k] if k in _REAL_TIME_KEYS and isinstance(v, float) else _real_times(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_real_times(v) for v in value]
    return value


def _stand_ins(text: str, known: str) -> str:
    """New uuids, and codes, tokens and verifiers the fake made up, replaced by fixed
    stand-ins in order of appearance (one value, one stand-in); `known` holds every value
    that existed before the request (the world, the request, the phones database)."""
    uuids: dict[str, str] = {}

    def uuid(match: re.Match) -> str:
        value = match.group(0)
        if value in known:
            return value
        return uuids.setdefault(value, f"00000000-0000-4000-8000-{len(uuids) + 1:012d}")

    text = _UUID.sub(uuid, text)
    made: dict[str, str] = {}
    counts: dict[str, int] = {}
    for name, pattern in _MADE_UP:
        for value in pattern.findall(text):
            if value not in known and value not in made and not value.startswith("<"):
                counts[name] = counts.get(name, 0) + 1
                made[value] = f"<new {name} {counts[name]}>"
    for value, stand_in in sorted(made.items(), key=lambda kv: -len(kv[0])):  # longest first
        text = text.replace(value, stand_in)
    return text
