"""The store interface: everything ingest, retrieval, answering, the UI and eval ask of an index.

Two halves. `Store` is one index opened for reading: documents and their text, chunks with
their offsets, lexical (BM25) and dense search, and the per-term chunk frequencies that the
rerank and the answerer weigh question words by. `StoreWriter` is one atomic write: what it
adds and removes becomes visible all at once when the `with` block ends, or not at all if it
raises. A backend (`embedded`: SQLite + FTS5 + FAISS in a directory; `milvus`: a collection
in a Milvus cluster) implements both and is chosen by `rag.store.factory` from the index
location string. Nothing above the store touches SQLite, FAISS or pymilvus.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.errors import IndexError_
# StoredDocument lives with the filter that reads it (rag.store.filters): one direction, no cycle.
from rag.store.filters import DocumentFilter, StoredDocument
from rag.store.hints import rebuild_hint

if TYPE_CHECKING:
    from embeddings import Embedder

#: Reciprocal-rank fusion's k: ranks past the first few matter less and less.
RRF_K = 60


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as stored: `document_text[start:end] == text`."""

    id: int
    document_id: int
    ordinal: int
    start: int
    end: int
    text: str
    source: str
    title: str


@dataclass(frozen=True)
class ChunkRow:
    """A chunk to write: its place in the document, its text, and the hash of what was embedded
    (so a later ingest can reuse the vector of an unchanged chunk)."""

    ordinal: int
    start: int
    end: int
    text: str
    text_hash: str


@dataclass(frozen=True)
class ChunkSentences:
    """The sentences of one chunk with their vectors, embedded once at ingest so that the
    question-sentence cosines of retrieval's rerank and the answerer cost nothing at query
    time. `spans` are offsets into the chunk's text (rag.text.sentences.sentence_spans of it);
    `vectors` has one L2-normalised row per span, from the index's embedder."""

    spans: tuple[tuple[int, int], ...]
    vectors: np.ndarray


@dataclass(frozen=True)
class IndexSettings:
    """What an index was built with; every later write and read must agree with it."""

    embedder_spec: str
    embedder_id: str
    dimension: int
    chunk_size: int
    chunk_overlap: int
    #: sha256 of the model weights when the embedder knows it (recorded, reported).
    model_sha256: str | None = None


@dataclass
class HybridHits:
    """Fused candidates best first, with where each ranker placed them (None: not in its top)."""

    order: list[int]
    scores: dict[int, float]
    lexical_rank: dict[int, int] = field(default_factory=dict)
    dense_rank: dict[int, int] = field(default_factory=dict)


