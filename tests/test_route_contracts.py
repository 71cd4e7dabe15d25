"""Every route declares its whole wire contract (routes.Route), and forgetting a part of it
fails a test here at once, naming the route:

- a request body's schema is a file of xsd/request/ (an entry point: schemas.entry_points),
  and the route names the decoder that turns it into the handler's `ctx.body`;
- every decoder and renderer is callable, a rendered answer names the schema it is valid
  against, and its status line is one;
- a response schema is a file of xsd/response/;
- every schema of xsd/request/ and xsd/response/ is used by some route;
- every route's example answer (ocss_testkit/route_examples: one example per route, run on
  a fresh fake) is valid against the route's response schema, and an Atom answer has one.

Each check is a function giving the problems of one route (or of the whole table) as
sentences; a test per check asserts there are none. The last test hands each check a
deliberately broken registration, so that none of them passes by being unable to fail.
"""
from __future__ import annotations

import dataclasses
import functools
import re

import pytest

from ocss_testkit.atom import safe
from ocss_testkit.atom.schemas import schemas
from ocss_testkit.package_data import xsd_dir
from ocss_testkit.route_examples import Exchange, run
from ocss_testkit.routes import CONTROL_ROUTES, ROUTES, Route

ALL = ROUTES + CONTROL_ROUTES
ATOM_TYPE = "application/atom+xml"
STATUS_LINE = re.compile(r"[1-5][0-9]{2} \S.*")


def _name(route: Route) -> str:
    return f"{route.method} {route.path}"


def _callable_name(value) -> str:
    return getattr(value, "__qualname__", repr(value))


# --- the checks -------------------------------------------------------------------------------
def request_schema_problems(route: Route) -> list[str]:
    """A request schema names an entry point of xsd/request/."""
    name = route.request_schema
    if name is None:
        return []
    if not (xsd_dir() / "request" / f"{name}.xsd").is_file():
        return [f"{_name(route)}: its request_schema {name!r} has no file xsd/request/{name}.xsd"]
    if name not in schemas("request"):
        return [f"{_name(route)}: xsd/request/{name}.xsd is no schema entry point (its targetNamespace is not Atom)"]
    return []


def decoder_problems(route: Route) -> list[str]:
    """A route taking a body names a callable decoder; a decoder without a schema never runs."""
    if route.request_schema is not None and route.decode is None:
        return [f"{_name(route)} takes a {route.request_schema!r} body but names no decoder (Route.decode)"]
    if route.decode is not None and not callable(route.decode):
        return [f"{_name(route)}: its decoder {route.decode!r} is not callable"]
    if route.decode is not None and route.request_schema is None:
        return [f"{_name(route)} names the decoder {_callable_name(route.decode)} but no request_schema: "
                "the decoder never runs"]
    return []


def renderer_problems(route: Route) -> list[str]:
    """A renderer is callable, its answer names a response schema, its status is a status line."""
    if route.render is None:
        return []
    problems = []
    if not callable(route.render):
        problems.append(f"{_name(route)}: its renderer {route.render!r} is not callable")
    if route.response_schema is None:
        problems.append(f"{_name(route)} renders its answers with {_callable_name(route.render)} but names no "
                        "response_schema they are valid against")
    if not STATUS_LINE.fullmatch(route.status):
        problems.append(f"{_name(route)}: its status {route.status!r} is no status line ('201 Created')")
    return problems


def response_schema_problems(route: Route) -> list[str]:
    """A response schema names an entry point of xsd/response/."""
    name = route.response_schema
    if name is None or name in schemas("response"):
        return []
    return [f"{_name(route)}: its response_schema {name!r} is no schema of xsd/response/ "
            f"(it has {', '.join(schemas('response').names)})"]


def unused_schemas(kind: str, routes: tuple[Route, ...]) -> list[str]:
    """The schemas of xsd/{kind}/ that no route names."""
    attribute = "request_schema" if kind == "request" else "response_schema"
    used = {getattr(route, attribute) for route in routes}
    return [f"xsd/{kind}/{name}.xsd is used by no route (no Route.{attribute} names {name!r})"
            for name in schemas(kind).names if name not in used]


