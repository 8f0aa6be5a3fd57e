"""Errors the user can act on: the CLI prints them as one line, without a traceback."""


class RagError(Exception):
    """A user-facing failure; its message is one line that says what to do."""


class IndexError_(RagError):
    """The index directory is missing, corrupt, or was built with other settings."""


class LockedError(RagError):
    """Another process is writing to the index."""
