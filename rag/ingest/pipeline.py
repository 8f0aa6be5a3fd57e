"""Build or update an index from files, atomically and incrementally, through the store interface.

Every change of one run goes into one `StoreWriter`, published whole when the run ends (or
not at all, if it fails or is interrupted). Unchanged files cost no embedding; chunks whose
embedded text is unchanged inside a changed file reuse their stored vectors. Chunks are
embedded in batches across documents, so the model runs at full speed.

With an embedder that knows meaning, each chunk's sentences are embedded too and stored with
it (rag.store.base.ChunkSentences): retrieval's rerank and the answerer compare the question
with single sentences, and reading those vectors costs nothing at query time where encoding
them cost 170-290 ms a question.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from embeddings.base import understands_meaning
from rag.config import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE, DEFAULT_SEEDS_DIR
from rag.errors import RagError
from rag.ingest.chunking import chunk_text
from rag.ingest.cleaning import CLEANER_VERSION, clean_news_text
from rag.ingest.grouping import regroup
from rag.ingest.loading import Skipped, discover, file_digest, read_document
from rag.ingest.metadata import merge
from rag.ingest.syndication import signature, signature_bytes
from rag.store.base import (
    ChunkRow,
    ChunkSentences,
    IndexSettings,
    StoreBackend,
    StoreWriter,
)
from rag.store.factory import backend_for, is_remote
from rag.text.sentences import sentence_spans

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
    sentences_embedded: int = 0
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


def holds_file(fingerprint: str, path: Path) -> bool:
    """Whether a document stored with `fingerprint` was read from `path`'s present bytes
    (chunking settings aside): an unreadable file counts as not held."""
    try:
        return fingerprint.split(":", 1)[0] == file_digest(path)
    except OSError:
        return False


def _text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def embedding_input(title: str, text: str) -> str:
    """What the embedder sees for a chunk: the article's headline, then the chunk."""
    return text if text.startswith(title) else f"{title}\n\n{text}"


@dataclass
class _PendingDocument:
    """A document waiting for the vectors of its new chunks before it is written."""

    fields: dict[str, object]
    rows: list[ChunkRow]
    inputs: list[str]
    vectors: list[np.ndarray | None]
    #: Reused sentence vectors of unchanged chunks (None: to embed).
    sentences: list[ChunkSentences | None]


class _Batcher:
    """Documents held back until enough chunks wait to embed them in one batch."""

    def __init__(self, embedder: "Embedder", writer: StoreWriter, report: IngestReport) -> None:
        self.embedder, self.writer, self.report = embedder, writer, report
        self.pending: list[_PendingDocument] = []
        self.waiting = 0
        self.with_sentences = understands_meaning(embedder)

    def add(self, doc: _PendingDocument) -> None:
        self.pending.append(doc)
        self.waiting += sum(v is None for v in doc.vectors)
        if self.waiting >= EMBED_BATCH:
            self.flush()

    def flush(self) -> None:
        texts = [text for doc in self.pending for text, v in zip(doc.inputs, doc.vectors) if v is None]
        started = time.perf_counter()
        matrix = self._encode(texts)
        self.report.chunks_embedded += len(texts)
        sentences = self._embed_sentences() if self.with_sentences else {}
        self.report.embed_seconds += time.perf_counter() - started
        at = 0
        for i, doc in enumerate(self.pending):
            new = sum(v is None for v in doc.vectors)
            if new == len(doc.vectors):  # nothing reused: the document's rows of the batch, no copy
                matrix_doc = matrix[at : at + new]
            else:
                matrix_doc = np.empty((len(doc.vectors), self.embedder.dimension), np.float32)
                fresh = iter(matrix[at : at + new])
                for j, v in enumerate(doc.vectors):
                    matrix_doc[j] = v if v is not None else next(fresh)
            at += new
            chunk_sentences = ([s if s is not None else sentences[(i, j)] for j, s in enumerate(doc.sentences)]
                               if self.with_sentences else None)
            self.writer.add_document(**doc.fields, chunks=doc.rows, vectors=matrix_doc,  # type: ignore[arg-type]
                                     sentences=chunk_sentences)
        self.pending, self.waiting = [], 0

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Vectors of `texts`, EMBED_BATCH at a time: one 50 MB article is 60,000 chunks, and an
        embedder's working memory grows with the batch (600 MB for those at once, offline)."""
        out = np.empty((len(texts), self.embedder.dimension), np.float32)
        for i in range(0, len(texts), EMBED_BATCH):
            out[i : i + EMBED_BATCH] = self.embedder.encode_documents(texts[i : i + EMBED_BATCH])
        return out

    def _embed_sentences(self) -> dict[tuple[int, int], ChunkSentences]:
        """The sentences of the waiting chunks that have none stored, embedded in one batch
        (a sentence that overlapping chunks share is embedded once)."""
        sentences = {(i, j): [(a, b, row.text[a:b]) for a, b in sentence_spans(row.text)]
                     for i, doc in enumerate(self.pending) for j, row in enumerate(doc.rows) if doc.sentences[j] is None}
        texts = list(dict.fromkeys(text for found in sentences.values() for _, _, text in found))
        vectors = dict(zip(texts, self._encode(texts)))
        self.report.sentences_embedded += len(texts)
        empty = np.zeros((0, self.embedder.dimension), np.float32)
        return {key: ChunkSentences(tuple((a, b) for a, b, _ in found),
                                    np.vstack([vectors[text] for _, _, text in found]) if found else empty)
                for key, found in sentences.items()}


