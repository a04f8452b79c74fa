"""One writer at a time on a dataset folder: an OS lock on a file, held for the whole run.

The lock is the operating system's (``flock`` on POSIX, ``msvcrt.locking`` on
Windows), not the file's existence: it is released when the holder exits,
however it dies, so a lock left behind by a killed run is simply taken over.
The file records the holder's pid and host, only to say who holds it.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from .errors import StatsigError

__all__ = ["DatasetLock"]

LOCK_FILE = ".statsig.lock"

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


class DatasetLock:
    """Hold ``root/.statsig.lock`` exclusively, or refuse at once with a :class:`StatsigError`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder, DatasetLock(folder):
    ...     DatasetLock(folder).acquire()
    Traceback (most recent call last):
    ...
    statsig_pandas.errors.StatsigError: ...another to_parquet run (pid ...) is writing this dataset...
    """

    def __init__(self, root: str | os.PathLike):
        self.path = Path(root) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> DatasetLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "unknown"
            os.close(fd)
            raise StatsigError(f"{self.path.parent}: another to_parquet run ({holder}) is writing this dataset; "
                               "wait for it to finish (a run that died releases the lock by itself)")
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                _unlock(fd)
            finally:
                os.close(fd)

    def __enter__(self) -> DatasetLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
