"""How a `since` query on datastore contents scales with the size of the change history.

Builds stores holding 1,000 / 10,000 / 100,000 changes (inserts, updates, deletes over
a spread of virtual time), then times the same query shape on each: the changes of the
last 100 changes' time window, so every store returns the same number of rows. An
indexed query stays flat; a scan would grow 100x. Also times a whole in-process HTTP
GET of `/contents/?since=` for the largest store.

    python benchmarks/bench_since.py [--quick]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocss_testkit import make_app  # noqa: E402
from ocss_testkit.client import Credentials, SignedClient  # noqa: E402
from ocss_testkit.services.datastore.contents import ContentStore
from ocss_testkit.world.clock import iso_z

T0 = datetime(2009, 1, 1, tzinfo=timezone.utc)


def build(store: ContentStore, changes: int) -> datetime:
    """`changes` changes, one per virtual second: 60% inserts, 30% updates, 10% deletes."""
    ids: list[str] = []
    for n in range(changes):
        when = T0 + timedelta(seconds=n)
        kind = n % 10
        if kind < 6 or len(ids) < 10:
            vcard = f"BEGIN:VCARD\nFN:Person {n}\nEND:VCARD"
            ids.append(store.add(vcard, "text/x-vcard", None, f"Person {n}", when).id)
        elif kind < 9:
            store.update(ids[(n * 7) % len(ids)], when, title=f"Renamed {n}")
        else:
            store.delete(ids.pop((n * 13) % len(ids)), when)
    return T0 + timedelta(seconds=changes - 100)


def time_query(store: ContentStore, since: datetime, repeat: int) -> tuple[float, int]:
    samples = []
    rows = 0
    for _ in range(repeat):
        start = time.perf_counter()
        rows = len(store.changes_since(since))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    repeat = 200 if args.quick else 2000
    results = {}
    print(f"{'changes':>8} {'rows':>6} {'median us':>10} {'build s':>8}")
    for changes in (1_000, 10_000, 100_000):
        store = ContentStore()
        start = time.perf_counter()
        since = build(store, changes)
        built = time.perf_counter() - start
        micros, rows = time_query(store, since, repeat)
        results[changes] = micros
        print(f"{changes:>8} {rows:>6} {micros:>10.1f} {built:>8.2f}")
    ratio = results[100_000] / results[1_000]
    print(f"\n100,000 vs 1,000 changes: {ratio:.2f}x  (target <= 2x: {'PASS' if ratio <= 2 else 'FAIL'})")

    # The same query through the whole stack, in-process (parse, OAuth, render).
    app = make_app()
    world = app.world
    with world.lock:
        client = world.datastore.create_client(world.users["alice"], "Address book")
        since = build(client.contents, 100_000)
    api = SignedClient(app, Credentials.of(app, "alice"))
    path = f"/v2/services/datastore/{client.uuid}/contents/?since={iso_z(since)}"
    samples = []
    for _ in range(repeat // 10):
        start = time.perf_counter()
        reply = api.get(path)
        samples.append(time.perf_counter() - start)
        assert reply.status == 200, reply.text
    print(f"HTTP GET contents?since= over 100,000 changes, in-process: "
          f"median {statistics.median(samples) * 1e3:.2f} ms ({reply.body.count(b'<entry')} entries)")


if __name__ == "__main__":
    main()