def example_answer_problems(route: Route, exchange: Exchange) -> list[str]:
    """The route's example answer is valid against its response schema; an Atom answer
    names one."""
    atom = exchange.content_type.split(";")[0].strip() == ATOM_TYPE and exchange.body.strip() != b""
    name = route.response_schema
    if name is None:
        if atom and exchange.status < 400:
            return [f"{_name(route)} answered its example with Atom ({exchange.status} {exchange.reason}) but "
                    "names no response_schema"]
        return []
    if exchange.status >= 400 or not exchange.body.strip():
        return [f"{_name(route)}: its example answered {exchange.status} {exchange.reason} with "
                f"{len(exchange.body)} bytes, no answer to check against {name!r}"]
    try:
        schemas("response").validate(name, safe.parse(exchange.body))
    except safe.XMLRejected as error:
        return [f"{_name(route)}: its example answer is not valid against xsd/response/{name}.xsd: {error}"]
    except KeyError as error:  # no such schema: response_schema_problems says it too
        return [f"{_name(route)}: {error.args[0]}"]
    return []


@functools.cache
def _example(route: Route) -> Exchange:
    return run(route)


# --- the route table as it is ---------------------------------------------------------------
def _id(route: Route) -> str:
    return _name(route)


@pytest.mark.parametrize("route", ALL, ids=_id)
def test_a_request_schema_has_its_xsd_file(route):
    assert not request_schema_problems(route), request_schema_problems(route)


@pytest.mark.parametrize("route", ALL, ids=_id)
def test_a_request_schema_has_its_decoder(route):
    assert not decoder_problems(route), decoder_problems(route)


@pytest.mark.parametrize("route", ALL, ids=_id)
def test_a_renderer_is_callable_and_names_its_response_schema(route):
    assert not renderer_problems(route), renderer_problems(route)


@pytest.mark.parametrize("route", ALL, ids=_id)
def test_a_response_schema_has_its_xsd_file(route):
    assert not response_schema_problems(route), response_schema_problems(route)


@pytest.mark.parametrize("kind", ["request", "response"])
def test_every_schema_is_used_by_a_route(kind):
    assert not unused_schemas(kind, ALL), unused_schemas(kind, ALL)


@pytest.mark.parametrize("route", [r for r in ALL if not r.refuses], ids=_id)
def test_the_example_answer_is_valid_against_the_response_schema(route):
    problems = example_answer_problems(route, _example(route))
    assert not problems, problems


# --- each check catches a forgotten registration --------------------------------------------
def _route(method: str, path: str) -> Route:
    (found,) = [r for r in ALL if (r.method, r.path) == (method, path)]
    return found


def test_each_check_catches_a_forgotten_registration():
    create = _route("POST", "/v2/services/google/")
    name = "POST /v2/services/google/"
    broken = {
        "a request schema without its file": (request_schema_problems,
                                              dataclasses.replace(create, request_schema="gdata-clients")),
        "a request schema without its decoder": (decoder_problems, dataclasses.replace(create, decode=None)),
        "a decoder without a request schema": (decoder_problems, dataclasses.replace(create, request_schema=None)),
        "a renderer that is not callable": (renderer_problems, dataclasses.replace(create, render="gdata_entry")),
        "a renderer without a response schema": (renderer_problems,
                                                 dataclasses.replace(create, response_schema=None)),
        "a response schema without its file": (response_schema_problems,
                                               dataclasses.replace(create, response_schema="gdata-client")),
    }
    for what, (check, route) in broken.items():
        problems = check(route)
        assert problems and all(name in p for p in problems), (what, problems)
    others = tuple(r for r in ALL if r.request_schema != "detect" and r.response_schema != "detection")
    assert unused_schemas("request", others) == [
        "xsd/request/detect.xsd is used by no route (no Route.request_schema names 'detect')"]
    assert unused_schemas("response", others) == [
        "xsd/response/detection.xsd is used by no route (no Route.response_schema names 'detection')"]
    answer = _example(create)
    wrong = example_answer_problems(dataclasses.replace(create, response_schema="syncml"), answer)
    assert len(wrong) == 1 and wrong[0].startswith(f"{name}: its example answer is not valid against "
                                                   "xsd/response/syncml.xsd: line "), wrong
    undeclared = example_answer_problems(dataclasses.replace(create, response_schema=None), answer)
    assert undeclared == [f"{name} answered its example with Atom (201 Created) but names no response_schema"]
