"""The SQLite half of an index: documents, chunks and an FTS5 table for BM25.

Schema changes are numbered migrations recorded in `schema_migrations`, so an index built
by an older version is upgraded in place and one from a newer version is refused.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rag.errors import IndexError_, RagError, system_error_message
from rag.store.base import ChunkSentences, StoredChunk, StoredDocument
from rag.store.filters import outlet_key, published_key
from rag.store.hints import rebuild_hint
from rag.text.terms import STOP_WORDS, stem

MIGRATIONS: list[str] = [
    # 1: documents, chunks, BM25 over chunk text and the document title.
    """
    CREATE TABLE documents (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        outlet TEXT,
        published TEXT,
        fingerprint TEXT NOT NULL,
        text TEXT NOT NULL,
        ingested_at TEXT NOT NULL
    );
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        text TEXT NOT NULL,
        text_hash TEXT NOT NULL
    );
    CREATE INDEX chunks_document ON chunks(document_id, ordinal);
    CREATE INDEX chunks_hash ON chunks(text_hash);
    CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab(chunks_fts, 'row');
    CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, text) VALUES (new.id, new.text);
    END;
    CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END;
    """,
    # 2: news metadata per document: authors (a JSON list) and the article's URL.
    """
    ALTER TABLE documents ADD COLUMN authors TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE documents ADD COLUMN url TEXT;
    """,
    # 3: syndicated copies: each article's MinHash signature, and the group of copies it is in
    # (the smallest document id of the group; NULL when no other article carries its text).
    """
    ALTER TABLE documents ADD COLUMN signature BLOB;
    ALTER TABLE documents ADD COLUMN syndication_group INTEGER;
    """,
    # 4: each chunk's sentences, embedded at ingest (rag.store.base.ChunkSentences): spans into
    # the chunk text as int32 pairs, one float16 vector per sentence. An index from before has
    # none, and its sentences are embedded at query time as they were then.
    """
    CREATE TABLE chunk_sentences (
        chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
        spans BLOB NOT NULL,
        vectors BLOB NOT NULL
    );
    """,
    # 5: what a filter compares (rag.store.filters: published_key, outlet_key), indexed, so a
    # filtered question reads only the documents it admits (rag.store.filter_sql). The rows
    # already there are filled in by the same functions, registered with the connection.
    """
    ALTER TABLE documents ADD COLUMN published_key TEXT;
    ALTER TABLE documents ADD COLUMN outlet_key TEXT NOT NULL DEFAULT '';
    UPDATE documents SET published_key = rag_published_key(published), outlet_key = rag_outlet_key(outlet);
    CREATE INDEX documents_published ON documents(published_key);
    CREATE INDEX documents_outlet ON documents(outlet_key);
    """,
    # 6: the MinHash band keys of each document's signature (rag.ingest.syndication), so that
    # an ingest regroups only the copies of what it changed (rag.ingest.grouping) instead of
    # every stored signature. A document is `signature_keyed` once its keys are stored; those
    # indexed before this migration get theirs on the next ingest that changes anything.
    """
    CREATE TABLE signature_keys (
        key INTEGER NOT NULL,
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        PRIMARY KEY (key, document_id)
    ) WITHOUT ROWID;
    CREATE INDEX signature_keys_document ON signature_keys(document_id);
    ALTER TABLE documents ADD COLUMN signature_keyed INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX documents_unkeyed ON documents(id) WHERE signature IS NOT NULL AND signature_keyed = 0;
    CREATE INDEX documents_group ON documents(syndication_group);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path, *, create: bool = False) -> sqlite3.Connection:
    """Open (and migrate) an index database; a foreign or damaged file is a clear error."""
    if not create and not path.exists():
        raise IndexError_(f"index database {path} is missing; the index is damaged: {rebuild_hint(path.parent)}")
    if not create and path.stat().st_size == 0:
        # SQLite would take an empty file for an empty database and migrate it into an empty index.
        raise IndexError_(f"index database {path} is empty (0 bytes); the index is damaged: {rebuild_hint(path.parent)}")
    try:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA journal_mode = DELETE")
        # Migration 5 fills its columns through these (the filter's own definitions).
        conn.create_function("rag_published_key", 1, published_key, deterministic=True)
        conn.create_function("rag_outlet_key", 1, outlet_key, deterministic=True)
        _migrate(conn)
    except sqlite3.DatabaseError as exc:
        if _machine_failure(exc):  # a full disk is not a damaged index: nothing to rebuild
            raise RagError(system_error_message(exc) or str(exc)) from None
        raise IndexError_(f"index database {path} is unreadable ({exc}); the index is damaged:"
                          f" {rebuild_hint(path.parent)}") from None
    return conn


