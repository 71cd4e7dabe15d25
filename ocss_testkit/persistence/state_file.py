"""The live state file of one server (StateFile): loaded once at start, then a line
appended and fdatasynced at every save, a new snapshot renamed into place when the log
is due for compaction or the World is replaced; the package's docstring gives the
guarantees.
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ocss_testkit import persistence
from ocss_testkit.persistence.change_records import ChangeRecorder
from ocss_testkit.persistence.durable_io import (
    O_CLOEXEC,
    datasync,
    fsync_directory,
    lock_exclusive,
    read_all,
    unlink_quietly,
    write_all,
)
from ocss_testkit.persistence.log_format import StateFileError, nonces_line, parse, record_line, snapshot_line
from ocss_testkit.world.errors import DomainError
from ocss_testkit.world.world import World

if TYPE_CHECKING:
    from ocss_testkit.app import FakeApp
    from ocss_testkit.auth.nonces import NonceStore

log = logging.getLogger("ocss_testkit")

TEMP_SUFFIX = ".tmp"


class _Retry(Exception):
    """The path changed under us while opening it (another process renamed or created it)."""


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
        self._recorder: ChangeRecorder | None = None  # what the file holds of self._world
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
            fd = os.open(self.path, os.O_RDWR | O_CLOEXEC)
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
            world, saved_nonces = self._read(fd, app)
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

    def _read(self, fd: int, app: FakeApp) -> tuple[World, list]:
        """The World and the nonces in the file open as `fd`, which is locked first."""
        self._lock_file(fd)
        if not self._same_file(fd):
            raise _Retry()
        doc, saved_nonces = parse(read_all(fd), f"state file {self.path}")
        try:
            world = World.from_dict(doc, app.fixtures.phones, **getattr(app, "_world_options", {}))
        except (DomainError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise StateFileError(f"state file {self.path}: not a state this toolkit can load: {exc}") from None
        return world, saved_nonces

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
                    datasync(self._fd)
            except OSError:
                pass
            finally:
                os.close(self._fd)
                self._fd = None
                self._world = self._recorder = None

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
            if world is not self._world or self._recorder is None or self._stale or self._compaction_due():
                self._snapshot(world)
            else:
                try:
                    record = self._recorder.record(world)
                except Exception:
                    self._stale = True  # the touched keys are gone: a snapshot must follow
                    raise
                if record:
                    self._append(self._fd, record_line(record))
                if self._unsynced:
                    self._sync(self._fd)
            self.saves += 1

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
        data = snapshot_line(world.to_dict(), nonces)
        fd = self._write_into_place(data, create)
        if self._fd is not None:
            os.close(self._fd)  # the old file: its lock goes with it, the new one is held
        self._fd, self._size = fd, len(data)
        self._snapshot_bytes, self._log_bytes = len(data), 0
        self._world, self._stale, self._unsynced = world, False, False
        self._recorder = ChangeRecorder(world)
        self.snapshots += 1

    def _write_into_place(self, data: bytes, create: bool) -> int:
        """Write `data` to a temporary file beside the path, fsync and lock it, then rename
        it over the path (with `create`: link it, only if the path is still free) and
        fsync the folder. Returns the new file's descriptor, open and locked."""
        directory = self.path.parent
        try:
            # mkstemp: a unique name created 0600, since the state holds OAuth secrets
            fd, temp = tempfile.mkstemp(prefix=self._temp_prefix, suffix=TEMP_SUFFIX, dir=directory)
        except OSError as exc:
            raise StateFileError(f"state file {self.path}: cannot write it: {exc.strerror or exc}") from exc
        try:
            try:
                write_all(fd, data)
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
                fsync_directory(directory)  # makes the rename itself durable
            except OSError as exc:
                raise StateFileError(f"state file {self.path}: cannot write it: {exc.strerror or exc}") from exc
        except BaseException:
            os.close(fd)
            unlink_quietly(temp)
            raise
        return fd

    def _append(self, fd: int, data: bytes) -> None:
        """Append one line to the open file `fd` (`self._fd`). On failure the file is cut
        back to its last whole line and the next save writes a whole snapshot (which also
        holds what this line held)."""
        try:
            write_all(fd, data)
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
            datasync(fd)
        except OSError as exc:
            self._stale = True
            raise StateFileError(f"state file {self.path}: cannot write it: {exc.strerror or exc}") from exc
        self._unsynced = False

    def _compaction_due(self) -> bool:
        # The threshold is read from the package at each check: persistence.COMPACT_MIN_BYTES
        # is the one knob (tests lower it there).
        return self._log_bytes > max(persistence.COMPACT_MIN_BYTES, 2 * self._snapshot_bytes)

    def _nonce_seen(self, key: list[str]) -> None:
        """NonceStore.listener: append the nonce now; the next save's fdatasync covers it.

        Reads change nothing and so never save; when their nonces alone have grown the
        log past the compaction threshold, the snapshot is written from here."""
        with self._lock:
            if self._fd is None:
                return
            try:
                self._append(self._fd, nonces_line(key))
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
        try:
            held = lock_exclusive(fd)
        except OSError as exc:
            raise StateFileError(f"state file {self.path}: cannot lock it: {exc.strerror or exc}") from None
        if not held:
            raise StateFileError(f"state file {self.path}: in use by another ocss-fake server "
                                 f"(one server per state file)")

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
                unlink_quietly(self.path.parent / name)
