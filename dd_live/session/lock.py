"""The session lock: one daemon serves a session at a time."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError

LOCK_NAME = "lock"


class SessionBusy(InputError):
    """The session is served by another process."""


class SessionLock:
    """An OS file lock on ``folder/lock``, held for a daemon's life (fcntl.flock, or msvcrt on Windows).

    The kernel releases it when the process dies, so a killed daemon's lock is simply taken over.
    The file holds the holder's PID, for the message a second daemon prints. The session folder itself is
    locked too (where the system can lock a folder), so deleting the lock file lets no second daemon in.
    """

    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / LOCK_NAME
        self._fd: int | None = None
        self._dir_fd: int | None = None

    def acquire(self) -> SessionLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise InputError(f"cannot open {self.path}: {err.strerror or err}") from err
        dir_fd = _open_dir(self.path.parent)
        try:
            _lock_fd(fd)
            if dir_fd is not None:
                _lock_fd(dir_fd)
        except OSError:
            holder = _read_pid(fd)
            os.close(fd)
            if dir_fd is not None:
                os.close(dir_fd)
            who = f"PID {holder}" if holder else "another process"
            raise SessionBusy(f"session {self.path.parent} is in use by {who}; stop that dd-live first, "
                              "or use another --session") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd, self._dir_fd = fd, dir_fd
        return self

    def release(self) -> None:
        """Idempotent."""
        dir_fd, self._dir_fd = self._dir_fd, None
        if dir_fd is not None:
            os.close(dir_fd)
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.ftruncate(fd, 0)
            finally:
                os.close(fd)  # closing the descriptor releases the lock

    @property
    def held(self) -> bool:
        return self._fd is not None

    @staticmethod
    def holder(folder: Path) -> int | None:
        """The PID serving ``folder``, or None if nobody holds its lock."""
        path = Path(folder) / LOCK_NAME
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError:
            fd = None
        dir_fd = _open_dir(Path(folder))
        try:
            for f in (fd, dir_fd):
                if f is None:
                    continue
                try:
                    _lock_fd(f)
                except OSError:
                    return (_read_pid(fd) if fd is not None else None) or -1
                _unlock_fd(f)
            return None
        finally:
            for f in (fd, dir_fd):
                if f is not None:
                    os.close(f)


def _open_dir(folder: Path) -> int | None:
    """A descriptor of ``folder`` to lock, or None where folders cannot be opened (Windows)."""
    if os.name == "nt":  # pragma: no cover - Windows
        return None
    try:
        return os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


if os.name == "nt":  # pragma: no cover - Windows
    import msvcrt

    def _lock_fd(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)

    def _unlock_fd(fd: int) -> None:
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _lock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock_fd(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
