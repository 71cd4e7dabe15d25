"""`ocss-fake serve` / `python -m ocss_testkit serve` as a real subprocess, and the CLI's
argument checks (numbers in range, --version, the fixture sets named) in-process."""
from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from requests_oauthlib import OAuth1

import ocss_testkit
from ocss_testkit import cli
from ocss_testkit.package_data import fixtures_dir

READY = re.compile(r"^ocss-fake ready at (http://127\.0\.0\.1:(\d+))$")
START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
REPO = Path(ocss_testkit.__file__).resolve().parent.parent
DEMO_CREDENTIALS = {
    "alice": ("alice-access-token", "alice-access-secret"),
    "bob": ("bob-access-token", "bob-access-secret"),
    "admin": ("admin-access-token", "admin-access-secret"),
}

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals and process groups as on POSIX")


def _env() -> dict:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    # the package may be used from the checkout rather than installed
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def _command(kind: str) -> list[str]:
    if kind == "python-m":
        return [sys.executable, "-m", "ocss_testkit"]
    # Next to this interpreter first (a venv used without activating it, as .ci/run does).
    beside = Path(sys.executable).with_name("ocss-fake")
    script = str(beside) if beside.exists() else shutil.which("ocss-fake")
    if script is None:
        pytest.skip("the ocss-fake console script is not installed")
    return [script]


