"""Chunks are sentence-aligned, bounded, overlapping, and know exactly where they sit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.ingest.chunking import chunk_text
from rag.text.sentences import sentence_spans
from rag.ingest.cleaning import clean_news_text

from .conftest import SEEDS


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=3000),
    st.integers(min_value=20, max_value=800),
    st.integers(min_value=0, max_value=300),
)
def test_offsets_slice_back_to_the_chunk_on_arbitrary_text(text, size, overlap):
    overlap = min(overlap, size - 1)
    chunks = chunk_text(text, size, overlap)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert 0 < len(chunk.text) <= size
        assert chunk.text == chunk.text.strip()
    starts = [c.start for c in chunks]
    assert starts == sorted(set(starts))  # always moving forward
    # Every non-space character of the text is in some chunk.
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_chunks_end_at_sentence_boundaries_and_overlap():
    sentences = [f"Sentence number {i} says something about the council and its report." for i in range(30)]
    text = " ".join(sentences)
    chunks = chunk_text(text, size=300, overlap=120)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.text.endswith(".")
        assert chunk.text.startswith("Sentence number")
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end  # consecutive chunks share a sentence


def test_no_overlap_when_zero():
    text = " ".join(f"This is sentence {i} of the text." for i in range(40))
    chunks = chunk_text(text, size=200, overlap=0)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start >= a.end


def test_long_sentence_is_cut_at_spaces():
    text = "word " * 300
    chunks = chunk_text(text.strip(), size=100, overlap=10)
    assert all(len(c.text) <= 100 for c in chunks)
    assert all(not c.text.startswith(" ") and not c.text.endswith(" ") for c in chunks)


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        chunk_text("abc", size=100, overlap=100)


def test_sentence_spans_respect_abbreviations_and_lines():
    text = "Sir Tom met Mr. Smith at 10 a.m. on Monday. They talked.\nA new line"
    spans = [text[a:b] for a, b in sentence_spans(text)]
    assert spans == ["Sir Tom met Mr. Smith at 10 a.m. on Monday.", "They talked.", "A new line"]


def test_seed_articles_chunk_into_whole_sentences():
    for path in SEEDS.iterdir():
        text = clean_news_text(path.read_text(encoding="utf-8")).text
        chunks = chunk_text(text)
        assert 3 <= len(chunks) <= 20
        for c in chunks:
            assert text[c.start : c.end] == c.text
