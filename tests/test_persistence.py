"""`ocss-fake serve --state-file PATH`: the state survives a restart, and a SIGKILL in the
middle of a stream of writes loses nothing the server acknowledged (persistence.py)."""
from __future__ import annotations

import errno
import json
import os
import random
import signal
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests
from requests_oauthlib import OAuth1

from ocss_testkit import make_app
from ocss_testkit.client import Credentials, SignedClient
from ocss_testkit.persistence import FORMAT, StateFile, StateFileError, read_state
from ocss_testkit.world.fixtures import FixtureSet
from ocss_testkit.world.world import World

from .test_cli import STOP_TIMEOUT, port_closed, run, serve

pytestmark = pytest.mark.skipif(os.name != "posix", reason="signals and process groups as on POSIX")

OC = "{http://schemas.obexcode.com/syncserver/2009}"
ENTRY = ('<entry xmlns="http://www.w3.org/2005/Atom" xmlns:oc="http://schemas.obexcode.com/syncserver/2009">'
         '<oc:client><oc:phone_number>+4798765432</oc:phone_number><oc:model_uuid>242</oc:model_uuid>'
         '</oc:client></entry>')
ADMIN = ("demo-consumer-key", "demo-consumer-secret", "admin-access-token", "admin-access-secret")
DEMO_SYNCML = {uuid for uuid, c in make_app().world.clients.items() if c.kind == "syncml"}
KILL_CYCLES = 5
WHOLE_TEST_LIMIT = 60.0


def _session() -> requests.Session:
    session = requests.Session()
    session.auth = OAuth1(*ADMIN)
    session.headers["Content-Type"] = "application/atom+xml"
    return session


def _created_uuid(reply: requests.Response) -> str:
    return ET.fromstring(reply.content).find(f"{OC}client/{OC}uuid").text


def _listed(url: str) -> set[str]:
    with _session() as api:
        reply = api.get(f"{url}/v2/services/syncml/", timeout=10)
    assert reply.status_code == 200, reply.text
    return {e.text for e in ET.fromstring(reply.content).iter(f"{OC}uuid")}


def _records(path: Path) -> list[dict]:
    """Every line of the state file as JSON: a snapshot first, then one record per save.
    Only the last line may be torn (a save cut short by a kill, never acknowledged)."""
    lines = path.read_bytes().split(b"\n")
    records = []
    for number, line in enumerate(lines):
        if not line:
            assert number == len(lines) - 1, f"an empty line {number + 1} in the middle"
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            assert number == len(lines) - 1, f"line {number + 1} of {len(lines)} is torn"
    assert records and records[0].get(FORMAT) == 1, records[:1]
    return records


def _file_uuids(path: Path) -> set[str]:
    """The SyncML clients in the state file, after checking it parses and loads."""
    _records(path)  # (i) always whole JSON lines, a snapshot first…
    data = read_state(path)
    World.from_dict(data, FixtureSet.load("demo").phones)  # …that load as a World
    return {c["uuid"] for c in data["clients"] if c["kind"] == "syncml"}


def _temporaries(folder: Path, name: str) -> list[str]:
    return sorted(n for n in os.listdir(folder) if n != name)


def _ready_with_state_file(process, path: Path) -> str:
    """The ready line, then (after the credentials) the line naming the state file."""
    url, _ = process.wait_ready()
    deadline = time.monotonic() + 5
    while (line := process.readline(deadline)) is not None:
        if line.startswith("ocss-fake state file "):
            assert line == f"ocss-fake state file {path}", line
            return url
    raise AssertionError(f"no state file line: {process.seen}")


