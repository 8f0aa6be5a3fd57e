"""Property-based tests for the parsers that take arbitrary text: the FTS5 query sanitiser and
the citation checker of LLM answers."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.answer.assistant import Assistant
from rag.store.database import fts_query
from rag.answer.llm import LLMGenerator


@pytest.fixture(scope="module")
def fts() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(text, tokenize='porter unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO f VALUES ('children abused in Rotherham near the council')")
    return conn


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_makes_a_valid_fts_query(fts: sqlite3.Connection, text: str):
    query = fts_query(text)
    if query is None:
        assert not any(ch.isalnum() for ch in text)
        return
    fts.execute("SELECT rowid FROM f WHERE f MATCH ?", (query,)).fetchall()  # never raises


@pytest.fixture(scope="module")
def assistant(seed_index: Path):  # type: ignore[no-untyped-def]
    a = Assistant(seed_index, embedder_spec="offline")
    yield a
    a.close()


_PIECES = list("abc []0123456789.,\n") + ["1,400", "Rotherham", "children", "abused", "[1]", "[2]", "[12]", ". "]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(_PIECES), max_size=60).map("".join))
def test_llm_answers_keep_only_valid_verified_citations(assistant: Assistant, text: str):
    passages = assistant.retriever.search("How many children were abused in Rotherham?", 3).passages
    generator = LLMGenerator("fake:model", model=object())  # type: ignore[arg-type]
    answer = generator.verify("q", text, passages, assistant)
    if answer is None or answer.abstained:
        return
    numbers = {c.n for c in answer.citations}
    assert numbers == set(range(1, len(answer.citations) + 1))
    for marker in re.findall(r"\[(\d+)\]", answer.answer):
        assert int(marker) in numbers
    by_chunk = {p.chunk_id: p for p in passages}
    for c in answer.citations:
        document = assistant.document_text(by_chunk[c.chunk_id].document_id)
        assert document[c.start : c.end] == c.quote


def test_very_common_words_leave_the_bm25_query_on_a_large_index(tmp_path: Path, monkeypatch):
    from rag.store import database as store

    conn = store.connect(tmp_path / "s.sqlite3", create=True)
    with store.transaction(conn):
        doc = store.insert_document(conn, source="d", title="t", outlet=None, published=None, fingerprint="", text="")
        rows = [(i, 0, 1, f"council report number {i}" + (" wakefield" if i == 7 else ""), "") for i in range(40)]
        store.insert_chunks(conn, doc, rows)
    monkeypatch.setattr(store, "COMMON_MIN_DF", 10)
    assert store.searchable_tokens(conn, "council wakefield", 40) == ["wakefield"]
    assert store.searchable_tokens(conn, "council report", 40) == ["council", "report"]  # all common: 2 rarest
    assert store.searchable_tokens(conn, "council wakefield", 8) == ["council", "wakefield"]  # small index
    hits = store.bm25_search(conn, "council wakefield", 5, 40)
    assert len(hits) == 1
