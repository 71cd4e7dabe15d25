#!/usr/bin/env python3
"""What an unknown path costs: the 404 near-miss hint against a normal 404.

    python benchmarks/bench_near_miss.py            # ~20 s

An unknown path answers 404 with the closest routes (`ocss_testkit/near_miss.py`), and
anyone can send one without credentials, so the hint must cost about what a 404 costs
anyway. In-process (WSGI through werkzeug's test client, no sockets), CPU time per request
(`time.process_time`, so other processes on the machine count less), the best of 5 rounds
of 300 requests each (30 for paths over 10,000 characters), for near-miss 404s (a typo,
`/v2/phones/modelz/242`; a 300-character segment; a 200,000-character path; 10,000
segments), each beside a normal 404 of a path as long: `GET /v2/phones/models/99…9`,
routed, and refused by its handler (a long path costs werkzeug and the journal something
whatever answers it: the comparison isolates what the hint adds).
Target (issue 10, item 11): every near-miss 404 within 2x its normal 404.

Then the quality of the hints, on 355 typos generated from the route table with a fixed
seed (a letter dropped, added, swapped or changed in one word of a concrete route, or one
word dropped): how often the intended route comes first, and among the three, for the
shipped scorer and for the `difflib.SequenceMatcher` one it replaced (kept below, for
this comparison only). Exits 0 whatever the figures.
"""
from __future__ import annotations

import difflib
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from machineinfo import machine  # noqa: E402

ROUNDS, PER_ROUND = 5, 300
PATHS = {
    "typo": "/v2/phones/modelz/242",
    "300-char segment": "/v2/phones/" + "m" * 300,
    "200,000 chars": "/v2/" + "x" * 200_000,
    "10,000 segments": "/" + "/".join(f"s{i}" for i in range(10_000)),
}
VALUES = {"uuid": "4f1d2dd0-49e4-11de-b387-002215064801", "session": "12", "vendor": "3", "model": "242",
          "code": "Ab3dE5fG", "binding": "7", "item": "abc", "fault": "2", "number": "+4790981948"}


def normal_404(path: str) -> str:
    """A routed path as long as `path`, which the model handler refuses (404)."""
    prefix = "/v2/phones/models/"
    return prefix + "9" * max(6, len(path) - len(prefix))


def cpu_per_request(client, path: str) -> float:
    client.get(path)
    best = float("inf")
    count = PER_ROUND if len(path) <= 10_000 else PER_ROUND // 10
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(count):
            response = client.get(path)
        best = min(best, (time.process_time() - started) / count)
        if response.status_code != 404:
            raise SystemExit(f"{path[:60]}: expected 404, got {response.status}")
    return best


def difflib_closest(path: str, by_path: dict) -> list[str]:
    """The scorer used before (whole-path SequenceMatcher ratio), for comparison only."""
    path = path[:200]
    segments = [s for s in path.split("/") if s]

    def concrete(template: str) -> str:
        parts = [s for s in template.split("/") if s]
        return "/" + "/".join(segments[i] if p.startswith("{") and i < len(segments) else p
                              for i, p in enumerate(parts)) + "/"

    return sorted(by_path, key=lambda t: -difflib.SequenceMatcher(None, path.rstrip("/") + "/",
                                                                  concrete(t)).ratio())[:3]


def typos(templates: list[str]) -> list[tuple[str, str]]:
    rnd = random.Random(7)

    def typo(word: str) -> str:
        i, kind = rnd.randrange(len(word)), rnd.randrange(4)
        if kind == 0:
            return word[:i] + word[i + 1:]
        if kind == 1:
            return word[:i] + rnd.choice("abcdefghijklmnopqrstuvwxyz") + word[i:]
        if kind == 2 and i < len(word) - 1:
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        return word[:i] + rnd.choice("abcdefghijklmnopqrstuvwxyz") + word[i + 1:]

    def concrete(template: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: VALUES[m.group(1)], template)

    cases = []
    for template in templates:
        parts = template.split("/")
        words = [i for i, p in enumerate(parts) if p and not p.startswith("{")]
        for _ in range(6):
            changed = list(parts)
            i = rnd.choice(words)
            changed[i] = typo(changed[i]) if len(changed[i]) >= 3 else changed[i] + "x"
            cases.append((concrete("/".join(changed)), template))
        if len(words) > 2:
            changed = list(parts)
            del changed[rnd.choice(words[1:])]
            cases.append((concrete("/".join(changed)), template))
    return cases


def main() -> int:
    from werkzeug.test import Client

    from ocss_testkit import near_miss
    from ocss_testkit.app import FakeApp
    from ocss_testkit.routes import CONTROL_ROUTES, ROUTES

    print(f"bench_near_miss: {machine(with_time=True)}")
    client = Client(FakeApp())
    print(f"  CPU per request, in-process, best of {ROUNDS} rounds: near-miss 404 / normal 404 of a path as long")
    worst = 0.0
    for name, path in PATHS.items():
        miss, normal = cpu_per_request(client, path), cpu_per_request(client, normal_404(path))
        worst = max(worst, miss / normal)
        work = near_miss.Work()
        near_miss.closest(path, work)
        print(f"    {name:<18} {len(path):>7,} chars  {miss * 1e3:7.3f} ms / {normal * 1e3:7.3f} ms  "
              f"{miss / normal:4.2f}x  (hint: segments {work.segments}, longest {work.longest}, "
              f"bigram look-ups {work.lookups})")

    by_path: dict[str, list[str]] = {}
    for route in ROUTES + CONTROL_ROUTES:
        by_path.setdefault(route.path, []).append(route.method)
    cases = typos(list(by_path))
    print(f"  hints for {len(cases)} generated typos: intended route first / among the three; CPU per hint")
    for name, closest in (("shipped (near_miss.py)", lambda p: [t for _, t in near_miss.closest(p)]),
                          ("before (difflib)", lambda p: difflib_closest(p, by_path))):
        started = time.process_time()
        results = [(closest(path), want) for path, want in cases]
        per = (time.process_time() - started) / len(cases)
        first = sum(got[0] == want for got, want in results)
        among = sum(want in got for got, want in results)
        print(f"    {name:<24} {first:>4} / {among:>4} of {len(cases)}   {per * 1e3:6.3f} ms")
    print("Target")
    print(f"  every near-miss 404 within 2x a normal 404   worst {worst:.2f}x   {'PASS' if worst <= 2 else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
