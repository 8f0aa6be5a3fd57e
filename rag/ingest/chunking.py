"""Sentence-aware chunking that records each chunk's exact place in the document.

Offsets are produced while splitting (sentence spans are added up, never searched for), so
`text[chunk.start:chunk.end] == chunk.text` holds by construction; citations rely on it.
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.config import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE
from rag.text.sentences import sentence_spans


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: `document_text[start:end] == text`."""

    ordinal: int
    start: int
    end: int
    text: str


def _bounded(spans: list[tuple[int, int]], text: str, size: int) -> list[tuple[int, int]]:
    """Cut sentences longer than `size` at spaces (or hard, for a space-less run)."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        while end - start > size:
            cut = text.rfind(" ", start + 1, start + size + 1)
            if cut <= start:
                cut = start + size
            out.append((start, cut))
            start = cut
            while start < end and text[start].isspace():
                start += 1
        if end > start:
            out.append((start, end))
    return out


def chunk_text(text: str, size: int = DEFAULT_CHUNK_SIZE, overlap: int = DEFAULT_CHUNK_OVERLAP) -> list[Chunk]:
    """Pack whole sentences into chunks of at most `size` characters.

    Consecutive chunks share trailing sentences worth up to `overlap` characters, so a fact
    that straddles a boundary is whole in at least one chunk. A sentence longer than `size`
    is cut at spaces.
    """
    if size <= 0 or overlap < 0 or overlap >= size:
        raise ValueError(f"chunk size must be positive and overlap in [0, size): got {size}, {overlap}")
    sentences = _bounded(sentence_spans(text), text, size)
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j = i
        while j + 1 < len(sentences) and sentences[j + 1][1] - sentences[i][0] <= size:
            j += 1
        start, end = sentences[i][0], sentences[j][1]
        chunks.append(Chunk(len(chunks), start, end, text[start:end]))
        if j + 1 >= len(sentences):
            break
        nxt = j + 1
        while nxt - 1 > i and end - sentences[nxt - 1][0] <= overlap:
            nxt -= 1
        i = nxt
    return chunks
