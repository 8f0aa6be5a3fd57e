"""Sentence vectors pooled from the chunk's own transformer pass (onnx backend), checked against a
reference computed independently with the torch model and the Hugging Face tokenizer's offsets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings import create_embedder
from rag.ingest.pipeline import embedding_input, ingest
from rag.store.factory import open_store
from rag.text.sentences import sentence_spans

from .conftest import SEEDS
from .tiny_models import build_sentence_transformer

pytest.importorskip("onnxruntime")

TEXTS = [
    "Council approves the budget\n\nThe council approved the budget on Monday. Spending on roads rises by 4%."
    " The mayor, Élodie Müller, said the vote was \"a relief\".",
    "Ferry returns. The ferry to the island returned on Monday after six weeks.",
    "One sentence only, with no full stop",
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sentence_transformer(tmp_path_factory.mktemp("models"))


@pytest.fixture
def onnx_tiny(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "shared-rag-cache"))  # one export
    monkeypatch.setenv("RAG_ONNX_INT8", "0")  # float, to compare with the torch reference at 1e-4
    return create_embedder(f"onnx:{tiny_model}")


def _reference(model_dir: Path, text: str, spans: list[tuple[int, int]], prompt: str) -> np.ndarray:
    """Each span's vector from the torch model: its token embeddings for prompt + text, the tokens
    whose offsets (from the transformers tokenizer) fall inside the span, averaged, normalised."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu")
    full = prompt + text
    tokens = model.encode([full], output_value="token_embeddings", convert_to_numpy=False)[0].numpy()
    offsets = model.tokenizer(full, return_offsets_mapping=True, truncation=True,
                              max_length=model.max_seq_length)["offset_mapping"]
    rows = []
    for a, b in spans:
        inside = [t for t, (s, e) in enumerate(offsets) if e > s and s >= len(prompt) + a and e <= len(prompt) + b]
        vector = tokens[inside].mean(axis=0)
        rows.append(vector / np.linalg.norm(vector))
    return np.array(rows, dtype=np.float32)


def test_pooled_sentence_vectors_equal_the_reference(onnx_tiny, tiny_model: Path):
    spans = [sentence_spans(t) for t in TEXTS]
    assert [len(s) for s in spans] == [4, 2, 1]  # headline line and three sentences; two; one
    documents, sentences = onnx_tiny.encode_documents_with_sentences(TEXTS, spans)
    # The chunk vectors are those of the ordinary path.
    assert np.abs(documents - onnx_tiny.encode_documents(TEXTS)).max() < 1e-5
    prompt = onnx_tiny._document_prompt
    assert prompt == "passage: "  # the tiny model's document prompt: offsets must step over it
    for text, text_spans, pooled in zip(TEXTS, spans, sentences):
        assert pooled.shape == (len(text_spans), onnx_tiny.dimension) and pooled.dtype == np.float32
        reference = _reference(tiny_model, text, text_spans, prompt)
        assert np.sum(pooled * reference, axis=1).min() > 1 - 1e-4
    # A sentence pooled in context is not the sentence encoded alone, nor the whole chunk.
    alone = onnx_tiny.encode_documents([TEXTS[0][a:b] for a, b in spans[0]])
    assert np.sum(sentences[0] * alone, axis=1).max() < 1 - 1e-3
    assert np.abs(sentences[0] @ documents[0]).max() < 1 - 1e-3


def test_a_sentence_past_the_models_length_is_encoded_on_its_own(onnx_tiny):
    head = "The ferry returned. " * 60  # far beyond the tiny model's 128 tokens
    text = head + "The last sentence is never seen in context."
    spans = [(0, 19), (len(head), len(text))]
    _, (pooled,) = onnx_tiny.encode_documents_with_sentences([text], [spans])
    alone = onnx_tiny.encode_documents([text[a:b] for a, b in spans])
    assert float(pooled[1] @ alone[1]) > 1 - 1e-5  # encoded alone: the same vector
    assert float(pooled[0] @ alone[0]) < 1 - 1e-3  # pooled in context


def test_empty_inputs_and_chunks_without_sentences(onnx_tiny):
    documents, sentences = onnx_tiny.encode_documents_with_sentences([], [])
    assert documents.shape == (0, onnx_tiny.dimension) and sentences == []
    documents, sentences = onnx_tiny.encode_documents_with_sentences(["A text."], [[]])
    assert documents.shape == (1, onnx_tiny.dimension) and sentences[0].shape == (0, onnx_tiny.dimension)
    with pytest.raises(ValueError):
        onnx_tiny.encode_documents_with_sentences(["A text."], [])


