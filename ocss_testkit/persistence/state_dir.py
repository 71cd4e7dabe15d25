"""A folder of state files, one per tenant (`ocss-fake serve --state-dir DIR`; tenants.py)."""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from ocss_testkit.persistence.durable_io import O_CLOEXEC, fsync_directory, lock_exclusive, unlink_quietly
from ocss_testkit.persistence.log_format import StateFileError
from ocss_testkit.persistence.state_file import StateFile

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
            fd = os.open(self.path / DIR_LOCK, os.O_RDWR | os.O_CREAT | O_CLOEXEC, 0o600)
        except OSError as exc:
            raise StateFileError(f"state folder {self.path}: cannot write in it: {exc.strerror or exc}") from None
        self._lock(fd)
        self._lock_fd = fd
        for name in os.listdir(self.path):
            if _DIR_TEMPORARY.fullmatch(name):
                unlink_quietly(self.path / name)
        return self

    def _lock(self, fd: int) -> None:
        """Hold the folder's lock file `fd`; closes it when another server holds it."""
        try:
            held = lock_exclusive(fd)
        except OSError as exc:
            os.close(fd)
            raise StateFileError(f"state folder {self.path}: cannot lock it: {exc.strerror or exc}") from None
        if not held:
            os.close(fd)
            raise StateFileError(f"state folder {self.path}: in use by another ocss-fake server "
                                 "(one server per state folder)")

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
            fsync_directory(self.path)

    def close(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)