def _machine_failure(exc: sqlite3.Error) -> bool:
    """A full disk or a read-only file system, rather than a damaged file."""
    text = str(exc).lower()
    return "full" in text or "readonly" in text or "read-only" in text


def _migrate(conn: sqlite3.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]
    if current > SCHEMA_VERSION:
        raise IndexError_(
            f"index schema version {current} is newer than this program's ({SCHEMA_VERSION}); upgrade rag"
        )
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if current == 0 and tables - {"schema_migrations", "sqlite_sequence"}:
        raise IndexError_("this SQLite file is not a rag index (it has other tables)")
    for version in range(current + 1, SCHEMA_VERSION + 1):
        with transaction(conn):
            for statement in _statements(MIGRATIONS[version - 1]):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations(version, applied_at) VALUES (?, datetime('now'))", (version,)
            )


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """All or nothing: the connection runs in autocommit mode, so transactions are explicit."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # SQLite has already rolled back after e.g. SQLITE_FULL
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements (trigger bodies keep their inner semicolons)."""
    buffer = ""
    for line in script.strip().splitlines():
        buffer += line + "\n"
        if sqlite3.complete_statement(buffer):
            yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])


_DOCUMENT_COLUMNS = "id, source, title, outlet, published, fingerprint, authors, url, syndication_group"


def _document(row: Sequence[object]) -> StoredDocument:
    authors = json.loads(str(row[6])) if row[6] else []
    return StoredDocument(*row[:6], authors=tuple(str(a) for a in authors), url=row[7], group=row[8])  # type: ignore[arg-type]


def documents(conn: sqlite3.Connection) -> dict[str, StoredDocument]:
    rows = conn.execute(f"SELECT {_DOCUMENT_COLUMNS} FROM documents")
    return {r[1]: _document(r) for r in rows}


