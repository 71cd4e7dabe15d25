"""`ocss-fake serve --state-file PATH`: the state survives a restart, and a SIGKILL in the
middle of a stream of writes loses nothing the server acknowledged (persistence.py)."""
from __future__ import annotations

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
from ocss_testkit.model.fixtures import FixtureSet
from ocss_testkit.model.world import World
from ocss_testkit.persistence import StateFile, StateFileError

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


def _file_uuids(path: Path) -> set[str]:
    """The SyncML clients in the state file, after checking it parses and loads."""
    data = json.loads(path.read_bytes())  # (i) always a whole JSON document…
    World.from_dict(data, FixtureSet.load("demo").phones)  # …that loads as a World
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
        assert p.proc.wait(timeout=STOP_TIMEOUT) == 0, p.proc.stderr.read()
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

    other = make_app()
    assert StateFile(tmp_path / "state.json").load(other) is True
    assert other.world.to_dict() == app.world.to_dict()
    assert len(other.world.clients) == len(make_app().world.clients) + 1


def test_a_missing_file_is_written_from_the_fixture_set_at_once(tmp_path):
    app = make_app()
    path = tmp_path / "state.json"
    assert StateFile(path).load(app) is False
    assert json.loads(path.read_bytes()) == app.world.to_dict()


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
    assert json.loads((tmp_path / "state.json").read_bytes()) == app.world.to_dict()


def test_a_failed_save_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    app = make_app()
    path = tmp_path / "state.json"
    state = StateFile(path).install(app)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StateFileError, match="No space left"):
        state.save(app.world)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["state.json"]


def test_a_temporary_left_by_a_killed_save_is_removed_at_load(tmp_path):
    path = tmp_path / "state.json"
    StateFile(path).load(make_app())
    (tmp_path / ".state.json.abc123.tmp").write_text("{half a docu", "utf-8")
    (tmp_path / "unrelated.tmp").write_text("keep me", "utf-8")
    StateFile(path).load(make_app())
    assert sorted(os.listdir(tmp_path)) == ["state.json", "unrelated.tmp"]
