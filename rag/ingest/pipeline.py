"""Build or update an index from files, atomically and incrementally, through the store interface.

Every change of one run goes into one `StoreWriter`, published whole when the run ends (or
not at all, if it fails or is interrupted). Unchanged files cost no embedding; chunks whose
embedded text is unchanged inside a changed file reuse their stored vectors. Chunks are
embedded in batches across documents, so the model runs at full speed.

With an embedder that knows meaning, each chunk's sentences get vectors too, stored with it
(rag.store.base.ChunkSentences): retrieval's rerank and the answerer compare the question
with single sentences, and reading those vectors costs nothing at query time where encoding
them cost 170-290 ms a question. The onnx backend pools them from the chunk's own pass
(`encode_documents_with_sentences`: one transformer pass per chunk, each sentence the mean of
its tokens): half the embedding time. RAG_POOLED_SENTENCES=0 (and any other backend) encodes
each sentence alone in a second pass, for a slightly stronger rerank (`pooled_sentences`).

An ingest that would change nothing publishes nothing: the index's generation and manifest
stay as they were, and the summary says the index is up to date.

Progress: on a terminal, two tqdm bars on stderr (files read; chunks embedded, with rate and
time left) and one summary line when they close; none when stderr is not a terminal or
`progress=False`. `on_progress` receives an `IngestProgress` after every file and every
embedded batch (the UI drives its own progress display with it).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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
from rag.ingest.loading import RawDocument, Skipped, discover, file_digest, read_document
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
#: Chunks between two moves of the progress bar when sentences take a second pass.
PROGRESS_STEP = 64


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
    #: Whether this ingest published a new generation (False: nothing changed, or nothing to do).
    published: bool = False
    #: Seconds by stage: read, clean (with the article's header metadata), metadata (merging a
    #: page's structured data), chunk, signature (syndication MinHash), embed (chunks, and their
    #: sentences where pooled from the same pass), sentences (sentence splitting, and a second
    #: pass where the backend has no pooled path), store (SQLite rows and FAISS adds), group
    #: (syndication groups), publish (FAISS build and save, manifest).
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - started


@dataclass(frozen=True)
class IngestProgress:
    """Where a running ingest stands, given to `ingest(on_progress=...)` after every file and
    every embedded batch. `chunks_queued` grows as files are read (chunks found so far that
    need the model); `chunks_embedded` of them are done."""

    files_done: int
    files_total: int
    chunks_embedded: int
    chunks_queued: int


class _Progress:
    """The terminal bars (tqdm, on stderr, only when it is a terminal and `show`) and the
    caller's callback, fed from one place."""

    def __init__(self, files_total: int, show: bool, callback: Callable[[IngestProgress], None] | None) -> None:
        from tqdm import tqdm  # only when files are read

        self.files_total, self.callback = files_total, callback
        self.files_done = self.embedded = self.queued = 0
        disable = None if show else True  # None: tqdm shows the bars only on a terminal
        self.started = time.perf_counter()
        self.files_bar = tqdm(total=files_total, desc="Reading  ", unit=" files", disable=disable, file=sys.stderr,
                              leave=False, position=0, dynamic_ncols=True, mininterval=0.2)
        self.chunks_bar = tqdm(total=0, desc="Embedding", unit=" chunks", disable=disable, file=sys.stderr,
                               leave=False, position=1, dynamic_ncols=True, mininterval=0.2,
                               bar_format="{desc}: {n_fmt}/{total_fmt} chunks [{elapsed}<{remaining}, {rate_fmt}]")
        self.shown = not self.files_bar.disable

    def warner(self, warn: Callable[[str], None]) -> Callable[[str], None]:
        """`warn`, printing above the bars rather than through them while they are shown."""
        if not self.shown:
            return warn

        def above(message: str) -> None:
            with self.files_bar.external_write_mode(file=sys.stderr):
                warn(message)

        return above

    def _tell(self) -> None:
        if self.callback is not None:
            self.callback(IngestProgress(self.files_done, self.files_total, self.embedded, self.queued))

    def file_done(self, new_chunks: int = 0) -> None:
        self.files_done += 1
        self.files_bar.update(1)
        if new_chunks:
            self.queued += new_chunks
            self.chunks_bar.total = self.queued
            self.chunks_bar.refresh()
        self._tell()

    def embedded_(self, count: int) -> None:
        self.embedded += count
        self.chunks_bar.update(count)
        self._tell()

    def close(self) -> str | None:
        """Clear the bars; the one-line summary to print if they were shown."""
        self.chunks_bar.close()
        self.files_bar.close()
        if not self.shown:
            return None
        seconds = time.perf_counter() - self.started
        rate = f" ({self.embedded / seconds:,.0f} chunks/s)" if self.embedded and seconds > 0 else ""
        return (f"Read {self.files_done:,} of {self.files_total:,} files and embedded {self.embedded:,} chunks"
                f" in {_clock(seconds)}{rate}")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}" if minutes else f"{seconds:.1f} s"


