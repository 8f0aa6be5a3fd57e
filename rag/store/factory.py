"""Which backend holds an index, from the location the user gives (--index or RAG_INDEX).

    ./.rag-index, /any/dir          the embedded backend: an index directory on this machine
    milvus://HOST:PORT/COLLECTION   a collection in a Milvus cluster (install `.[milvus]`)

So a user can tell at a glance where an index lives; nothing else in the program branches on it.
"""

from __future__ import annotations

import os
from pathlib import Path

from rag.errors import RagError
from rag.store.base import Store, StoreBackend
from rag.store.embedded import EmbeddedBackend

REMOTE_SCHEMES = ("milvus://", "milvus+https://")


def is_remote(location: str | os.PathLike[str]) -> bool:
    return str(location).startswith(REMOTE_SCHEMES)


def backend_for(location: str | os.PathLike[str]) -> StoreBackend:
    """The backend for a location string; an unknown scheme is a one-line error."""
    text = str(location)
    if is_remote(text):
        from rag.store.milvus import MilvusBackend  # optional and heavy: pymilvus

        return MilvusBackend(text)
    if "://" in text:
        raise RagError(f"unknown index location '{text}': give a directory or milvus://HOST:PORT/COLLECTION")
    return EmbeddedBackend(Path(text))


def open_store(location: str | os.PathLike[str]) -> Store:
    """The index at `location`, opened for reading."""
    return backend_for(location).open()
