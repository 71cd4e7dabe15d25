"""`ocss-fake serve`: the fake as a standalone process (also `python -m ocss_testkit`)."""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from .app import DEFAULT_MAX_BODY, FakeApp
from .persistence import StateFile, StateFileError
from .server import FakeServer


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ocss-fake", description="A fake ObexCode SyncServer for tests.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the fake over HTTP until interrupted")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port; 0 picks a free one (default 8080)")
    serve.add_argument("--fixtures", default="demo", help="fixture set name or folder (default demo)")
    serve.add_argument("--base-url", help="absolute base URL used in ids and links (default: from Host)")
    serve.add_argument("--max-body", type=int, default=DEFAULT_MAX_BODY, help="request body limit in bytes")
    serve.add_argument("--threads", type=int, default=6, help="worker threads (default 6)")
    serve.add_argument("--state-file", metavar="PATH",
                       help="load the state from PATH (created from the fixture set if missing) and "
                            "append every change to it, durably, before answering; one server per file")
    routes = sub.add_parser("routes", help="print the route table (the generated API reference)")
    routes.add_argument("--format", choices=("markdown", "json"), default="markdown")
    return parser


def print_routes(fmt: str) -> int:
    from .routes import table

    rows = table()
    if fmt == "json":
        print(json.dumps(rows, indent=1))
        return 0
    print("| spec | method | path | provenance | source | auth |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        source = f"{r['seed']}: {r['section']}"
        print(f"| {r['spec']} | {r['method']} | `{r['path']}` | {r['provenance']} | {source} | "
              f"{'OAuth' if r['auth'] else 'none'} |")
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
    try:
        app = FakeApp(args.fixtures, base_url=args.base_url, max_body=args.max_body)
    except (FileNotFoundError, ValueError) as exc:
        print(f"ocss-fake: {exc}", file=sys.stderr)
        return 2
    state_file = None
    if args.state_file:
        try:  # before the port opens: no request may see the fixture world instead
            state_file = StateFile(args.state_file).install(app)
        except StateFileError as exc:
            print(f"ocss-fake: {' '.join(str(exc).splitlines())}", file=sys.stderr)
            return 2
    server = FakeServer(app, host=args.host, port=args.port, threads=args.threads)
    try:
        server.start()
    except OSError as exc:
        print(f"ocss-fake: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print(f"ocss-fake ready at {server.url}", flush=True)
    print(_credentials(app), flush=True)
    if state_file is not None:  # after the credentials, which always follow the ready line
        print(f"ocss-fake state file {state_file.path}", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
        if state_file is not None:
            state_file.close()  # after the last request: flushes accepted nonces, frees the file
    print("ocss-fake stopped", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "routes":
        return print_routes(args.format)
    return 2
