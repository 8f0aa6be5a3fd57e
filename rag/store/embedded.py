"""The embedded backend: one index directory on this machine (the default).

Layout: manifest.json naming the current generation's `store-<n>.sqlite3` (documents, chunks,
FTS5 for BM25) and `vectors-<n>.faiss` (vectors keyed by chunk id), plus a `.lock` file used
by writers. Readers never lock: they open the files the manifest names. A write copies the
current generation, applies every change in one SQLite transaction, saves the vectors beside
it, and publishes the new generation by replacing the manifest, so a reader sees either the
old index or the new one, whole, and a crash or Ctrl-C mid-write loses nothing.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexError_, LockedError, RagError
from rag.store import database, filter_sql
from rag.store.base import (
    ChunkRow,
    ChunkSentences,
    IndexSettings,
    SignatureKeys,
    Store,
    StoreBackend,
    StoredChunk,
    StoredDocument,
    StoreWriter,
)
from rag.store.filters import DocumentFilter
from rag.store.hints import rag_command, rebuild_hint
from rag.store.locking import writer_lock, writer_pid
from rag.store.manifest import MANIFEST_NAME, Manifest, read_manifest, recover_hint, write_manifest
from rag.store.recovery import (
    copy_name,
    faiss_name,
    generation_numbers,
    has_index_files,
    manifest_state,
    never_published,
    newest_intact,
    sqlite_name,
)
from rag.store.signature_keys import SqliteSignatureKeys
from rag.store.vectors import VectorIndex

#: Filters whose admitted documents an open snapshot remembers (a chat or the UI keeps one).
FILTERS_KEPT = 16

__all__ = ["EmbeddedBackend", "EmbeddedStore", "EmbeddedWriter", "faiss_name", "sqlite_name", "settings_of"]


def check_directory(directory: Path) -> None:
    """An index location that exists must be a directory (a file there is a one-line error)."""
    if directory.exists() and not directory.is_dir():
        raise IndexError_(f"{directory} is a file, not an index directory; give --index (or RAG_INDEX) a directory")


def lost_manifest_error(directory: Path, why: str) -> IndexError_:
    """A directory with generation files but no usable manifest: refused, never overwritten."""
    newest = max(generation_numbers(directory), default=0)
    return IndexError_(
        f"{directory} holds index files (generation {newest}) but {why.rstrip('.')}; nothing was changed:"
        f" {recover_hint(directory)}"
    )


def read_current(directory: Path) -> Manifest | None:
    """The published manifest; None when the directory holds no index: nothing at all, or only
    what a first ingest left when it was killed before publishing (the next ingest takes over)."""
    check_directory(directory)
    manifest = read_manifest(directory)
    if manifest is None and has_index_files(directory) and not never_published(directory):
        raise lost_manifest_error(directory, "no manifest.json")
    return manifest


def read_published(directory: Path) -> Manifest | None:
    """read_current for a reader (never a writer holding the lock): with no manifest yet while an
    ingest holds the writer lock, the index is being built, which is said, not "recover or rebuild"."""
    check_directory(directory)
    if not (directory / MANIFEST_NAME).exists():
        holder = writer_pid(directory)
        if holder is not None:
            raise LockedError(f"an ingest (pid {holder}) is building the index at {directory};"
                              " wait for it to finish, then try again")
    return read_current(directory)


def damaged_error(directory: Path, manifest: Manifest, chunks: int, vectors: int) -> IndexError_:
    """The published files disagree (a store emptied or truncated, vectors from elsewhere)."""
    return IndexError_(
        f"the index at {directory} is damaged: its files are inconsistent (manifest: {manifest.chunks} chunks,"
        f" store: {chunks}, vectors: {vectors}); {rebuild_hint(directory)}"
    )


def settings_of(manifest: Manifest) -> IndexSettings:
    return IndexSettings(
        embedder_spec=manifest.embedder_spec,
        embedder_id=manifest.embedder_id,
        dimension=manifest.dimension,
        chunk_size=manifest.chunk_size,
        chunk_overlap=manifest.chunk_overlap,
        model_sha256=manifest.model_sha256,
    )


class EmbeddedStore(Store):
    """A consistent, read-only view of one generation of an index directory."""

    backend = "embedded"

    def __init__(self, directory: Path, manifest: Manifest, conn: sqlite3.Connection, vectors: VectorIndex) -> None:
        self.directory = directory
        self.location = str(directory)
        self.manifest = manifest
        self.settings = settings_of(manifest)
        self.conn = conn
        self.vectors = vectors
        self._embedder = None
        #: filter -> the documents it admits, and document ids -> their chunk ids: a snapshot
        #: never changes, so a filter kept across questions is worked out once.
        self._matching: dict[DocumentFilter, frozenset[int]] = {}
        self._within_chunks: dict[frozenset[int], list[int]] = {}

    @classmethod
    def open(cls, directory: Path) -> "EmbeddedStore":
        """Open the current generation; a missing, corrupt or inconsistent index is a clear error."""
        last_error: IndexError_ | None = None
        for _ in range(3):  # a writer may swap generations between our reads: retry
            manifest = read_published(directory)
            if manifest is None:
                stopped = " yet (an ingest stopped before finishing it)" if has_index_files(directory) else ""
                raise IndexError_(f"no index at {directory}{stopped}; build one with {rag_command(directory, 'ingest PATH')}")
            try:
                return cls._open_generation(directory, manifest)
            except IndexError_ as exc:
                last_error = exc
                if read_manifest(directory) == manifest:
                    break
        assert last_error is not None
        raise last_error

    @classmethod
    def _open_generation(cls, directory: Path, manifest: Manifest) -> "EmbeddedStore":
        conn = database.connect(directory / manifest.sqlite_file)
        version = database.schema_version(conn)  # connect() has applied any newer, additive migrations
        if version < manifest.schema_version:
            conn.close()
            raise IndexError_(
                f"index store is at schema {version} but the manifest says {manifest.schema_version};"
                f" the index at {directory} is damaged: {rebuild_hint(directory)}"
            )
        vectors = VectorIndex.load(directory / manifest.faiss_file, manifest.dimension)
        docs, chunks = database.counts(conn)
        if (docs, chunks) != (manifest.documents, manifest.chunks) or len(vectors) != chunks:
            conn.close()
            raise damaged_error(directory, manifest, chunks, len(vectors))
        return cls(directory, manifest, conn, vectors)

    def counts(self) -> tuple[int, int]:
        return self.manifest.documents, self.manifest.chunks

    def documents(self) -> dict[str, StoredDocument]:
        return database.documents(self.conn)

    def document(self, document_id: int) -> StoredDocument:
        return database.document(self.conn, document_id)

    def document_text(self, document_id: int) -> str:
        return database.document_text(self.conn, document_id)

    def text_before(self, document_id: int, position: int, limit: int) -> str:
        return database.text_before(self.conn, document_id, position, limit)

    def get_chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        return database.get_chunks(self.conn, ids)

    def lexical_search(self, query: str, limit: int, within: Collection[int] | None = None) -> list[tuple[int, float]]:
        return database.bm25_search(self.conn, query, limit, self.manifest.chunks, within)

    def dense_search(self, vector: np.ndarray, limit: int, within: Collection[int] | None = None) -> list[tuple[int, float]]:
        if within is None:
            return self.vectors.search(vector, limit)
        return self.vectors.search(vector, limit, allowed=self._chunks_of(within))

    def matching_documents(self, where: DocumentFilter) -> frozenset[int]:
        """One SQL query over indexed columns (rag.store.filter_sql), remembered per filter."""
        found = self._matching.get(where)
        if found is None:
            found = filter_sql.matching_documents(self.conn, where)
            _remember(self._matching, where, found)
        return found

    def _chunks_of(self, document_ids: Collection[int]) -> list[int]:
        key = document_ids if isinstance(document_ids, frozenset) else frozenset(document_ids)
        found = self._within_chunks.get(key)
        if found is None:
            found = database.chunk_ids_of(self.conn, key)
            _remember(self._within_chunks, key, found)
        return found

    def document_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        return database.document_frequencies(self.conn, list(terms))

    def sentence_vectors(self, chunk_ids: Sequence[int]) -> dict[int, ChunkSentences]:
        return database.sentences(self.conn, chunk_ids, self.settings.dimension)

    def describe(self) -> dict[str, Any]:
        m = self.manifest
        files = [self.directory / m.sqlite_file, self.directory / m.faiss_file, self.directory / MANIFEST_NAME]
        return {
            "index_type": m.index_type,
            "size_bytes": sum(f.stat().st_size for f in files if f.exists()),
            "schema_version": m.schema_version,
            "built_at": m.built_at,
            "generation": m.generation,
            "versions": m.versions,
        }

    def close(self) -> None:
        self.conn.close()


def _remember(cache: dict[Any, Any], key: object, value: object) -> None:
    """Keep the FILTERS_KEPT latest entries."""
    cache[key] = value
    while len(cache) > FILTERS_KEPT:
        del cache[next(iter(cache))]


class EmbeddedWriter(StoreWriter):
    """The working copy of a new generation: SQLite changes in one transaction, vectors in memory."""

    def __init__(self, conn: sqlite3.Connection, vectors: VectorIndex) -> None:
        self.conn = conn
        self.vectors = vectors
        self.removed: list[int] = []
        self.keys = SqliteSignatureKeys(conn)

    def documents(self) -> dict[str, StoredDocument]:
        return database.documents(self.conn)

    def chunk_count(self, document_id: int) -> int:
        return len(database.chunk_ids_for(self.conn, document_id))

    def chunk_hashes(self, document_id: int) -> dict[str, int]:
        return database.chunk_hashes_for(self.conn, document_id)

    def vectors_for(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]:
        found = {cid: self.vectors.reconstruct(cid) for cid in chunk_ids}
        return {cid: v for cid, v in found.items() if v is not None}

    def sentences_for(self, chunk_ids: Sequence[int]) -> dict[int, ChunkSentences]:
        return database.sentences(self.conn, chunk_ids, self.vectors.dimension)

    def delete_document(self, document_id: int) -> int:
        ids = database.chunk_ids_for(self.conn, document_id)
        self.keys.deleting(document_id)
        database.delete_document(self.conn, document_id)
        self.removed.extend(ids)
        return len(ids)

    def add_document(
        self,
        *,
        source: str,
        title: str,
        outlet: str | None,
        published: str | None,
        fingerprint: str,
        text: str,
        chunks: Sequence[ChunkRow],
        vectors: np.ndarray,
        authors: Sequence[str] = (),
        url: str | None = None,
        signature: bytes | None = None,
        sentences: Sequence[ChunkSentences | None] | None = None,
    ) -> list[int]:
        if len(vectors) != len(chunks) or (sentences is not None and len(sentences) != len(chunks)):
            raise RagError(f"internal error: {len(chunks)} chunks but {len(vectors)} vectors for {source}")
        doc_id = database.insert_document(
            self.conn, source=source, title=title, outlet=outlet, published=published, fingerprint=fingerprint,
            text=text, authors=authors, url=url, signature=signature,
        )
        ids = database.insert_chunks(self.conn, doc_id, ((c.ordinal, c.start, c.end, c.text, c.text_hash) for c in chunks))
        if ids:
            self.vectors.add(np.asarray(ids, dtype=np.int64), vectors)
        if sentences is not None:
            database.insert_sentences(self.conn, ((cid, s) for cid, s in zip(ids, sentences) if s is not None))
        return ids

    def counts(self) -> tuple[int, int]:
        return database.counts(self.conn)

    def signatures(self) -> dict[int, bytes]:
        return database.signatures(self.conn)

    def set_groups(self, groups: dict[int, int | None]) -> None:
        database.set_groups(self.conn, groups)

    def signature_keys(self) -> SignatureKeys:
        return self.keys


class EmbeddedBackend(StoreBackend):
    """An index directory on this machine."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.location = str(directory)

    def settings(self) -> IndexSettings | None:
        manifest = read_published(self.directory)
        return settings_of(manifest) if manifest else None

    def open(self) -> EmbeddedStore:
        return EmbeddedStore.open(self.directory)

    @contextmanager
    def writer(self, settings: IndexSettings, *, rebuild: bool = False) -> Iterator[StoreWriter]:
        directory = self.directory
        check_directory(directory)
        with writer_lock(directory):
            previous = _previous_for_rebuild(directory) if rebuild else read_current(directory)
            if previous is not None and not rebuild and previous.embedder_id != settings.embedder_id:
                raise RagError(f"internal error: writing {settings.embedder_id} vectors into a {previous.embedder_id} index")
            base = None if rebuild else previous
            # Never reuse a number a file here already has (a rebuild over unusable generations).
            generation = max([previous.generation if previous else 0, *generation_numbers(directory)]) + 1
            new_files = [directory / sqlite_name(generation), directory / faiss_name(generation),
                         directory / copy_name(generation)]
            published = False
            try:
                conn = _working_copy(directory, base, generation)
                try:
                    vectors = (
                        VectorIndex.load(directory / base.faiss_file, base.dimension)
                        if base is not None
                        else VectorIndex.empty(settings.dimension)
                    )
                    if base is not None:
                        _check_base(directory, base, conn, vectors)
                    writer = EmbeddedWriter(conn, vectors)
                    with database.transaction(conn):
                        yield writer
                    vectors.remove(writer.removed)
                    docs, chunks = database.counts(conn)
                    schema = database.schema_version(conn)
                finally:
                    conn.close()
                if len(vectors) != chunks:
                    raise RagError(f"internal error: {chunks} chunks but {len(vectors)} vectors; index left unchanged")
                vectors.maybe_make_approximate()
                vectors.save(directory / faiss_name(generation))
                manifest = Manifest(
                    generation=generation,
                    sqlite_file=sqlite_name(generation),
                    faiss_file=faiss_name(generation),
                    schema_version=schema,
                    embedder_spec=settings.embedder_spec,
                    embedder_id=settings.embedder_id,
                    dimension=settings.dimension,
                    chunk_size=settings.chunk_size,
                    chunk_overlap=settings.chunk_overlap,
                    documents=docs,
                    chunks=chunks,
                    index_type=vectors.kind,
                    built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    versions=_versions(),
                    model_sha256=settings.model_sha256,
                )
                # The generation keeps its own copy, so losing manifest.json loses nothing.
                write_manifest(directory, manifest, name=copy_name(generation))
                write_manifest(directory, manifest)
                published = True
            finally:
                if not published:
                    _discard(new_files)
            _remove_stale_generations(directory, keep={p.name for p in new_files})


