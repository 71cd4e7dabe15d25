"""The file operations a state file's guarantees rest on: an exclusive `flock` (one
server per file or folder), whole reads and writes of a file descriptor, and the syncs
that make a write and a rename durable (fdatasync, fsync of the folder).

Every call goes through `os.` at call time, so a test can stand in for the disk (a full
one: `monkeypatch.setattr(os, "write", ...)`).
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no flock; one server per file is then the user's care
    fcntl = None  # type: ignore[assignment]  # tested as `fcntl is not None` before use

O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def lock_exclusive(fd: int) -> bool:
    """Take an exclusive `flock` on `fd` without waiting: False if another process holds
    one (another server on the same file), True once held or where there is no flock
    (Windows). Raises OSError for any other failure."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def read_all(fd: int) -> bytes:
    """The whole file open as `fd`, from its start."""
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def write_all(fd: int, data: bytes) -> None:
    """Write every byte of `data` at `fd`'s position (os.write may write fewer)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def datasync(fd: int) -> None:
    """fdatasync where the platform has it, else fsync."""
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


def fsync_directory(directory: Path) -> None:
    """Make the names in `directory` durable (a rename, a new or deleted file)."""
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


def unlink_quietly(path: str | os.PathLike) -> None:
    """Remove `path` if it can be; a leftover that stays is harmless (a stale temporary)."""
    try:
        os.unlink(path)
    except OSError:
        pass
