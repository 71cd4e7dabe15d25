"""One log line per request (issue 12): `ocss_testkit.request_log`, configured by the CLI's
`--log-format text|json` and `--quiet`, through the standard `logging` module."""
from __future__ import annotations

import http.client
import io
import json
import logging
import re
import signal
import time
from datetime import datetime, timezone

import pytest
from oauthlib.oauth1 import Client

from ocss_testkit import request_log
from ocss_testkit.server import FakeServer
from tests.test_cli import STOP_TIMEOUT, serve

SYNCML = "/v2/services/syncml/"
TEXT_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (\S+) (\S+) (\d{1,3}) (.*) "
                       r"(\d+\.\d)ms user=(\S+) id=(r\d+)$")


@pytest.fixture
def server():
    fake = FakeServer(port=0).start()
    yield fake
    fake.stop()


@pytest.fixture
def configured():
    """`configure(...)` onto a private stream; always undone."""
    stream = io.StringIO()

    def make(fmt: str = "text", quiet: bool = False) -> io.StringIO:
        request_log.configure(fmt, quiet=quiet, stream=stream)
        return stream
    yield make
    request_log.reset()


def signed(url: str, method: str = "GET", user: str = "alice") -> dict:
    client = Client("demo-consumer-key", client_secret="demo-consumer-secret",
                    resource_owner_key=f"{user}-access-token", resource_owner_secret=f"{user}-access-secret")
    return dict(client.sign(url, http_method=method)[1])


