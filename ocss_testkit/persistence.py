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
(StateDir, below; tenants.py).

Measured on the development machine (benchmarks/bench_persistence.py, `--engines`), an
appended line with fdatasync costs the same as an SQLite commit in WAL mode and much
less than one in rollback-journal mode, and keeps the state in one file (no -wal and
-shm files beside it) that `jq` can read, whose first line is a `/_fake/state` document.
"""
from __future__ import annotations

import errno
import json
import logging
import os
import re
import tempfile
import threading
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ocss_testkit.world.errors import DomainError
from ocss_testkit.world.state import ENVELOPE, dump_envelope
from ocss_testkit.world.world import World, state_slices

if TYPE_CHECKING:
    from ocss_testkit.app import FakeApp
    from ocss_testkit.auth.nonces import NonceStore

try:
    import fcntl
except ImportError:  # Windows: no flock; one server per file is then the user's care
    fcntl = None  # type: ignore[assignment]  # tested as `fcntl is not None` before use

log = logging.getLogger("ocss_testkit")

TEMP_SUFFIX = ".tmp"
FORMAT = "ocss-state-log"
FORMAT_VERSION = 1
COMPACT_MIN_BYTES = 1 << 20

# The slices of the state document (each owned by a service, world/service.py) by how a
# log line changes them. Keyed, "list": entries with their key in a field, in the
# slice's document order; keyed, "map": an object keyed by number or name; sequences:
# appended to and evicted from their head; the head: written whole.
SLICES = {s.name: s for s in state_slices()}
LIST_PARTS = {s.name: s.key_field for s in SLICES.values() if s.shape == "keyed" and s.key_field}
MAP_PARTS = tuple(s.name for s in SLICES.values() if s.shape == "keyed" and not s.key_field)
SEQUENCES = tuple(s.name for s in SLICES.values() if s.shape == "sequence")
HEAD_FIELDS = ENVELOPE + tuple(s.name for s in SLICES.values() if s.shape == "whole")
DOCUMENT_ORDER = ENVELOPE + tuple(SLICES)
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_MISSING = object()


class StateFileError(Exception):
    """A state file that cannot be read, loaded or written; the message names the file."""


class _Retry(Exception):
    """The path changed under us while opening it (another process renamed or created it)."""


# --- the file format, without any World --------------------------------------------------
class _Parts:
    """The state document cut into parts a log line can change one entry at a time."""

    def __init__(self, doc: object) -> None:
        if not isinstance(doc, dict):
            raise ValueError("the snapshot is not a JSON object")
        self.head = {k: v for k, v in doc.items() if k not in LIST_PARTS and k not in MAP_PARTS
                     and k not in SEQUENCES}
        self.keyed: dict[str, dict] = {}
        for name, field in LIST_PARTS.items():
            self.keyed[name] = {entry[field]: entry for entry in doc.get(name, [])}
        for name in MAP_PARTS:
            self.keyed[name] = dict(doc.get(name, {}))
        self.sequences = {name: deque(doc.get(name, [])) for name in SEQUENCES}

    def apply(self, record: dict) -> list:
        """One log line; returns the nonces it carries."""
        if not isinstance(record, dict):
            raise ValueError("a record is a JSON object")
        head = record.get("head", {})
        for field in HEAD_FIELDS:
            if field in head:
                self.head[field] = head[field]
        for name, pairs in record.get("set", {}).items():
            part = self.keyed[name]
            for key, entry in pairs:
                part[key] = entry
        for name, keys in record.get("del", {}).items():
            part = self.keyed[name]
            for key in keys:
                part.pop(key, None)
        for name, entries in record.get("append", {}).items():
            self.sequences[name].extend(entries)
        for name, count in record.get("evict", {}).items():
            sequence = self.sequences[name]
            for _ in range(min(int(count), len(sequence))):
                sequence.popleft()
        return list(record.get("nonces", []))

    def document(self) -> dict:
        parts: dict = dict(self.head)
        for name in LIST_PARTS:
            entries = list(self.keyed[name].values())
            order = SLICES[name].document_order
            if order is not None:
                entries.sort(key=order)
            parts[name] = entries
        for name in MAP_PARTS:
            parts[name] = dict(sorted(self.keyed[name].items()))
        for name, sequence in self.sequences.items():
            parts[name] = [e for e in sequence if e is not None]  # a revoked issued token
        ordered = {k: parts.pop(k) for k in DOCUMENT_ORDER if k in parts}
        ordered.update(parts)  # anything else (a hand-made snapshot): the loader names it
        return ordered


def _head(world: World) -> dict:
    """The members of the document a log line writes whole: the envelope and the small slices."""
    head = dump_envelope(world)
    for service, s, _ in world.slices():
        if s.shape == "whole":
            head[s.name] = s.entry(service)
    return head


def parse(raw: bytes, where: str = "state file") -> tuple[dict, list]:
    """The state document and the nonces in a state file's bytes (either format).

    Raises StateFileError naming `where` and what is wrong. A last line that does not
    parse is a save cut short by a kill, never acknowledged: it is left out.
    """
    first, newline, rest = raw.partition(b"\n")
    try:
        header = json.loads(first)
    except (ValueError, UnicodeDecodeError):
        header = None
    if not (isinstance(header, dict) and FORMAT in header):
        try:  # a file of earlier versions: one JSON document, perhaps over many lines
            return json.loads(raw), []
        except (ValueError, UnicodeDecodeError) as exc:
            raise StateFileError(f"{where}: not a JSON document: {exc}") from None
    if header[FORMAT] != FORMAT_VERSION:
        raise StateFileError(f"{where}: log format {header[FORMAT]!r}; this toolkit reads {FORMAT_VERSION}")
    try:
        parts = _Parts(header.get("state"))
        nonces = list(header.get("nonces", []))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise StateFileError(f"{where}: line 1 is not a snapshot: {exc}") from None
    lines = rest.split(b"\n")
    for number, line in enumerate(lines, start=2):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            if not any(x.strip() for x in lines[number - 1:]):
                break  # the torn tail of an unacknowledged save
            raise StateFileError(f"{where}: line {number} is not a JSON record: {exc}") from None
        try:
            nonces.extend(parts.apply(record))
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            raise StateFileError(f"{where}: line {number} is not a record this toolkit wrote: {exc!r}") from None
    return parts.document(), nonces


def read_state(path: str | os.PathLike) -> dict:
    """The `/_fake/state` document a state file holds (for tools and tests; takes no lock)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StateFileError(f"state file {path}: cannot read it: {exc.strerror or exc}") from None
    return parse(raw, f"state file {path}")[0]