class _NothingChanged(Exception):
    """Raised inside the store writer when an ingest changed nothing, so that it publishes nothing."""


def pooled_sentences() -> bool:
    """Whether sentence vectors come from the chunk's own pass where the backend can pool them
    (the default; RAG_POOLED_SENTENCES=0/off: a second pass encodes each sentence alone).

    Measured side by side (bench/ingest_bbc.py, bench/squad_benchmark.py --embedder auto, idle
    2-core machine): the BBC archive ingests in 91 s pooled against 177 s with the second pass
    (the LangChain peer: 165 s; bench/results/ingest_bbc.md). With the reader, answers are the same or better (SQuAD
    containment 0.643 against 0.641, short-answer F1 0.474 against 0.473, abstention 0.548
    against 0.544; seed and news sets: the same accuracy); the rerank puts the answer first a
    little less often (SQuAD recall@1 0.895 against 0.899, recall@3 0.965 against 0.972)."""
    return os.environ.get("RAG_POOLED_SENTENCES", "").strip().lower() not in ("0", "off", "false", "no")


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

    def __init__(self, embedder: "Embedder", writer: StoreWriter, report: IngestReport,
                 progress: "_Progress | None" = None) -> None:
        self.embedder, self.writer, self.report, self.progress = embedder, writer, report, progress
        self.pending: list[_PendingDocument] = []
        self.waiting = 0
        self.with_sentences = understands_meaning(embedder)
        #: The backend's one-pass path (chunk vectors and pooled sentence vectors), if it has one
        #: and RAG_POOLED_SENTENCES does not turn it off.
        self.pooled = (getattr(embedder, "encode_documents_with_sentences", None)
                       if self.with_sentences and pooled_sentences() else None)

    def passes(self, vectors: Sequence[np.ndarray | None], sentences: Sequence[ChunkSentences | None]) -> int:
        """How many of a document's chunks go through the model (what the progress bar counts)."""
        if self.pooled is not None:  # a chunk runs again for sentence vectors it lacks
            return sum(v is None or s is None for v, s in zip(vectors, sentences))
        return sum(v is None for v in vectors)

    def add(self, doc: _PendingDocument) -> None:
        self.pending.append(doc)
        self.waiting += sum(v is None for v in doc.vectors)
        if self.waiting >= EMBED_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.pooled is not None:
            vectors, sentences = self._embed_pooled()
        else:
            vectors, sentences = self._embed_separately()
        with self.report.timed("store"):
            for i, doc in enumerate(self.pending):
                chunk_sentences = ([s if s is not None else sentences[(i, j)] for j, s in enumerate(doc.sentences)]
                                   if self.with_sentences else None)
                self.writer.add_document(**doc.fields, chunks=doc.rows, vectors=vectors[i],  # type: ignore[arg-type]
                                         sentences=chunk_sentences)
        self.pending, self.waiting = [], 0

    def _told(self, count: int) -> None:
        if self.progress is not None:
            self.progress.embedded_(count)

    def _matrices(self, fresh: np.ndarray) -> list[np.ndarray]:
        """Each pending document's vectors: reused rows kept, the rest from `fresh` in order
        (a document with nothing reused gets its rows of `fresh` without a copy)."""
        out, at = [], 0
        for doc in self.pending:
            new = sum(v is None for v in doc.vectors)
            if new == len(doc.vectors):
                out.append(fresh[at : at + new])
            else:
                matrix = np.empty((len(doc.vectors), self.embedder.dimension), np.float32)
                rows = iter(fresh[at : at + new])
                for j, v in enumerate(doc.vectors):
                    matrix[j] = v if v is not None else next(rows)
                out.append(matrix)
            at += new
        return out

    def _embed_separately(self) -> tuple[list[np.ndarray], dict[tuple[int, int], ChunkSentences]]:
        """Chunk vectors, then (with meaning) each chunk's sentences encoded alone in a second pass,
        PROGRESS_STEP chunks at a time so the bar moves with the work done on both."""
        keys = [(i, j) for i, doc in enumerate(self.pending) for j, v in enumerate(doc.vectors) if v is None]
        texts = [self.pending[i].inputs[j] for i, j in keys]
        wanting = [(i, j) for i, doc in enumerate(self.pending) for j, s in enumerate(doc.sentences) if s is None]
        matrix = np.empty((len(texts), self.embedder.dimension), np.float32)
        sentences: dict[tuple[int, int], ChunkSentences] = {}
        known: dict[str, np.ndarray] = {}  # a sentence that overlapping chunks share is encoded once
        started = time.perf_counter()
        step = PROGRESS_STEP if self.progress is not None else max(len(texts), len(wanting), 1)
        for at in range(0, max(len(texts), len(wanting)), step):
            with self.report.timed("embed"):
                matrix[at : at + step] = self._encode(texts[at : at + step], chunks=False)
            if self.with_sentences:
                sentences.update(self._embed_sentences(wanting[at : at + step], known))
            self._told(len(texts[at : at + step]))
        self.report.chunks_embedded += len(texts)
        self.report.embed_seconds += time.perf_counter() - started
        return self._matrices(matrix), sentences

    def _embed_pooled(self) -> tuple[list[np.ndarray], dict[tuple[int, int], ChunkSentences]]:
        """One pass per chunk that needs a vector or sentence vectors: the chunk's vector and its
        sentences' (pooled from the chunk's tokens) come out together."""
        assert self.pooled is not None
        keys: list[tuple[int, int]] = []
        texts: list[str] = []
        own: list[list[tuple[int, int]]] = []  # sentence spans in the chunk's text (as stored)
        spans: list[list[tuple[int, int]]] = []  # the same in the embedded input
        with self.report.timed("sentences"):
            for i, doc in enumerate(self.pending):
                for j, (row, text) in enumerate(zip(doc.rows, doc.inputs)):
                    if doc.vectors[j] is None or doc.sentences[j] is None:
                        shift = len(text) - len(row.text)  # the input ends with the chunk's text
                        keys.append((i, j))
                        texts.append(text)
                        own.append(sentence_spans(row.text))
                        spans.append([(shift + a, shift + b) for a, b in own[-1]])
        fresh = np.empty((len(texts), self.embedder.dimension), np.float32)
        found: dict[tuple[int, int], ChunkSentences] = {}
        started = time.perf_counter()
        with self.report.timed("embed"):
            for at in range(0, len(texts), EMBED_BATCH):
                part = slice(at, at + EMBED_BATCH)
                vectors, pooled = self.pooled(texts[part], spans[part], progress=self._told)
                fresh[part] = vectors
                for key, key_spans, rows in zip(keys[part], own[part], pooled):
                    found[key] = ChunkSentences(tuple(key_spans), rows)
        self.report.embed_seconds += time.perf_counter() - started
        self.report.chunks_embedded += sum(v is None for doc in self.pending for v in doc.vectors)
        self.report.sentences_embedded += sum(len(x) for x in spans)
        # The model's vector of a chunk whose stored one is reused (it ran for its sentences) is not used.
        new_rows = [n for n, (i, j) in enumerate(keys) if self.pending[i].vectors[j] is None]
        return self._matrices(fresh[new_rows] if len(new_rows) != len(keys) else fresh), found

    def _encode(self, texts: list[str], *, chunks: bool = True) -> np.ndarray:
        """Vectors of `texts`, EMBED_BATCH at a time: one 50 MB article is 60,000 chunks, and an
        embedder's working memory grows with the batch (600 MB for those at once, offline)."""
        out = np.empty((len(texts), self.embedder.dimension), np.float32)
        for i in range(0, len(texts), EMBED_BATCH):
            out[i : i + EMBED_BATCH] = self.embedder.encode_documents(texts[i : i + EMBED_BATCH])
            if chunks:
                self._told(len(texts[i : i + EMBED_BATCH]))
        return out

    def _embed_sentences(self, keys: list[tuple[int, int]],
                         known: dict[str, np.ndarray]) -> dict[tuple[int, int], ChunkSentences]:
        """The sentences of these waiting chunks, each encoded alone (one not in `known` yet)."""
        with self.report.timed("sentences"):
            found = {(i, j): [(a, b, self.pending[i].rows[j].text[a:b])
                              for a, b in sentence_spans(self.pending[i].rows[j].text)] for i, j in keys}
            texts = list(dict.fromkeys(t for spans in found.values() for _, _, t in spans if t not in known))
            known.update(zip(texts, self._encode(texts, chunks=False)))
        self.report.sentences_embedded += len(texts)
        empty = np.zeros((0, self.embedder.dimension), np.float32)
        out = {key: ChunkSentences(tuple((a, b) for a, b, _ in spans),
                                   np.vstack([known[t] for _, _, t in spans]) if spans else empty)
               for key, spans in found.items()}
        # Overlapping chunks are neighbours: only these chunks' sentences can recur in the next step
        # (a 30 MB article's 250,000 sentence vectors are not all kept twice).
        last = {t for spans in found.values() for _, _, t in spans}
        for text in [t for t in known if t not in last]:
            del known[text]
        return out


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
    on_progress: Callable[[IngestProgress], None] | None = None,
) -> IngestReport:
    """Sync the index at `index` (a directory or a store URI) with the files under `paths`.

    Files found are added or updated; documents whose file lay under one of `paths` and no
    longer exists are removed; with `prune`, every document whose file is gone is removed.
    When nothing would change, nothing is written (`report.published` is False).

    `progress`: bars on stderr when it is a terminal (and a one-line summary when they close).
    `on_progress`: called with an `IngestProgress` after every file and embedded batch; an
    exception it raises (KeyboardInterrupt included) stops the ingest with nothing published.
    """
    started = time.perf_counter()
    report = IngestReport(index_dir=str(index))
    backend = backend_for(index)
    local = None if is_remote(index) else Path(index)
    created = local is not None and not local.exists()
    try:
        _ingest(backend, paths, embedder_spec, chunk_size, chunk_overlap, rebuild, prune, progress, warn, report,
                on_progress)
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
    on_progress: Callable[[IngestProgress], None] | None = None,
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
    found = list(discover(paths))
    if previous is not None and embedder.spec == previous.embedder_spec \
            and _up_to_date(backend, found, size, overlap, warn, report):
        return
    embedder.for_bulk()  # a fresh instance, never the one a query uses
    settings = IndexSettings(
        embedder_spec=embedder.spec,
        embedder_id=embedder.id,
        dimension=embedder.dimension,
        chunk_size=size,
        chunk_overlap=overlap,
        model_sha256=getattr(embedder, "model_sha256", None),
    )
    bars = _Progress(len(found), progress, on_progress)
    try:
        try:
            with backend.writer(settings, rebuild=rebuild) as writer:
                _sync(writer, embedder, found, paths, size, overlap, prune, bars.warner(warn), report, bars)
                report.documents_total, report.chunks_total = writer.counts()
                changed = report.documents_new or report.documents_updated or report.documents_removed
                if not changed and previous is not None:
                    raise _NothingChanged  # the writer discards its copy: no new generation
                publishing = time.perf_counter()
            report.timings["publish"] = time.perf_counter() - publishing
            report.published = True
        except _NothingChanged:
            pass
    finally:
        line = bars.close()
    if line:
        print(line, file=sys.stderr)


