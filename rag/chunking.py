"""Sentence-aware chunking that records each chunk's exact place in the document.

Offsets are produced while splitting (sentence spans are added up, never searched for), so
`text[chunk.start:chunk.end] == chunk.text` holds by construction; citations rely on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from rag.config import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE

# pysbd is accurate but slow on very long runs of text without paragraph breaks; past this
# a simple punctuation rule keeps chunking linear.
_PYSBD_MAX_PARAGRAPH = 20_000
_PARAGRAPH = re.compile(r"[^\n]+")
_FALLBACK_SENTENCE = re.compile(r"\S.*?(?:[.!?…]+[\"'”’)\]]*(?=\s|$)|$)", re.DOTALL)


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: `document_text[start:end] == text`."""

    ordinal: int
    start: int
    end: int
    text: str


@lru_cache(maxsize=1)
def _segmenter():  # type: ignore[no-untyped-def]
    import pysbd

    return pysbd.Segmenter(language="en", clean=False)


def _paragraph_sentences(text: str, offset: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    pieces: list[str] | None = None
    if len(text) <= _PYSBD_MAX_PARAGRAPH:
        pieces = _segmenter().segment(text)
        if "".join(pieces) != text:  # pysbd must be lossless for offsets to add up
            pieces = None
    if pieces is None:
        for m in _FALLBACK_SENTENCE.finditer(text):
            spans.append((offset + m.start(), offset + m.end()))
        return spans
    pos = 0
    for piece in pieces:
        stripped = piece.strip()
        if stripped:
            lead = len(piece) - len(piece.lstrip())
            spans.append((offset + pos + lead, offset + pos + lead + len(stripped)))
        pos += len(piece)
    return spans


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of every sentence, without surrounding whitespace; a line break always ends one."""
    spans: list[tuple[int, int]] = []
    for para in _PARAGRAPH.finditer(text):
        if para.group().strip():
            spans.extend(_paragraph_sentences(para.group(), para.start()))
    return spans


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