def _stored(index: Path):  # type: ignore[no-untyped-def]
    with open_store(index) as store:
        chunks = store.get_chunks(list(range(1, 10 * store.n_chunks)))
        return chunks, store.sentence_vectors(list(chunks)), {d.id: d.title for d in store.documents().values()}


def test_pooled_sentences_off_encodes_each_sentence_alone(onnx_tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from embeddings.onnx_backend import OnnxEmbedder

    monkeypatch.setattr(OnnxEmbedder, "semantic", True, raising=False)
    monkeypatch.setenv("RAG_POOLED_SENTENCES", "0")
    monkeypatch.setattr(OnnxEmbedder, "encode_documents_with_sentences", lambda *a, **k: pytest.fail("pooled"))
    ingest([SEEDS], tmp_path / "ix", embedder_spec=onnx_tiny.spec, chunk_size=200, chunk_overlap=40,
           progress=False, warn=lambda m: None)
    chunks, stored, _ = _stored(tmp_path / "ix")
    some = sorted(chunks)[:6]
    for c in some:
        text = chunks[c].text
        alone = onnx_tiny.encode_documents([text[a:b] for a, b in stored[c].spans])
        assert np.abs(stored[c].vectors - alone).max() < 2e-3  # float16 in the store


def test_ingest_stores_pooled_vectors_in_one_pass(onnx_tiny, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from embeddings.onnx_backend import OnnxEmbedder

    monkeypatch.setattr(OnnxEmbedder, "semantic", True, raising=False)
    monkeypatch.delenv("RAG_POOLED_SENTENCES", raising=False)  # the default
    passes: list[int] = []
    real = OnnxEmbedder.encode_documents

    def counted(self, texts):  # type: ignore[no-untyped-def]
        passes.append(len(texts))
        return real(self, texts)

    monkeypatch.setattr(OnnxEmbedder, "encode_documents", counted)
    report = ingest([SEEDS], tmp_path / "ix", embedder_spec=onnx_tiny.spec, chunk_size=200, chunk_overlap=40,
                    progress=False, warn=lambda m: None)
    assert report.sentences_embedded > report.chunks_embedded > 0
    assert passes == []  # no second pass over sentences: every one fits its chunk's encoding
    chunks, stored, titles = _stored(tmp_path / "ix")
    assert set(stored) == set(chunks)
    some = sorted(chunks)[:6]
    texts = [embedding_input(titles[chunks[c].document_id], chunks[c].text) for c in some]
    shifts = [len(t) - len(chunks[c].text) for t, c in zip(texts, some)]
    spans = [[(s + a, s + b) for a, b in sentence_spans(chunks[c].text)] for s, c in zip(shifts, some)]
    _, expected = onnx_tiny.encode_documents_with_sentences(texts, spans)
    for c, rows in zip(some, expected):
        assert stored[c].spans == tuple(sentence_spans(chunks[c].text))
        assert np.abs(stored[c].vectors - rows).max() < 2e-3  # the store keeps them as float16


def test_batches_are_bounded_by_tokens_and_change_no_vector(onnx_tiny):
    """Batches are cut by token count (rows x the batch's longest row), longest rows first, so
    long chunks go a few at a time and short sentences many; how they are cut changes no vector."""
    texts = ["word " * n + "end." for n in (3, 120, 7, 60, 15, 240, 1, 30, 90, 2)]
    encodings = onnx_tiny._tokenize(onnx_tiny._prepare(texts, ""))
    onnx_tiny.batch_tokens, onnx_tiny.batch_size = 256, 64
    batches = onnx_tiny._batches(encodings)
    assert sorted(i for b in batches for i in b) == list(range(len(texts)))
    lengths = [len(encodings[i].ids) for b in batches for i in b]
    assert lengths == sorted(lengths, reverse=True)
    for batch in batches:
        longest = len(encodings[batch[0]].ids)
        assert len(batch) == 1 or len(batch) * longest <= 256
    assert len(batches) > 1 and max(len(b) for b in batches) > 1
    together = onnx_tiny.encode_documents(texts)
    onnx_tiny.batch_tokens = 1  # one row a batch
    assert np.abs(onnx_tiny.encode_documents(texts) - together).max() < 1e-5