def _up_to_date(
    backend: StoreBackend,
    found: list[Path | Skipped],
    size: int,
    overlap: int,
    warn: Callable[[str], None],
    report: IngestReport,
) -> bool:
    """Whether every file found is indexed with its present bytes and settings, and every stored
    document is one of them (so none can be removed): then nothing is written (not even the
    working copy a writer starts from), and `report` is filled as the full pass would fill it. Files that cannot be read,
    and were not indexed, stay skipped, as they would be."""
    try:
        with backend.open() as store:
            existing = store.documents()
            documents, chunks = store.counts()
    except RagError:  # a damaged index: the full pass says what is wrong
        return False
    seen: set[str] = set()
    skipped: list[tuple[str, str]] = []
    for item in found:
        if isinstance(item, Skipped):
            skipped.append((str(item.path), item.reason))
            continue
        old = existing.get(str(item))
        if old is None:
            raw = read_document(item)
            if not isinstance(raw, Skipped):
                return False
            skipped.append((str(raw.path), raw.reason))
            continue
        try:
            if old.fingerprint != _fingerprint(file_digest(item), size, overlap):
                return False
        except OSError:
            return False
        seen.add(str(item))
    if len(seen) != len(existing):  # a stored document whose file was not among those found
        return False
    report.files = len(seen)
    report.documents_unchanged = len(seen)
    report.chunks_unchanged = chunks
    report.documents_total, report.chunks_total = documents, chunks
    report.skipped = skipped
    for path, reason in skipped:
        warn(f"skipped {path}: {reason}")
    return True