def document(conn: sqlite3.Connection, document_id: int) -> StoredDocument:
    row = conn.execute(f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE id = ?", (document_id,)).fetchone()
    if row is None:
        raise KeyError(document_id)
    return _document(row)


def document_text(conn: sqlite3.Connection, document_id: int) -> str:
    row = conn.execute("SELECT text FROM documents WHERE id = ?", (document_id,)).fetchone()
    if row is None:
        raise KeyError(document_id)
    return str(row[0])


def counts(conn: sqlite3.Connection) -> tuple[int, int]:
    docs = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    chunks = conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    return int(docs), int(chunks)


def chunk_ids(conn: sqlite3.Connection) -> list[int]:
    return [r[0] for r in conn.execute("SELECT id FROM chunks ORDER BY id")]


def chunk_ids_for(conn: sqlite3.Connection, document_id: int) -> list[int]:
    return [r[0] for r in conn.execute("SELECT id FROM chunks WHERE document_id = ?", (document_id,))]


def chunk_hashes_for(conn: sqlite3.Connection, document_id: int) -> dict[str, int]:
    """text hash -> chunk id, so a changed document can reuse vectors of unchanged chunks."""
    rows = conn.execute("SELECT text_hash, id FROM chunks WHERE document_id = ?", (document_id,))
    return {h: i for h, i in rows}


def delete_document(conn: sqlite3.Connection, document_id: int) -> None:
    conn.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
    conn.execute("DELETE FROM documents WHERE id = ?", (document_id,))


def insert_document(
    conn: sqlite3.Connection,
    *,
    source: str,
    title: str,
    outlet: str | None,
    published: str | None,
    fingerprint: str,
    text: str,
    authors: Sequence[str] = (),
    url: str | None = None,
    signature: bytes | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO documents(source, title, outlet, published, fingerprint, text, authors, url, signature,"
        " published_key, outlet_key, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, datetime('now'))",
        (source, title, outlet, published, fingerprint, text, json.dumps(list(authors), ensure_ascii=False), url,
         signature, published_key(published), outlet_key(outlet)),
    )
    return int(cur.lastrowid or 0)


def insert_chunks(
    conn: sqlite3.Connection, document_id: int, chunks: Iterable[tuple[int, int, int, str, str]]
) -> list[int]:
    """Insert (ordinal, start, end, text, text_hash) rows; returns their new ids in order."""
    ids = []
    for ordinal, start, end, text, text_hash in chunks:
        cur = conn.execute(
            'INSERT INTO chunks(document_id, ordinal, start, "end", text, text_hash) VALUES (?, ?, ?, ?, ?, ?)',
            (document_id, ordinal, start, end, text, text_hash),
        )
        ids.append(int(cur.lastrowid or 0))
    return ids


def insert_sentences(conn: sqlite3.Connection, rows: Iterable[tuple[int, ChunkSentences]]) -> None:
    """Store (chunk id, sentences) rows: spans as int32 pairs, vectors as float16 (half the
    bytes; cosines move by under 1e-3)."""
    conn.executemany(
        "INSERT INTO chunk_sentences(chunk_id, spans, vectors) VALUES (?, ?, ?)",
        ((cid, np.asarray(s.spans, dtype="<i4").reshape(-1, 2).tobytes(),
          np.asarray(s.vectors, dtype="<f2").tobytes()) for cid, s in rows),
    )


def sentences(conn: sqlite3.Connection, ids: Sequence[int], dimension: int) -> dict[int, ChunkSentences]:
    """The stored sentences of these chunks; a row whose sizes disagree is a damaged index."""
    out: dict[int, ChunkSentences] = {}
    for start in range(0, len(ids), 500):  # SQLite caps the number of bound parameters
        part = list(ids[start : start + 500])
        marks = ",".join("?" * len(part))
        for cid, spans, vectors in conn.execute(
            f"SELECT chunk_id, spans, vectors FROM chunk_sentences WHERE chunk_id IN ({marks})", part
        ):
            pairs = np.frombuffer(spans, dtype="<i4").reshape(-1, 2)
            matrix = np.frombuffer(vectors, dtype="<f2")
            if matrix.size != len(pairs) * dimension:
                raise IndexError_(f"index is damaged: the sentence vectors of chunk {cid} do not fit its"
                                  f" sentences; {rebuild_hint(_index_of(conn))}")
            out[int(cid)] = ChunkSentences(tuple((int(a), int(b)) for a, b in pairs),
                                           matrix.reshape(len(pairs), dimension).astype(np.float32))
    return out


def _index_of(conn: sqlite3.Connection) -> Path:
    """The index directory of an open store (for advice that names it)."""
    return Path(conn.execute("PRAGMA database_list").fetchone()[2]).parent


def get_chunks(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, StoredChunk]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f'SELECT c.id, c.document_id, c.ordinal, c.start, c."end", c.text, d.source, d.title'
        f" FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id IN ({marks})",
        list(ids),
    )
    return {r[0]: StoredChunk(*r) for r in rows}


def text_before(conn: sqlite3.Connection, document_id: int, position: int, limit: int) -> str:
    """Up to `limit` characters of a document's text ending at `position` (without loading it all)."""
    start = max(0, position - limit)
    row = conn.execute("SELECT substr(text, ?, ?) FROM documents WHERE id = ?",
                       (start + 1, position - start, document_id)).fetchone()
    return str(row[0]) if row and row[0] is not None else ""


_TOKEN = re.compile(r"\w+", re.UNICODE)


def query_tokens(text: str) -> list[str]:
    """The words of a question worth searching for: lower case, stop words out (unless alone)."""
    tokens = [t for t in _TOKEN.findall(text.lower()) if t]
    tokens = [t for t in tokens if t not in STOP_WORDS] or tokens
    return list(dict.fromkeys(tokens))[:64]


def fts_query(text: str, tokens: Sequence[str] | None = None) -> str | None:
    """A safe FTS5 query from any user text (or from `tokens` chosen from it): each word
    quoted, joined with OR.

    Quoting every token makes FTS5 operators (AND, NEAR, *, parentheses, column filters) plain
    words, so no question can raise a syntax error. None when the text has no words.
    """
    tokens = list(tokens) if tokens is not None else query_tokens(text)
    if not tokens:
        return None
    return " OR ".join(f'"{t}"' for t in tokens)


#: On a large index, a word in more than this share of chunks (and at least COMMON_MIN_DF)
#: is left out of the BM25 query: it barely changes the ranking (low idf) but its long
#: posting list dominates query time (bench/scale.py). If every word is that common, the two
#: rarest are kept.
COMMON_SHARE = 0.05
COMMON_MIN_DF = 5_000


def searchable_tokens(conn: sqlite3.Connection, text: str, n_chunks: int) -> list[str]:
    """The question's words worth their cost on an index of `n_chunks` chunks."""
    tokens = query_tokens(text)
    limit = max(COMMON_MIN_DF, COMMON_SHARE * n_chunks)
    if n_chunks <= limit or not tokens:
        return tokens
    stems = {t: stem(t) for t in tokens}
    df = document_frequencies(conn, sorted(set(stems.values())))
    kept = [t for t in tokens if df.get(stems[t], 0) <= limit]
    return kept or sorted(tokens, key=lambda t: df.get(stems[t], 0))[:2]


def bm25_search(
    conn: sqlite3.Connection, query: str, limit: int, n_chunks: int = 0, within: Collection[int] | None = None
) -> list[tuple[int, float]]:
    """(chunk id, score) best first; higher is better (FTS5's bm25() negated). With `within`,
    only chunks of those document ids are ranked."""
    match = fts_query(query, searchable_tokens(conn, query, n_chunks))
    if match is None or (within is not None and not within):
        return []
    if within is None:
        rows = conn.execute(
            "SELECT rowid, -bm25(chunks_fts) AS score FROM chunks_fts WHERE chunks_fts MATCH ?"
            " ORDER BY bm25(chunks_fts) LIMIT ?",
            (match, limit),
        )
    else:
        rows = conn.execute(
            "SELECT f.rowid, -bm25(chunks_fts) AS score FROM chunks_fts f JOIN chunks c ON c.id = f.rowid"
            " WHERE chunks_fts MATCH ? AND c.document_id IN (SELECT value FROM json_each(?))"
            " ORDER BY bm25(chunks_fts) LIMIT ?",
            (match, json.dumps(sorted(within)), limit),
        )
    return [(int(r[0]), float(r[1])) for r in rows]


def chunk_ids_of(conn: sqlite3.Connection, document_ids: Collection[int]) -> list[int]:
    """The chunk ids of these documents."""
    rows = conn.execute(
        "SELECT id FROM chunks WHERE document_id IN (SELECT value FROM json_each(?))", (json.dumps(sorted(document_ids)),)
    )
    return [int(r[0]) for r in rows]


def document_frequencies(conn: sqlite3.Connection, terms: Sequence[str]) -> dict[str, int]:
    """How many chunks contain each (porter-stemmed, lower-case) term; 0 when none does."""
    if not terms:
        return {}
    marks = ",".join("?" * len(terms))
    rows = conn.execute(f"SELECT term, doc FROM chunks_vocab WHERE term IN ({marks})", list(terms))
    found = {str(t): int(d) for t, d in rows}
    return {t: found.get(t, 0) for t in terms}


def signatures(conn: sqlite3.Connection) -> dict[int, bytes]:
    """document id -> its stored MinHash signature (documents without one are left out)."""
    return {int(i): bytes(b) for i, b in conn.execute("SELECT id, signature FROM documents WHERE signature IS NOT NULL")}


def set_groups(conn: sqlite3.Connection, groups: dict[int, int | None]) -> None:
    conn.executemany("UPDATE documents SET syndication_group = ? WHERE id = ?", [(g, d) for d, g in groups.items()])
