"""The OAuth 1.0a three-legged flow (I16), as a real provider runs it (see 002/004 for how
clients drive it): request token, an approval page for a demo user, access token."""
from __future__ import annotations

from html import escape
from urllib.parse import urlencode, urlsplit, urlunsplit, parse_qsl

from werkzeug.wrappers import Response

from ..model.errors import DomainError
from ..wire import ApiError, status_line
from . import Call


def _token_step(call: Call, step: str) -> Response:
    app = call.app
    headers, body, status = app.auth.token_endpoint(call.world, step, app._signed_uri(call.request),
                                                    call.request.method, dict(call.request.headers),
                                                    call.request.get_data())
    if status != 200:
        raise ApiError(status, status_line(status).split(" ", 1)[1], body,
                       headers={"WWW-Authenticate": f'OAuth realm="{call.base}"'} if status == 401 else {})
    response = Response(body, status=status_line(status), content_type="application/x-www-form-urlencoded")
    if status == 401:
        response.headers["WWW-Authenticate"] = f'OAuth realm="{call.base}"'
    return response


def request_token(call: Call):
    return _token_step(call, "request_token")


def access_token(call: Call):
    return _token_step(call, "access_token")


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Authorize access to your SyncServer account</title></head>
<body><h1>Authorize access</h1>
<p>An application (consumer <code>{consumer}</code>) asks to use your SyncServer account.</p>
<form method="post" action="{action}">
<input type="hidden" name="oauth_token" value="{token}">
<label>Sign in as <select name="user">{options}</select></label>
<button type="submit" name="approve" value="yes">Approve</button>
</form></body></html>
"""


def authorize_page(call: Call):
    token = call.request.args.get("oauth_token", "")
    try:
        rt = call.world.request_token(token)
    except DomainError as exc:
        raise ApiError(400, "Bad Request", str(exc)) from None
    options = "".join(f'<option value="{escape(name)}">{escape(name)}</option>' for name in call.world.users)
    page = _PAGE.format(consumer=escape(rt.consumer_key), action=escape(f"{call.base}oauth/authorize"),
                        token=escape(token), options=options)
    return Response(page, content_type="text/html; charset=utf-8")


def authorize(call: Call):
    """A demo user approves: redirect to the consumer's callback with the verifier."""
    form = call.request.form
    token, user = form.get("oauth_token", ""), form.get("user", "")
    try:
        rt = call.world.approve_request_token(token, user)
    except DomainError as exc:
        raise ApiError(400, "Bad Request", str(exc)) from None
    if rt.callback == "oob":
        return Response(f"oauth_token={token}&oauth_verifier={rt.verifier}", content_type="text/plain")
    parts = urlsplit(rt.callback)
    query = urlencode(parse_qsl(parts.query) + [("oauth_token", token), ("oauth_verifier", rt.verifier)])
    response = Response("", status=status_line(302))
    response.headers["Location"] = urlunsplit(parts._replace(query=query))
    return response
