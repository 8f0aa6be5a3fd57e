"""From the reader's best span to what the answer quotes: the span snapped to whole words, and
the whole sentence (or sentences) of the article that hold it.

The reader works on retrieved passages; citations are whole sentences of the cleaned article,
found in the article text itself (a passage may start or end inside a sentence at a chunk
boundary, a citation never does).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.answer.span_reader import Reading, SpanReader
from rag.retrieve.passage import Passage
from rag.text.sentences import sentence_spans

#: Characters a short answer does not end with (a sentence's full stop, a clause's comma).
_TRAILING = " \t\n.,;:!?\"'”’)]}…—–-"
_LEADING = " \t\n,;:\"'“‘([{…—–-"
#: How far either side of a span the sentence search reads (a paragraph is rarely longer).
_REACH = 3000


@dataclass(frozen=True)
class ReadSpan:
    """The reader's answer in one article: the span and the sentence(s) that hold it."""

    passage: Passage
    span_start: int
    span_end: int
    sentence_start: int
    sentence_end: int
    confidence: float
    answers: bool


def snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) to whole whitespace-separated words ("400" in "£1,400" -> "£1,400",
    "Müller" after "Élodie " stays, "4.2bn" -> "£4.2bn"), then drop punctuation that ends a
    sentence or clause and unbalanced quotes or brackets at either edge."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    while end > start and text[end - 1] in _TRAILING:
        if text[end - 1] == ")" and "(" in text[start:end - 1]:
            break
        end -= 1
    while start < end and text[start] in _LEADING:
        if text[start] == "(" and ")" in text[start + 1:end]:
            break
        start += 1
    return start, end


def sentences_holding(text: str, start: int, end: int) -> tuple[int, int]:
    """[first sentence start, last sentence end) of the sentences of `text` that overlap [start, end)."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    lo = max(line_start, start - _REACH)
    hi = min(line_end, end + _REACH)
    spans = [(a + lo, b + lo) for a, b in sentence_spans(text[lo:hi])]
    holding = [(a, b) for a, b in spans if a < end and b > start]
    if not holding:
        return start, end
    return holding[0][0], holding[-1][1]


def widened(text: str, start: int, end: int, reach: int) -> tuple[int, int]:
    """[start, end) grown by whole sentences of its own paragraph lying within `reach` characters
    of it: the reader was trained on paragraphs, and a chunk cut at its edges loses what a
    sentence refers to."""
    if reach <= 0:
        return start, end
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    lo, hi = max(line_start, start - _REACH), min(line_end, end + _REACH)
    inside = [(a + lo, b + lo) for a, b in sentence_spans(text[lo:hi])
              if a + lo >= start - reach and b + lo <= end + reach]
    if not inside:
        return start, end
    return min(start, inside[0][0]), max(end, inside[-1][1])


def read_passages(
    reader: SpanReader, question: str, passages: Sequence[Passage], document_text: Callable[[int], str],
    context: int = 0,
) -> ReadSpan | None:
    """The reader's best span over the passages, as offsets into its article, with the sentence
    that holds it; None when there is nothing to read."""
    if not passages:
        return None
    windows = [widened(document_text(p.document_id), p.start, p.end, context) for p in passages]
    readings: list[Reading] = reader.read(question, [document_text(p.document_id)[a:b] for p, (a, b) in zip(passages, windows)])
    for reading in readings:
        passage = passages[reading.text_index]
        text = document_text(passage.document_id)
        if text[passage.start:passage.end] != passage.text:
            continue  # a stale chunk: never quoted
        base = windows[reading.text_index][0]
        a, b = snap_to_words(text, base + reading.start, base + reading.end)
        if b <= a:
            continue
        s, e = sentences_holding(text, a, b)
        confidence = reader.confidence(reading)
        return ReadSpan(passage, a, b, s, e, confidence, confidence >= reader.threshold)
    return None


def is_yes_no(question: str) -> bool:
    """'Did ...?', 'Is ...?', 'Was ...?': a span cannot be the answer; the sentence is."""
    return bool(re.match(r"\s*(?:is|are|was|were|did|does|do|has|have|had|can|could|will|would|should)\b",
                         question, re.IGNORECASE))
