"""The routes closest to an unknown path: the hint of a 404 (`no route for …. Closest: …`).

Anyone can send an unknown path without credentials, so the hint must cost about what the
404 itself costs, whatever the path. It compares path segments, not whole strings: every
route template is split into its words once, the path into at most `MAX_SEGMENTS`
segments of at most `MAX_SEGMENT` characters, and a segment is compared with every route
word at once by the Dice coefficient of their character bigrams, counted through an index
from bigram to the words holding it. The work per unknown path is therefore at most
`MAX_SEGMENTS` × (`MAX_SEGMENT` + 1) bigram look-ups, each visiting each route word at
most once, and one pass over the route table, however long the path.
(`difflib.SequenceMatcher` over whole paths, used before, cost ~5 ms of CPU for a typo and
~40 ms for a 300-character path, ten to a hundred times a normal 404; this costs ~0.1 ms
and names the intended route first at least as often, benchmarks/README.md.)
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from ocss_testkit.routes import CONTROL_ROUTES, ROUTES

MAX_SEGMENTS = 8  # path segments compared; the longest route has 7
MAX_SEGMENT = 48  # characters of one segment compared; the longest route word has 13
PLACEHOLDER = 0.75  # what any segment scores against `{id}`: below a close typo of a word
HINTS = 3


@dataclass(frozen=True, slots=True)
class _Table:
    """The route set, prepared once: templates as word numbers, and which words hold a bigram."""
    templates: tuple[tuple[str, str, tuple[int, ...]], ...]  # (path, "GET HEAD", word numbers; -1 = {placeholder})
    sizes: tuple[int, ...]  # distinct bigrams of each word
    postings: dict[str, tuple[int, ...]]  # bigram -> the words holding it


@dataclass(slots=True)
class Work:
    """What one `closest()` call did, for tests that bound its cost without timing it."""
    segments: int = 0  # path segments compared
    longest: int = 0  # characters of the longest segment compared
    lookups: int = 0  # bigrams of the path looked up; each visits at most every route word once


def _bigrams(word: str) -> set[str]:
    padded = f"^{word}$"  # boundaries, so that one-letter words and first/last letters count
    return {padded[i:i + 2] for i in range(len(padded) - 1)}


@functools.cache
def _table() -> _Table:
    """Built on the first unknown path, then shared: the route table never changes."""
    methods: dict[str, set[str]] = {}
    for route in ROUTES + CONTROL_ROUTES:
        methods.setdefault(route.path, set()).add(route.method)
    numbers: dict[str, int] = {}
    templates = []
    for path, verbs in methods.items():
        parts = tuple(-1 if p.startswith("{") else numbers.setdefault(p.lower(), len(numbers))
                      for p in path.split("/") if p)
        templates.append((path, " ".join(sorted(verbs)), parts))
    grams = [_bigrams(word) for word in numbers]
    postings: dict[str, list[int]] = {}
    for n, bigrams in enumerate(grams):
        for gram in bigrams:
            postings.setdefault(gram, []).append(n)
    return _Table(tuple(templates), tuple(len(g) for g in grams), {g: tuple(ns) for g, ns in postings.items()})


def closest(path: str, work: Work | None = None) -> list[tuple[str, str]]:
    """The `HINTS` route templates most like `path`, best first: (methods, template) pairs.

    A template scores, over its words and the path's segments, the mean of two terms: each
    word against the segment at its place (a placeholder takes any segment at
    `PLACEHOLDER`), and each word against the path segment most like it wherever it is (so
    that a missing or extra segment still points at the right route). Ties keep the route
    table's order."""
    table = _table()
    work = work if work is not None else Work()
    # Cut before splitting: a 200 KB path must not be copied, split or lowered whole.
    head = path[:MAX_SEGMENTS * (MAX_SEGMENT + 1) * 2]
    segments = [s[:MAX_SEGMENT].lower() for s in head.split("/") if s][:MAX_SEGMENTS]
    work.segments, work.longest = len(segments), max(map(len, segments), default=0)
    sizes, postings = table.sizes, table.postings
    rows = []  # rows[i][w]: Dice coefficient of segment i and word w
    for segment in segments:
        grams = _bigrams(segment)
        common = [0] * len(sizes)
        for gram in grams:
            for w in postings.get(gram, ()):
                common[w] += 1
        work.lookups += len(grams)
        own = len(grams)
        rows.append([2 * c / (own + size) for c, size in zip(common, sizes)])
    best = [max(column) for column in zip(*rows)] if rows else [0.0] * len(sizes)
    n = len(segments)
    scored = []
    for order, (template, methods, parts) in enumerate(table.templates):
        total = 0.0
        for j, w in enumerate(parts):
            if w < 0:
                total += 2 * PLACEHOLDER if j < n else 0.0
            else:
                total += (rows[j][w] if j < n else 0.0) + best[w]
        scored.append((total / (2 * max(len(parts), n, 1)), -order, methods, template))
    scored.sort(reverse=True)
    return [(methods, template) for _, _, methods, template in scored[:HINTS]]