def _check_base(directory: Path, base: Manifest, conn: sqlite3.Connection, vectors: VectorIndex) -> None:
    """The generation a write builds on must agree with its manifest: a damaged store is said
    to be damaged, with how to recover, and never carried into a new generation."""
    docs, chunks = database.counts(conn)
    if (docs, chunks) != (base.documents, base.chunks) or len(vectors) != base.chunks:
        raise damaged_error(directory, base, chunks, len(vectors))


def _discard(paths: Sequence[Path]) -> None:
    """A write that did not publish leaves nothing behind: its files, their `.tmp` halves, and
    the `-journal` SQLite leaves when a transaction cannot finish (a full disk)."""
    for path in paths:
        for leftover in (path, path.with_name(path.name + ".tmp"), path.with_name(path.name + "-journal")):
            leftover.unlink(missing_ok=True)


def _previous_for_rebuild(directory: Path) -> Manifest | None:
    """What a rebuild replaces; refused when that would destroy an index that still works.

    With a usable manifest the user asked to replace that index, unless its store was written
    by a newer rag. Without one, the rebuild goes ahead only if no generation here checks out
    (otherwise `rag index recover` brings it back, and a rebuild would delete it).
    """
    manifest, why = manifest_state(directory)  # a newer manifest version raises: never replaced
    if manifest is not None:
        version = _schema_on_disk(directory / manifest.sqlite_file)
        if version is not None and version > database.SCHEMA_VERSION:
            raise IndexError_(f"{directory} was written by a newer rag (schema {version}); upgrade rag"
                              " (a rebuild would replace it)")
        return manifest
    if not has_index_files(directory):
        return None
    intact, _ = newest_intact(directory)
    if intact is not None:
        raise IndexError_(
            f"{directory} has no usable manifest ({(why or '').rstrip('.')}) but generation {intact.generation}"
            f" ({intact.documents} documents, {intact.chunks} chunks) is intact; a rebuild would replace it:"
            f" recover it with {rag_command(directory, 'index recover')}"
        )
    return None


