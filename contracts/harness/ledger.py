"""The run's ledger: every object a run creates, named with the run id, deleted in reverse
order at the end (even after failures). The run deletes nothing else: only what a 2xx
answer of its own said it had created."""
from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path


def new_run_id() -> str:
    return time.strftime("ocss-%Y%m%d%H%M%S-", time.gmtime()) + secrets.token_hex(2)


@dataclass
class Entry:
    kind: str
    name: str
    path: str  # what DELETE removes
    role: str  # whose credentials created it
    deleted: bool = False


def _same(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


class Ledger:
    def __init__(self, run_id: str, worker: str = "main", file: Path | None = None) -> None:
        self.run_id, self.worker = run_id, worker
        self.entries: list[Entry] = []
        self.file = file
        self._count = 0
        self._lock = threading.Lock()

    def name(self, kind: str) -> str:
        """A unique, recognisable name: the run id, the xdist worker, a counter."""
        with self._lock:
            self._count += 1
            return f"{self.run_id}-{self.worker}-{kind}{self._count}"

    def digits(self) -> str:
        """Eight digits unique within the run, for values that can hold no name (phone numbers)."""
        with self._lock:
            self._count += 1
            stamp = "".join(ch for ch in self.run_id if ch.isdigit())[-4:]
            worker = "".join(ch for ch in self.worker if ch.isdigit()) or "0"
            return f"{stamp}{int(worker) % 10}{self._count % 1000:03d}"

    def add(self, kind: str, name: str, path: str, role: str = "user") -> Entry:
        """Record one object; the same path again (the contract naming what the harness
        already saw created) only updates its description."""
        with self._lock:
            for entry in self.entries:
                if _same(entry.path, path) and not entry.deleted:
                    entry.kind, entry.name, entry.path = kind, name, path  # the contract's own words win
                    return entry
            entry = Entry(kind, name, path, role)
            self.entries.append(entry)
        self._write("created", entry)
        return entry

    def forget(self, path: str) -> None:
        """The contract deleted it itself."""
        for entry in self.entries:
            if _same(entry.path, path) and not entry.deleted:
                entry.deleted = True
                self._write("deleted by its contract", entry)

    def cleanup(self, delete) -> list[str]:
        """Delete what is left, newest first; `delete(entry)` returns the HTTP status.
        Returns what could not be deleted, for the report."""
        left = []
        for entry in reversed(self.entries):
            if entry.deleted:
                continue
            try:
                status = delete(entry)
            except Exception as e:  # noqa: BLE001 - keep cleaning: one failure must not strand the rest
                status, detail = None, f"{type(e).__name__}: {e}"
            else:
                detail = f"HTTP {status}"
            if status is not None and (200 <= status < 300 or status == 404):
                entry.deleted = True
                self._write("deleted at the end of the run", entry)
            else:
                left.append(f"{entry.kind} {entry.name} ({entry.path}): {detail}")
                self._write(f"NOT deleted: {detail}", entry)
        return left

    def _write(self, event: str, entry: Entry) -> None:
        if self.file is None:
            return
        line = json.dumps({"run": self.run_id, "worker": self.worker, "event": event, **asdict(entry)})
        with self._lock, open(self.file, "a", encoding="utf-8") as f:
            f.write(line + "\n")
