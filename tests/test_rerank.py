"""The optional cross-encoder reranks fused passages; loading fails fast without a hub."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rag.answer.assistant import Assistant
from rag.errors import RagError
from rag.retrieve.rerank import Reranker

from .tiny_models import build_cross_encoder


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cross_encoder(tmp_path_factory.mktemp("ce"))


def test_reranker_scores_and_reorders(seed_index: Path, tiny_cross_encoder: Path):
    a = Assistant(seed_index, embedder_spec="offline", reranker=str(tiny_cross_encoder))
    try:
        passages = a.retriever.search("How many children were abused in Rotherham?", 5).passages
    finally:
        a.close()
    scores = [p.rerank_score for p in passages]
    assert all(s is not None for s in scores)
    assert scores == sorted(scores, reverse=True)  # the final order is the cross-encoder's
    assert [p.rank for p in passages] == [1, 2, 3, 4, 5]


def test_reranker_by_name_fails_fast_offline(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    started = time.monotonic()
    with pytest.raises(RagError, match="--rerank"):
        Reranker("cross-encoder/ms-marco-MiniLM-L6-v2")
    assert time.monotonic() - started < 10
