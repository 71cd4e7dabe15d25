"""`ocss-fake`: the fake as a standalone process (also `python -m ocss_testkit`).

Commands: `serve` (the fake over HTTP until interrupted; tenants under `/t/{tenant}/`,
tenants.py), `routes` (the route table) and
`sign` (an OAuth 1.0a Authorization header or a curl command line for one request).
Every number an option takes is checked by argparse against its range, so a wrong one
is the usual usage error naming the option (exit status 2), never a surprise later.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sys
import threading
from pathlib import Path

from ocss_testkit import request_log
from ocss_testkit.app import DEFAULT_MAX_BODY, FakeApp
from ocss_testkit.faults import METHODS
from ocss_testkit.persistence import STATE_SUFFIX, StateFile, StateFileError
from ocss_testkit.server import FakeServer
from ocss_testkit.tenants import DEFAULT_MAX_TENANTS, DEFAULT_TENANT_IDLE, TenantsApp

MAX_PORT = 65535
MAX_BODY_LIMIT = 2 ** 30  # 1 GiB: a body is held in memory whole, and validated whole
MAX_THREADS = 256
MAX_TENANTS = 10_000
MAX_TENANT_IDLE = 30 * 86400  # a month, in seconds
_INTEGER = re.compile(r"-?[0-9]{1,20}")


def int_in(low: int, high: int, note: str = ""):
    """An argparse `type` for a whole number from `low` to `high` inclusive.

    Only ASCII digits (with an optional minus): not "1_000", " 8080" or other scripts'
    digits, which int() would take. Raises argparse.ArgumentTypeError, which argparse
    prints as `argument --NAME: <sentence>` under the usage line."""
    hint = f" ({note})" if note else ""

    def whole_number(text: str) -> int:
        if not _INTEGER.fullmatch(text):
            raise argparse.ArgumentTypeError(
                f"{text[:40]!r} is not a whole number: use one from {low} to {high}{hint}")
        value = int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range: use a whole number from {low} to {high}{hint}")
        return value

    whole_number.__name__ = f"whole number from {low} to {high}"
    return whole_number


def _version() -> str:
    """The installed distribution's version; the package's own in a bare checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ocss-testkit")
    except PackageNotFoundError:
        from ocss_testkit import __version__
        return __version__


