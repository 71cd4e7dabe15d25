"""The OAuth 1.0a three-legged flow (route I16), as a real provider runs it (RFC 5849 §2):
request token, an approval page where a demo user approves or denies, access token."""
from __future__ import annotations

from html import escape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Response

from ocss_testkit.answers import ApiError, status_line
from ocss_testkit.request_context import RequestContext
from ocss_testkit.world.errors import DomainError


def _token_step(ctx: RequestContext[None], step: str) -> Response:
    app = ctx.app
    headers, body, status = app.auth.token_endpoint(ctx.world, step, app.signed_uri(ctx.request, ctx.base),
                                                    ctx.request.method, dict(ctx.request.headers),
                                                    ctx.request.get_data())
    if status != 200:
        raise ApiError(status, status_line(status).split(" ", 1)[1], body,
                       headers={"WWW-Authenticate": f'OAuth realm="{ctx.base}"'} if status == 401 else {})
    response = Response(body, status=status_line(status), content_type="application/x-www-form-urlencoded")
    if status == 401:
        response.headers["WWW-Authenticate"] = f'OAuth realm="{ctx.base}"'
    return response


def request_token(ctx: RequestContext[None]) -> Response:
    return _token_step(ctx, "request_token")


def access_token(ctx: RequestContext[None]) -> Response:
    return _token_step(ctx, "access_token")


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Authorize access to your SyncServer account</title></head>
<body><h1>Authorize access</h1>
<p>An application (consumer <code>{consumer}</code>) asks to use your SyncServer account.</p>
<form method="post" action="{action}">
<input type="hidden" name="oauth_token" value="{token}">
<label>Sign in as <select name="user">{options}</select></label>
<button type="submit" name="approve" value="yes">Approve</button>
<button type="submit" name="approve" value="no">Deny</button>
</form></body></html>
"""


def authorize_page(ctx: RequestContext[None]) -> Response:
    token = ctx.request.args.get("oauth_token", "")
    try:
        rt = ctx.world.tokens.request_token(token)
    except DomainError as exc:
        raise ApiError(400, "Bad Request", str(exc)) from None
    options = "".join(f'<option value="{escape(name)}">{escape(name)}</option>' for name in ctx.world.users)
    page = _PAGE.format(consumer=escape(rt.consumer_key), action=escape(f"{ctx.base}oauth/authorize"),
                        token=escape(token), options=options)
    return Response(page, content_type="text/html; charset=utf-8")


def authorize(ctx: RequestContext[None]) -> Response:
    """The user's decision on the approval page: `approve=yes` approves (a verifier for
    the consumer), anything else, a missing field included, denies (RFC 5849 §2.2 leaves
    denial to the server: the fake answers as Twitter's provider did)."""
    form = ctx.request.form
    token, user = form.get("oauth_token", ""), form.get("user", "")
    if form.get("approve") != "yes":
        return _deny(ctx, token, user)
    try:
        rt = ctx.world.tokens.approve_request_token(token, user)
    except DomainError as exc:
        raise ApiError(400, "Bad Request", str(exc)) from None
    assert rt.verifier is not None  # approving issues it
    if rt.callback == "oob":
        return Response(f"oauth_token={token}&oauth_verifier={rt.verifier}", content_type="text/plain")
    return _redirect(rt.callback, [("oauth_token", token), ("oauth_verifier", rt.verifier)])


def _deny(ctx: RequestContext[None], token: str, user: str) -> Response:
    """The user refused: no verifier, and the request token is spent, so that the access
    token step refuses it (401, unknown request token) as it refuses a used one.

    Denying needs no signed-in user (Twitter's Cancel needs none); a `user` that is given
    must exist, and a token already approved stays approved (400): the first decision
    stands, as a second approval cannot replace the first. A callback gets
    `?denied=<request token>` and no `oauth_token`, as Twitter's provider redirects a
    denial, so that a consumer reading `oauth_token` and `oauth_verifier` off the callback
    cannot mistake it for an approval. Out of band, the answer is a 200 sentence: the
    approval page did its job (it recorded the user's decision), and the person reading
    the page is told the outcome, as Twitter's denial page tells them; a 403 would say
    the page itself was out of bounds to them."""
    try:
        rt = ctx.world.tokens.request_token(token)
    except DomainError as exc:
        raise ApiError(400, "Bad Request", str(exc)) from None
    if user and user not in ctx.world.users:
        raise ApiError(400, "Bad Request", f"unknown user {user!r}")
    if rt.verifier is not None:
        raise ApiError(400, "Bad Request", "this request token was already approved; the approval stands")
    ctx.world.tokens.request_tokens.pop(token, None)
    if rt.callback == "oob":
        who = f"user {user!r}" if user else "the user"
        return Response(f"Access denied: {who} refused to let consumer {rt.consumer_key!r} use the account. "
                        "No verifier was issued and the request token can no longer be used.\n",
                        content_type="text/plain; charset=utf-8")
    return _redirect(rt.callback, [("denied", token)])


def _redirect(callback: str, added: list[tuple[str, str]]) -> Response:
    """302 to the consumer's callback, its own query kept, with `added` appended."""
    parts = urlsplit(callback)
    response = Response("", status=status_line(302))
    response.headers["Location"] = urlunsplit(parts._replace(query=urlencode(parse_qsl(parts.query) + added)))
    return response
