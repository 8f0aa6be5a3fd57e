"""Sentence vectors are embedded at ingest, stored with their chunk, reused, and read at query time.

The offline embedder knows no meaning, so it stores none; here it is told it does
(`semantic = True`), which makes it a fast stand-in for a real model: what is tested is where
the vectors come from, not what they mean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.offline import OfflineEmbedder
from rag.ingest.pipeline import ingest
from rag.retrieve.hybrid import Retriever
from rag.store.factory import open_store
from rag.text.sentences import sentence_spans

QUESTION = "How many children were sexually abused in Rotherham?"


@pytest.fixture
def semantic_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(OfflineEmbedder, "semantic", True, raising=False)


def _all_chunks(store):  # type: ignore[no-untyped-def]
    """Every chunk (the embedded store numbers them from 1; an update appends new numbers)."""
    return store.get_chunks(list(range(1, 10 * store.n_chunks)))


def test_ingest_stores_every_chunks_sentences(seeds_copy: Path, tmp_path: Path, semantic_offline: None):
    report = ingest([seeds_copy], tmp_path / "index", embedder_spec="offline", progress=False, warn=lambda m: None)
    assert report.sentences_embedded > report.chunks_embedded
    with open_store(tmp_path / "index") as store:
        chunks = _all_chunks(store)
        assert len(chunks) == store.n_chunks
        stored = store.sentence_vectors(list(chunks))
        assert set(stored) == set(chunks)
        embedder = store.embedder()
        for cid, chunk in chunks.items():
            assert stored[cid].spans == tuple(sentence_spans(chunk.text))
            expected = embedder.encode_documents([chunk.text[a:b] for a, b in stored[cid].spans])
            assert np.allclose(stored[cid].vectors, expected, atol=2e-3)


def test_an_embedder_without_meaning_stores_none(seed_index: Path):
    with open_store(seed_index) as store:
        assert store.sentence_vectors(list(_all_chunks(store))) == {}


def test_unchanged_chunks_keep_their_sentence_vectors(seeds_copy: Path, tmp_path: Path, semantic_offline: None):
    ingest([seeds_copy], tmp_path / "index", embedder_spec="offline", progress=False, warn=lambda m: None)
    with open_store(tmp_path / "index") as store:
        before = {c.text: store.sentence_vectors([cid])[cid] for cid, c in _all_chunks(store).items()}
    article = next(seeds_copy.glob("*.txt"))
    article.write_text(article.read_text(encoding="utf-8") + "\n\nA new closing paragraph was added today.\n",
                       encoding="utf-8")
    report = ingest([seeds_copy], tmp_path / "index", progress=False, warn=lambda m: None)
    assert report.chunks_reused > 0
    assert 0 < report.sentences_embedded < sum(len(s.spans) for s in before.values())
    with open_store(tmp_path / "index") as store:
        after = {c.text: store.sentence_vectors([cid])[cid] for cid, c in _all_chunks(store).items()}
    kept = set(before) & set(after)
    assert kept and len(kept) < len(after)
    for text in kept:
        assert after[text].spans == before[text].spans
        assert np.array_equal(after[text].vectors, before[text].vectors)


def test_retrieval_reads_stored_sentence_vectors(seeds_copy: Path, tmp_path: Path, semantic_offline: None):
    ingest([seeds_copy], tmp_path / "index", embedder_spec="offline", progress=False, warn=lambda m: None)
    with open_store(tmp_path / "index") as store:
        retriever = Retriever(store, "hybrid")
        retriever.meaning_weight = 0.5
        assert retriever.sentence_vectors is not None
        passages = retriever.search(QUESTION, 5).passages
        assert passages and retriever.sentence_vectors.encoded == 0


def test_an_index_without_them_still_reranks_by_meaning(seeds_copy: Path, tmp_path: Path, monkeypatch):
    ingest([seeds_copy], tmp_path / "index", embedder_spec="offline", progress=False, warn=lambda m: None)
    monkeypatch.setattr(OfflineEmbedder, "semantic", True, raising=False)  # as if built before they were stored
    with open_store(tmp_path / "index") as store:
        retriever = Retriever(store, "hybrid")
        retriever.meaning_weight = 0.5
        assert retriever.sentence_vectors is not None
        with_meaning = retriever.search(QUESTION, 5).passages
        assert with_meaning and retriever.sentence_vectors.encoded > 0


def test_damaged_sentence_vectors_are_a_one_line_error(seeds_copy: Path, tmp_path: Path, semantic_offline: None,
                                                        capsys):
    import sqlite3

    from rag.cli import main
    from rag.store.manifest import read_manifest

    ingest([seeds_copy], tmp_path / "index", embedder_spec="offline", progress=False, warn=lambda m: None)
    manifest = read_manifest(tmp_path / "index")
    assert manifest is not None
    with sqlite3.connect(tmp_path / "index" / manifest.sqlite_file) as conn:
        conn.execute("UPDATE chunk_sentences SET vectors = substr(vectors, 1, 10)")
    conn.close()
    code = main(["--index", str(tmp_path / "index"), "ask", QUESTION])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("Error: index is damaged") and "\n" not in err and "rebuild" in err


def test_onnx_threads_default_to_the_cpus(monkeypatch):
    from embeddings import onnx_backend

    monkeypatch.delenv("RAG_ONNX_THREADS", raising=False)
    monkeypatch.setattr(onnx_backend.os, "cpu_count", lambda: 2)
    assert onnx_backend.default_threads() == 2
    monkeypatch.setattr(onnx_backend.os, "cpu_count", lambda: 64)
    assert onnx_backend.default_threads() == onnx_backend.MAX_DEFAULT_THREADS
    monkeypatch.setenv("RAG_ONNX_THREADS", "1")
    assert onnx_backend.default_threads() == 1