def _resolve_embedder(previous: IndexSettings | None, spec: str | None, rebuild: bool) -> "Embedder":
    from embeddings import create_embedder  # heavy: may import torch or onnxruntime

    if previous is not None and not rebuild:
        if spec and spec != "auto" and spec != previous.embedder_spec:
            candidate = create_embedder(spec)
            if candidate.id != previous.embedder_id:
                raise RagError(
                    f"this index was built with embedder {previous.embedder_id}; to switch to {candidate.id},"
                    f" rebuild it: `rag ingest --rebuild --embedder {spec}`"
                )
            return candidate
        embedder = create_embedder(previous.embedder_spec, fast=True)
        if embedder.id != previous.embedder_id:
            raise RagError(
                f"embedder {previous.embedder_spec} now loads as {embedder.id}, not {previous.embedder_id};"
                " rebuild with `rag ingest --rebuild`"
            )
        return embedder
    return create_embedder(spec or "auto")


def ingest(
    paths: Sequence[Path],
    index: Path | str,
    *,
    embedder_spec: str | None = None,
    chunk_size: int | None = None,
    chunk_overlap: int | None = None,
    rebuild: bool = False,
    prune: bool = False,
    progress: bool = True,
    warn: Callable[[str], None] = lambda msg: print(f"Warning: {msg}", file=sys.stderr),
) -> IngestReport:
    """Sync the index at `index` (a directory or a store URI) with the files under `paths`.

    Files found are added or updated; documents whose file lay under one of `paths` and no
    longer exists are removed; with `prune`, every document whose file is gone is removed.
    """
    started = time.perf_counter()
    report = IngestReport(index_dir=str(index))
    backend = backend_for(index)
    local = None if is_remote(index) else Path(index)
    created = local is not None and not local.exists()
    try:
        _ingest(backend, paths, embedder_spec, chunk_size, chunk_overlap, rebuild, prune, progress, warn, report)
    except BaseException:
        if created and local is not None and not _has_index(backend):
            # A first ingest that failed leaves no empty index directory behind.
            shutil.rmtree(local, ignore_errors=True)
        raise
    report.seconds = time.perf_counter() - started
    return report


def _has_index(backend: StoreBackend) -> bool:
    try:
        return backend.exists()
    except RagError:
        return False


def _ingest(
    backend: StoreBackend,
    paths: Sequence[Path],
    embedder_spec: str | None,
    chunk_size: int | None,
    chunk_overlap: int | None,
    rebuild: bool,
    prune: bool,
    progress: bool,
    warn: Callable[[str], None],
    report: IngestReport,
) -> None:
    # A rebuild replaces what is there; whether it may (an index with a lost manifest whose
    # generation is intact may not) is the backend's to decide, under its writer lock.
    previous = None if rebuild else backend.settings()
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
    settings = IndexSettings(
        embedder_spec=embedder.spec,
        embedder_id=embedder.id,
        dimension=embedder.dimension,
        chunk_size=size,
        chunk_overlap=overlap,
        model_sha256=getattr(embedder, "model_sha256", None),
    )
    with backend.writer(settings, rebuild=rebuild) as writer:
        _sync(writer, embedder, paths, size, overlap, prune, progress, warn, report)
        report.documents_total, report.chunks_total = writer.counts()