def _schema_on_disk(path: Path) -> int | None:
    """The schema version of a store file, read without changing it (None if unreadable)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return None
    try:
        return database.schema_version(conn)
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def _working_copy(directory: Path, base: Manifest | None, generation: int) -> sqlite3.Connection:
    target = directory / sqlite_name(generation)
    for stale in (target, target.with_name(target.name + "-journal")):
        stale.unlink(missing_ok=True)
    if base is not None:
        source = sqlite3.connect(directory / base.sqlite_file)
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            source.close()
            dest.close()
    return database.connect(target, create=True)


def _remove_stale_generations(directory: Path, keep: set[str]) -> None:
    """Old generations (and leftovers of a killed write) are deleted once a new one is live.

    A reader that already opened an old file keeps reading it: on POSIX the data stays until
    the last descriptor closes.
    """
    for path in directory.iterdir():
        if path.name in keep:
            continue
        if (path.name.startswith("store-") or path.name.startswith("vectors-")) and path.is_file():
            path.unlink(missing_ok=True)


def _versions() -> dict[str, str]:
    from importlib.metadata import (  # only when a write publishes
        PackageNotFoundError,
        version,
    )

    out = {"python": sys.version.split()[0]}
    for name in ("rag-news", "faiss-cpu", "numpy", "sentence-transformers", "onnxruntime"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out
