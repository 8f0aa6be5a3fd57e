"""One writer per index: an exclusive, non-blocking flock on `<index>/.lock`."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import LockedError


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's writer lock; a second writer is refused at once, not queued.

    flock is released by the kernel when the process dies, so a killed ingest never
    leaves a stale lock behind.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            raise LockedError(
                f"another ingest (pid {holder}) is writing to {index_dir}; wait for it to finish"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def writer_pid(index_dir: Path) -> str | None:
    """Who holds the index's writer lock (its pid as written in the lock file), or None.

    Only for a reader that found no published index and must tell "an ingest is building it"
    from "there is none": a shared, non-blocking probe, released at once. Never call it while
    this process holds the lock (flock would report its own lock as another's).
    """
    try:
        fd = os.open(index_dir / ".lock", os.O_RDONLY)
    except OSError:  # no lock file: no writer has ever run here
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        except OSError:
            return None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
