"""Answering with meaning: the cosine in sentence choice, the abstention classifier, the fallback."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from embeddings.base import understands_meaning
from rag.answer import reader
from rag.answer.assistant import Assistant
from rag.answer.extractive import RULES, best_extract
from rag.errors import RagError
from rag.retrieve.semantic import SentenceVectors


class _Stub:
    def __init__(self, id_: str, semantic: bool | None = None) -> None:
        self.id = id_
        self.dimension = 3
        self.calls: list[list[str]] = []
        if semantic is not None:
            self.semantic = semantic

    def encode_documents(self, texts):  # type: ignore[no-untyped-def]
        self.calls.append(list(texts))
        rows = np.array([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_only_an_embedder_that_knows_meaning_is_used_for_it():
    assert not understands_meaning(None)
    assert not understands_meaning(_Stub("offline:hash-v1:768"))
    assert understands_meaning(_Stub("sentence-transformers:all-MiniLM-L6-v2"))
    assert not understands_meaning(_Stub("sentence-transformers:x", semantic=False))  # a backend may say so


def test_sentence_vectors_are_cached_and_batched():
    stub = _Stub("st:x")
    vectors = SentenceVectors(stub, capacity=10)
    q = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    first = vectors.similarities(q, ["a", "bb", "a"])
    assert stub.calls == [["a", "bb"]]  # one batch, each text once
    assert vectors.similarities(q, ["bb", "a"]) == [first[1], first[0]]
    assert stub.calls == [["a", "bb"]]  # no new encoding
    assert vectors.similarities(q, []) == []


def test_the_offline_embedder_keeps_the_lexical_rules(seed_index: Path):
    a = Assistant(seed_index, span_reader="off")
    try:
        assert a.sentence_vectors is None and a.reader is None and a.meaning(np.zeros(3)) is None
        answer = a.ask("How many children were sexually abused in Rotherham?")
        assert not answer.abstained and "1,400" in answer.answer
        assert a.ask("How many children were abused in Derby?").abstained
    finally:
        a.close()


def test_the_cosine_changes_the_chosen_sentence_by_its_weight(seed_index: Path):
    a = Assistant(seed_index, span_reader="off")
    try:
        question = "How many children were sexually abused in Rotherham?"
        passages = a.retriever.search(question, 5).passages
        freq = a.store.memoised_frequencies()
        lexical = best_extract(question, passages, freq, a.store.n_chunks, a)
        target = "more than half"

        def meaning(texts: list[str]) -> list[float]:
            return [1.0 if target in t else 0.0 for t in texts]

        same = best_extract(question, passages, freq, a.store.n_chunks, a, meaning=meaning, meaning_weight=0.0)
        moved = best_extract(question, passages, freq, a.store.n_chunks, a, meaning=meaning, meaning_weight=5.0)
        assert lexical and same and moved
        assert (same.start, same.end) == (lexical.start, lexical.end)
        assert target in moved.text[moved.start : moved.end]
        assert moved.features["cosine"] == 1.0 and moved.features["best_cosine"] == 1.0
        assert set(lexical.features) >= {"coverage", "typed", "missing_detail", "untyped", "cosine"}
    finally:
        a.close()


def test_rules_can_be_switched_off_one_by_one(seed_index: Path):
    a = Assistant(seed_index, span_reader="off")
    try:
        question = "How many children were abused in Derby?"
        passages = a.retriever.search(question, 5).passages
        freq = a.store.memoised_frequencies()
        on = best_extract(question, passages, freq, a.store.n_chunks, a)
        off = best_extract(question, passages, freq, a.store.n_chunks, a, rules=RULES - {"untyped"})
        # No number in the best sentence about Derby: the "untyped" rule zeroes support.
        assert on and off and on.support == 0.0 and on.features["untyped"] == 1.0
        assert off.support > 0.0  # the flag is still reported, it just no longer zeroes support
    finally:
        a.close()


def test_the_classifier_decides_when_the_embedder_knows_meaning(seed_index: Path):
    a = Assistant(seed_index, span_reader="off")
    try:
        a.sentence_vectors = SentenceVectors(_Stub("st:stub"))
        question = "How many children were sexually abused in Rotherham?"
        vector = np.array([1.0, 0.0, 0.0], dtype=np.float32)
        never = reader.ReaderWeights(0.1, ("coverage",), (0.0,), (1.0,), (0.0,), -5.0, 0.5, RULES)
        always = reader.ReaderWeights(0.1, ("coverage",), (0.0,), (1.0,), (0.0,), 5.0, 0.5, RULES)
        passages = a.retriever.search(question, 5).passages
        freq = a.store.memoised_frequencies()
        a.reader = never
        assert a._extractive(question, passages, freq, vector).abstained
        a.reader = always
        answer = a._extractive(question, passages, freq, vector)
        assert not answer.abstained and answer.support == pytest.approx(always.probability({}))
        # Without a query vector (lexical mode) the rules decide, whatever the classifier says.
        a.reader = never
        assert not a._extractive(question, passages, freq, None).abstained
    finally:
        a.close()


def test_shipped_weights_load_and_malformed_ones_are_refused(tmp_path: Path):
    assert reader.load() is None  # shipped switched off (see the file's why_disabled)
    weights = reader.load(force=True)
    if weights is not None:
        assert weights.rules <= RULES and 0.0 <= weights.threshold <= 1.0
        assert 0.0 <= weights.probability({}) <= 1.0
    bad = tmp_path / "w.json"
    bad.write_text(json.dumps({"model": {"schema": 1, "features": ["x"], "mean": [0], "scale": [0], "coef": [1],
                                         "intercept": 0, "threshold": 0.5, "meaning_weight": 0.1, "rules": []}}))
    with pytest.raises(RagError):
        reader.load(bad)
    bad.write_text(json.dumps({"model": {"schema": 1, "features": [], "mean": [], "scale": [], "coef": [],
                                         "intercept": 0, "threshold": 0.5, "meaning_weight": 0.1, "rules": ["eval"]}}))
    with pytest.raises(RagError):
        reader.load(bad)
    assert reader.load(tmp_path / "absent.json") is None


def test_retrieval_reorders_its_head_by_the_best_sentence_cosine(seed_index: Path):
    from rag.retrieve.hybrid import Retriever
    from rag.store.factory import open_store

    store = open_store(seed_index)
    try:
        retriever = Retriever(store, "hybrid")
        assert retriever.sentence_vectors is None  # offline: no meaning, no cosine
        question = "How many children were sexually abused in Rotherham?"
        passages = retriever.search(question, 5).passages
        target = passages[-1].text.split(". ")[0]

        class Marker(_Stub):
            def encode_documents(self, texts):  # type: ignore[no-untyped-def]
                return np.array([[1.0, 0.0, 0.0] if target in t or t in target else [0.0, 1.0, 0.0] for t in texts],
                                dtype=np.float32)

        freq = store.memoised_frequencies()
        vector = np.array([1.0, 0.0, 0.0], dtype=np.float32)
        retriever.sentence_vectors = SentenceVectors(Marker("st:marker"))
        retriever.meaning_weight = 0.0
        assert retriever._sentence_rerank(question, list(passages), freq, vector)[0].chunk_id == passages[0].chunk_id
        retriever.meaning_weight = 10.0
        assert retriever._sentence_rerank(question, list(passages), freq, vector)[0].chunk_id == passages[-1].chunk_id
    finally:
        store.close()
