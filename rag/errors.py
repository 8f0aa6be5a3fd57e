"""Errors the user can act on: the CLI prints them as one line, without a traceback."""


class RagError(Exception):
    """A user-facing failure; its message is one line that says what to do."""


class IndexError_(RagError):
    """The index directory is missing, corrupt, or was built with other settings."""


class LockedError(RagError):
    """Another process is writing to the index."""


def system_error_message(exc: BaseException) -> str | None:
    """One line for a failure of the machine rather than of rag: a full disk, a read-only or
    unwritable directory, a file that vanished. None when `exc` is not one of those."""
    import errno  # stdlib, only on the error path
    import sqlite3  # stdlib, only on the error path

    if isinstance(exc, sqlite3.Error):
        text = str(exc).lower()
        if "full" in text:
            return "the disk holding the index is full; free some space and try again (the published index is unchanged)"
        if "readonly" in text or "read-only" in text:
            return "the index is on a read-only file system or directory; ingest needs to write there (asking works)"
        if "locked" in text or "busy" in text:
            return "the index database is busy (another process is writing); try again in a moment"
        return f"the index database failed ({exc}); `rag info` checks it"
    if not isinstance(exc, OSError) or isinstance(exc, (ConnectionError, TimeoutError)):
        return None
    where = f" {exc.filename}" if exc.filename else ""
    reason = exc.strerror or exc.__class__.__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left to write{where}; free some space and try again (the published index is unchanged)"
    if exc.errno == errno.EROFS:
        return f"cannot write{where}: the file system is read-only; ingest needs a writable index directory (asking works)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"cannot write{where}: permission denied; ingest needs a writable index directory (asking works)"
    return f"cannot use{where}: {reason}"
