"""A state file for the standalone fake (`ocss-fake serve --state-file PATH`).

The file is a log of JSON lines (UTF-8). The first line is a snapshot,
`{"ocss-state-log": 1, "state": <the /_fake/state document>, "nonces": [...]}`; every
later line is one save: only what changed since the previous one (the entries of
clients, detections, tokens… that a request touched, the messages appended to the
outbox and how many fell off its end, the small head fields when they differ, and the
OAuth nonces accepted since). So a save costs what the change costs, not what the whole
state weighs. When the lines after the snapshot outweigh twice the snapshot (and 1 MiB),
the next save writes a new snapshot instead (as a reset or a PUT of the state does): the
file stays proportional to the state, and a compaction's cost is spread over the saves
that made it due.

Saves run from `FakeApp.on_change`, with the World's lock held and before the answer
leaves: each appends its line and `fdatasync`s the file, so whatever a client saw
acknowledged is on disk first, in the order the changes were made. A snapshot is
written to a temporary file, fsynced, then renamed over the path and the folder
fsynced: a reader sees the old file or the new one, never a torn one. A line torn by a
kill or a power cut can only be the last one, and only one never acknowledged: it is
ignored at load, and the file is rewritten as a single fresh snapshot at every start.

Nonces are appended when accepted, without waiting for the disk (a read changes
nothing worth an fsync; the next save's fdatasync covers them, and the page cache
outlives a SIGKILL), so a signed request replayed after a restart is still refused.

A file written by earlier versions (one JSON document, the `/_fake/state` format) loads
as it is and is rewritten in this format. The file is held with an exclusive `flock`
for as long as the server runs: a second server on the same file is refused.

`ocss-fake serve --state-dir DIR` keeps one such file per tenant, `DIR/{tenant}.state`
(StateDir; tenants.py).

Measured on the development machine (benchmarks/bench_persistence.py, `--engines`), an
appended line with fdatasync costs the same as an SQLite commit in WAL mode and much
less than one in rollback-journal mode, and keeps the state in one file (no -wal and
-shm files beside it) that `jq` can read, whose first line is a `/_fake/state` document.

By job: log_format.py (the lines and how a file is read back, without any World),
change_records.py (what a World changed since the last save, as one record),
state_file.py (StateFile: load, install, save, snapshot, compaction), state_dir.py
(StateDir), durable_io.py (flock, whole reads and writes, fsyncs).
"""
from __future__ import annotations

from ocss_testkit.persistence.durable_io import fsync_directory as _fsync_directory  # noqa: F401 - benchmarks
from ocss_testkit.persistence.log_format import (
    DOCUMENT_ORDER,
    FORMAT,
    FORMAT_VERSION,
    HEAD_FIELDS,
    LIST_PARTS,
    MAP_PARTS,
    SEQUENCES,
    SLICES,
    StateFileError,
    parse,
    read_state,
)
from ocss_testkit.persistence.state_dir import DIR_LOCK, STATE_SUFFIX, StateDir
from ocss_testkit.persistence.state_file import TEMP_SUFFIX, StateFile

# Where the lines after the snapshot start to cost a compaction: when they outweigh twice
# the snapshot and this many bytes. Read by StateFile at each save, from here (tests
# lower it: `monkeypatch.setattr(persistence, "COMPACT_MIN_BYTES", 4096)`).
COMPACT_MIN_BYTES = 1 << 20

__all__ = [
    "COMPACT_MIN_BYTES", "DIR_LOCK", "DOCUMENT_ORDER", "FORMAT", "FORMAT_VERSION", "HEAD_FIELDS", "LIST_PARTS",
    "MAP_PARTS", "SEQUENCES", "SLICES", "STATE_SUFFIX", "TEMP_SUFFIX", "StateDir", "StateFile", "StateFileError",
    "parse", "read_state",
]