# --- (a) a clean stop and a restart -------------------------------------------------------
def test_clients_survive_a_sigterm_and_restart(tmp_path):
    state = tmp_path / "state.json"
    with serve("python-m", "--port", "0", "--state-file", str(state), cwd=tmp_path) as p:
        url = _ready_with_state_file(p, state)
        assert state.is_file()  # a missing file is written at once, from the fixture set
        with _session() as api:
            created = []
            for _ in range(3):
                reply = api.post(f"{url}/v2/services/syncml/", data=ENTRY, timeout=10)
                assert reply.status_code == 201, reply.text
                created.append(_created_uuid(reply))
        p.proc.send_signal(signal.SIGTERM)
        assert p.proc.wait(timeout=STOP_TIMEOUT) == 0, p.stderr()
    assert set(created) <= _file_uuids(state)

    with serve("python-m", "--port", "0", "--state-file", str(state), cwd=tmp_path) as p:
        url = _ready_with_state_file(p, state)
        assert _listed(url) == DEMO_SYNCML | set(created)
    assert _temporaries(tmp_path, state.name) == []


# --- (b) SIGKILL in the middle of a stream of writes --------------------------------------
class Writer(threading.Thread):
    """POSTs SyncML clients one after another until the server goes away, recording every
    uuid whose 201 arrived and how many requests were sent without an answer."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.acknowledged: list[str] = []
        self.unanswered = 0
        self.failures: list[str] = []
        self.first = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        with _session() as api:
            while not self.stop.is_set():
                try:
                    reply = api.post(f"{self.url}/v2/services/syncml/", data=ENTRY, timeout=10)
                except requests.RequestException:
                    self.unanswered += 1  # killed while this one was in flight
                    return
                if reply.status_code != 201:
                    self.failures.append(f"{reply.status_code} {reply.text[:200]}")
                    return
                self.acknowledged.append(_created_uuid(reply))
                self.first.set()


def test_sigkill_mid_stream_loses_no_acknowledged_write(tmp_path):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    state = tmp_path / "state.json"
    started = time.monotonic()
    acknowledged: set[str] = set()
    unanswered = 0
    writes, writing = 0, 0.0
    leftovers = 0
    for cycle in range(KILL_CYCLES + 1):
        with serve("python-m", "--port", "0", "--state-file", str(state), cwd=tmp_path) as p:
            url = _ready_with_state_file(p, state)
            # (iii) the restarted server serves what the file holds: every acknowledged write
            listed = _listed(url)
            assert acknowledged <= listed, (seed, cycle, sorted(acknowledged - listed)[:5])
            assert _temporaries(tmp_path, state.name) == []  # a killed save's leftover is gone
            if cycle == KILL_CYCLES:
                break
            writer = Writer(url)
            writer.start()
            try:
                assert writer.first.wait(10), (seed, writer.failures)
                t0 = time.monotonic()
                time.sleep(rng.uniform(0.3, 1.5))
                os.kill(p.proc.pid, signal.SIGKILL)  # this server only, by pid
                assert p.proc.wait(timeout=10) == -signal.SIGKILL
                writing += time.monotonic() - t0
            finally:
                writer.stop.set()
                writer.join(timeout=15)
            assert not writer.is_alive()
            assert writer.failures == [], (seed, writer.failures)
            port = int(url.rsplit(":", 1)[1])
            assert port_closed(port)
        acknowledged |= set(writer.acknowledged)
        unanswered += writer.unanswered
        writes += len(writer.acknowledged)
        leftovers += len(_temporaries(tmp_path, state.name))
        # (i) the file parses and loads; (ii) it holds every acknowledged uuid, and beyond
        # those at most the writes that were in flight when the server died
        in_file = _file_uuids(state) - DEMO_SYNCML
        assert acknowledged <= in_file, (seed, cycle, sorted(acknowledged - in_file)[:5])
        assert len(in_file - acknowledged) <= unanswered, (seed, cycle, len(in_file - acknowledged), unanswered)
        assert time.monotonic() - started < WHOLE_TEST_LIMIT, (seed, cycle)
    assert writes > KILL_CYCLES  # the kills did land mid-stream
    print(f"seed {seed}: {writes} acknowledged writes in {writing:.2f}s of writing "
          f"({writes / writing:.0f}/s), {unanswered} in flight at a kill, "
          f"{leftovers} temporary file(s) left by a kill")


# --- (c) a corrupt state file ---------------------------------------------------------------
@pytest.mark.parametrize("content", [b"{not json", b"", b'{"clients": [{"kind": "syncml"}]}',
                                     b'["a list"]', b"\xff\xfe binary"],
                         ids=["not-json", "empty", "bad-client", "not-an-object", "not-utf8"])
def test_a_corrupt_state_file_is_refused_and_left_untouched(tmp_path, content):
    state = tmp_path / "state.json"
    state.write_bytes(content)
    before = state.stat()
    result = run("python-m", "--port", "0", "--state-file", str(state), cwd=tmp_path)
    assert result.returncode != 0
    assert "ready at" not in result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    message = result.stderr.strip()
    assert message.startswith("ocss-fake: "), message
    assert len(message.splitlines()) == 1, message
    assert str(state) in message and "state file" in message
    assert state.read_bytes() == content  # byte-identical, never overwritten
    assert state.stat().st_mtime_ns == before.st_mtime_ns
    assert _temporaries(tmp_path, state.name) == []


def test_a_state_file_in_a_missing_folder_is_a_clear_error(tmp_path):
    state = tmp_path / "nowhere" / "state.json"
    result = run("python-m", "--port", "0", "--state-file", str(state), cwd=tmp_path)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("ocss-fake: ") and str(state) in result.stderr, result.stderr


# --- (d) in-process ---------------------------------------------------------------------------
def test_save_then_load_round_trips_the_whole_state(tmp_path):
    app = make_app()
    state = StateFile(tmp_path / "state.json")
    assert state.install(app) is state and app.on_change == state.save
    api = SignedClient(app, Credentials.of(app, "alice"))
    reply = api.post("/v2/services/syncml/", ENTRY)
    assert reply.status == 201
    state.close()

    other = make_app()
    with StateFile(tmp_path / "state.json") as again:
        assert again.load(other) is True
    assert other.world.to_dict() == app.world.to_dict()
    assert len(other.world.clients) == len(make_app().world.clients) + 1


def test_a_missing_file_is_written_from_the_fixture_set_at_once(tmp_path):
    app = make_app()
    path = tmp_path / "state.json"
    with StateFile(path) as state:
        assert state.load(app) is False
        records = _records(path)
        assert len(records) == 1 and records[0]["state"] == app.world.to_dict()
        assert read_state(path) == app.world.to_dict()
        assert path.stat().st_mode & 0o777 == 0o600  # it holds OAuth secrets


def test_an_invalid_file_raises_naming_the_file_and_keeps_the_world(tmp_path):
    path = tmp_path / "state.json"
    path.write_text('{"version": 99}', "utf-8")
    app = make_app()
    world = app.world
    with pytest.raises(StateFileError, match="unsupported state version") as caught:
        StateFile(path).load(app)
    assert str(path) in str(caught.value)
    assert app.world is world
    assert path.read_text("utf-8") == '{"version": 99}'


def test_many_saves_leave_no_temporary_files(tmp_path):
    app = make_app()
    state = StateFile(tmp_path / "state.json").install(app)
    api = SignedClient(app, Credentials.of(app, "admin"))
    for _ in range(50):
        assert api.post("/v2/services/syncml/", ENTRY).status == 201
    for _ in range(50):
        state.save(app.world)
    app.reset()  # a reset is a change too
    assert state.saves >= 101
    assert os.listdir(tmp_path) == ["state.json"]
    assert read_state(tmp_path / "state.json") == app.world.to_dict()
    state.close()


def test_a_failed_append_leaves_the_file_as_it_was_and_the_next_save_catches_up(tmp_path, monkeypatch):
    app = make_app()
    path = tmp_path / "state.json"
    state = StateFile(path).install(app)
    api = SignedClient(app, Credentials.of(app, "admin"))
    assert api.post("/v2/services/syncml/", ENTRY).status == 201
    before = path.read_bytes()
    real_write = os.write

    def half_then_full(fd, data):  # a disk that fills up in the middle of the line
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")
    with app.world.lock:
        client = app.world.syncml.create_client(app.world.users["admin"], "+4711111111", "242")
        monkeypatch.setattr(os, "write", half_then_full)
        with pytest.raises(StateFileError, match="No space left"):
            state.save(app.world)
        monkeypatch.setattr(os, "write", real_write)
    assert path.read_bytes() == before  # cut back to its last whole line
    assert os.listdir(tmp_path) == ["state.json"]
    assert api.post("/v2/services/syncml/", ENTRY).status == 201  # the next save is a whole snapshot
    assert client.uuid in {c["uuid"] for c in read_state(path)["clients"]}
    assert read_state(path) == app.world.to_dict()
    state.close()


def test_a_failed_snapshot_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    app = make_app()
    path = tmp_path / "state.json"
    state = StateFile(path).install(app)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StateFileError, match="No space left"):
        app.reset()  # a new World: written as a whole snapshot
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["state.json"]
    state.close()


def test_a_temporary_left_by_a_killed_save_is_removed_at_load(tmp_path):
    path = tmp_path / "state.json"
    with StateFile(path) as state:
        state.load(make_app())
    (tmp_path / ".state.json.abc123.tmp").write_text("{half a docu", "utf-8")
    (tmp_path / "unrelated.tmp").write_text("keep me", "utf-8")
    with StateFile(path) as state:
        state.load(make_app())
    assert sorted(os.listdir(tmp_path)) == ["state.json", "unrelated.tmp"]


# --- (e) nonces survive a restart (a replayed signed request is refused) ----------------------
def _signed_bytes(url: str, path: str, body: str) -> bytes:
    """One signed POST as exact bytes on the wire: sending them twice is a replay."""
    from oauthlib.oauth1 import Client

    host = url.split("://", 1)[1]
    signer = Client(ADMIN[0], client_secret=ADMIN[1], resource_owner_key=ADMIN[2], resource_owner_secret=ADMIN[3])
    _, headers, _ = signer.sign(f"{url}{path}", http_method="POST", headers={"Content-Type": "application/atom+xml"})
    payload = body.encode("utf-8")
    return (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/atom+xml\r\n"
            f"Authorization: {headers['Authorization']}\r\nContent-Length: {len(payload)}\r\n"
            f"Connection: close\r\n\r\n").encode("ascii") + payload


def _send(url: str, raw: bytes) -> tuple[int, bytes]:
    import socket

    host, port = url.split("://", 1)[1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(raw)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_signed_request_replayed_after_a_restart_is_refused(tmp_path, stop):
    state = tmp_path / "state.json"
    with serve("python-m", "--port", "0", "--state-file", str(state), cwd=tmp_path) as p:
        url = _ready_with_state_file(p, state)
        # the same Host header goes with the bytes, so the restarted server (on another
        # port) computes the same signature base string: only the nonce can refuse it
        raw = _signed_bytes(url, "/v2/services/syncml/", ENTRY)
        status, body = _send(url, raw)
        assert status == 201, body
        created = ET.fromstring(body).find(f"{OC}client/{OC}uuid").text
        status, body = _send(url, raw)  # the same process refuses it, of course
        assert status == 401 and b"nonce already used" in body, body
        os.kill(p.proc.pid, stop)
        assert p.proc.wait(timeout=STOP_TIMEOUT) == (0 if stop == signal.SIGTERM else -signal.SIGKILL)

    with serve("python-m", "--port", "0", "--state-file", str(state), cwd=tmp_path) as p:
        url = _ready_with_state_file(p, state)
        status, body = _send(url, raw)
        assert status == 401, body
        assert b"nonce already used (replayed request)" in body, body
        assert _listed(url) == DEMO_SYNCML | {created}  # one client, not two
        document = requests.get(f"{url}/_fake/state", timeout=10).json()
    assert len([c for c in document["clients"] if c["kind"] == "syncml"]) == len(DEMO_SYNCML) + 1


# --- (f) one server per file -------------------------------------------------------------------
def test_a_second_server_on_the_same_file_is_refused(tmp_path):
    state = tmp_path / "state.json"
    with serve("python-m", "--port", "0", "--state-file", str(state), cwd=tmp_path) as p:
        url = _ready_with_state_file(p, state)
        with _session() as api:
            assert api.post(f"{url}/v2/services/syncml/", data=ENTRY, timeout=10).status_code == 201
        before = state.read_bytes()
        result = run("python-m", "--port", "0", "--state-file", str(state), cwd=tmp_path)
        assert result.returncode != 0
        assert "ready at" not in result.stdout
        assert "Traceback" not in result.stderr, result.stderr
        message = result.stderr.strip()
        assert message.startswith("ocss-fake: ") and len(message.splitlines()) == 1, message
        assert str(state) in message and "in use by another ocss-fake server" in message, message
        assert state.read_bytes() == before  # the refused server wrote nothing
        with _session() as api:  # the first one carries on, on the same file
            assert api.post(f"{url}/v2/services/syncml/", data=ENTRY, timeout=10).status_code == 201
        assert len(_file_uuids(state) - DEMO_SYNCML) == 2
        assert _temporaries(tmp_path, state.name) == []


def test_in_process_a_second_state_file_object_on_the_same_path_is_refused(tmp_path):
    path = tmp_path / "state.json"
    with StateFile(path) as first:
        first.load(make_app())
        with pytest.raises(StateFileError, match="in use by another ocss-fake server"):
            StateFile(path).load(make_app())
    with StateFile(path) as again:  # released by close()
        assert again.load(make_app()) is True


# --- (g) a state file of an earlier version (one JSON document) --------------------------------
LEGACY = Path(__file__).parent / "data" / "state-file-v1.json"


def _as_written_today(document: dict) -> dict:
    """An older state document as today's code writes it back: detections carry their
    `updated` time too, which an older document implies is their `created`."""
    for detection in document.get("detections", []):
        detection.setdefault("updated", detection["created"])
    return document


def test_a_state_file_of_the_earlier_format_loads_and_is_migrated(tmp_path):
    legacy = _as_written_today(json.loads(LEGACY.read_bytes()))
    state = tmp_path / "state.json"
    state.write_bytes(LEGACY.read_bytes())
    os.chmod(state, 0o644)
    with serve("python-m", "--port", "0", "--state-file", str(state), cwd=tmp_path) as p:
        url = _ready_with_state_file(p, state)
        assert requests.get(f"{url}/_fake/state", timeout=10).json() == legacy
        with _session() as api:
            reply = api.post(f"{url}/v2/services/syncml/", data=ENTRY, timeout=10)
            assert reply.status_code == 201, reply.text
        created = _created_uuid(reply)
        p.proc.send_signal(signal.SIGTERM)
        assert p.proc.wait(timeout=STOP_TIMEOUT) == 0
    records = _records(state)  # now a log: a snapshot, then the change
    assert records[0]["state"] == legacy
    assert state.stat().st_mode & 0o777 == 0o600
    with serve("python-m", "--port", "0", "--state-file", str(state), cwd=tmp_path) as p:
        url = _ready_with_state_file(p, state)
        document = requests.get(f"{url}/_fake/state", timeout=10).json()
    assert {c["uuid"] for c in document["clients"]} == {c["uuid"] for c in legacy["clients"]} | {created}
    assert document["detections"] == legacy["detections"] and document["outbox"] == legacy["outbox"]