def send(fake: FakeServer, method: str, path: str, headers: dict | None = None) -> tuple[int, str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        reply = conn.getresponse()
        reply.read()
        return reply.status, reply.reason, reply.getheader("X-Request-Id")
    finally:
        conn.close()


def parse_iso(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()


def test_json_lines_carry_every_field(server, configured):
    stream = configured("json")
    before = time.time()
    answers = [
        send(server, "GET", SYNCML, signed(f"{server.url}{SYNCML}")),           # 200, alice
        send(server, "GET", SYNCML),                                            # 401, nobody
        send(server, "GET", "/v2/services/google/00000000-0000-0000-0000-000000000000/",
             signed(f"{server.url}/v2/services/google/00000000-0000-0000-0000-000000000000/", user="bob")),
        send(server, "GET", "/_fake/health"),                                   # the control plane too
    ]
    after = time.time()
    lines = stream.getvalue().splitlines()
    assert len(lines) == len(answers), lines
    records = [json.loads(line) for line in lines]
    for record, (status, reason, request_id) in zip(records, answers):
        assert set(record) == {"time", "method", "path", "status", "reason", "duration_ms", "user", "request_id"}
        assert (record["status"], record["reason"], record["request_id"]) == (status, reason, request_id)
        assert record["method"] == "GET"
        assert before - 0.001 <= parse_iso(record["time"]) <= after + 0.001  # UTC, when it arrived
        assert isinstance(record["duration_ms"], float) and record["duration_ms"] >= 0
    assert [r["path"] for r in records] == [SYNCML, SYNCML, "/v2/services/google/00000000-0000-0000-0000-000000000000/",
                                            "/_fake/health"]
    assert [r["user"] for r in records] == ["alice", None, "bob", None]
    assert [r["status"] for r in records] == [200, 401, 404, 200]
    assert records[2]["reason"] == "No such Google client."  # the docs' reason phrase, as sent


def test_text_lines_are_one_readable_line_each(server, configured):
    stream = configured("text")
    status, reason, request_id = send(server, "GET", SYNCML, signed(f"{server.url}{SYNCML}"))
    send(server, "DELETE", "/v2/phones/vendors/")
    first, second = stream.getvalue().splitlines()
    match = TEXT_LINE.match(first)
    assert match, first
    assert match.group(2, 3, 4, 5, 7, 8) == ("GET", SYNCML, "200", "OK", "alice", request_id)
    match = TEXT_LINE.match(second)
    assert match, second
    assert match.group(2, 3, 4, 5, 7) == ("DELETE", "/v2/phones/vendors/", "405", "Method Not Allowed", "-")


def test_a_hostile_path_stays_on_one_bounded_line(server, configured):
    stream = configured("text")
    # A decoded line break, a space and non-ASCII, and a path far longer than a line should be.
    status, _, _ = send(server, "GET", "/v2/a%0Ab%20c/%C3%A9/" + "x" * 5000)
    assert status == 404
    (line,) = stream.getvalue().splitlines()
    match = TEXT_LINE.match(line)
    assert match, line[:300]
    path = match.group(3)
    assert path.startswith("/v2/a%0Ab%20c/%C3%A9/xxx") and path.endswith("…")
    assert len(path) == request_log.MAX_PATH + 1


def test_quiet_logs_nothing(server, configured):
    stream = configured("json", quiet=True)
    assert send(server, "GET", SYNCML)[0] == 401
    assert stream.getvalue() == ""


def test_a_dropped_connection_is_logged_too(server, configured):
    stream = configured("json")
    server.app.faults.add({"action": "drop", "path": SYNCML, "times": 1})
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        send(server, "GET", SYNCML)
    (record,) = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert (record["path"], record["status"], record["reason"]) == (SYNCML, 0, "connection dropped")


def test_standard_logging_sees_the_records_without_configure(server, caplog):
    """Nothing is configured: a test's own logging setup (here caplog) gets the records."""
    with caplog.at_level(logging.INFO, logger=request_log.LOGGER_NAME):
        _, _, request_id = send(server, "GET", SYNCML)
    (record,) = [r for r in caplog.records if r.name == request_log.LOGGER_NAME]
    assert record.args["request_id"] == request_id and record.args["status"] == 401
    assert record.getMessage().startswith(f"GET {SYNCML} 401 Unauthorized ")


def test_silent_by_default(server):
    assert not logging.getLogger(request_log.LOGGER_NAME).isEnabledFor(logging.INFO)


def test_configure_refuses_an_unknown_format():
    with pytest.raises(ValueError, match="text, json"):
        request_log.configure("xml")


# --- the standalone server ------------------------------------------------------------------

def _stopped_stderr(process) -> str:
    process.proc.send_signal(signal.SIGTERM)
    assert process.proc.wait(timeout=STOP_TIMEOUT) == 0
    assert process.rest_of_stdout()[-1:] == ["ocss-fake stopped"]
    return process.stderr()


def test_serve_log_format_json_writes_one_object_per_request_to_stderr(tmp_path):
    with serve("python-m", "--port", "0", "--log-format", "json", cwd=tmp_path) as p:
        url, port = p.wait_ready()
        fake = type("Target", (), {"port": port, "url": url})
        answers = [send(fake, "GET", SYNCML, signed(f"{url}{SYNCML}", user="admin")), send(fake, "GET", "/nowhere")]
        stderr = _stopped_stderr(p)
    records = [json.loads(line) for line in stderr.splitlines()]
    assert [(r["method"], r["path"], r["status"], r["user"], r["request_id"]) for r in records] == [
        ("GET", SYNCML, 200, "admin", answers[0][2]), ("GET", "/nowhere", 404, None, answers[1][2])]


def test_serve_default_is_text_and_quiet_prints_only_the_ready_line(tmp_path):
    with serve("python-m", "--port", "0", cwd=tmp_path) as p:
        url, port = p.wait_ready()
        fake = type("Target", (), {"port": port, "url": url})
        _, _, request_id = send(fake, "GET", "/_fake/health")
        stderr = _stopped_stderr(p)
    (line,) = stderr.splitlines()
    match = TEXT_LINE.match(line)
    assert match and match.group(2, 3, 4, 8) == ("GET", "/_fake/health", "200", request_id), line

    with serve("python-m", "--port", "0", "--quiet", cwd=tmp_path) as p:
        url, port = p.wait_ready()  # the ready line still comes
        fake = type("Target", (), {"port": port, "url": url})
        assert send(fake, "GET", "/_fake/health")[0] == 200
        stderr = _stopped_stderr(p)
    assert stderr == ""


@pytest.mark.parametrize("fmt", request_log.FORMATS)
def test_any_text_in_a_field_stays_on_one_line(configured, fmt):
    """Reason phrases come from fault rules and user names from fixture sets: whatever they
    hold (a line break, a control character, a lone surrogate), a record is one line."""
    stream = configured(fmt)
    request_log.log_request("r1", "GET", "/a\ud800 b\n", "503 Busy\r\nX-Evil: 1", time.perf_counter(), "u\x00\ud800")
    (line,) = stream.getvalue().splitlines()
    if fmt == "json":
        record = json.loads(line)
        assert (record["path"], record["reason"], record["user"]) == (
            "/a%ED%A0%80%20b%0A", "Busy\\r\\nX-Evil: 1", "u\\x00\\ud800")
        assert record["status"] == 503
    else:
        assert " /a%ED%A0%80%20b%0A 503 Busy\\r\\nX-Evil: 1 " in line and "user=u\\x00\\ud800 id=r1" in line
