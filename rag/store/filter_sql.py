"""A DocumentFilter as one SQL query over the embedded store's indexed columns.

Why: a filtered question used to read and test every document record in Python. Here the
dates and outlets are compared on `published_key` and `outlet_key` (rag.store.filters computes
both at insert; migration 5 indexes them), so a narrow filter reads only the rows it admits.

Exactly `DocumentFilter.matches`, by these equivalences (strings compare by code point, as
SQLite's BINARY collation compares UTF-8):
  - since: `key[:len(since)] >= since` iff `key >= since`;
  - until: `key[:n] <= until` is `substr(key, 1, n) <= until`, and also `key < until'` where
    until' is until with its last character incremented (a range the index can serve);
  - outlets: `outlet_key IN (the filter's case-folded outlets)`;
  - sources: SQLite's GLOB treats `*` and `?` as fnmatchcase does (case-sensitive, `*` crosses
    `/`, no escapes), so a glob without `[` is `source GLOB g OR source GLOB '*/' || g`. The
    file-name alternative needs no clause of its own: a name matching g makes the whole path
    match g (no `/` in it) or `*/g`. Bracket sets differ between the two (`[!a]` against
    `[^a]`), so a glob with `[` is cut before it (`ab[cd]*` -> `ab*`, which admits more) and the
    rows it admits are then tested with fnmatchcase.
"""

from __future__ import annotations

import sqlite3

from rag.store.filters import DocumentFilter

_LAST_CHAR = 0x10FFFF


def filter_clause(where: DocumentFilter) -> tuple[str, list[object], bool]:
    """(SQL condition on documents, its parameters, whether sources still need fnmatchcase)."""
    clauses: list[str] = []
    params: list[object] = []
    if where.since:
        clauses.append("published_key >= ?")
        params.append(where.since)
    if where.until:
        clauses.append("substr(published_key, 1, ?) <= ?")
        params += [len(where.until), where.until]
        upper = _just_after(where.until)
        if upper is not None:
            clauses.append("published_key < ?")
            params.append(upper)
    if where.outlets:
        keys = sorted(where.outlet_keys)
        clauses.append(f"outlet_key IN ({','.join('?' * len(keys))})")
        params += keys
    recheck = False
    if where.sources:
        alternatives = []
        for glob in where.sources:
            if "[" in glob:
                glob, recheck = glob[: glob.index("[")] + "*", True
            alternatives.append("source GLOB ? OR source GLOB ?")
            params += [glob, f"*/{glob}"]
        clauses.append(f"({' OR '.join(alternatives)})")
    return " AND ".join(clauses) or "1", params, recheck


def _just_after(prefix: str) -> str | None:
    """`prefix` with its last character incremented, u: `s < u` exactly when
    `s[:len(prefix)] <= prefix`. None when that character cannot be incremented."""
    last = ord(prefix[-1]) + 1
    if last > _LAST_CHAR or 0xD800 <= last <= 0xDFFF:  # beyond Unicode, or a lone surrogate
        return None
    return prefix[:-1] + chr(last)


def matching_documents(conn: sqlite3.Connection, where: DocumentFilter) -> frozenset[int]:
    """The ids of the documents `where` admits."""
    condition, params, recheck = filter_clause(where)
    rows = conn.execute(f"SELECT id, source FROM documents WHERE {condition}", params)
    if recheck:
        return frozenset(int(i) for i, source in rows if where.admits_source(str(source)))
    return frozenset(int(i) for i, _ in rows)