def rrf(rankings: list[list[int]], weights: list[float] | None = None, k: int = RRF_K) -> dict[int, float]:
    """Weighted reciprocal-rank fusion: sum over rankings of weight / (k + rank), rank from 1."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings)):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


class Store(ABC):
    """One index, opened for reading: a consistent snapshot until `close`."""

    #: Where the index lives, as the user would write it (a directory, or milvus://host/collection).
    location: str
    #: The backend's name as `rag info` shows it ("embedded", "milvus").
    backend: str
    settings: IndexSettings
    _embedder: "Embedder | None" = None

    @abstractmethod
    def counts(self) -> tuple[int, int]:
        """(documents, chunks) in this snapshot."""

    @property
    def n_chunks(self) -> int:
        return self.counts()[1]

    @abstractmethod
    def documents(self) -> dict[str, StoredDocument]:
        """Every document, keyed by source path."""

    @abstractmethod
    def document(self, document_id: int) -> StoredDocument:
        """One document's record; KeyError when it is not in this snapshot."""

    @abstractmethod
    def document_text(self, document_id: int) -> str:
        """The whole cleaned text that every chunk's offsets point into."""

    def text_before(self, document_id: int, position: int, limit: int) -> str:
        """Up to `limit` characters of a document's text ending at `position`."""
        return self.document_text(document_id)[max(0, position - limit) : position]

    @abstractmethod
    def get_chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        """The chunks with these ids (ids not found are left out)."""

    @abstractmethod
    def lexical_search(self, query: str, limit: int, within: Collection[int] | None = None) -> list[tuple[int, float]]:
        """BM25 over chunk text: (chunk id, score) best first; any user text is a safe query.
        With `within` (document ids), only those documents' chunks compete, so `limit` results
        still come back when there are that many (the filter is applied inside the search)."""

    @abstractmethod
    def dense_search(self, vector: np.ndarray, limit: int, within: Collection[int] | None = None) -> list[tuple[int, float]]:
        """Nearest chunks by inner product of L2-normalised vectors: (chunk id, score) best first;
        `within` as for lexical_search."""

    def hybrid_search(
        self, query: str, vector: np.ndarray, limit: int, dense_weight: float = 1.0, within: Collection[int] | None = None
    ) -> HybridHits:
        """BM25 and dense rankings fused by reciprocal rank. A backend whose engine fuses
        inside (Milvus) overrides this; this default runs both searches and fuses here."""
        lexical = [cid for cid, _ in self.lexical_search(query, limit, within)]
        dense = [cid for cid, _ in self.dense_search(vector, limit, within)] if dense_weight > 0 else []
        return fused_hits(lexical, dense, dense_weight)

    def matching_documents(self, where: DocumentFilter) -> frozenset[int]:
        """The ids of the documents a filter admits (a backend may push this into its engine)."""
        return frozenset(d.id for d in self.documents().values() if where.matches(d))

    @abstractmethod
    def document_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each (Porter-stemmed, lower-case) term; 0 when none does."""

    @abstractmethod
    def sentence_vectors(self, chunk_ids: Sequence[int]) -> dict[int, ChunkSentences]:
        """The stored sentence vectors of these chunks. Chunks without them (an index built by
        an older version, or with an embedder that knows no meaning) are left out: the caller
        encodes those sentences itself."""

    def memoised_frequencies(self) -> Callable[[Sequence[str]], dict[str, int]]:
        """document_frequencies that looks each term up once: one question's rerank and answer
        selection ask for the same terms."""
        known: dict[str, int] = {}

        def frequencies(terms: Sequence[str]) -> dict[str, int]:
            missing = [t for t in dict.fromkeys(terms) if t not in known]
            if missing:
                known.update(self.document_frequencies(missing))
            return {t: known[t] for t in terms}

        return frequencies

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """The backend's own part of `info`: index type, size, schema, build time, versions."""

    def info(self) -> dict[str, Any]:
        """What `rag info` and the UI's index panel show: common fields, then the backend's own."""
        docs, chunks = self.counts()
        s = self.settings
        common: dict[str, Any] = {
            "index": self.location,
            "backend": self.backend,
            "documents": docs,
            "chunks": chunks,
            "embedder": s.embedder_id,
            # One name for the embedder everywhere (answers say the same); how it runs is apart.
            "embedder_runtime": _runtime(s.embedder_spec),
            "model_sha256": s.model_sha256,
            "dimension": s.dimension,
            "chunk_size": s.chunk_size,
            "chunk_overlap": s.chunk_overlap,
        }
        common.update(self.describe())
        documents = sorted(self.documents().values(), key=lambda d: d.source)
        common["sources"] = [
            {"source": d.source, "title": d.title, "outlet": d.outlet, "published": d.published,
             "authors": list(d.authors), "url": d.url}
            for d in documents
        ]
        groups: dict[int, list[str]] = {}
        for d in documents:
            if d.group is not None:
                groups.setdefault(d.group, []).append(d.source)
        common["syndicated"] = sorted(sorted(g) for g in groups.values() if len(g) > 1)
        return common

    def embedder(self, requested_spec: str | None = None) -> "Embedder":
        """The embedder this index's vectors were made with; asking for another one is an error."""
        from embeddings import create_embedder  # heavy: may import torch or onnxruntime

        if self._embedder is None:
            wanted = self.settings
            if requested_spec and requested_spec not in ("auto", wanted.embedder_spec):
                candidate = create_embedder(requested_spec)
                if candidate.id != wanted.embedder_id:
                    raise IndexError_(
                        f"this index was built with embedder {wanted.embedder_id}, not {candidate.id};"
                        f" {rebuild_hint(self.location, requested_spec)}"
                    )
            else:  # the index's own model: through the fast (ONNX) path when it can, same vectors
                candidate = create_embedder(wanted.embedder_spec, fast=True)
            if candidate.id != wanted.embedder_id or candidate.dimension != wanted.dimension:
                raise IndexError_(
                    f"embedder {candidate.id} (dim {candidate.dimension}) does not match the index"
                    f" ({wanted.embedder_id}, dim {wanted.dimension}); {rebuild_hint(self.location)}"
                )
            found = getattr(candidate, "model_sha256", None)
            if wanted.model_sha256 and found and found != wanted.model_sha256:
                raise IndexError_(
                    f"the model weights here (sha256 {found[:12]}...) are not the ones this index was built with"
                    f" ({wanted.model_sha256[:12]}...); {rebuild_hint(self.location)}"
                )
            self._embedder = candidate
        return self._embedder

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StoreWriter(ABC):
    """One atomic write to an index. Used as `with backend.writer(...) as w:`; the changes are
    published together when the block ends and discarded if it raises."""

    @abstractmethod
    def documents(self) -> dict[str, StoredDocument]:
        """The documents as they stand in this write (keyed by source)."""

    @abstractmethod
    def chunk_count(self, document_id: int) -> int: ...

    @abstractmethod
    def chunk_hashes(self, document_id: int) -> dict[str, int]:
        """text hash -> chunk id for a document's chunks (to reuse unchanged chunks' vectors)."""

    @abstractmethod
    def vectors_for(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The stored vectors of these chunks (those the backend can give back)."""

    @abstractmethod
    def sentences_for(self, chunk_ids: Sequence[int]) -> dict[int, ChunkSentences]:
        """The stored sentence vectors of these chunks (to reuse with an unchanged chunk)."""

    @abstractmethod
    def delete_document(self, document_id: int) -> int:
        """Remove a document and its chunks; returns how many chunks went."""

    @abstractmethod
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
        """Add a document with its chunks and their vectors (one row per chunk); returns chunk ids.
        `signature` is its MinHash signature (rag.ingest.syndication), kept to find its copies;
        `sentences`, one entry per chunk (None: none for that chunk), its sentence vectors."""

    @abstractmethod
    def signatures(self) -> dict[int, bytes]:
        """document id -> stored MinHash signature, for every document that has one."""

    @abstractmethod
    def set_groups(self, groups: dict[int, int | None]) -> None:
        """Record the syndication group of each document named (None: no copy of it is
        indexed); documents left out keep theirs."""

    def signature_keys(self) -> "SignatureKeys | None":
        """The backend's lookup of signatures by band key, for regrouping only what a write
        changed; None when it keeps none (grouping then reads every signature)."""
        return None

    @abstractmethod
    def counts(self) -> tuple[int, int]:
        """(documents, chunks) as they stand in this write."""


class SignatureKeys(ABC):
    """Stored documents found by the band keys of their MinHash signatures, within one write.

    The keys are opaque integers to the store (rag.ingest.syndication makes them): an article's
    likely copies are the documents that share a key with it, so grouping the copies of new
    articles reads those documents and the groups they are in, not every signature.
    """

    @abstractmethod
    def broken_groups(self) -> set[int]:
        """The syndication groups that lost a member in this write (they may have split)."""

    @abstractmethod
    def unkeyed(self) -> dict[int, bytes]:
        """document id -> signature of each document whose keys are not stored yet: those
        added in this write, and any indexed before this backend kept keys."""

    @abstractmethod
    def store_keys(self, keys: dict[int, Sequence[int]]) -> None:
        """Record each document's keys; it is no longer unkeyed."""

    @abstractmethod
    def sharing(self, keys: Collection[int]) -> dict[int, int | None]:
        """document id -> syndication group of every document with any of these keys."""

    @abstractmethod
    def members(self, groups: Collection[int]) -> dict[int, int]:
        """document id -> group of every document in these syndication groups."""

    @abstractmethod
    def signatures_of(self, document_ids: Collection[int]) -> dict[int, bytes]:
        """The stored signatures of these documents (those without one are left out)."""


class StoreBackend(ABC):
    """How to find, open and write the index at one location."""

    location: str

    @abstractmethod
    def settings(self) -> IndexSettings | None:
        """The settings of the index there, or None when there is no index yet."""

    @abstractmethod
    def open(self) -> Store:
        """A read-only snapshot; a clear IndexError_ when there is no index or it is damaged."""

    @abstractmethod
    def writer(self, settings: IndexSettings, *, rebuild: bool = False) -> AbstractContextManager[StoreWriter]:
        """An atomic write (starting empty with `rebuild`); one writer at a time per index."""

    def exists(self) -> bool:
        return self.settings() is not None


def fused_hits(lexical: list[int], dense: list[int], dense_weight: float) -> HybridHits:
    """Reciprocal-rank fusion of two rankings, ties broken by chunk id (stable across runs)."""
    scores = rrf([lexical, dense], [1.0, dense_weight])
    order = sorted(scores, key=lambda cid: (-scores[cid], cid))
    return HybridHits(
        order,
        scores,
        {cid: i for i, cid in enumerate(lexical, start=1)},
        {cid: i for i, cid in enumerate(dense, start=1)},
    )


def _runtime(spec: str | None) -> str:
    """How an embedder spec runs the model: onnxruntime, torch (sentence-transformers) or none."""
    kind = (spec or "").partition(":")[0]
    return {"onnx": "onnxruntime", "auto": "onnxruntime", "st": "torch", "sentence-transformers": "torch"}.get(kind, "none")
