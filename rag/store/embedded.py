"""An index directory, opened for reading: manifest, SQLite store and FAISS vectors together.

Layout (one directory): manifest.json naming the current generation's `store-<n>.sqlite3`
and `vectors-<n>.faiss`, plus a `.lock` file used by writers. Readers never lock: they open
the files the manifest names, and a writer only ever publishes a new generation by replacing
the manifest, so a reader sees either the old index or the new one, whole.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rag.store import database as store
from rag.errors import IndexError_
from rag.store.manifest import Manifest, read_manifest
from rag.store.vectors import VectorIndex

if TYPE_CHECKING:
    from embeddings import Embedder


def sqlite_name(generation: int) -> str:
    return f"store-{generation}.sqlite3"


def faiss_name(generation: int) -> str:
    return f"vectors-{generation}.faiss"


@dataclass
class Index:
    """A consistent, read-only view of one generation of an index."""

    directory: Path
    manifest: Manifest
    conn: sqlite3.Connection
    vectors: VectorIndex
    _embedder: "Embedder | None" = field(default=None, repr=False)

    @classmethod
    def open(cls, directory: Path) -> "Index":
        """Open the current generation; a missing, corrupt or inconsistent index is a clear error."""
        last_error: IndexError_ | None = None
        for _ in range(3):  # a writer may swap generations between our reads: retry
            manifest = read_manifest(directory)
            if manifest is None:
                raise IndexError_(f"no index at {directory}; build one with `rag ingest PATH`")
            try:
                return cls._open_generation(directory, manifest)
            except IndexError_ as exc:
                last_error = exc
                if read_manifest(directory) == manifest:
                    break
        assert last_error is not None
        raise last_error

    @classmethod
    def _open_generation(cls, directory: Path, manifest: Manifest) -> "Index":
        db_path = directory / manifest.sqlite_file
        conn = store.connect(db_path)
        version = store.schema_version(conn)
        if version != manifest.schema_version:
            conn.close()
            raise IndexError_(
                f"index store is at schema {version} but the manifest says {manifest.schema_version};"
                " rebuild with `rag ingest --rebuild`"
            )
        vectors = VectorIndex.load(directory / manifest.faiss_file, manifest.dimension)
        docs, chunks = store.counts(conn)
        if (docs, chunks) != (manifest.documents, manifest.chunks) or len(vectors) != chunks:
            conn.close()
            raise IndexError_(
                f"index at {directory} is inconsistent (manifest: {manifest.chunks} chunks, store: {chunks},"
                f" vectors: {len(vectors)}); rebuild with `rag ingest --rebuild`"
            )
        return cls(directory, manifest, conn, vectors)

    def embedder(self, requested_spec: str | None = None) -> "Embedder":
        """The embedder the index was built with; asking for another one is an error."""
        from embeddings import create_embedder

        if self._embedder is None:
            if requested_spec and requested_spec not in ("auto", self.manifest.embedder_spec):
                candidate = create_embedder(requested_spec)
                if candidate.id != self.manifest.embedder_id:
                    raise IndexError_(
                        f"this index was built with embedder {self.manifest.embedder_id}, not {candidate.id};"
                        f" rebuild it with `rag ingest --rebuild --embedder {requested_spec}`"
                    )
                self._embedder = candidate
            else:
                self._embedder = create_embedder(self.manifest.embedder_spec)
            if self._embedder.id != self.manifest.embedder_id or self._embedder.dimension != self.manifest.dimension:
                raise IndexError_(
                    f"embedder {self._embedder.id} (dim {self._embedder.dimension}) does not match the index"
                    f" ({self.manifest.embedder_id}, dim {self.manifest.dimension}); rebuild with `rag ingest --rebuild`"
                )
        return self._embedder

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
