"""The tenants of a standalone fake, managed at the server's root (tenants.py):
`GET /_fake/tenants`, `PUT /_fake/tenants/{tenant}` and `DELETE /_fake/tenants/{tenant}`.

Served by the default tenant's FakeApp, whose `tenants` is the TenantsApp in front of it.
A fake of one world (in-process, the pytest plugin's) and a tenant's own fake have no
tenants to manage: they answer 404 saying where tenants are managed. This module does not
import tenants.py (which imports the app, which imports the route table, which imports
this): the registry comes with the request, as `ctx.app.tenants`.
"""
from __future__ import annotations

from ocss_testkit.answers import ApiError, json_response
from ocss_testkit.request_context import RequestContext
from ocss_testkit.strict_json import load_json

PUT_FIELDS = ("fixtures", "state")


ONE_WORLD = ("this fake serves one world, without tenants: tenants are served by `ocss-fake serve` (or a "
             "FakeServer given a tenants.TenantsApp), managed with /_fake/tenants at its root")


def _registry(ctx: RequestContext):
    tenants = getattr(ctx.app, "tenants", None)
    if tenants is None:
        root = ctx.request.root_path
        if root:  # a tenant's own fake, under /t/{tenant}
            raise ApiError(404, "Not Found", f"tenants are managed at the server's root (GET /_fake/tenants), "
                                             f"not inside the tenant at {root[:100]}/")
        raise ApiError(404, "Not Found", ONE_WORLD)
    return tenants


def list_tenants(ctx: RequestContext):
    """`{"tenants": [{"name", "url", "fixtures", "requests", "in_flight", "last_use",
    "idle_seconds", "size_bytes"}…], "count", "max_tenants", "tenant_idle"}`, by name. A
    fake of one world lists none, with `max_tenants` 0 and a `note` saying why."""
    if getattr(ctx.app, "tenants", None) is None and not ctx.request.root_path:
        return json_response({"tenants": [], "count": 0, "max_tenants": 0, "tenant_idle": 0, "note": ONE_WORLD})
    return json_response(_registry(ctx).listing(ctx.base))


def put_tenant(ctx: RequestContext, tenant: str):
    """Create the tenant, or replace it with a fresh one: from the server's fixture set (no
    body, or `{}`), a named set (`{"fixtures": "demo"}`) or a whole state document
    (`{"state": {…}}`, as `PUT /_fake/state` takes it). 201 when it is new, 200 when it
    replaced one; 400 a bad name or body, 415 a body that is not JSON, 422 a state that
    does not load, 503 when the server holds its maximum of tenants, all in use."""
    registry = _registry(ctx)
    raw = ctx.request.get_data()
    data = {}
    if raw.strip():
        if ctx.request.mimetype != "application/json":
            raise ApiError(415, "Unsupported Media Type",
                           'PUT a tenant with no body, or an application/json body: {"fixtures": NAME} or '
                           '{"state": {...}}')
        data = load_json(raw)  # numbers bounded, members given once (answers.py)
        if not isinstance(data, dict):
            raise ApiError(400, "Bad Request", 'the body must be a JSON object: {"fixtures": NAME} or {"state": {...}}')
    unknown = sorted(set(data) - set(PUT_FIELDS))
    if unknown:
        raise ApiError(400, "Bad Request", f"unknown tenant field(s): {', '.join(unknown)[:200]}; "
                                           "use fixtures or state")
    if len(data) > 1:
        raise ApiError(400, "Bad Request", "give fixtures or state, not both")
    fixtures, state = data.get("fixtures"), data.get("state")
    if "fixtures" in data and not isinstance(fixtures, str):
        raise ApiError(400, "Bad Request", "fixtures must be the name of a fixture set, e.g. \"demo\"")
    if "state" in data and not isinstance(state, dict):
        raise ApiError(400, "Bad Request", "state must be a state document: a JSON object, as GET /_fake/state "
                                           "answers")
    entry, created = registry.put(tenant, fixtures=fixtures, state=state, base=ctx.base)
    response = json_response(entry, 201 if created else 200)
    response.headers["Location"] = entry["url"]
    return response


def drop_tenant(ctx: RequestContext, tenant: str):
    """Drop the tenant (and its state file); 404 when there is none by that name."""
    _registry(ctx).drop(tenant)
    return json_response({"status": "dropped", "tenant": tenant})