def _read(item: Path, old: object, report: IngestReport, warn: Callable[[str], None]) -> RawDocument | None:
    with report.timed("read"):
        raw = read_document(item)
    if isinstance(raw, Skipped):
        report.skipped.append((str(raw.path), raw.reason))
        warn(f"skipped {raw.path}: {raw.reason}" + (" (kept the indexed version)" if old else ""))
        return None
    if raw.notes:  # what the parser library said about a file it still read: one line
        warn(f"{raw.path}: {'; '.join(raw.notes)}")
    return raw


def _sync(
    writer: StoreWriter,
    embedder: "Embedder",
    found: list[Path | Skipped],
    paths: Sequence[Path],
    size: int,
    overlap: int,
    prune: bool,
    warn: Callable[[str], None],
    report: IngestReport,
    bars: _Progress,
) -> None:
    existing = writer.documents()
    batcher = _Batcher(embedder, writer, report, bars)
    seen: set[str] = set()
    for item in found:
        if isinstance(item, Skipped):
            report.skipped.append((str(item.path), item.reason))
            warn(f"skipped {item.path}: {item.reason}")
            bars.file_done()
            continue
        source = str(item)
        seen.add(source)
        report.files += 1
        old = existing.get(source)
        if old is not None:
            # An unchanged file is recognised by its bytes' digest, without being decoded again.
            try:
                with report.timed("read"):
                    digest = file_digest(item)
            except OSError:
                digest = None
            if digest is not None and old.fingerprint == _fingerprint(digest, size, overlap):
                report.documents_unchanged += 1
                report.chunks_unchanged += writer.chunk_count(old.id)
                bars.file_done()
                continue
        raw = _read(item, old, report, warn)
        if raw is None:
            bars.file_done()
            continue
        fingerprint = _fingerprint(raw.digest, size, overlap)
        if old is not None and old.fingerprint == fingerprint:  # the bytes changed back while we read them
            report.documents_unchanged += 1
            report.chunks_unchanged += writer.chunk_count(old.id)
            bars.file_done()
            continue
        with report.timed("clean"):
            cleaned = clean_news_text(raw.text, title_hint=raw.title)
        if not cleaned.text.strip():
            report.skipped.append((source, "no article text after cleaning"))
            warn(f"skipped {item}: no article text after cleaning")
            bars.file_done()
            continue
        reusable: dict[str, np.ndarray] = {}
        reusable_sentences: dict[str, ChunkSentences] = {}
        if old is not None:
            with report.timed("store"):
                hashes = writer.chunk_hashes(old.id)
                stored = writer.vectors_for(list(hashes.values()))
                reusable = {h: stored[cid] for h, cid in hashes.items() if cid in stored}
                stored_sentences = writer.sentences_for(list(hashes.values())) if batcher.with_sentences else {}
                reusable_sentences = {h: stored_sentences[cid] for h, cid in hashes.items() if cid in stored_sentences}
                report.chunks_removed += writer.delete_document(old.id)
            report.documents_updated += 1
        else:
            report.documents_new += 1
        with report.timed("chunk"):
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
        with report.timed("metadata"):
            meta = merge(raw.meta, cleaned.meta) if raw.meta else cleaned.meta
        with report.timed("signature"):
            signed = signature_bytes(signature(cleaned.text))
        fields = {
            "source": source,
            "title": cleaned.title,
            "outlet": meta.outlet or cleaned.outlet or raw.outlet,
            "published": meta.published,
            "fingerprint": fingerprint,
            "text": cleaned.text,
            "authors": meta.authors,
            "url": meta.url,
            "signature": signed,
        }
        bars.file_done(batcher.passes(vectors, sentences))
        batcher.add(_PendingDocument(fields, rows, inputs, vectors, sentences))
    batcher.flush()
    # A root's parts lead every path under it (roots are absolute): the test `path == root or
    # root in path.parents` without building each stored path's parents (0.4 s a 10,000-article
    # ingest of one file spent on it).
    roots = [p.resolve().parts for p in paths if p.exists()]
    with report.timed("store"):
        for source, doc in existing.items():
            if source in seen:
                continue
            path = Path(source)
            under_root = any(path.parts[: len(root)] == root for root in roots)
            if (under_root or prune) and not path.exists():
                report.chunks_removed += writer.delete_document(doc.id)
                report.documents_removed += 1
    if report.documents_new or report.documents_updated or report.documents_removed:
        with report.timed("group"):
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