# --- the live file of one server --------------------------------------------------------
class StateFile:
    """One state file. `install(app)` once at start (load, then save every change);
    `close()` at the end releases the file for the next server."""

    def __init__(self, path: str | os.PathLike, tidy: bool = True) -> None:
        self.path = Path(path).absolute()
        # tidy: remove temporaries a killed save left beside the file, at load. A folder of
        # many state files (StateDir) tidies once for all of them, at its start: a file's
        # temporary prefix (`.a.state.`) can begin another's (`.a.state.b.state.`).
        self._tidy = tidy
        self._retired = False
        self.saves = 0
        self.snapshots = 0
        # Saves of one World are serialized by its lock; this also orders them against
        # nonce lines (appended from request threads) and saves of a World just swapped in.
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._size = 0  # bytes in the file
        self._log_bytes = 0  # bytes after the snapshot line
        self._snapshot_bytes = 0
        self._world: World | None = None
        self._head = ""
        self._sequences: dict[str, tuple[object, int]] = {}  # name -> (last element saved, count)
        self._unsynced = False
        self._stale = False  # a failed write: the next save writes a whole snapshot
        self._nonces: NonceStore | None = None

    @property
    def _temp_prefix(self) -> str:
        return f".{self.path.name}."

    def __enter__(self) -> StateFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a StateFile dropped without close() still frees the file
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    # --- start -----------------------------------------------------------------------
    def load(self, app: FakeApp) -> bool:
        """Give `app` the World in the file; True if there was one.

        A missing file means a fresh start: the app keeps the World of its fixture set and
        the file is written at once (so a bad path fails now, not on the first change).
        A file that exists but does not load is an error and is left exactly as it is:
        overwriting it would destroy the state someone wanted kept. A file another
        server holds is refused. A loaded file is rewritten as one snapshot in the
        current format (which also migrates a file of an earlier version).
        """
        if self._fd is not None:
            raise StateFileError(f"state file {self.path}: already loaded")
        nonces = getattr(getattr(app, "auth", None), "nonces", None)
        if self._tidy:
            self._remove_stale_temporaries()
        for _ in range(5):
            try:
                return self._load(app, nonces)
            except _Retry:
                continue
        raise StateFileError(f"state file {self.path}: it kept changing while being opened")

    def _load(self, app: FakeApp, nonces: NonceStore | None) -> bool:
        try:
            fd = os.open(self.path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            with app.world.lock, self._lock:
                self._nonces = nonces
                self._snapshot(app.world, create=True)
            self._listen(nonces)
            return False
        except OSError as exc:
            raise StateFileError(f"state file {self.path}: cannot open it for reading and writing: "
                                 f"{exc.strerror or exc}") from None
        try:
            self._lock_file(fd)
            if not self._same_file(fd):
                raise _Retry()
            raw = _read_all(fd)
            doc, saved_nonces = parse(raw, f"state file {self.path}")
            try:
                world = World.from_dict(doc, app.fixtures.phones, **getattr(app, "_world_options", {}))
            except (DomainError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
                raise StateFileError(f"state file {self.path}: not a state this toolkit can load: {exc}") from None
        except BaseException:
            os.close(fd)
            raise
        if nonces is not None:
            nonces.restore(k for k in saved_nonces if isinstance(k, list))
        with world.lock, self._lock:
            self._fd, self._nonces = fd, nonces
            try:
                self._snapshot(world)  # before the app sees it: a file we cannot write is refused now
            except BaseException:
                self._fd = None
                os.close(fd)
                raise
        app.world = world
        self._listen(nonces)
        return True

    def _listen(self, nonces: NonceStore | None) -> None:
        if nonces is not None:
            nonces.listener = self._nonce_seen

    def install(self, app: FakeApp, fresh: bool = False) -> StateFile:
        """Load the file into `app`, then save every change it makes.

        With `fresh`, the file is not read: `app`'s World is written over whatever the
        path holds (one snapshot, renamed into place), as when a tenant is replaced
        (`PUT /_fake/tenants/{tenant}`). Raises StateFileError naming the file."""
        if fresh:
            if self._fd is not None:
                raise StateFileError(f"state file {self.path}: already loaded")
            nonces = getattr(getattr(app, "auth", None), "nonces", None)
            with app.world.lock, self._lock:
                self._nonces = nonces
                self._snapshot(app.world)
            self._listen(nonces)
        else:
            self.load(app)
        app.on_change = self.save
        return self

    def retire(self) -> None:
        """Close the file for good: later saves are ignored instead of refused. For the
        file of a world that was dropped or replaced, whose requests still in flight must
        neither fail nor write into the file that follows it."""
        with self._lock:
            self._retired = True
        self.close()

    def close(self) -> None:
        """Flush what is not yet on disk and release the file (and its lock)."""
        with self._lock:
            if self._nonces is not None and self._nonces.listener == self._nonce_seen:
                self._nonces.listener = None
            if self._fd is None:
                return
            try:
                if self._unsynced:
                    _datasync(self._fd)
            except OSError:
                pass
            finally:
                os.close(self._fd)
                self._fd = None
                self._world = None

    # --- saving ----------------------------------------------------------------------
    def save(self, world: World) -> None:
        """Write what changed in `world` since the last save, durably (fdatasync).

        Called with the World's lock held (FakeApp.on_change), so what is written is a
        consistent state and saves land in the order the changes were made. A World not
        seen before (a reset, a PUT of the state) is written as a new snapshot.
        """
        with world.lock, self._lock:
            if self._fd is None:
                if self._retired:
                    return
                raise StateFileError(f"state file {self.path}: closed")
            if world is not self._world or self._stale or self._compaction_due():
                self._snapshot(world)
            else:
                try:
                    record = self._changes(world)
                except Exception:
                    self._stale = True  # the touched keys are gone: a snapshot must follow
                    raise
                if record:
                    self._append(self._fd, _line(record))
                if self._unsynced:
                    self._sync(self._fd)
            self.saves += 1

    def _changes(self, world: World) -> dict:
        """One log record: what differs from what the file already holds."""
        record: dict = {}
        head = _head(world)
        encoded = _JSON.encode(head)
        if encoded != self._head:
            record["head"], self._head = head, encoded
        sets: dict[str, list[list]] = {}
        dels: dict[str, list] = {}
        parts = {s.name: (service, s, container) for service, s, container in world.slices()}
        for name, keys in world.take_changes().items():
            service, part_slice, part = parts[name]
            ordered: list | set = keys
            if part_slice.key_field and part_slice.document_order is None and len(keys) > 1:  # kept in order made
                ordered = [k for k in dict.keys(part) if k in keys] + [k for k in keys if k not in part]
            for key in ordered:
                value = dict.get(part, key, _MISSING)
                if value is _MISSING:
                    dels.setdefault(name, []).append(key)
                else:
                    sets.setdefault(name, []).append([key, part_slice.entry(service, key, value)])
        appended, evicted = {}, {}
        for name in SEQUENCES:
            service, part_slice, sequence = parts[name]
            last, count = self._sequences[name]
            new = []
            for element in reversed(sequence):
                if element is last:
                    break
                new.append(element)
            if new:
                appended[name] = [part_slice.entry(service, e) for e in reversed(new)]
            gone = count + len(new) - len(sequence)
            if gone > 0:
                evicted[name] = gone
            self._sequences[name] = (sequence[-1] if sequence else None, len(sequence))
        for key, value in (("set", sets), ("del", dels), ("append", appended), ("evict", evicted)):
            if value:
                record[key] = value
        return record

    def _snapshot(self, world: World, create: bool = False) -> None:
        """Write `world` as a new file of one snapshot line, and follow it from now on.

        Runs with the World's lock and self._lock held. The temporary file is locked
        before it is renamed into place, so the path always names a file this server
        holds; with `create`, it is linked into place only if the path is still free.
        """
        if world is not self._world:
            world.track_changes()
        world.take_changes()  # the snapshot holds everything they name…
        self._stale = True  # …so until it is written, only another snapshot may follow
        nonces: list[list[str]] = self._nonces.snapshot() if self._nonces is not None else []
        data = _line({FORMAT: FORMAT_VERSION, "state": world.to_dict(), "nonces": nonces})
        directory = self.path.parent
        try:
            # mkstemp: a unique name created 0600, since the state holds OAuth secrets
            fd, temp = tempfile.mkstemp(prefix=self._temp_prefix, suffix=TEMP_SUFFIX, dir=directory)
        except OSError as exc:
            raise StateFileError(f"state file {self.path}: cannot write it: {exc.strerror or exc}") from exc
        try:
            try:
                _write_all(fd, data)
                os.fsync(fd)
                self._lock_file(fd)
                if create:
                    try:
                        os.link(temp, self.path)  # never over a file that appeared meanwhile
                    except FileExistsError:
                        raise _Retry() from None
                    os.unlink(temp)
                else:
                    os.replace(temp, self.path)
                _fsync_directory(directory)  # makes the rename itself durable
            except OSError as exc:
                raise StateFileError(f"state file {self.path}: cannot write it: {exc.strerror or exc}") from exc
        except BaseException:
            os.close(fd)
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        if self._fd is not None:
            os.close(self._fd)  # the old file: its lock goes with it, the new one is held
        self._fd, self._size = fd, len(data)
        self._snapshot_bytes, self._log_bytes = len(data), 0
        self._world, self._stale, self._unsynced = world, False, False
        self._head = _JSON.encode(_head(world))
        self._sequences = {s.name: (container[-1] if container else None, len(container))
                           for _, s, container in world.slices() if s.shape == "sequence"}
        self.snapshots += 1

    def _append(self, fd: int, data: bytes) -> None:
        """Append one line to the open file `fd` (`self._fd`). On failure the file is cut
        back to its last whole line and the next save writes a whole snapshot (which also
        holds what this line held)."""
        try:
            _write_all(fd, data)
        except OSError as exc:
            self._stale = True
            try:
                os.ftruncate(fd, self._size)
                os.lseek(fd, self._size, os.SEEK_SET)
            except OSError:
                pass
            raise StateFileError(f"state file {self.path}: cannot write it: {exc.strerror or exc}") from exc
        self._size += len(data)
        self._log_bytes += len(data)
        self._unsynced = True

    def _sync(self, fd: int) -> None:
        try:
            _datasync(fd)
        except OSError as exc:
            self._stale = True
            raise StateFileError(f"state file {self.path}: cannot write it: {exc.strerror or exc}") from exc
        self._unsynced = False

    def _compaction_due(self) -> bool:
        return self._log_bytes > max(COMPACT_MIN_BYTES, 2 * self._snapshot_bytes)

    def _nonce_seen(self, key: list[str]) -> None:
        """NonceStore.listener: append the nonce now; the next save's fdatasync covers it.

        Reads change nothing and so never save; when their nonces alone have grown the
        log past the compaction threshold, the snapshot is written from here."""
        with self._lock:
            if self._fd is None:
                return
            try:
                self._append(self._fd, _line({"nonces": [list(key)]}))
            except StateFileError as exc:  # the next save writes a snapshot, nonces included
                log.warning("%s", exc)
            due, world = self._compaction_due(), self._world
        if due and world is not None:
            with world.lock, self._lock:  # the World's lock first, as every save takes them
                if self._fd is None or world is not self._world or not self._compaction_due():
                    return
                try:
                    self._snapshot(world)
                except StateFileError as exc:
                    log.warning("%s", exc)

    # --- the file itself ---------------------------------------------------------------
    def _lock_file(self, fd: int) -> None:
        if fcntl is None:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StateFileError(f"state file {self.path}: in use by another ocss-fake server "
                                     f"(one server per state file)") from None
            raise StateFileError(f"state file {self.path}: cannot lock it: {exc.strerror or exc}") from None

    def _same_file(self, fd: int) -> bool:
        """Still the file at the path? (Another server may have renamed a new one over it
        between our open and our lock.)"""
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (mine.st_dev, mine.st_ino) == (now.st_dev, now.st_ino)

    def _remove_stale_temporaries(self) -> None:
        """A process killed mid-snapshot leaves its temporary file behind; the rename never
        happened, so it holds nothing the state file lacks."""
        try:
            names = os.listdir(self.path.parent)
        except OSError:
            return
        for name in names:
            if name.startswith(self._temp_prefix) and name.endswith(TEMP_SUFFIX):
                try:
                    os.unlink(self.path.parent / name)
                except OSError:
                    pass


# --- a folder of state files, one per tenant (`--state-dir`) ------------------------------
STATE_SUFFIX = ".state"
DIR_LOCK = ".ocss-fake.lock"
# What a killed snapshot of a tenant's file leaves: `.{tenant}.state.{mkstemp's 8}.tmp`.
_DIR_TEMPORARY = re.compile(r"\.[A-Za-z0-9_.-]+\.state\.[a-z0-9_]+\.tmp")


class StateDir:
    """A folder of state files, one per tenant: `DIR/{tenant}.state`, each a StateFile with
    all of its guarantees (`ocss-fake serve --state-dir DIR`; tenants.py).

    `open()` creates the folder if it is missing (its parent must exist), takes an
    exclusive `flock` on `DIR/.ocss-fake.lock` for as long as it stays open (one server
    per folder), and removes the temporaries that killed snapshots left behind. A tenant
    name is a file name here: the caller checks it. Every failure is a StateFileError
    naming the folder or the file.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).absolute()
        self._lock_fd: int | None = None

    def open(self) -> StateDir:
        try:
            self.path.mkdir(exist_ok=True)
        except OSError as exc:
            raise StateFileError(f"state folder {self.path}: cannot create it: {exc.strerror or exc}") from None
        if not self.path.is_dir():
            raise StateFileError(f"state folder {self.path}: not a folder")
        try:
            fd = os.open(self.path / DIR_LOCK, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            raise StateFileError(f"state folder {self.path}: cannot write in it: {exc.strerror or exc}") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise StateFileError(f"state folder {self.path}: in use by another ocss-fake server "
                                         "(one server per state folder)") from None
                raise StateFileError(f"state folder {self.path}: cannot lock it: {exc.strerror or exc}") from None
        self._lock_fd = fd
        for name in os.listdir(self.path):
            if _DIR_TEMPORARY.fullmatch(name):
                try:
                    os.unlink(self.path / name)
                except OSError:
                    pass
        return self

    def names(self) -> list[str]:
        """The tenants with a state file in the folder, sorted."""
        with os.scandir(self.path) as entries:
            return sorted(entry.name[:-len(STATE_SUFFIX)] for entry in entries
                          if entry.name.endswith(STATE_SUFFIX) and len(entry.name) > len(STATE_SUFFIX)
                          and entry.is_file())

    def file_of(self, name: str) -> Path:
        return self.path / f"{name}{STATE_SUFFIX}"

    def state_file(self, name: str) -> StateFile:
        """The tenant's StateFile, not yet loaded (`install` it)."""
        return StateFile(self.file_of(name), tidy=False)

    def remove(self, names: Iterable[str]) -> None:
        """Delete these tenants' files, durably (the folder is fsynced once, after all)."""
        removed = False
        for name in names:
            try:
                os.unlink(self.file_of(name))
                removed = True
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise StateFileError(f"state file {self.file_of(name)}: cannot delete it: "
                                     f"{exc.strerror or exc}") from None
        if removed:
            _fsync_directory(self.path)

    def close(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)


def _line(record: dict) -> bytes:
    return (_JSON.encode(record) + "\n").encode("utf-8")


def _read_all(fd: int) -> bytes:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _datasync(fd: int) -> None:
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # a platform that cannot open directories (Windows): nothing to sync
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):  # file systems that refuse it
            raise
    finally:
        os.close(fd)