def _sync(
    writer: StoreWriter,
    embedder: "Embedder",
    paths: Sequence[Path],
    size: int,
    overlap: int,
    prune: bool,
    progress: bool,
    warn: Callable[[str], None],
    report: IngestReport,
) -> None:
    from tqdm import tqdm  # only when files are read

    existing = writer.documents()
    found = list(discover(paths))
    batcher = _Batcher(embedder, writer, report)
    seen: set[str] = set()
    bar = tqdm(found, desc="Ingesting", unit="file", disable=not progress or None, file=sys.stderr, leave=False)
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
        if raw.notes:  # what the parser library said about a file it still read: one line
            warn(f"{raw.path}: {'; '.join(raw.notes)}")
        fingerprint = _fingerprint(raw.digest, size, overlap)
        if old is not None and old.fingerprint == fingerprint:
            report.documents_unchanged += 1
            report.chunks_unchanged += writer.chunk_count(old.id)
            continue
        cleaned = clean_news_text(raw.text, title_hint=raw.title)
        if not cleaned.text.strip():
            report.skipped.append((source, "no article text after cleaning"))
            warn(f"skipped {item}: no article text after cleaning")
            continue
        reusable: dict[str, np.ndarray] = {}
        reusable_sentences: dict[str, ChunkSentences] = {}
        if old is not None:
            hashes = writer.chunk_hashes(old.id)
            stored = writer.vectors_for(list(hashes.values()))
            reusable = {h: stored[cid] for h, cid in hashes.items() if cid in stored}
            stored_sentences = writer.sentences_for(list(hashes.values())) if batcher.with_sentences else {}
            reusable_sentences = {h: stored_sentences[cid] for h, cid in hashes.items() if cid in stored_sentences}
            report.chunks_removed += writer.delete_document(old.id)
            report.documents_updated += 1
        else:
            report.documents_new += 1
        chunks = chunk_text(cleaned.text, size, overlap)
        # Chunks are embedded with their article's title for context; the hash covers both,
        # so a vector is reused only when exactly the same input would be embedded again.
        inputs = [embedding_input(cleaned.title, c.text) for c in chunks]
        rows = [ChunkRow(c.ordinal, c.start, c.end, c.text, _text_hash(text)) for c, text in zip(chunks, inputs)]
        vectors = [reusable.get(row.text_hash) for row in rows]
        # An unchanged chunk keeps its sentence vectors only with its chunk vector.
        sentences = [reusable_sentences.get(row.text_hash) if v is not None else None for row, v in zip(rows, vectors)]
        report.chunks_new += len(rows)
        report.chunks_reused += sum(v is not None for v in vectors)
        # The page's structured data (HTML) first, then what the article's header lines say.
        meta = merge(raw.meta, cleaned.meta) if raw.meta else cleaned.meta
        fields = {
            "source": source,
            "title": cleaned.title,
            "outlet": meta.outlet or cleaned.outlet or raw.outlet,
            "published": meta.published,
            "fingerprint": fingerprint,
            "text": cleaned.text,
            "authors": meta.authors,
            "url": meta.url,
            "signature": signature_bytes(signature(cleaned.text)),
        }
        batcher.add(_PendingDocument(fields, rows, inputs, vectors, sentences))
    batcher.flush()
    # A root's parts lead every path under it (roots are absolute): the test `path == root or
    # root in path.parents` without building each stored path's parents (0.4 s a 10,000-article
    # ingest of one file spent on it).
    roots = [p.resolve().parts for p in paths if p.exists()]
    for source, doc in existing.items():
        if source in seen:
            continue
        path = Path(source)
        under_root = any(path.parts[: len(root)] == root for root in roots)
        if (under_root or prune) and not path.exists():
            report.chunks_removed += writer.delete_document(doc.id)
            report.documents_removed += 1
    if report.documents_new or report.documents_updated or report.documents_removed:
        _group_syndicated(writer)


def _group_syndicated(writer: StoreWriter) -> None:
    """Link the articles that carry the same story (syndicated or wire copies): each document
    gets the smallest id of its group, or None when no other indexed article is a copy. Only
    the groups this write could change are regrouped when the store keeps band keys."""
    regroup(writer)


def ensure_index(
    index_dir: Path,
    embedder_spec: str | None = None,
    *,
    seeds: Path | None = None,
    progress: bool = False,
    say: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
    named: bool = False,
) -> IngestReport | None:
    """Build the index from seeds/ when there is none yet, saying so (as `rag ask` and `rag ui` do).

    Only for the default location: an index the user `named` (--index, RAG_INDEX) that is not
    there is an error, so a mistyped path never silently becomes a new seed index.
    Returns the report of the build, or None when an index was already there.
    """
    if backend_for(index_dir).exists():
        return None
    if named:
        raise RagError(f"no index at {index_dir}; build one with `rag --index {index_dir} ingest PATH`"
                       " (only the default ./.rag-index is built from seeds/ on first use)")
    seeds = seeds or DEFAULT_SEEDS_DIR
    if not seeds.is_dir():
        raise RagError(f"no index at {index_dir} and no {seeds}/ folder here; run `rag ingest PATH` first")
    say(f"No index at {index_dir} yet: building it from {seeds}/ first.")
    return ingest([seeds], index_dir, embedder_spec=embedder_spec, progress=progress,
                  warn=lambda m: say(f"Warning: {m}"))
