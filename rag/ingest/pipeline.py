"""Build or update an index from files, atomically and incrementally.

A run copies the current SQLite generation, applies every change in one transaction, updates
the vectors, writes both as a new generation, and publishes it by replacing manifest.json.
Until that rename the previous index stays the current one, so a crash or Ctrl-C loses
nothing. Unchanged files cost no embedding; chunks whose text is unchanged inside a changed
file reuse their stored vectors.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.store import database as store
from rag.ingest.chunking import chunk_text
from rag.ingest.cleaning import CLEANER_VERSION, clean_news_text
from rag.config import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE
from rag.errors import RagError
from rag.store.embedded import faiss_name, sqlite_name
from rag.ingest.loading import Skipped, discover, read_document
from rag.store.locking import writer_lock
from rag.store.manifest import Manifest, read_manifest, write_manifest
from rag.store.vectors import VectorIndex

if TYPE_CHECKING:
    from embeddings import Embedder

EMBED_BATCH = 256


@dataclass
class IngestReport:
    """What an ingest did; printed as the summary and returned as JSON."""

    files: int = 0
    documents_new: int = 0
    documents_updated: int = 0
    documents_removed: int = 0
    documents_unchanged: int = 0
    chunks_new: int = 0
    chunks_removed: int = 0
    chunks_unchanged: int = 0
    chunks_embedded: int = 0
    chunks_reused: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    embedder: str = ""
    documents_total: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    index_dir: str = ""


def _fingerprint(digest: str, size: int, overlap: int) -> str:
    """Changes when the file or anything that shapes its chunks changes."""
    return f"{digest}:c{CLEANER_VERSION}:s{size}:o{overlap}"


def _text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _embedding_input(title: str, text: str) -> str:
    """What the embedder sees for a chunk: the article's headline, then the chunk."""
    return text if text.startswith(title) else f"{title}\n\n{text}"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": sys.version.split()[0]}
    for name in ("rag-news", "faiss-cpu", "numpy", "sentence-transformers"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


class _PendingEmbeddings:
    """Chunks waiting for vectors, embedded in batches so the model runs at full speed."""

    def __init__(self, embedder: "Embedder", vectors: VectorIndex, report: IngestReport) -> None:
        self.embedder, self.vectors, self.report = embedder, vectors, report
        self.ids: list[int] = []
        self.texts: list[str] = []

    def add(self, chunk_id: int, text: str) -> None:
        self.ids.append(chunk_id)
        self.texts.append(text)
        if len(self.ids) >= EMBED_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.ids:
            return
        started = time.perf_counter()
        matrix = self.embedder.encode_documents(self.texts)
        self.report.embed_seconds += time.perf_counter() - started
        self.vectors.add(np.asarray(self.ids, dtype=np.int64), matrix)
        self.report.chunks_embedded += len(self.ids)
        self.ids, self.texts = [], []


def _resolve_embedder(previous: Manifest | None, spec: str | None, rebuild: bool) -> "Embedder":
    from embeddings import create_embedder

    if previous is not None and not rebuild:
        if spec and spec != "auto" and spec != previous.embedder_spec:
            candidate = create_embedder(spec)
            if candidate.id != previous.embedder_id:
                raise RagError(
                    f"this index was built with embedder {previous.embedder_id}; to switch to {candidate.id},"
                    f" rebuild it: `rag ingest --rebuild --embedder {spec}`"
                )
            return candidate
        embedder = create_embedder(previous.embedder_spec)
        if embedder.id != previous.embedder_id:
            raise RagError(
                f"embedder {previous.embedder_spec} now loads as {embedder.id}, not {previous.embedder_id};"
                " rebuild with `rag ingest --rebuild`"
            )
        return embedder
    return create_embedder(spec or "auto")


def _open_working_copy(index_dir: Path, previous: Manifest | None, generation: int, rebuild: bool) -> sqlite3.Connection:
    target = index_dir / sqlite_name(generation)
    for stale in (target, target.with_name(target.name + "-journal")):
        stale.unlink(missing_ok=True)
    if previous is not None and not rebuild:
        source = sqlite3.connect(index_dir / previous.sqlite_file)
        dest = sqlite3.connect(target)
        try:
            source.backup(dest)
        finally:
            source.close()
            dest.close()
    return store.connect(target, create=True)


def ingest(
    paths: Sequence[Path],
    index_dir: Path,
    *,
    embedder_spec: str | None = None,
    chunk_size: int | None = None,
    chunk_overlap: int | None = None,
    rebuild: bool = False,
    prune: bool = False,
    progress: bool = True,
    warn: Callable[[str], None] = lambda msg: print(f"Warning: {msg}", file=sys.stderr),
) -> IngestReport:
    """Sync the index with the files under `paths`.

    Files found are added or updated; documents whose file lay under one of `paths` and no
    longer exists are removed; with `prune`, every document whose file is gone is removed.
    """
    started = time.perf_counter()
    report = IngestReport(index_dir=str(index_dir))
    created = not index_dir.exists()
    try:
        _ingest_locked(paths, index_dir, embedder_spec, chunk_size, chunk_overlap, rebuild, prune, progress, warn, report)
    except BaseException:
        if created and _published_manifest(index_dir) is None:
            # A first ingest that failed leaves no empty index directory behind.
            shutil.rmtree(index_dir, ignore_errors=True)
        raise
    report.seconds = time.perf_counter() - started
    return report


def _published_manifest(index_dir: Path) -> Manifest | None:
    try:
        return read_manifest(index_dir)
    except RagError:
        return None


def _ingest_locked(
    paths: Sequence[Path],
    index_dir: Path,
    embedder_spec: str | None,
    chunk_size: int | None,
    chunk_overlap: int | None,
    rebuild: bool,
    prune: bool,
    progress: bool,
    warn: Callable[[str], None],
    report: IngestReport,
) -> None:
    with writer_lock(index_dir):
        previous = read_manifest(index_dir)
        if previous is not None and not rebuild:
            size = chunk_size or previous.chunk_size
            overlap = chunk_overlap if chunk_overlap is not None else previous.chunk_overlap
        else:
            size = chunk_size or DEFAULT_CHUNK_SIZE
            overlap = chunk_overlap if chunk_overlap is not None else DEFAULT_CHUNK_OVERLAP
        if size <= 0 or not 0 <= overlap < size:
            raise RagError(f"chunk overlap must be in [0, chunk size): got size {size}, overlap {overlap}")
        embedder = _resolve_embedder(previous, embedder_spec, rebuild)
        report.embedder = embedder.id
        generation = (previous.generation + 1) if previous else 1
        new_files = [index_dir / sqlite_name(generation), index_dir / faiss_name(generation)]
        published = False
        try:
            conn = _open_working_copy(index_dir, previous, generation, rebuild)
            if previous is not None and not rebuild:
                vectors = VectorIndex.load(index_dir / previous.faiss_file, previous.dimension)
            else:
                vectors = VectorIndex.empty(embedder.dimension)
            try:
                _sync(conn, vectors, embedder, paths, size, overlap, prune, progress, warn, report)
                docs, chunks = store.counts(conn)
                schema = store.schema_version(conn)
            finally:
                conn.close()
            if len(vectors) != chunks:
                raise RagError(f"internal error: {chunks} chunks but {len(vectors)} vectors; index left unchanged")
            vectors.maybe_make_approximate()
            vectors.save(index_dir / faiss_name(generation))
            manifest = Manifest(
                generation=generation,
                sqlite_file=sqlite_name(generation),
                faiss_file=faiss_name(generation),
                schema_version=schema,
                embedder_spec=embedder.spec,
                embedder_id=embedder.id,
                dimension=embedder.dimension,
                chunk_size=size,
                chunk_overlap=overlap,
                documents=docs,
                chunks=chunks,
                index_type=vectors.kind,
                built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                versions=_versions(),
            )
            write_manifest(index_dir, manifest)
            published = True
            report.documents_total, report.chunks_total = docs, chunks
        finally:
            if not published:
                for path in new_files:
                    path.unlink(missing_ok=True)
                    path.with_name(path.name + ".tmp").unlink(missing_ok=True)
        _remove_stale_generations(index_dir, keep={new_files[0].name, new_files[1].name})


def _remove_stale_generations(index_dir: Path, keep: set[str]) -> None:
    """Old generations (and leftovers of a killed ingest) are deleted once a new one is live.

    A reader that already opened an old file keeps reading it: on POSIX the data stays until
    the last descriptor closes.
    """
    for path in index_dir.iterdir():
        if path.name in keep:
            continue
        if (path.name.startswith("store-") or path.name.startswith("vectors-")) and path.is_file():
            path.unlink(missing_ok=True)


def _sync(
    conn: sqlite3.Connection,
    vectors: VectorIndex,
    embedder: "Embedder",
    paths: Sequence[Path],
    size: int,
    overlap: int,
    prune: bool,
    progress: bool,
    warn: Callable[[str], None],
    report: IngestReport,
) -> None:
    from tqdm import tqdm

    existing = store.documents(conn)
    found = list(discover(paths))
    pending = _PendingEmbeddings(embedder, vectors, report)
    seen: set[str] = set()
    removed_ids: list[int] = []
    bar = tqdm(found, desc="Ingesting", unit="file", disable=not progress or None, file=sys.stderr, leave=False)
    with store.transaction(conn):
        for item in bar:
            if isinstance(item, Skipped):
                report.skipped.append((str(item.path), item.reason))
                warn(f"skipped {item.path}: {item.reason}")
                continue
            source = str(item)
            seen.add(source)
            report.files += 1
            old = existing.get(source)
            raw = read_document(item)
            if isinstance(raw, Skipped):
                report.skipped.append((str(raw.path), raw.reason))
                warn(f"skipped {raw.path}: {raw.reason}" + (" (kept the indexed version)" if old else ""))
                continue
            fingerprint = _fingerprint(raw.digest, size, overlap)
            if old is not None and old.fingerprint == fingerprint:
                report.documents_unchanged += 1
                report.chunks_unchanged += len(store.chunk_ids_for(conn, old.id))
                continue
            cleaned = clean_news_text(raw.text, title_hint=raw.title)
            if not cleaned.text.strip():
                report.skipped.append((source, "no article text after cleaning"))
                warn(f"skipped {item}: no article text after cleaning")
                continue
            reusable: dict[str, int] = {}
            if old is not None:
                reusable = store.chunk_hashes_for(conn, old.id)
                old_ids = store.chunk_ids_for(conn, old.id)
                store.delete_document(conn, old.id)
                removed_ids.extend(old_ids)
                report.chunks_removed += len(old_ids)
                report.documents_updated += 1
            else:
                report.documents_new += 1
            doc_id = store.insert_document(
                conn,
                source=source,
                title=cleaned.title,
                outlet=cleaned.outlet or raw.outlet,
                published=cleaned.published or raw.published,
                fingerprint=fingerprint,
                text=cleaned.text,
            )
            chunks = chunk_text(cleaned.text, size, overlap)
            # Chunks are embedded with their article's title for context; the hash covers both,
            # so a vector is reused only when exactly the same input would be embedded again.
            rows = [(c.ordinal, c.start, c.end, c.text, _text_hash(_embedding_input(cleaned.title, c.text))) for c in chunks]
            ids = store.insert_chunks(conn, doc_id, rows)
            report.chunks_new += len(ids)
            reuse_ids, reuse_vecs = [], []
            for chunk_id, row in zip(ids, rows):
                old_id = reusable.get(row[4])
                vector = vectors.reconstruct(old_id) if old_id is not None else None
                if vector is not None:
                    reuse_ids.append(chunk_id)
                    reuse_vecs.append(vector)
                else:
                    pending.add(chunk_id, _embedding_input(cleaned.title, row[3]))
            if reuse_ids:
                vectors.add(np.asarray(reuse_ids, dtype=np.int64), np.vstack(reuse_vecs))
                report.chunks_reused += len(reuse_ids)
        pending.flush()
        roots = [p.resolve() for p in paths if p.exists()]
        for source, doc in existing.items():
            if source in seen:
                continue
            path = Path(source)
            under_root = any(path == r or r in path.parents for r in roots)
            if (under_root or prune) and not path.exists():
                ids = store.chunk_ids_for(conn, doc.id)
                store.delete_document(conn, doc.id)
                removed_ids.extend(ids)
                report.chunks_removed += len(ids)
                report.documents_removed += 1
    vectors.remove(removed_ids)


def ensure_index(
    index_dir: Path,
    embedder_spec: str | None = None,
    *,
    seeds: Path | None = None,
    progress: bool = False,
    say: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
) -> IngestReport | None:
    """Build the index from seeds/ when there is none yet, saying so (as `rag ask` and `rag ui` do).

    Returns the report of the build, or None when an index was already there.
    """
    from rag.config import DEFAULT_SEEDS_DIR

    if read_manifest(index_dir) is not None:
        return None
    seeds = seeds or DEFAULT_SEEDS_DIR
    if not seeds.is_dir():
        raise RagError(f"no index at {index_dir} and no {seeds}/ folder here; run `rag ingest PATH` first")
    say(f"No index at {index_dir} yet: building it from {seeds}/ first.")
    return ingest([seeds], index_dir, embedder_spec=embedder_spec, progress=progress,
                  warn=lambda m: say(f"Warning: {m}"))
