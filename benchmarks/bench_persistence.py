#!/usr/bin/env python3
"""What one state-file write costs (`ocss-fake serve --state-file`), by the size of the state.

    python benchmarks/bench_persistence.py [--quick] [--saves N] [--engines]

Two worlds side by side: the demo world plus 10 SyncML clients, and the demo world plus
10,000; both also hold 3,000 pending detections. Each has its own state file (in a
temporary folder on the same file system as this checkout's /tmp). One small change is
made under the World's lock (a new ActiveSync client), then `FakeApp.on_change` is
timed: the save the server does before the answer leaves (a log line and fdatasync, see
ocss_testkit/persistence.py). Target (issue): the median and the p99 with 10,000
clients within ±50 % of those with 10. Also printed: the bytes a save appends, the cost
of one whole snapshot (what a reset, a PUT of the state or a compaction writes), how
many saves fit between two compactions, and the same change written the way the state
file was written before (the whole document, temporary file, fsync, rename, fsync of
the folder).

`--engines` adds the measurement the format was chosen by: one small upsert of a
client-sized JSON row into a store already holding 10 or 10,000 rows, as (a) the whole
document rewritten, (b) an appended line + fdatasync, (c) SQLite (standard library) in
WAL mode with synchronous=FULL, (d) SQLite in rollback-journal (DELETE) mode with
synchronous=FULL.

Rows are timed in interleaved blocks, so drift of a shared machine hits all of them
(except the whole-document rows, which are too slow at 10,000 clients to repeat much).
In-process, one thread; the disk is whatever backs the temporary folder.
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from machineinfo import machine  # noqa: E402

from ocss_testkit.app import FakeApp  # noqa: E402
from ocss_testkit.persistence import StateFile, _fsync_directory  # noqa: E402

BLOCKS = 8
DETECTIONS = 3000
SIZES = (10, 10_000)
TOLERANCE = 0.5


def stats(samples: list[float]) -> tuple[float, float]:
    ms = sorted(s * 1e3 for s in samples)
    return statistics.median(ms), ms[min(len(ms) - 1, int(len(ms) * 0.99))]


def populated(clients: int) -> FakeApp:
    app = FakeApp("demo")
    world = app.world
    admin, alice = world.users["admin"], world.users["alice"]
    with world.lock:
        for n in range(clients):
            world.syncml.create_client(admin, f"+47{40000000 + n}", "242", "Europe/Oslo")
        for n in range(DETECTIONS):
            world.detection.detect_manual(alice, f"+47{50000000 + n}", "http://127.0.0.1/d/{code}")
    return app


class Subject:
    """One world with its state file; `save()` makes one small change and times the save."""

    def __init__(self, clients: int, folder: Path) -> None:
        self.clients = clients
        self.app = populated(clients)
        self.state = StateFile(folder / f"state-{clients}.json").install(self.app)
        self.samples: list[float] = []
        self.appended: list[int] = []
        self.n = 0

    def save(self) -> None:
        world = self.app.world
        with world.lock:
            self.n += 1
            world.activesync.create_client(world.users["bob"], f"user{self.n}", "secret")
            size = self.state._size
            t0 = time.perf_counter()
            self.app.on_change(world)
            self.samples.append(time.perf_counter() - t0)
            if self.state._size > size:
                self.appended.append(self.state._size - size)

    def snapshot_cost(self, repeats: int) -> float:
        times = []
        world = self.app.world
        for _ in range(repeats):
            with world.lock, self.state._lock:
                t0 = time.perf_counter()
                self.state._snapshot(world)
                times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1e3

    def whole_document_cost(self, repeats: int, folder: Path) -> list[float]:
        """The same kind of save as the state file did before: the whole document."""
        path, times, world = folder / f"whole-{self.clients}.json", [], self.app.world
        for _ in range(repeats):
            with world.lock:
                world.activesync.create_client(world.users["bob"], "whole", "secret")
                t0 = time.perf_counter()
                data = json.dumps(world.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                fd, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temp, path)
                _fsync_directory(folder)
                times.append(time.perf_counter() - t0)
        return times


# --- the engines compared (--engines) ----------------------------------------------------------
def row(i: int) -> dict:
    return {"kind": "syncml", "uuid": f"{i:08x}-0000-11ee-8000-000000000000", "owner": "admin",
            "published": "2009-11-01T12:30:00Z", "updated": "2009-11-01T12:30:00Z", "phone_number": "+4798765432",
            "model_uuid": "242", "timezone": "UTC", "imei": "", "setup": {"sent": None, "name": ""}, "datastores": []}


class WholeDocument:
    def __init__(self, folder: Path, rows: int) -> None:
        self.folder, self.path = folder, folder / "whole.json"
        self.doc = {"clients": {row(i)["uuid"]: row(i) for i in range(rows)}}

    def upsert(self, r: dict) -> None:
        self.doc["clients"][r["uuid"]] = r
        data = json.dumps(self.doc, separators=(",", ":")).encode()
        fd, temp = tempfile.mkstemp(dir=self.folder)
        os.write(fd, data)
        os.fsync(fd)
        os.close(fd)
        os.replace(temp, self.path)
        _fsync_directory(self.folder)


class AppendLog:
    def __init__(self, folder: Path, rows: int) -> None:
        self.fd = os.open(folder / "log.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.write(self.fd, json.dumps({"clients": [row(i) for i in range(rows)]}).encode() + b"\n")
        os.fsync(self.fd)

    def upsert(self, r: dict) -> None:
        os.write(self.fd, json.dumps({"set": {"clients": [[r["uuid"], r]]}}, separators=(",", ":")).encode() + b"\n")
        os.fdatasync(self.fd)


class SQLite:
    def __init__(self, folder: Path, rows: int, mode: str) -> None:
        self.db = sqlite3.connect(folder / f"state-{mode}.db", isolation_level=None)
        self.db.execute(f"PRAGMA journal_mode={mode}")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("CREATE TABLE entries(part TEXT, key TEXT, doc TEXT, PRIMARY KEY(part, key)) WITHOUT ROWID")
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO entries VALUES('clients', ?, ?)",
                            [(row(i)["uuid"], json.dumps(row(i))) for i in range(rows)])
        self.db.execute("COMMIT")

    def upsert(self, r: dict) -> None:
        self.db.execute("BEGIN")
        self.db.execute("INSERT OR REPLACE INTO entries VALUES('clients', ?, ?)",
                        (r["uuid"], json.dumps(r, separators=(",", ":"))))
        self.db.execute("COMMIT")


def engines(saves: int) -> None:
    kinds = [("whole document rewritten", WholeDocument), ("appended line + fdatasync", AppendLog),
             ("SQLite WAL, synchronous=FULL", lambda f, n: SQLite(f, n, "WAL")),
             ("SQLite DELETE journal, synchronous=FULL", lambda f, n: SQLite(f, n, "DELETE"))]
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmp:
        subjects = {}
        for size in SIZES:
            for name, make in kinds:
                folder = Path(tmp) / f"{size}-{len(subjects)}"
                folder.mkdir()
                subjects[(name, size)] = (make(folder, size), [])
        whole_saves = 2 * BLOCKS  # the whole-document row at 10,000 is slow
        for block in range(BLOCKS):
            for (_name, size), (engine, samples) in subjects.items():
                count = (whole_saves if engine.__class__ is WholeDocument else saves) // BLOCKS
                for i in range(count):
                    r = row(size + block * saves + i)
                    t0 = time.perf_counter()
                    engine.upsert(r)
                    samples.append(time.perf_counter() - t0)
        print("\n  engines: one upsert of a client-sized row into a store of N rows (ms)")
        print(f"  {'engine':<42} {'N':>7} {'median':>8} {'p99':>8} {'saves':>6}")
        for (name, size), (_, samples) in subjects.items():
            median, p99 = stats(samples)
            print(f"  {name:<42} {size:>7,} {median:>8.2f} {p99:>8.2f} {len(samples):>6}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer saves (~20 s instead of ~40 s)")
    parser.add_argument("--saves", type=int, default=None, help="timed saves per world (default 1000, --quick 320)")
    parser.add_argument("--engines", action="store_true",
                        help="also compare the storage engines (half as many upserts each; ~40 s more)")
    args = parser.parse_args()
    saves = args.saves or (320 if args.quick else 1000)

    print(f"bench_persistence: {machine(with_time=True)}")
    with tempfile.TemporaryDirectory(prefix="bench-persistence-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        subjects = [Subject(n, folder) for n in SIZES]
        print(f"  worlds built and first snapshots written in {time.perf_counter() - t0:.1f} s; "
              f"{saves} timed saves each, interleaved in {BLOCKS} blocks")
        for _ in range(BLOCKS):
            for s in subjects:
                for _ in range(saves // BLOCKS):
                    s.save()
        print(f"\n  {'world':<34} {'median ms':>9} {'p99 ms':>8} {'B/save':>7} {'snapshot':>9} "
              f"{'file':>9} {'saves/compaction':>17}")
        figures = {}
        for s in subjects:
            median, p99 = stats(s.samples)
            figures[s.clients] = (median, p99)
            snapshot = s.state._snapshot_bytes
            appended = statistics.median(s.appended) if s.appended else 0
            per_compaction = int(max(1 << 20, 2 * snapshot) // max(1, appended))
            name = f"{s.clients:,} clients + {DETECTIONS:,} detections"
            print(f"  {name:<34} {median:>9.2f} {p99:>8.2f} {appended:>7.0f} {snapshot / 1024:>7.0f}KB "
                  f"{os.path.getsize(s.state.path) / 1024:>7.0f}KB {per_compaction:>17,}")
        (m_small, p_small), (m_big, p_big) = figures[SIZES[0]], figures[SIZES[1]]
        ratio_m, ratio_p = m_big / m_small, p_big / p_small
        verdict = "PASS" if abs(ratio_m - 1) <= TOLERANCE and abs(ratio_p - 1) <= TOLERANCE else "FAIL"
        print(f"\n  ratio {SIZES[1]:,} / {SIZES[0]:,} clients: median {ratio_m:.2f}, p99 {ratio_p:.2f} "
              f"(target 1 ± {TOLERANCE}): {verdict}")
        print("\n  one whole snapshot (reset, PUT of the state, compaction; amortised over the saves above):")
        for s in subjects:
            cost = s.snapshot_cost(3)
            print(f"    {s.clients:>6,} clients: {cost:7.1f} ms")
        print(f"\n  the same change saved as before (whole document, fsync, rename, fsync of the folder; "
              f"{BLOCKS} saves):")
        for s in subjects:
            median, p99 = stats(s.whole_document_cost(BLOCKS, folder))
            print(f"    {s.clients:>6,} clients: median {median:7.2f} ms, p99 {p99:7.2f} ms")
        for s in subjects:
            s.state.close()
    if args.engines:
        engines(max(BLOCKS, saves // 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