class Process:
    """A child process whose stdout lines are read by a thread, so reads can time out."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=_env(), cwd=str(cwd), start_new_session=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        # stderr is drained as it comes: the server logs a line per request there, and a
        # pipe nobody reads fills up (64 KiB) and blocks the server mid-answer.
        self._stderr: list[str] = []
        self._stderr_reader = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _drain_stderr(self) -> None:
        for line in self.proc.stderr:
            self._stderr.append(line)

    def stderr(self, timeout: float = 10) -> str:
        """Everything the process wrote to stderr; waits for the end of it once it exited."""
        if self.proc.poll() is not None:
            self._stderr_reader.join(timeout)
        return "".join(self._stderr)

    def readline(self, deadline: float) -> str | None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no output within the time limit; so far: {self.seen}")
        try:
            line = self.lines.get(timeout=remaining)
        except queue.Empty:
            raise TimeoutError(f"no output within the time limit; so far: {self.seen}") from None
        if line is not None:
            self.seen.append(line)
        return line

    def wait_ready(self, timeout: float = START_TIMEOUT) -> tuple[str, int]:
        deadline = time.monotonic() + timeout
        while True:
            line = self.readline(deadline)
            if line is None:
                raise AssertionError(f"exited {self.proc.wait()} before ready: {self.seen} "
                                     f"stderr={self.stderr()}")
            match = READY.match(line)
            if match:
                return match.group(1), int(match.group(2))

    def rest_of_stdout(self, timeout: float = STOP_TIMEOUT) -> list[str]:
        deadline = time.monotonic() + timeout
        rest = []
        while (line := self.readline(deadline)) is not None:
            rest.append(line)
        return rest

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()  # this process only (its own session), by pid
        try:
            self.proc.wait(timeout=10)
        finally:
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()


@contextmanager
def serve(kind: str, *args: str, cwd: Path):
    process = Process(_command(kind) + ["serve", *args], cwd)
    try:
        yield process
    finally:
        process.kill()


def port_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return False
    except OSError:
        return True


def run(kind: str, *args: str, cwd: Path, timeout: float = START_TIMEOUT) -> subprocess.CompletedProcess:
    argv = _command(kind) + ["serve", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=_env(), cwd=str(cwd), timeout=timeout)


KINDS = ["python-m", "console-script"]


@pytest.mark.parametrize("kind", KINDS)
def test_ready_line_then_credentials_then_a_signed_get_works(kind, tmp_path):
    started = time.monotonic()
    with serve(kind, "--port", "0", cwd=tmp_path) as p:
        url, port = p.wait_ready()
        assert port > 0  # --port 0 picked a real free port
        assert time.monotonic() - started < START_TIMEOUT
        # the demo credentials come right after the ready line (README, "Demo credentials")
        deadline = time.monotonic() + 5
        printed = [p.readline(deadline) for _ in range(4)]
        text = "\n".join(line or "" for line in printed)
        assert "demo-consumer-key" in text and "demo-consumer-secret" in text
        for user, (tok, secret) in DEMO_CREDENTIALS.items():
            line = next((x for x in printed if x and x.split()[0] == user), None)
            assert line is not None, (user, printed)
            assert tok in line and secret in line
        assert "[admin]" in next(x for x in printed if x and x.split()[0] == "admin")
        assert "may_detect_auto" in next(x for x in printed if x and x.split()[0] == "alice")

        auth = OAuth1("demo-consumer-key", "demo-consumer-secret", *DEMO_CREDENTIALS["admin"])
        reply = requests.get(f"{url}/v2/services/syncml/", auth=auth, timeout=10)
        assert reply.status_code == 200, reply.text
        assert f"<id>{url}/v2/services/syncml/</id>" in reply.text
        unsigned = requests.get(f"{url}/v2/services/syncml/", timeout=10)
        assert unsigned.status_code == 401
        health = requests.get(f"{url}/_fake/health", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("kind", KINDS)
def test_signal_stops_the_server_cleanly(kind, sig, tmp_path):
    with serve(kind, "--port", "0", cwd=tmp_path) as p:
        url, port = p.wait_ready()
        auth = OAuth1("demo-consumer-key", "demo-consumer-secret", *DEMO_CREDENTIALS["alice"])
        with requests.Session() as keep_alive:  # an idle keep-alive connection must not block the stop
            keep_alive.auth = auth
            assert keep_alive.get(f"{url}/v2/services/syncml/", timeout=10).status_code == 200
            stopping = time.monotonic()
            p.proc.send_signal(sig)
            code = p.proc.wait(timeout=STOP_TIMEOUT)
            took = time.monotonic() - stopping
        assert code == 0, (code, p.stderr())
        assert took < STOP_TIMEOUT
        rest = p.rest_of_stdout()
        assert rest[-1:] == ["ocss-fake stopped"], rest
        stderr = p.stderr()
        assert "Traceback" not in stderr, stderr
        assert port_closed(port), f"port {port} still accepts connections"


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_fixture_set_exits_non_zero_with_a_clear_message(kind, tmp_path):
    result = run(kind, "--port", "0", "--fixtures", "does-not-exist", cwd=tmp_path)
    assert result.returncode != 0
    assert "ready at" not in result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    message = result.stderr.strip()
    assert message.startswith("ocss-fake: "), message
    assert len(message.splitlines()) == 1
    # the sets that exist are listed, and the other form --fixtures takes is named (issue 12)
    assert message == (f"ocss-fake: no fixture set 'does-not-exist'; available: {', '.join(shipped_sets())}; "
                       "or a folder holding world.json or patch.json"), message


def test_port_in_use_exits_non_zero_with_a_clear_message(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run("python-m", "--port", str(port), cwd=tmp_path)
    assert result.returncode != 0
    assert "ready at" not in result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert f"cannot serve on 127.0.0.1:{port}" in result.stderr


def test_fixture_folder_with_invalid_json_exits_non_zero_with_a_clear_message(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "world.json").write_text("{not json", "utf-8")
    result = run("python-m", "--port", "0", "--fixtures", str(folder), cwd=tmp_path)
    assert result.returncode != 0
    assert "ready at" not in result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("ocss-fake: "), result.stderr


def _world(**changes) -> dict:
    spec = {
        "phones": str(REPO / "fixtures" / "phones.json"),
        "consumers": [{"key": "k", "secret": "s"}],
        "users": [{"name": "u", "account_id": 1, "email": "u@example.com", "consumer_key": "k",
                   "token": "t", "token_secret": "ts"}],
        "clients": [],
    }
    spec.update(changes)
    return spec


@pytest.mark.parametrize("problem", ["unknown-consumer", "user-missing-token", "client-with-unknown-model"])
def test_semantically_broken_fixture_set_exits_with_a_clear_message(tmp_path, problem):
    if problem == "unknown-consumer":
        spec = _world(consumers=[])
    elif problem == "user-missing-token":
        spec = _world(users=[{"name": "u", "account_id": 1, "email": "u@example.com", "consumer_key": "k",
                              "token_secret": "ts"}])
    else:
        spec = _world(clients=[{"kind": "syncml", "uuid": "2fb295cc-0e50-11de-81c8-002215064801", "owner": "u",
                                "phone_number": "+4790981948", "model_uuid": "999999",
                                "published": "2009-03-11T16:20:42Z"}])
    folder = tmp_path / problem
    folder.mkdir()
    (folder / "world.json").write_text(json.dumps(spec), "utf-8")
    result = run("python-m", "--port", "0", "--fixtures", str(folder), cwd=tmp_path)
    assert result.returncode != 0
    assert "ready at" not in result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("ocss-fake: "), result.stderr


def test_a_valid_custom_fixture_folder_is_served(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    (folder / "world.json").write_text(json.dumps(_world()), "utf-8")
    with serve("python-m", "--port", "0", "--fixtures", str(folder), cwd=tmp_path) as p:
        url, _ = p.wait_ready()
        reply = requests.get(f"{url}/v2/services/syncml/", auth=OAuth1("k", "s", "t", "ts"), timeout=10)
        assert reply.status_code == 200, reply.text
        demo = requests.get(f"{url}/v2/services/syncml/", timeout=10,
                            auth=OAuth1("demo-consumer-key", "demo-consumer-secret", *DEMO_CREDENTIALS["admin"]))
        assert demo.status_code == 401


# --- arguments (issue 12) -------------------------------------------------------------------

def shipped_sets() -> list[str]:
    """Found independently of the CLI: every folder of the shipped fixtures holding a set."""
    return sorted(p.name for p in fixtures_dir().iterdir()
                  if (p / "world.json").is_file() or (p / "patch.json").is_file())


def test_port_out_of_range_is_a_usage_error_naming_the_range(tmp_path):
    """The issue's input: `--port 99999` used to start on a random port and say so."""
    result = run("python-m", "--port", "99999", cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "ready at" not in result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("usage: ocss-fake serve"), result.stderr
    assert result.stderr.rstrip().endswith(
        "ocss-fake serve: error: argument --port: 99999 is out of range: use a whole number from 0 to 65535 "
        "(0 picks a free port)"), result.stderr


RANGES = {"--port": "from 0 to 65535", "--max-body": "from 1 to 1073741824", "--threads": "from 1 to 256"}
BAD_NUMBERS = [
    ("--port", "99999"), ("--port", "65536"), ("--port", "-1"), ("--port", "abc"), ("--port", "80.0"),
    ("--port", "1_000"), ("--port", "\uff18\uff10"), ("--port", " 8080"), ("--port", ""), ("--port", "9" * 5000),
    ("--max-body", "0"), ("--max-body", "1073741825"), ("--max-body", "1e6"), ("--max-body", "-5"),
    ("--threads", "0"), ("--threads", "257"), ("--threads", "six"), ("--threads", "-1"),
]


@pytest.mark.parametrize("option,value", BAD_NUMBERS, ids=[f"{o}={v[:8]!r}" for o, v in BAD_NUMBERS])
def test_every_number_out_of_range_or_not_a_number_is_refused_by_argparse(option, value, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve", option, value, "--fixtures", "demo"])
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert "ready at" not in out
    lines = err.strip().splitlines()
    assert lines[0].startswith("usage: ocss-fake serve"), err
    assert lines[-1].startswith(f"ocss-fake serve: error: argument {option}: "), err
    assert RANGES[option] in lines[-1], err
    assert len(lines[-1]) < 200, err  # a 5,000-digit value is not echoed whole


@pytest.mark.parametrize("option,value", [("--port", "0"), ("--port", "65535"), ("--max-body", "1"),
                                          ("--max-body", str(2 ** 30)), ("--threads", "1"), ("--threads", "256"),
                                          ("--port", "08080")])
def test_numbers_at_the_ends_of_their_range_are_taken(option, value):
    args = cli._parser().parse_args(["serve", option, value])
    assert getattr(args, option[2:].replace("-", "_")) == int(value)


def test_every_numeric_option_of_every_command_is_range_checked():
    """A number option added later without a range check fails here: each option whose
    default is a number, or that converts its value, must use the range-checked type."""
    parser = cli._parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    checked = []
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            numeric = isinstance(action.default, (int, float)) and not isinstance(action.default, bool)
            if (action.type is not None and action.type is not cli._base_url) or numeric:  # a URL, not a number
                assert action.type is not int and action.type is not float, (name, action.dest)
                assert getattr(action.type, "__name__", "").startswith("whole number from"), (name, action.dest)
                checked.append(f"{name} {action.option_strings[0]}")
    assert {"serve --port", "serve --max-body", "serve --threads"} <= set(checked), checked


def test_version_prints_the_distribution_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"ocss-fake {version('ocss-testkit')}\n"


def test_version_from_the_command_line(tmp_path):
    from importlib.metadata import version

    result = subprocess.run(_command("python-m") + ["--version"], capture_output=True, text=True, env=_env(),
                            cwd=str(tmp_path), timeout=START_TIMEOUT)
    assert (result.returncode, result.stdout.strip()) == (0, f"ocss-fake {version('ocss-testkit')}")


def test_a_folder_without_a_fixture_set_lists_what_exists(tmp_path, capsys):
    empty = tmp_path / "my-set"
    empty.mkdir()
    (empty / "phones.json").write_text("[]", "utf-8")  # a folder, but no world.json or patch.json
    assert cli.main(["serve", "--port", "0", "--fixtures", str(empty)]) == 2
    out, err = capsys.readouterr()
    assert "ready at" not in out
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"ocss-fake: no fixture set {str(empty)!r}"), err
    assert err.endswith(f"; available: {', '.join(shipped_sets())}; or a folder holding world.json or patch.json\n")
    assert "demo" in shipped_sets()


@pytest.mark.parametrize("url, why", [
    ("ftp://x.test/ci", "absolute http:// or https://"), ("https://a.test/ci?x=1", "no query"),
    ("https://a.test/#top", "no query, fragment"), ("https://u:p@a.test/", "user name"),
    ("a.test/ci", "absolute http:// or https://"), ("https://a.test:99999/", "is not a URL"),
])
def test_a_base_url_that_cannot_be_one_is_a_usage_error(tmp_path, url, why):
    result = subprocess.run([sys.executable, "-m", "ocss_testkit", "serve", "--port", "0", "--base-url", url],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "argument --base-url" in result.stderr and why in result.stderr, result.stderr
