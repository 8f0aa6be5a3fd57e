"""One line for a failed UI action: what the CLI would print after `Error: `, never a traceback.

Gradio shows an exception that escapes a handler as a generic error (the server runs with
`show_error=False`), so every handler turns failures into text here, with the same mapping as
`rag.cli.main`: a RagError (an unreadable index, a bad setting), an embedder that cannot load,
or a failure of the machine (full disk, read-only directory) is its own one-line message; any
other exception is a bug, logged with its traceback and shown as one line that says so.
"""

from __future__ import annotations

import traceback

from embeddings.errors import EmbedderError
from rag.errors import RagError, system_error_message


def user_message(exc: BaseException) -> str | None:
    """The message `rag` prints as `Error: <message>` for `exc`; None when `exc` is a bug."""
    if isinstance(exc, (RagError, EmbedderError)):
        return str(exc)
    return system_error_message(exc)


def failure_message(exc: Exception) -> str:
    """`user_message(exc)`, or (for a bug) a line pointing at the server log, where it is printed."""
    message = user_message(exc)
    if message is not None:
        return message
    traceback.print_exception(exc)
    return f"something went wrong ({exc.__class__.__name__}); see the server log"
