"""Advice in error messages that the user can follow as written.

A message that says "rebuild with `rag ingest --rebuild`" acts on ./.rag-index when followed
literally; when the user named another index (--index, RAG_INDEX), the advice names it too.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from rag.config import DEFAULT_INDEX_DIR


def index_option(location: str | os.PathLike[str]) -> str:
    """`--index LOCATION ` (quoted for the shell), or '' for the default index."""
    text = str(location)
    if "://" not in text and Path(text) == DEFAULT_INDEX_DIR:
        return ""
    return f"--index {shlex.quote(text)} "


def rag_command(location: str | os.PathLike[str], command: str) -> str:
    """`rag [--index LOCATION] COMMAND`, in backquotes, for the index at `location`."""
    return f"`rag {index_option(location)}{command}`"


def rebuild_hint(location: str | os.PathLike[str], embedder: str | None = None) -> str:
    """"rebuild it with `rag [--index X] ingest --rebuild [--embedder E] PATH`"."""
    extra = f" --embedder {shlex.quote(embedder)}" if embedder else ""
    return f"rebuild it with {rag_command(location, f'ingest --rebuild{extra} PATH')}"