def _base_url(value: str) -> str:
    """argparse type of --base-url: an absolute http(s) URL, a path allowed, no query,
    fragment or credentials (every link and signature is built on it)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{value!r} is not an absolute http:// or https:// URL")
    if parts.query or parts.fragment or "?" in value or "#" in value or parts.username or parts.password:
        raise argparse.ArgumentTypeError(f"{value!r}: a base URL has no query, fragment or user name")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocss-fake", description="A fake ObexCode SyncServer for tests.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_serve(sub.add_parser("serve", help="serve the fake over HTTP until interrupted"))
    routes = sub.add_parser("routes", help="print the route table (the generated API reference)")
    routes.add_argument("--format", choices=("markdown", "json"), default="markdown")
    routes.add_argument("--examples", action="store_true",
                        help="with an example request for every route (its body where it takes one) and the "
                             "answer a fresh in-process fake gives it: docs/api-reference.md")
    routes.add_argument("--output", "-o", metavar="FILE",
                        help="write to FILE (whole, once made: a failure leaves it as it was) instead of stdout")
    _add_sign(sub.add_parser(
        "sign", help="print an OAuth 1.0a Authorization header (or a curl command) for one request",
        description="Sign one request with OAuth 1.0a (HMAC-SHA1) for a user of the fixture set, or for "
                    "explicit credentials. The header holds a fresh nonce and the current time: it is "
                    "good for one request within 10 minutes."))
    return parser


def _add_serve(serve: argparse.ArgumentParser) -> None:
    """The options of `ocss-fake serve`."""
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int_in(0, MAX_PORT, "0 picks a free port"), default=8080,
                       help=f"port from 0 to {MAX_PORT}; 0 picks a free one (default 8080)")
    serve.add_argument("--fixtures", default="demo", help="fixture set name or folder (default demo)")
    serve.add_argument("--base-url", type=_base_url,
                       help="the public URL clients use (behind a reverse proxy, a path prefix "
                            "allowed): what ids and links say and OAuth signatures are checked "
                            "against (default: from Host)")
    serve.add_argument("--trust-forwarded", action="store_true",
                       help="take the public URL from the reverse proxy in front: Forwarded (RFC 7239, its last "
                            "element) or X-Forwarded-Proto/Host/Port/Prefix; only with a proxy that sets them "
                            "and drops what clients send (default: ignored)")
    serve.add_argument("--max-body", type=int_in(1, MAX_BODY_LIMIT, "bytes"), default=DEFAULT_MAX_BODY,
                       help=f"request body limit in bytes, 1 to {MAX_BODY_LIMIT} (default {DEFAULT_MAX_BODY})")
    serve.add_argument("--threads", type=int_in(1, MAX_THREADS), default=6,
                       help=f"worker threads, 1 to {MAX_THREADS} (default 6)")
    serve.add_argument("--state-file", metavar="PATH",
                       help="load the state from PATH (created from the fixture set if missing) and "
                            "append every change to it, durably, before answering; one server per file")
    serve.add_argument("--max-tenants", type=int_in(1, MAX_TENANTS), default=DEFAULT_MAX_TENANTS,
                       help=f"tenants (worlds under /t/{{tenant}}/) kept at once, 1 to {MAX_TENANTS} "
                            f"(default {DEFAULT_MAX_TENANTS}); a new one beyond gets 503 with Retry-After")
    serve.add_argument("--tenant-idle", type=int_in(0, MAX_TENANT_IDLE, "seconds; 0 never drops one"),
                       default=DEFAULT_TENANT_IDLE, metavar="SECONDS",
                       help=f"drop a tenant unused for this many seconds, 0 to {MAX_TENANT_IDLE}; 0: never "
                            f"(default {DEFAULT_TENANT_IDLE})")
    serve.add_argument("--state-dir", metavar="DIR",
                       help="keep every tenant's state in DIR/{tenant}.state, as --state-file keeps the default "
                            "tenant's (created if missing; a restart brings every tenant back); one server per "
                            "folder")
    serve.add_argument("--log-format", choices=request_log.FORMATS, default="text",
                       help="one line per request on standard error, as text or one JSON object (default text)")
    serve.add_argument("--quiet", action="store_true",
                       help="no per-request lines (the ready line and credentials are still printed)")


def _add_sign(sign: argparse.ArgumentParser) -> None:
    """The arguments of `ocss-fake sign`."""
    sign.add_argument("method", metavar="METHOD",
                      help=f"the HTTP method, one of {', '.join(METHODS)} (any case)")
    sign.add_argument("url", metavar="URL", help="the absolute URL, e.g. http://127.0.0.1:8080/v2/clients/")
    sign.add_argument("--user", help="a user of the fixture set given by --fixtures, read from its files, not "
                                       "from a running server (default alice, else the set's first user)")
    sign.add_argument("--fixtures", default="demo", help="fixture set name or folder (default demo)")
    sign.add_argument("--data", metavar="BODY|@FILE", help="the request body, or @FILE for a file's bytes")
    sign.add_argument("--content-type", metavar="TYPE",
                      help="Content-Type of the body (default application/atom+xml); an "
                           "application/x-www-form-urlencoded body is signed too")
    sign.add_argument("--curl", action="store_true", help="print a whole curl command line instead")
    sign.add_argument("--consumer-key", help="sign with these credentials instead of a fixture user")
    sign.add_argument("--consumer-secret")
    sign.add_argument("--token", help="access token (with --token-secret); optional with --consumer-key")
    sign.add_argument("--token-secret")
    sign.set_defaults(usage_error=sign.error)  # "ocss-fake sign: error: …", like argparse's own


def print_routes(fmt: str, examples: bool = False, output: str | None = None) -> int:
    """The route table: each route's provenance (API document title and section), auth and
    request schema; with `examples`, the API reference (examples run in-process). With
    `output`, the text replaces that file only once it is whole (a temporary file renamed),
    so a route without an example (KeyError) leaves the committed reference as it was."""
    from ocss_testkit import route_examples
    from ocss_testkit.routes import table

    if fmt == "json":
        text = json.dumps(route_examples.reference_json() if examples else table(), indent=1) + "\n"
    elif examples:
        text = route_examples.reference()
    else:
        text = "\n".join(route_examples.table_markdown()) + "\n"
    if output is None:
        sys.stdout.write(text)
        return 0
    target = Path(output)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, target)
    return 0


def _credentials(app: FakeApp) -> str:
    world = app.world
    lines = ["OAuth 1.0a (HMAC-SHA1) credentials of this world:"]
    for user in world.users.values():
        flags = ", ".join(f for f, on in (("admin", user.admin), ("may_detect_auto", user.may_detect_auto)) if on)
        lines.append(f"  {user.name:<8} consumer {user.consumer_key} / {world.consumers[user.consumer_key]}"
                     f"  token {user.token} / {user.token_secret}" + (f"  [{flags}]" if flags else ""))
    return "\n".join(lines)


def serve(args: argparse.Namespace) -> int:
    try:  # an unknown set's one-line message lists the sets that exist (FixtureSet.load)
        app = FakeApp(args.fixtures, base_url=args.base_url, max_body=args.max_body,
                      trust_forwarded=args.trust_forwarded)
    except (FileNotFoundError, ValueError) as exc:
        print(f"ocss-fake: {exc}", file=sys.stderr)
        return 2
    if args.state_dir and args.state_file:
        folder, file = Path(args.state_dir).absolute(), Path(args.state_file).absolute()
        if file.parent == folder and file.name.endswith(STATE_SUFFIX):
            # it would be the file of the tenant of that name, held twice
            print(f"ocss-fake: --state-file {args.state_file} is a tenant's file in --state-dir "
                  f"{args.state_dir}: name it without {STATE_SUFFIX}, or keep it elsewhere", file=sys.stderr)
            return 2
    state_file = None
    if args.state_file:
        try:  # before the port opens: no request may see the fixture world instead
            state_file = StateFile(args.state_file).install(app)
        except StateFileError as exc:
            print(f"ocss-fake: {' '.join(str(exc).splitlines())}", file=sys.stderr)
            return 2
    try:  # before the port opens, as the state file: every tenant of the folder is loaded now
        tenants = TenantsApp(app, max_tenants=args.max_tenants, tenant_idle=args.tenant_idle,
                             state_dir=args.state_dir)
    except StateFileError as exc:
        print(f"ocss-fake: {' '.join(str(exc).splitlines())}", file=sys.stderr)
        if state_file is not None:
            state_file.close()
        return 2
    server = FakeServer(tenants, host=args.host, port=args.port, threads=args.threads)
    try:
        server.start()
    except OSError as exc:
        print(f"ocss-fake: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        tenants.close()
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    # After start(): its readiness probe is not a request anyone sent.
    request_log.configure(args.log_format, quiet=args.quiet)
    _print_ready(args, server, tenants, state_file)
    try:
        stop.wait()
    finally:
        server.stop()
        tenants.close()
        if state_file is not None:
            state_file.close()  # after the last request: flushes accepted nonces, frees the file
        request_log.reset()  # a main() called in-process leaves no handler behind
    print("ocss-fake stopped", flush=True)
    return 0


def _print_ready(args: argparse.Namespace, server: FakeServer, tenants: TenantsApp,
                 state_file: StateFile | None) -> None:
    """The lines a started `serve` prints: the ready line first (scripts wait for it), then
    the credentials, the state file, the tenants and the state folder."""
    print(f"ocss-fake ready at {server.url}", flush=True)
    print(_credentials(tenants.default), flush=True)
    if state_file is not None:  # after the credentials, which always follow the ready line
        print(f"ocss-fake state file {state_file.path}", flush=True)
    idle = f"dropped after {args.tenant_idle} s unused" if args.tenant_idle else "kept until dropped"
    print(f"ocss-fake tenants at {server.url}/t/{{tenant}}/ (at most {args.max_tenants}, {idle})", flush=True)
    if tenants.state_dir is not None:
        print(f"ocss-fake state dir {tenants.state_dir.path} ({len(tenants.names())} tenants loaded)", flush=True)


def _signing_credentials(args: argparse.Namespace):
    """The credentials `sign` uses, or a one-line problem (str)."""
    from ocss_testkit.signer import Credentials
    from ocss_testkit.world.fixtures import FixtureSet

    explicit = [args.consumer_key, args.consumer_secret, args.token, args.token_secret]
    if any(v is not None for v in explicit):
        if args.user is not None:
            args.usage_error("give --user or explicit credentials (--consumer-key …), not both")
        if (args.consumer_key is None) != (args.consumer_secret is None) or args.consumer_key is None:
            args.usage_error("--consumer-key and --consumer-secret go together")
        if (args.token is None) != (args.token_secret is None):
            args.usage_error("--token and --token-secret go together")
        return Credentials(args.consumer_key, args.consumer_secret, args.token, args.token_secret)
    try:
        world = FixtureSet.load(args.fixtures).build()
    except (FileNotFoundError, ValueError) as exc:  # a broken set: every problem on its own line
        return str(exc)
    users = world.users
    name = args.user if args.user is not None else ("alice" if "alice" in users else next(iter(users), None))
    if name not in users:
        # Users come from the fixture set, never from a running server: say so, or a
        # user added over the control plane looks like a bug here.
        return (f"no user {name!r} in fixture set {args.fixtures!r}; users: "
                f"{', '.join(users) or 'none'} (credentials come from the fixture set, "
                f"--fixtures NAME|DIR, not from a running server; or give --consumer-key …)")
    user = users[name]
    return Credentials(user.consumer_key, world.consumers[user.consumer_key], user.token, user.token_secret)


def sign(args: argparse.Namespace) -> int:
    from ocss_testkit import signer

    problem = signer.method_problem(args.method)
    if problem:  # a typo such as GTE would sign a request no server route answers
        args.usage_error(f"argument METHOD: {problem}")
    method = args.method.upper()
    credentials = _signing_credentials(args)
    if isinstance(credentials, str):
        print(f"ocss-fake: {credentials}", file=sys.stderr)
        return 2
    body = data_file = data_text = None
    if args.data is not None:
        if args.data.startswith("@"):
            data_file = args.data[1:]
            try:
                body = Path(data_file).read_bytes()
            except OSError as exc:
                print(f"ocss-fake: cannot read the body from {data_file!r}: {exc.strerror or exc}", file=sys.stderr)
                return 2
        else:
            data_text = args.data
            body = data_text.encode("utf-8", "surrogateescape")  # the bytes argv held
    content_type = args.content_type or (signer.DEFAULT_CONTENT_TYPE if body is not None else None)
    try:
        url = signer.wire_url(args.url)
        header = signer.authorization(method, url, credentials, body, content_type)
    except signer.SignError as exc:
        print(f"ocss-fake: {exc}", file=sys.stderr)
        return 2
    if args.curl:
        print(signer.curl_command(method, url, header, data=data_text, data_file=data_file,
                                  content_type=content_type))
    else:
        if url != args.url.strip():
            # Signed as curl sends it: another client must send this exact form too.
            print(f"ocss-fake: signed for {url} (the form sent on the wire); send exactly that URL",
                  file=sys.stderr)
        print(f"Authorization: {header}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "routes":
        return print_routes(args.format, args.examples, args.output)
    if args.command == "sign":
        return sign(args)
    return 2
