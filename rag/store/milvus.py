"""The Milvus backend: an index as a few collections in a Milvus cluster (`.[milvus]`: pymilvus).

    milvus://HOST:PORT/NAME          plain gRPC/HTTP (port 19530 when left out)
    milvus+https://HOST:PORT/NAME    TLS; a token, if the cluster wants one, comes from $RAG_MILVUS_TOKEN

Collections of index NAME (generation G is bumped by `--rebuild`):

    NAME_meta           one row: IndexSettings, schema version, current generation (JSON)
    NAME_g<G>_chunks    chunk_id (pk), document_id, ordinal, start, end, text (English analyzer,
                        BM25 function -> sparse), dense vector, text_hash, terms (the distinct
                        Porter stems of the chunk's words, stop words out, as `rag.text.terms`
                        stems them)
    NAME_g<G>_docs      document_id (pk), source, title, outlet, published, fingerprint, chunks,
                        ingested_at: one row per document, written last (the commit marker)
    NAME_g<G>_doctext   the article text in pieces of at most PIECE_CHARS characters (a VARCHAR
                        holds 65,535 bytes), keyed (document_id, piece) with character offsets
    NAME_g<G>_sentences each chunk's sentence vectors (rag.store.base.ChunkSentences), keyed
                        (chunk_id, piece), with document_id: one row per chunk unless its sentences
                        overflow a VARCHAR (then a few, in order). `spans` is JSON [[start, end], ...]
                        into the chunk text; `vectors` is base64 of little-endian float16, one row of
                        the index's dimension per span (as the embedded store keeps them). One row
                        per sentence with a FLOAT16_VECTOR field was measured and rejected: on
                        milvus-lite 2.5.1, fetching 1,000 sentence vectors of 100 chunks took about
                        50 ms against 15 ms for the 100 packed rows

Ids are client-assigned 63-bit hashes: document_id of (source, fingerprint), chunk_id of
(document_id, ordinal). So two ingest workers never collide, re-ingesting an unchanged file
writes nothing, and writing a version whose rows are already there (two workers ingesting the
same file, or a retry after a crash) upserts the same rows instead of duplicating them.

Atomicity. Milvus has no multi-row transactions. A writer buffers its changes; chunk, text and
sentence rows go to the server in batches while the `with` block runs, but are invisible to
readers until the document row (the commit marker) is written when the block ends: readers only
return chunks (and sentence vectors) whose document row exists. Deletions are applied at the end
too, document row first. So a reader never sees half a document, and an exception in the block deletes the rows already
sent and leaves the index as it was. Across documents a write is not atomic: if the server
fails while a write commits, the documents committed so far stay (each whole), and a rerun
finishes the job. Several writers may work at once (nothing is read-modify-written); `--rebuild`
is the exception: it builds a new generation and drops the old one, so run it alone.

Per-term chunk frequencies (the rerank and the answerer weigh question words by them; Milvus
2.5 has no vocabulary lookup) are `count(*)` of chunks whose `terms` array holds the stem: kept
in the chunk rows themselves, so they shard with the chunks and need no shared counter.

Reads use consistency level "Strong" by default ($RAG_MILVUS_CONSISTENCY: Bounded or Eventually
are cheaper on a busy cluster). A `MilvusStore` is not a frozen snapshot as the embedded one is:
a write that commits while it is open becomes visible to it, one document at a time.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
import os
import re
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from rag.errors import IndexError_, RagError
from rag.store.base import (
    RRF_K,
    ChunkRow,
    ChunkSentences,
    HybridHits,
    IndexSettings,
    Store,
    StoreBackend,
    StoredChunk,
    StoredDocument,
    StoreWriter,
)
from rag.store.database import query_tokens
from rag.store.hints import rag_command, rebuild_hint
from rag.text.terms import STOP_WORDS, stem, words

try:
    import pymilvus
    from pymilvus import (
        AnnSearchRequest,
        DataType,
        Function,
        FunctionType,
        MilvusClient,
        MilvusException,
        RRFRanker,
    )
except ImportError:  # pragma: no cover - depends on the extra
    raise RagError("a milvus:// index needs pymilvus: pip install 'rag-news[milvus]'") from None

# pymilvus logs every failed call at ERROR before raising it; we report errors as one line.
for _name in ("pymilvus", "pymilvus.milvus_client", "pymilvus.bulk_writer"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

SCHEMA_VERSION = 3  # 2: authors, url, MinHash signature and syndication group per document; 3: sentence vectors
DEFAULT_PORT = 19530
#: Article text is stored in pieces this long: 4 bytes per character at most, under 65,535.
PIECE_CHARS = 16_000
VARCHAR_BYTES = 65_535
#: Chunk rows buffered by a writer before they are sent ($RAG_MILVUS_FLUSH_ROWS).
FLUSH_ROWS = 1_000
#: A query returns at most this many rows (Milvus' limit).
QUERY_WINDOW = 16_384
TERM_BYTES = 64
#: Raw float16 bytes of sentence vectors in one row: their base64 must fit a VARCHAR.
SENTENCE_BYTES = VARCHAR_BYTES // 4 * 3
#: Sentences in one row at most (their spans' JSON, 14 bytes a pair at worst, must fit too).
SENTENCES_PER_ROW = 2_048
#: Bytes of sentence rows sent in one insert (a Milvus proxy takes 64 MiB a request by default).
SEND_BYTES = 16 << 20
MAX_TERMS = 4_096
ID_SPACE = 1 << 63
#: pymilvus (2.5.18, 2.6.17) fails to decode an *empty* query result from a collection with an
#: ARRAY field (the chunks' terms) as served by milvus-lite 2.5.1: that error means "no rows".
EMPTY_ARRAY_RESULT = "Unsupported data type: 0"
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,180}$")
CHUNK_FIELDS = ["chunk_id", "document_id", "ordinal", "start", "end", "text"]
SENTENCE_FIELDS = ["chunk_id", "document_id", "piece", "spans", "vectors"]
DOC_FIELDS = ["document_id", "source", "title", "outlet", "published", "fingerprint", "chunks", "ingested_at",
              "authors", "url", "group_id"]
NO_GROUP = -1


def _id(*parts: object) -> int:
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1  # 63 bits: a positive INT64


def document_id_for(source: str, fingerprint: str) -> int:
    return _id("doc", source, fingerprint)


def chunk_id_for(document_id: int, ordinal: int) -> int:
    return _id("chunk", document_id, ordinal)


def chunk_terms(text: str) -> list[str]:
    """The distinct stems of a chunk's words, stop words left out: the terms whose chunk counts
    the rerank and the answerer ask for (`content_terms` of a question never holds a stop word).
    As the embedded store's FTS5 vocabulary counts them, except that a stem reached only through
    a stop word ("named" -> "name") is not counted for that chunk."""
    out = [t for t in dict.fromkeys(stem(w) for w in words(text) if w not in STOP_WORDS)
           if t and len(t.encode("utf-8")) <= TERM_BYTES]
    return out[:MAX_TERMS]


def encode_sentences(chunk_id: int, document_id: int, sentences: ChunkSentences, dimension: int) -> list[dict[str, Any]]:
    """A chunk's sentences as rows of the sentences collection, as many sentences a row as fit a
    VARCHAR (one row for a chunk with none, so that "none" is kept as the embedded store keeps it)."""
    spans = np.asarray(sentences.spans, dtype=np.int64).reshape(-1, 2)
    vectors = np.asarray(sentences.vectors, dtype="<f2").reshape(len(spans), dimension)
    per_row = max(1, min(SENTENCES_PER_ROW, SENTENCE_BYTES // (2 * dimension)))
    return [
        {"piece_id": _id("sentences", chunk_id, piece), "chunk_id": chunk_id, "document_id": document_id,
         "piece": piece, "spans": json.dumps(spans[at : at + per_row].tolist(), separators=(",", ":")),
         "vectors": base64.b64encode(vectors[at : at + per_row].tobytes()).decode("ascii"), "_v": [0.0, 1.0]}
        for piece, at in enumerate(range(0, max(len(spans), 1), per_row))
    ]


def decode_sentences(rows: list[dict[str, Any]], dimension: int, location: str) -> dict[int, ChunkSentences]:
    """Rows of the sentences collection back as each chunk's sentences; rows that do not fit
    together (sizes that disagree, a piece missing) are a damaged index."""
    pieces: dict[int, dict[int, dict[str, Any]]] = {}
    for row in rows:  # keyed by piece: a row the server holds twice counts once
        pieces.setdefault(int(row["chunk_id"]), {})[int(row["piece"])] = row
    out = {}
    for cid, parts in pieces.items():
        spans: list[tuple[int, int]] = []
        matrices = []
        try:
            if sorted(parts) != list(range(len(parts))):
                raise ValueError
            for piece in range(len(parts)):
                pairs = [(int(a), int(b)) for a, b in json.loads(parts[piece]["spans"])]
                matrix = np.frombuffer(base64.b64decode(parts[piece]["vectors"], validate=True), dtype="<f2")
                if matrix.size != len(pairs) * dimension:
                    raise ValueError
                spans += pairs
                matrices.append(matrix.reshape(len(pairs), dimension))
        except (ValueError, TypeError):
            raise IndexError_(f"index {location} is damaged: the sentence vectors of chunk {cid} do not fit its"
                              f" sentences; {rebuild_hint(location)}") from None
        out[cid] = ChunkSentences(tuple(spans), np.concatenate(matrices).astype(np.float32))
    return out


def _send_batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Sentence rows in inserts of at most FLUSH_ROWS rows and about SEND_BYTES bytes."""
    batch: list[dict[str, Any]] = []
    size = 0
    for row in rows:
        n = len(row["spans"]) + len(row["vectors"])
        if batch and (len(batch) >= FLUSH_ROWS or size + n > SEND_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(row)
        size += n
    if batch:
        yield batch


def _quote(value: str) -> str:
    return json.dumps(value)  # a double-quoted string literal Milvus' expression parser accepts


def _ids(values: Sequence[int]) -> str:
    return "[" + ",".join(str(int(v)) for v in values) + "]"


def parse_location(location: str) -> tuple[str, str]:
    """(server URI for pymilvus, index name) from milvus://HOST[:PORT]/NAME; a bad one is one line."""
    parts = urlsplit(location)
    scheme = {"milvus": "http", "milvus+https": "https"}.get(parts.scheme)
    name = parts.path.strip("/")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        port = -1
    if scheme is None or not parts.hostname or port <= 0 or not NAME.match(name) or parts.query:
        raise RagError(
            f"bad index URI '{location}': write milvus://HOST:PORT/NAME (NAME: letters, digits and _,"
            " not starting with a digit)"
        )
    return f"{scheme}://{parts.hostname}:{port}", name


_ALIASES = itertools.count()


def _consistency() -> str:
    return os.environ.get("RAG_MILVUS_CONSISTENCY", "Strong")


class _Connection:
    """One client for one index: collection names, and every call wrapped into one-line errors."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.uri, self.name = parse_location(location)
        timeout = float(os.environ.get("RAG_MILVUS_TIMEOUT", "10"))
        try:
            # Our own connection alias: pymilvus shares one connection among clients of the same
            # URI, and closing any of them (a reader) would close it under the others (a writer).
            self.client = MilvusClient(uri=self.uri, token=os.environ.get("RAG_MILVUS_TOKEN", ""), timeout=timeout,
                                       alias=f"rag-{os.getpid()}-{next(_ALIASES)}")
        except MilvusException as exc:
            raise RagError(f"cannot reach Milvus at {self.uri} ({_reason(exc)}); is the server running?") from None
        self.meta_name = f"{self.name}_meta"
        self.timeout = timeout

    def names(self, generation: int) -> tuple[str, str, str, str]:
        base = f"{self.name}_g{generation}"
        return f"{base}_chunks", f"{base}_docs", f"{base}_doctext", f"{base}_sentences"

    def call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MilvusException as exc:
            raise RagError(f"Milvus at {self.uri}: {what} failed ({_reason(exc)})") from None

    def has(self, collection: str) -> bool:
        return bool(self.call("list collections", self.client.has_collection, collection))

    def query(self, collection: str, expr: str, fields: list[str], limit: int | None = None) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"limit": limit} if limit else {}
        try:
            return list(self.client.query(collection, filter=expr, output_fields=fields,
                                          consistency_level=_consistency(), **kwargs))
        except MilvusException as exc:
            if EMPTY_ARRAY_RESULT in str(exc):
                return []
            raise RagError(f"Milvus at {self.uri}: query {collection} failed ({_reason(exc)})") from None

    def count(self, collection: str, expr: str = "") -> int:
        rows = self.call(f"count {collection}", self.client.query, collection, filter=expr,
                         output_fields=["count(*)"], consistency_level=_consistency())
        return int(rows[0]["count(*)"]) if rows else 0

    def query_all(self, collection: str, key: str, expr: str, fields: list[str]) -> list[dict[str, Any]]:
        """Every row matching `expr`, paging over ranges of the (hashed, uniform) key."""
        out: list[dict[str, Any]] = []
        ranges = [(0, ID_SPACE)]
        while ranges:
            lo, hi = ranges.pop()
            where = f"{key} >= {lo} and {key} < {hi}" + (f" and ({expr})" if expr else "")
            rows = self.query(collection, where, fields, limit=QUERY_WINDOW)
            if len(rows) < QUERY_WINDOW or hi - lo < 2:
                out.extend(rows)
            else:  # the window is full: split the range and ask again
                mid = (lo + hi) // 2
                ranges += [(lo, mid), (mid, hi)]
        return out

    def sentence_rows(self, collection: str, chunk_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The sentence rows of these chunks: one query for up to 1,000 chunks (paged by
        query_all only if their rows overflow QUERY_WINDOW)."""
        ids = list(dict.fromkeys(int(c) for c in chunk_ids))
        rows: list[dict[str, Any]] = []
        for i in range(0, len(ids), 1000):
            rows += self.query_all(collection, "piece_id", f"chunk_id in {_ids(ids[i:i + 1000])}", SENTENCE_FIELDS)
        return rows

    def read_meta(self, *, any_schema: bool = False) -> dict[str, Any] | None:
        """The index's meta record; None when there is no index; a foreign collection is an error,
        and so is another schema version unless `any_schema` (a rebuild replaces it)."""
        if not self.has(self.meta_name):
            return None
        rows = self.query(self.meta_name, "key == 0", ["body"], limit=1)
        if not rows:
            return None
        try:
            meta = json.loads(rows[0]["body"])
            if meta.get("format") != "rag-news":
                raise ValueError
        except (ValueError, TypeError, KeyError):
            raise IndexError_(f"collection {self.meta_name} at {self.uri} is not a rag-news index; choose another NAME") from None
        if meta.get("schema_version") != SCHEMA_VERSION and not any_schema:
            raise IndexError_(
                f"index {self.location} has schema {meta.get('schema_version')}, this program reads schema"
                f" {SCHEMA_VERSION}; {rebuild_hint(self.location)}"
            )
        return meta

    def close(self) -> None:
        with suppress(Exception):  # closing a dead connection is not an error worth reporting
            self.client.close()


def _reason(exc: MilvusException) -> str:
    message = str(getattr(exc, "message", "") or exc).strip().splitlines()
    return (message[0] if message else type(exc).__name__)[:300]


def _settings(meta: dict[str, Any]) -> IndexSettings:
    return IndexSettings(**meta["settings"])


def _empty_bm25(exc: MilvusException) -> bool:
    """Milvus 2.5 fails a BM25 search on a collection with no rows (NaN idf) instead of returning []."""
    return "isfinite" in str(exc) or "NaN or Inf" in str(exc)


class MilvusStore(Store):
    """An index in a Milvus cluster, opened for reading."""

    backend = "milvus"

    def __init__(self, conn: _Connection, meta: dict[str, Any]) -> None:
        self.conn = conn
        self.location = conn.location
        self.meta = meta
        self.settings = _settings(meta)
        self.generation = int(meta["generation"])
        self.chunks_name, self.docs_name, self.text_name, self.sentences_name = conn.names(self.generation)
        self._embedder = None
        self._committed: dict[int, StoredDocument] = {}
        for name in (self.chunks_name, self.docs_name, self.text_name, self.sentences_name):
            if not conn.has(name):
                raise IndexError_(f"index {self.location} is damaged: collection {name} is missing;"
                                  f" {rebuild_hint(self.location)}")
        fields = conn.call("describe", conn.client.describe_collection, self.chunks_name)["fields"]
        dims = {f["name"]: int(f.get("params", {}).get("dim", 0)) for f in fields}
        if dims.get("dense") != self.settings.dimension or "sparse" not in dims or "terms" not in dims:
            raise IndexError_(
                f"collection {self.chunks_name} does not have this program's schema (dense dimension"
                f" {dims.get('dense')}, index says {self.settings.dimension}); {rebuild_hint(self.location)}"
            )

    # -- documents ----------------------------------------------------------------------------

    def counts(self) -> tuple[int, int]:
        return self.conn.count(self.docs_name), self.conn.count(self.chunks_name)

    def documents(self) -> dict[str, StoredDocument]:
        docs, _ = _latest_per_source(self.conn.query_all(self.docs_name, "document_id", "", DOC_FIELDS))
        return docs

    def _documents(self, ids: Sequence[int]) -> dict[int, StoredDocument]:
        """The committed documents among `ids` (remembered: a document row never changes)."""
        missing = [i for i in dict.fromkeys(ids) if i not in self._committed]
        if missing:
            rows = self.conn.query(self.docs_name, f"document_id in {_ids(missing)}", DOC_FIELDS)
            for row in rows:
                self._committed[int(row["document_id"])] = _doc(row)
        return {i: self._committed[i] for i in ids if i in self._committed}

    def document(self, document_id: int) -> StoredDocument:
        found = self._documents([document_id])
        if document_id not in found:
            raise KeyError(document_id)
        return found[document_id]

    def document_text(self, document_id: int) -> str:
        rows = self.conn.query(self.text_name, f"document_id == {int(document_id)}", ["piece", "text"])
        return "".join(r["text"] for r in sorted(rows, key=lambda r: r["piece"]))

    def text_before(self, document_id: int, position: int, limit: int) -> str:
        lo = max(0, position - limit)
        if position <= lo:
            return ""
        expr = f"document_id == {int(document_id)} and start < {int(position)} and stop > {lo}"
        rows = sorted(self.conn.query(self.text_name, expr, ["start", "text"]), key=lambda r: r["start"])
        if not rows:
            return ""
        joined, first = "".join(r["text"] for r in rows), int(rows[0]["start"])
        return joined[lo - first : position - first]

    def get_chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        if not ids:
            return {}
        rows = self.conn.query(self.chunks_name, f"chunk_id in {_ids(ids)}", CHUNK_FIELDS)
        docs = self._documents([int(r["document_id"]) for r in rows])
        out = {}
        for r in rows:
            doc = docs.get(int(r["document_id"]))
            if doc is not None:  # chunks of a document not (yet, or no longer) committed are left out
                out[int(r["chunk_id"])] = StoredChunk(int(r["chunk_id"]), doc.id, int(r["ordinal"]), int(r["start"]),
                                                      int(r["end"]), str(r["text"]), doc.source, doc.title)
        return out

    # -- search ---------------------------------------------------------------------------------

    def _visible(self, hits: list[dict[str, Any]]) -> list[tuple[int, float]]:
        docs = self._documents([int(h["entity"]["document_id"]) for h in hits])
        return [(int(h["id"]), float(h["distance"])) for h in hits if int(h["entity"]["document_id"]) in docs]

    def _search(self, within: Collection[int] | None = None, **kwargs: Any) -> list[dict[str, Any]]:
        if within is not None:  # filtered inside the engine's search, so `limit` rows still come back
            kwargs["filter"] = f"document_id in {_ids(sorted(within))}"
        try:
            result = self.conn.client.search(self.chunks_name, output_fields=["document_id"],
                                             consistency_level=_consistency(), **kwargs)
        except MilvusException as exc:
            if _empty_bm25(exc):
                return []
            raise RagError(f"Milvus at {self.conn.uri}: search failed ({_reason(exc)})") from None
        return list(result[0]) if result else []

    def _bm25_text(self, query: str) -> str | None:
        words = query_tokens(query)
        return " ".join(words) if words else None

    def lexical_search(self, query: str, limit: int, within: Collection[int] | None = None) -> list[tuple[int, float]]:
        text = self._bm25_text(query)
        if text is None or limit <= 0 or (within is not None and not within):
            return []
        hits = self._search(within, data=[text], anns_field="sparse", limit=limit, search_params={"metric_type": "BM25"})
        return self._visible(hits)

    def dense_search(self, vector: np.ndarray, limit: int, within: Collection[int] | None = None) -> list[tuple[int, float]]:
        if limit <= 0 or (within is not None and not within):
            return []
        data = [np.asarray(vector, dtype=np.float32).reshape(-1).tolist()]
        hits = self._search(within, data=data, anns_field="dense", limit=limit, search_params={"metric_type": "IP"})
        return self._visible(hits)

    def hybrid_search(
        self, query: str, vector: np.ndarray, limit: int, dense_weight: float = 1.0, within: Collection[int] | None = None
    ) -> HybridHits:
        """The engine fuses BM25 and dense by RRF (k=60) when both weigh the same; with another
        weight (the offline embedder's 0.1) the engine's two rankings are fused here."""
        text = self._bm25_text(query)
        if text is None or dense_weight != 1.0:
            return super().hybrid_search(query, vector, limit, dense_weight, within)
        if within is not None and not within:
            return HybridHits([], {})
        expr = f"document_id in {_ids(sorted(within))}" if within is not None else ""
        requests = [
            AnnSearchRequest(data=[text], anns_field="sparse", param={"metric_type": "BM25"}, limit=limit, expr=expr),
            AnnSearchRequest(data=[np.asarray(vector, dtype=np.float32).reshape(-1).tolist()], anns_field="dense",
                             param={"metric_type": "IP"}, limit=limit, expr=expr),
        ]
        try:
            result = self.conn.client.hybrid_search(self.chunks_name, requests, RRFRanker(RRF_K), limit=limit,
                                                    output_fields=["document_id"], consistency_level=_consistency())
        except MilvusException as exc:
            if _empty_bm25(exc):
                return HybridHits([], {})
            raise RagError(f"Milvus at {self.conn.uri}: hybrid search failed ({_reason(exc)})") from None
        hits = self._visible(list(result[0]) if result else [])
        return HybridHits([cid for cid, _ in hits], dict(hits))

    def document_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        out = {}
        for term in dict.fromkeys(terms):
            if len(term.encode("utf-8")) > TERM_BYTES:
                out[term] = 0
                continue
            out[term] = self.conn.count(self.chunks_name, f"array_contains(terms, {_quote(term)})")
        return {t: out[t] for t in terms}

    def sentence_vectors(self, chunk_ids: Sequence[int]) -> dict[int, ChunkSentences]:
        if not chunk_ids:
            return {}
        rows = self.conn.sentence_rows(self.sentences_name, chunk_ids)
        docs = self._documents([int(r["document_id"]) for r in rows])  # committed documents' only
        return decode_sentences([r for r in rows if int(r["document_id"]) in docs], self.settings.dimension,
                                self.location)

    def describe(self) -> dict[str, Any]:
        index = self.conn.call("describe index", self.conn.client.describe_index, self.chunks_name, "dense") or {}
        return {
            "uri": self.conn.uri,
            "collection": self.conn.name,
            "collections": [self.chunks_name, self.docs_name, self.text_name, self.sentences_name, self.conn.meta_name],
            "index_type": str(index.get("index_type", "?")),
            "schema_version": self.meta.get("schema_version"),
            "generation": self.generation,
            "built_at": self.meta.get("built_at"),
            "consistency": _consistency(),
            "versions": {"pymilvus": pymilvus.__version__, "server": self._server_version()},
        }

    def _server_version(self) -> str:
        try:
            return str(self.conn.client.get_server_version())
        except Exception:  # noqa: BLE001 - milvus-lite answers UNIMPLEMENTED
            return "unknown"

    def close(self) -> None:
        self.conn.close()


def _doc(row: dict[str, Any]) -> StoredDocument:
    group = int(row.get("group_id", NO_GROUP))
    return StoredDocument(int(row["document_id"]), str(row["source"]), str(row["title"]), row.get("outlet") or None,
                          row.get("published") or None, str(row["fingerprint"]),
                          authors=tuple(json.loads(row.get("authors") or "[]")), url=row.get("url") or None,
                          group=None if group == NO_GROUP else group)


def _latest_per_source(rows: list[dict[str, Any]]) -> tuple[dict[str, StoredDocument], list[int]]:
    """Documents keyed by source, the newest version of each; and the ids of older versions
    (left by a write that failed between committing a new version and deleting the old)."""
    rows = sorted(rows, key=lambda r: (int(r["ingested_at"]), int(r["document_id"])))
    latest: dict[str, dict[str, Any]] = {}
    stale = []
    for row in rows:
        if row["source"] in latest:
            stale.append(int(latest[row["source"]]["document_id"]))
        latest[row["source"]] = row
    return {s: _doc(r) for s, r in latest.items()}, stale


class MilvusWriter(StoreWriter):
    """One write: chunk and text rows sent in batches, document rows and deletions at commit."""

    def __init__(self, conn: _Connection, generation: int, dimension: int, *, empty: bool) -> None:
        self.conn = conn
        self.dimension = dimension
        self.chunks_name, self.docs_name, self.text_name, self.sentences_name = conn.names(generation)
        self.empty = empty
        self._base: dict[str, StoredDocument] | None = None
        self._base_counts: dict[int, int] = {}
        self.deleted: dict[int, int] = {}  # document id -> its chunk count
        self.added: dict[str, dict[str, Any]] = {}  # source -> document row
        self.added_chunks: dict[int, list[ChunkRow]] = {}
        self.added_vectors: dict[int, np.ndarray] = {}
        self.pending_chunks: list[dict[str, Any]] = []
        self.pending_text: list[dict[str, Any]] = []
        self.pending_sentences: list[dict[str, Any]] = []
        self.added_sentences: dict[int, ChunkSentences] = {}  # as stored (float16), until sent
        #: documents added earlier in this write and then deleted: rows sent for them go at commit.
        self.retracted: list[int] = []
        #: syndication groups to record at commit (document id -> group id or NO_GROUP)
        self.groups: dict[int, int] = {}

    # -- the write as it stands -----------------------------------------------------------------

    def _load_base(self) -> dict[str, StoredDocument]:
        if self._base is None:
            if self.empty:
                self._base = {}
            else:
                rows = self.conn.query_all(self.docs_name, "document_id", "", DOC_FIELDS)
                self._base, stale = _latest_per_source(rows)
                self._base_counts = {int(r["document_id"]): int(r["chunks"]) for r in rows}
                for doc_id in stale:  # older versions of a source: tidy them up with this write
                    self.deleted.setdefault(doc_id, self._base_counts[doc_id])
        return self._base

    def documents(self) -> dict[str, StoredDocument]:
        out = {s: d for s, d in self._load_base().items() if d.id not in self.deleted}
        out.update({s: _doc(r) for s, r in self.added.items()})
        return out

    def chunk_count(self, document_id: int) -> int:
        if document_id in self.added_chunks:
            return len(self.added_chunks[document_id])
        self._load_base()
        return self._base_counts.get(document_id, 0) if document_id not in self.deleted else 0

    def chunk_hashes(self, document_id: int) -> dict[str, int]:
        if document_id in self.added_chunks:
            return {c.text_hash: chunk_id_for(document_id, c.ordinal) for c in self.added_chunks[document_id]}
        rows = self.conn.query(self.chunks_name, f"document_id == {int(document_id)}", ["chunk_id", "text_hash"])
        return {str(r["text_hash"]): int(r["chunk_id"]) for r in rows}

    def vectors_for(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]:
        out = {cid: self.added_vectors[cid] for cid in chunk_ids if cid in self.added_vectors}
        rest = [cid for cid in chunk_ids if cid not in out]
        for i in range(0, len(rest), 1000):
            rows = self.conn.query(self.chunks_name, f"chunk_id in {_ids(rest[i:i + 1000])}", ["chunk_id", "dense"])
            out.update({int(r["chunk_id"]): np.asarray(r["dense"], dtype=np.float32) for r in rows})
        return out

    def sentences_for(self, chunk_ids: Sequence[int]) -> dict[int, ChunkSentences]:
        out = {cid: self.added_sentences[cid] for cid in chunk_ids if cid in self.added_sentences}
        rest = [cid for cid in chunk_ids if cid not in out]
        if rest:  # rows on the server, committed or not (as vectors_for): this write's own count too
            out.update(decode_sentences(self.conn.sentence_rows(self.sentences_name, rest), self.dimension,
                                        self.conn.location))
        return out

    def delete_document(self, document_id: int) -> int:
        for source, row in list(self.added.items()):
            if row["document_id"] == document_id:  # added earlier in this write: take it back
                del self.added[source]
                self.pending_chunks = [r for r in self.pending_chunks if r["document_id"] != document_id]
                self.pending_text = [r for r in self.pending_text if r["document_id"] != document_id]
                self.pending_sentences = [r for r in self.pending_sentences if r["document_id"] != document_id]
                for chunk in self.added_chunks.get(document_id, []):
                    self.added_sentences.pop(chunk_id_for(document_id, chunk.ordinal), None)
                self.retracted.append(document_id)
                return len(self.added_chunks.pop(document_id, []))
        n = self.chunk_count(document_id)
        self.deleted[document_id] = n
        return n

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
        if len(vectors) != len(chunks):
            raise RagError(f"internal error: {len(chunks)} chunks but {len(vectors)} vectors for {source}")
        if sentences is not None and len(sentences) != len(chunks):
            raise RagError(f"internal error: {len(chunks)} chunks but {len(sentences)} sentence entries for {source}")
        for found in sentences or ():
            if found is not None and np.shape(found.vectors) != (len(found.spans), self.dimension):
                raise RagError(f"internal error: {len(found.spans)} sentences but sentence vectors of shape"
                               f" {np.shape(found.vectors)} for {source}")
        doc_id = document_id_for(source, fingerprint)
        # Writing the very version that is there (or being deleted in this write) keeps it.
        self.deleted.pop(doc_id, None)
        ids = []
        for row, vector in zip(chunks, vectors):
            if len(row.text.encode("utf-8")) > VARCHAR_BYTES:
                raise RagError(f"a chunk of {source} is over {VARCHAR_BYTES} bytes; use a smaller --chunk-size")
            cid = chunk_id_for(doc_id, row.ordinal)
            ids.append(cid)
            vec = np.asarray(vector, dtype=np.float32).reshape(-1)
            self.added_vectors[cid] = vec
            self.pending_chunks.append({
                "chunk_id": cid, "document_id": doc_id, "ordinal": row.ordinal, "start": row.start, "end": row.end,
                "text": row.text, "text_hash": row.text_hash, "terms": chunk_terms(row.text), "dense": vec.tolist(),
            })
        for cid, found in zip(ids, sentences or ()):
            if found is not None:
                rows = encode_sentences(cid, doc_id, found, self.dimension)
                self.pending_sentences += rows
                self.added_sentences[cid] = decode_sentences(rows, self.dimension, self.conn.location)[cid]
        for piece, at in enumerate(range(0, max(len(text), 1), PIECE_CHARS)):
            part = text[at : at + PIECE_CHARS]
            self.pending_text.append({"piece_id": _id("text", doc_id, piece), "document_id": doc_id, "piece": piece,
                                      "start": at, "stop": at + len(part), "text": part, "_v": [0.0, 1.0]})
        authors_json = json.dumps(list(authors), ensure_ascii=False)
        for field, value in (("source", source), ("title", title), ("fingerprint", fingerprint),
                             ("outlet", outlet or ""), ("published", published or ""), ("authors", authors_json),
                             ("url", url or "")):
            if len(value.encode("utf-8")) > VARCHAR_BYTES:
                raise RagError(f"the {field} of {source} is over {VARCHAR_BYTES} bytes")
        self.added[source] = {
            "document_id": doc_id, "source": source, "title": title,
            "fingerprint": fingerprint, "outlet": outlet or "", "published": published or "",
            "authors": authors_json, "url": url or "", "signature": signature.hex() if signature else "",
            "group_id": NO_GROUP, "chunks": len(chunks), "ingested_at": time.time_ns(), "_v": [0.0, 1.0],
        }
        self.added_chunks[doc_id] = list(chunks)
        if len(self.pending_chunks) >= int(os.environ.get("RAG_MILVUS_FLUSH_ROWS", FLUSH_ROWS)):
            self.flush()
        return ids

    def counts(self) -> tuple[int, int]:
        docs = self.documents()
        return len(docs), sum(self.chunk_count(d.id) for d in docs.values())

    def signatures(self) -> dict[int, bytes]:
        kept = {d.id for d in self.documents().values()}
        out = {int(r["document_id"]): r["signature"] for r in self.added.values()}
        base = [d.id for d in self._load_base().values() if d.id in kept and d.id not in out]
        for i in range(0, len(base), 1000):
            rows = self.conn.query(self.docs_name, f"document_id in {_ids(base[i:i + 1000])}", ["document_id", "signature"])
            out.update({int(r["document_id"]): r["signature"] for r in rows})
        return {d: bytes.fromhex(sig) for d, sig in out.items() if sig}

    def set_groups(self, groups: dict[int, int | None]) -> None:
        self.groups = {d: NO_GROUP if g is None else int(g) for d, g in groups.items()}

    # -- sending ----------------------------------------------------------------------------------

    def flush(self) -> None:
        """Send buffered chunk and text rows: invisible to readers until their document row lands.

        Rows are inserted (much cheaper than upsert); the rows of a document that already has
        rows on the server (the same version written by another worker, or left by a write that
        died) are upserted instead, so an id is never stored twice."""
        pending = ((self.chunks_name, self.pending_chunks), (self.text_name, self.pending_text),
                   (self.sentences_name, self.pending_sentences))
        if not any(rows for _, rows in pending):
            return
        doc_ids = sorted({r["document_id"] for _, rows in pending for r in rows})
        present: set[int] = set()
        for i in range(0, len(doc_ids), 1000):
            expr = f"document_id in {_ids(doc_ids[i:i + 1000])}"
            for name, _ in pending:
                present |= {int(r["document_id"]) for r in self.conn.query(name, expr, ["document_id"], limit=QUERY_WINDOW)}
        for name, rows in pending:
            fresh = [r for r in rows if r["document_id"] not in present]
            again = [r for r in rows if r["document_id"] in present]
            if name == self.sentences_name:  # rows of up to 64 KiB: batches by size too
                batches = [(self.conn.client.insert, b) for b in _send_batches(fresh)]
                batches += [(self.conn.client.upsert, b) for b in _send_batches(again)]
            else:
                batches = [(self.conn.client.insert, fresh[i : i + FLUSH_ROWS]) for i in range(0, len(fresh), FLUSH_ROWS)]
                batches += [(self.conn.client.upsert, again[i : i + FLUSH_ROWS]) for i in range(0, len(again), FLUSH_ROWS)]
            for send, batch in batches:
                self.conn.call(f"write {name}", send, name, batch)
        self.pending_chunks, self.pending_text, self.pending_sentences = [], [], []
        self.added_vectors, self.added_sentences = {}, {}  # reread from the server when asked

    def commit(self) -> None:
        self.flush()
        for row in self.added.values():
            row["group_id"] = self.groups.get(int(row["document_id"]), NO_GROUP)
        rows = list(self.added.values()) + self._regrouped()
        for i in range(0, len(rows), 1000):
            self.conn.call("write documents", self.conn.client.upsert, self.docs_name, rows[i : i + 1000])
        gone = list(self.deleted) + [d for d in self.retracted if d not in {r["document_id"] for r in rows}]
        for i in range(0, len(gone), 1000):
            expr = f"document_id in {_ids(gone[i:i + 1000])}"
            self.conn.call("delete documents", self.conn.client.delete, self.docs_name, filter=expr)
            # sentences before chunks: a document whose sentence rows are left (a failure midway)
            # has its chunk rows left too, which flush's check of what is there finds
            self.conn.call("delete sentences", self.conn.client.delete, self.sentences_name, filter=expr)
            self.conn.call("delete chunks", self.conn.client.delete, self.chunks_name, filter=expr)
            self.conn.call("delete text", self.conn.client.delete, self.text_name, filter=expr)

    def _regrouped(self) -> list[dict[str, Any]]:
        """Full rows of kept documents whose syndication group changed (upserted at commit)."""
        added = {int(r["document_id"]) for r in self.added.values()}
        base = {d.id: d for d in self._load_base().values() if d.id not in self.deleted and d.id not in added}
        changed = [d for d, g in self.groups.items() if d in base and (base[d].group if base[d].group is not None
                                                                         else NO_GROUP) != g]
        out = []
        for i in range(0, len(changed), 1000):
            fields = DOC_FIELDS + ["signature"]
            for row in self.conn.query(self.docs_name, f"document_id in {_ids(changed[i:i + 1000])}", fields):
                row = {k: row[k] for k in fields}
                row["group_id"], row["_v"] = self.groups[int(row["document_id"])], [0.0, 1.0]
                out.append(row)
        return out

    def rollback(self) -> None:
        """Take back the rows sent so far, except those of a document someone else has committed
        meanwhile (two workers writing the same version share its rows)."""
        self.pending_chunks, self.pending_text, self.pending_sentences = [], [], []
        mine = [r["document_id"] for r in self.added.values()] + self.retracted
        committed = set()
        for i in range(0, len(mine), 1000):
            rows = self.conn.query(self.docs_name, f"document_id in {_ids(mine[i:i + 1000])}", ["document_id"])
            committed |= {int(r["document_id"]) for r in rows}
        ours = [d for d in mine if d not in committed]
        for i in range(0, len(ours), 1000):
            expr = f"document_id in {_ids(ours[i:i + 1000])}"
            self.conn.call("undo sentences", self.conn.client.delete, self.sentences_name, filter=expr)
            self.conn.call("undo chunks", self.conn.client.delete, self.chunks_name, filter=expr)
            self.conn.call("undo text", self.conn.client.delete, self.text_name, filter=expr)


class MilvusBackend(StoreBackend):
    """An index in a Milvus cluster: milvus://HOST:PORT/NAME."""

    def __init__(self, location: str) -> None:
        parse_location(location)  # a bad URI fails here, before any connection
        self.location = location
        self._conn: _Connection | None = None

    def _connection(self) -> _Connection:
        if self._conn is None:
            self._conn = _Connection(self.location)
        return self._conn

    def settings(self) -> IndexSettings | None:
        meta = self._connection().read_meta()
        return _settings(meta) if meta else None

    def open(self) -> MilvusStore:
        conn = _Connection(self.location)
        try:
            meta = conn.read_meta()
            if meta is None:
                raise IndexError_(f"no index at {self.location}; build one with {rag_command(self.location, 'ingest PATH')}")
            return MilvusStore(conn, meta)
        except BaseException:
            conn.close()
            raise

    @contextmanager
    def writer(self, settings: IndexSettings, *, rebuild: bool = False) -> Iterator[StoreWriter]:
        conn = self._connection()
        meta = conn.read_meta(any_schema=rebuild)  # a rebuild replaces an index of another schema
        if meta is not None and not rebuild:
            old = _settings(meta)
            if (old.embedder_id, old.dimension) != (settings.embedder_id, settings.dimension):
                raise IndexError_(
                    f"index {self.location} was built with embedder {old.embedder_id} (dim {old.dimension}), not"
                    f" {settings.embedder_id} (dim {settings.dimension}); {rebuild_hint(self.location)}"
                )
        old_generation = int(meta["generation"]) if meta else None
        generation = (old_generation + 1) if (rebuild and old_generation is not None) else (old_generation or 1)
        if rebuild and generation != old_generation:
            self._drop(conn, generation)  # leftovers of a rebuild that was killed
        created = self._create(conn, generation, settings.dimension)
        writer = MilvusWriter(conn, generation, settings.dimension, empty=rebuild)
        try:
            yield writer
            writer.commit()
        except BaseException:
            try:
                if created and generation != 1:
                    self._drop(conn, generation)
                else:
                    writer.rollback()
            except RagError:
                pass  # the server is gone: the original error says more
            raise
        body = {
            "format": "rag-news",
            "schema_version": SCHEMA_VERSION,
            "generation": generation,
            "settings": asdict(settings),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self._ensure_meta(conn)
        conn.call("write meta", conn.client.upsert, conn.meta_name,
                  [{"key": 0, "body": json.dumps(body), "_v": [0.0, 1.0]}])
        if old_generation is not None and old_generation != generation:
            self._drop(conn, old_generation)

    # -- collections --------------------------------------------------------------------------------

    def _create(self, conn: _Connection, generation: int, dimension: int) -> bool:
        """Create this generation's collections if missing; True if it created the chunks collection."""
        chunks_name, docs_name, text_name, sentences_name = conn.names(generation)
        created = False
        if not conn.has(chunks_name):
            s = MilvusClient.create_schema(auto_id=False, description="rag-news chunks")
            s.add_field("chunk_id", DataType.INT64, is_primary=True)
            s.add_field("document_id", DataType.INT64)
            for name in ("ordinal", "start", "end"):
                s.add_field(name, DataType.INT64)
            s.add_field("text", DataType.VARCHAR, max_length=VARCHAR_BYTES, enable_analyzer=True,
                        analyzer_params={"type": "english"})
            s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            s.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
            s.add_field("text_hash", DataType.VARCHAR, max_length=64)
            s.add_field("terms", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=MAX_TERMS,
                        max_length=TERM_BYTES)
            s.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                    output_field_names=["sparse"]))
            index = conn.client.prepare_index_params()
            index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                            params={"bm25_k1": 1.2, "bm25_b": 0.75})
            index.add_index("dense", index_type=os.environ.get("RAG_MILVUS_INDEX", "AUTOINDEX"), metric_type="IP")
            created = self._create_one(conn, chunks_name, s, index)
            if created:
                self._scalar_indexes(conn, chunks_name, [("document_id", "STL_SORT"), ("terms", "INVERTED")])
        if not conn.has(docs_name):
            s = MilvusClient.create_schema(auto_id=False, description="rag-news documents")
            s.add_field("document_id", DataType.INT64, is_primary=True)
            # outlet and published: "" for none (milvus-lite has no nullable fields)
            for name in ("source", "title", "fingerprint", "outlet", "published", "authors", "url", "signature"):
                s.add_field(name, DataType.VARCHAR, max_length=VARCHAR_BYTES)
            s.add_field("group_id", DataType.INT64)  # NO_GROUP when no other article is a copy
            s.add_field("chunks", DataType.INT64)
            s.add_field("ingested_at", DataType.INT64)
            s.add_field("_v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
            self._create_one(conn, docs_name, s, self._tiny_index(conn))
        if not conn.has(text_name):
            s = MilvusClient.create_schema(auto_id=False, description="rag-news article text")
            s.add_field("piece_id", DataType.INT64, is_primary=True)
            for name in ("document_id", "piece", "start", "stop"):
                s.add_field(name, DataType.INT64)
            s.add_field("text", DataType.VARCHAR, max_length=VARCHAR_BYTES)
            s.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
            if self._create_one(conn, text_name, s, self._tiny_index(conn)):
                self._scalar_indexes(conn, text_name, [("document_id", "STL_SORT")])
        if not conn.has(sentences_name):
            s = MilvusClient.create_schema(auto_id=False, description="rag-news sentence vectors")
            s.add_field("piece_id", DataType.INT64, is_primary=True)
            for name in ("chunk_id", "document_id", "piece"):
                s.add_field(name, DataType.INT64)
            s.add_field("spans", DataType.VARCHAR, max_length=VARCHAR_BYTES)
            s.add_field("vectors", DataType.VARCHAR, max_length=VARCHAR_BYTES)
            s.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
            if self._create_one(conn, sentences_name, s, self._tiny_index(conn)):
                self._scalar_indexes(conn, sentences_name, [("chunk_id", "STL_SORT"), ("document_id", "STL_SORT")])
        return created

    @staticmethod
    def _tiny_index(conn: _Connection) -> Any:
        index = conn.client.prepare_index_params()
        index.add_index("_v", index_type="FLAT", metric_type="L2")
        return index

    @staticmethod
    def _create_one(conn: _Connection, name: str, schema: Any, index: Any) -> bool:
        """Create and load one collection. On a cluster, $RAG_MILVUS_SHARDS sets its shards (write
        parallelism; fixed at creation) and $RAG_MILVUS_REPLICAS its in-memory replicas (query
        throughput and availability; needs that many query nodes)."""
        extra: dict[str, Any] = {}
        if int(os.environ.get("RAG_MILVUS_SHARDS", "0") or 0) > 1:
            extra["num_shards"] = int(os.environ["RAG_MILVUS_SHARDS"])
        try:
            conn.client.create_collection(name, schema=schema, index_params=index, consistency_level=_consistency(),
                                          **extra)
        except MilvusException as exc:
            if conn.has(name):  # another writer created it first
                return False
            raise RagError(f"Milvus at {conn.uri}: creating {name} failed ({_reason(exc)})") from None
        replicas = int(os.environ.get("RAG_MILVUS_REPLICAS", "0") or 0)
        if replicas > 1:
            conn.call(f"release {name}", conn.client.release_collection, name)
            conn.call(f"load {name} with {replicas} replicas", conn.client.load_collection, name, replica_number=replicas)
        return True

    @staticmethod
    def _scalar_indexes(conn: _Connection, name: str, fields: list[tuple[str, str]]) -> None:
        """Scalar indexes for the filters readers use (document_id, terms): a cluster builds them;
        milvus-lite refuses them ("invalid parameter") and scans instead."""
        for field, kind in fields:
            index = conn.client.prepare_index_params()
            index.add_index(field, index_type=kind)
            try:
                conn.client.create_index(name, index)
            except MilvusException:
                pass

    def _ensure_meta(self, conn: _Connection) -> None:
        if conn.has(conn.meta_name):
            return
        s = MilvusClient.create_schema(auto_id=False, description="rag-news index settings")
        s.add_field("key", DataType.INT64, is_primary=True)
        s.add_field("body", DataType.VARCHAR, max_length=VARCHAR_BYTES)
        s.add_field("_v", DataType.FLOAT_VECTOR, dim=2)
        self._create_one(conn, conn.meta_name, s, self._tiny_index(conn))

    @staticmethod
    def _drop(conn: _Connection, generation: int) -> None:
        for name in conn.names(generation):
            if conn.has(name):
                conn.call(f"drop {name}", conn.client.drop_collection, name)
