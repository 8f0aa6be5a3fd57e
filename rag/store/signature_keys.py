"""The embedded store's band-key lookup (rag.store.base.SignatureKeys) in SQLite.

Keys live in `signature_keys` (migration 6), one row per (key, document), deleted with their
document by the foreign key's cascade; a document's `signature_keyed` flag says its keys are
there, and a partial index over the unkeyed ones makes finding them cost what they number.
Every read runs inside the write's transaction, so it sees that write's own changes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator, Sequence

from rag.store.base import SignatureKeys

#: Values passed to SQLite in one JSON array (json_each), so no statement grows unbounded.
BATCH = 50_000


def _batches(values: Collection[int]) -> Iterator[str]:
    ordered = sorted(values)
    for at in range(0, len(ordered), BATCH):
        yield json.dumps(ordered[at : at + BATCH])


class SqliteSignatureKeys(SignatureKeys):
    """One write's lookup: the writer tells it of each deletion before making it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.broken: set[int] = set()

    def deleting(self, document_id: int) -> None:
        """Note the group of a document about to be deleted."""
        row = self.conn.execute("SELECT syndication_group FROM documents WHERE id = ?", (document_id,)).fetchone()
        if row is not None and row[0] is not None:
            self.broken.add(int(row[0]))

    def broken_groups(self) -> set[int]:
        return set(self.broken)

    def unkeyed(self) -> dict[int, bytes]:
        rows = self.conn.execute(
            "SELECT id, signature FROM documents WHERE signature IS NOT NULL AND signature_keyed = 0")
        return {int(i): bytes(b) for i, b in rows}

    def store_keys(self, keys: dict[int, Sequence[int]]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO signature_keys(key, document_id) VALUES (?, ?)",
                              ((int(k), d) for d, ks in keys.items() for k in ks))
        self.conn.executemany("UPDATE documents SET signature_keyed = 1 WHERE id = ?", ((d,) for d in keys))

    def sharing(self, keys: Collection[int]) -> dict[int, int | None]:
        out: dict[int, int | None] = {}
        for batch in _batches(keys):
            rows = self.conn.execute(
                "SELECT DISTINCT d.id, d.syndication_group FROM json_each(?) j"
                " JOIN signature_keys k ON k.key = j.value JOIN documents d ON d.id = k.document_id", (batch,))
            out.update({int(i): None if g is None else int(g) for i, g in rows})
        return out

    def members(self, groups: Collection[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for batch in _batches(groups):
            rows = self.conn.execute("SELECT id, syndication_group FROM documents"
                                     " WHERE syndication_group IN (SELECT value FROM json_each(?))", (batch,))
            out.update({int(i): int(g) for i, g in rows})
        return out

    def signatures_of(self, document_ids: Collection[int]) -> dict[int, bytes]:
        out: dict[int, bytes] = {}
        for batch in _batches(document_ids):
            rows = self.conn.execute("SELECT id, signature FROM documents WHERE signature IS NOT NULL"
                                     " AND id IN (SELECT value FROM json_each(?))", (batch,))
            out.update({int(i): bytes(b) for i, b in rows})
        return out
