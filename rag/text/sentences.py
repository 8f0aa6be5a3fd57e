"""Sentences: where each one starts and ends in a text, and whether it opens by referring back.

Chunking, retrieval and answering all cut text at sentences, so they share one splitter.
"""

from __future__ import annotations

import re

_PARAGRAPH = re.compile(r"[^\n]+")
_FALLBACK_SENTENCE = re.compile(r"\S.*?(?:[.!?…]+[\"'”’)\]]*(?=\s|$)|$)", re.DOTALL)

#: A sentence that opens by referring back: "He said ...", "In his reply, ...", "They ...".
LEADING_PRONOUN = re.compile(r"(?:(?:In|On|At)\s+(?:his|her|their)\s+\w+,\s+)?(?:He|She|They|His|Her|Their)\b")


def _paragraph_sentences(text: str, offset: int) -> list[tuple[int, int]]:
    """Sentence spans of one line of text, from BlingFire's sentence breaker (abbreviation-aware,
    a few MB/s); a plain punctuation rule if its spans ever fail to check out."""
    import blingfire

    _, found = blingfire.text_to_sentences_and_offsets(text)
    spans: list[tuple[int, int]] = []
    previous = 0
    for start, end in found:
        if not (previous <= start < end <= len(text)):
            spans = []
            break
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        trail = len(piece) - len(piece.rstrip())
        if end - trail > start + lead:
            spans.append((offset + start + lead, offset + end - trail))
        previous = end
    # Between and around sentences there must be nothing but whitespace, or text would be lost.
    edges = [offset] + [x for span in spans for x in span] + [offset + len(text)]
    gaps = (text[edges[i] - offset : edges[i + 1] - offset] for i in range(0, len(edges), 2))
    if not spans or any(gap.strip() for gap in gaps):
        spans = []
        for m in _FALLBACK_SENTENCE.finditer(text):
            piece = m.group()
            start, end = m.start() + len(piece) - len(piece.lstrip()), m.end() - (len(piece) - len(piece.rstrip()))
            if end > start:
                spans.append((offset + start, offset + end))
    return spans


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) of every sentence, without surrounding whitespace; a line break always ends one."""
    spans: list[tuple[int, int]] = []
    for para in _PARAGRAPH.finditer(text):
        if para.group().strip():
            spans.extend(_paragraph_sentences(para.group(), para.start()))
    return spans
