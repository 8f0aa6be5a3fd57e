"""The FAISS half: exact search while small, IVF past a threshold, with exact numpy search as
the oracle, and ids that survive the switch, saving, adding and removing."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rag.store.vectors import VectorIndex, nprobe_for

DIM = 32


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _oracle(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return [int(ids[i]) for i in np.argsort(-(vectors @ query))[:k]]


def test_nprobe_visits_one_list_in_sixteen_and_at_least_thirty_two():
    assert nprobe_for(4000) == 250
    assert nprobe_for(400) == 32
    assert nprobe_for(10) == 10


def test_ivf_index_agrees_with_exact_search_and_keeps_its_ids(tmp_path: Path):
    rng = np.random.default_rng(7)
    # Unclustered, anisotropic vectors: the hard case for IVF (bench/scale.py "continuum").
    scales = 1.0 / np.sqrt(np.arange(1, DIM + 1))
    vectors = _unit(rng.normal(size=(6000, DIM)) * scales)
    ids = np.arange(100, 6100, dtype=np.int64)
    index = VectorIndex.empty(DIM)
    index.add(ids, vectors)
    queries = _unit(rng.normal(size=(50, DIM)) * scales)
    exact = [[cid for cid, _ in index.search(q, 10)] for q in queries]
    assert exact == [_oracle(vectors, ids, q, 10) for q in queries]

    assert index.maybe_make_approximate(threshold=1000)
    assert index.kind.startswith("ivf")
    approximate = [[cid for cid, _ in index.search(q, 10)] for q in queries]
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approximate, exact)])
    assert recall >= 0.95, recall
    assert sorted(index.ids().tolist()) == ids.tolist()

    index.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss", DIM)
    assert loaded.kind == index.kind
    assert loaded.search(queries[0], 10) == index.search(queries[0], 10)

    assert loaded.remove([100, 101]) == 2
    loaded.add(np.array([9000], dtype=np.int64), queries[:1])
    assert loaded.search(queries[0], 1)[0][0] == 9000
    assert 100 not in loaded.ids()
