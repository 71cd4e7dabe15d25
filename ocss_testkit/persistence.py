"""A state file for the standalone fake (`ocss-fake serve --state-file PATH`).

The whole World is written as one JSON document (the `/_fake/state` format, state.py)
after every change, from `FakeApp.on_change`: that hook runs with the World's lock held
and before the answer leaves, so whatever a client saw acknowledged is on disk first,
and writes happen in the order the changes did.

Each save is atomic: a temporary file in the same directory, flushed and fsynced, then
`os.replace`d onto the path and the directory fsynced. A reader (or a restart after
SIGKILL or a power cut) sees the old document or the new one, never a torn one.
"""
from __future__ import annotations

import errno
import json
import os
import tempfile
import threading
from pathlib import Path

from .model.errors import DomainError
from .model.world import World

TEMP_SUFFIX = ".tmp"


class StateFileError(Exception):
    """A state file that cannot be read, loaded or written; the message names the file."""


class StateFile:
    """One JSON state file. `load(app)` once at start, then `app.on_change = self.save`."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).absolute()
        self.saves = 0
        # Saves of one World are serialized by its lock; this keeps saves of two Worlds (a
        # reset swapping one in while a request finishes on the old) from overlapping too.
        self._lock = threading.Lock()

    @property
    def _temp_prefix(self) -> str:
        return f".{self.path.name}."

    def load(self, app) -> bool:
        """Give `app` the World in the file; True if there was one.

        A missing file means a fresh start: the app keeps the World of its fixture set and
        the file is written at once (so a bad path fails now, not on the first change).
        A file that exists but does not load is an error and is left exactly as it is:
        overwriting it would destroy the state someone wanted kept.
        """
        self._remove_stale_temporaries()
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self.save(app.world)
            return False
        except OSError as exc:
            raise StateFileError(f"state file {self.path}: cannot read it: {exc.strerror or exc}") from None
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise StateFileError(f"state file {self.path}: not a JSON document: {exc}") from None
        try:
            # the app's own World options (outbox limit), as FakeApp.replace_state uses
            world = World.from_dict(data, app.fixtures.phones, **getattr(app, "_world_options", {}))
        except (DomainError, ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise StateFileError(f"state file {self.path}: not a state this toolkit can load: {exc}") from None
        app.world = world
        return True

    def install(self, app) -> StateFile:
        """Load the file into `app`, then save every change it makes."""
        self.load(app)
        app.on_change = self.save
        return self

    def save(self, world: World) -> None:
        """Write `world` atomically (temporary file, fsync, rename, fsync of the directory).

        Called with the World's lock held (FakeApp.on_change), so the document is a
        consistent snapshot and saves land in the order the changes were made.
        """
        with world.lock:
            data = json.dumps(world.to_dict(), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with self._lock:
            try:
                self._write(data)
            except OSError as exc:
                raise StateFileError(f"state file {self.path}: cannot write it: {exc.strerror or exc}") from exc
            self.saves += 1

    def _write(self, data: bytes) -> None:
        directory = self.path.parent
        # mkstemp: a unique name (no two writers share one) created 0600, since the state
        # holds OAuth secrets.
        fd, temp = tempfile.mkstemp(prefix=self._temp_prefix, suffix=TEMP_SUFFIX, dir=directory)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except BaseException:
            try:
                os.unlink(temp)
            except OSError:
                pass
            raise
        _fsync_directory(directory)  # makes the rename itself durable

    def _remove_stale_temporaries(self) -> None:
        """A process killed mid-save leaves its temporary file behind; the rename never
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
