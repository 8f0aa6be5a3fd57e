"""Defaults in one place, so the CLI, the UI and the evaluation agree on them."""

from __future__ import annotations

import os
from pathlib import Path

#: Where the index lives unless --index or RAG_INDEX says otherwise (relative to the working directory).
DEFAULT_INDEX_DIR = Path(".rag-index")
#: What `rag ingest` and a first `rag ask` read when given no paths.
DEFAULT_SEEDS_DIR = Path("seeds")

#: Chunk size and overlap in characters; chosen on the SQuAD benchmark (see README, "Chunking").
DEFAULT_CHUNK_SIZE = 500
DEFAULT_CHUNK_OVERLAP = 100

#: Files larger than this are refused (a news article is a few KB).
MAX_FILE_BYTES = 64 * 1024 * 1024
SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")


def index_dir(cli_value: str | os.PathLike[str] | None) -> Path | str:
    """The index location: --index, else $RAG_INDEX, else ./.rag-index.

    A store URI (milvus://HOST:PORT/COLLECTION) is kept as written: a Path would fold its '//'.
    """
    value = cli_value or os.environ.get("RAG_INDEX")
    if not value:
        return DEFAULT_INDEX_DIR
    return str(value) if "://" in str(value) else Path(value)


def display_path(source: str) -> str:
    """A source path relative to the working directory when it lies under it."""
    try:
        return str(Path(source).relative_to(Path.cwd()))
    except ValueError:
        return source
