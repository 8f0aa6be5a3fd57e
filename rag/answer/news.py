"""What makes a news answer different from a text answer: when it was reported, which report
is the latest, and where reports disagree.

- `time_order`: a question that asks for the latest (or earliest) figure wants the newest (or
  oldest) dated article that answers it, not the best-worded one.
- `reported`: an answer from a dated article says who reported it and when.
- `conflicting_figures`: when another article states the same thing with a different number
  ("1,400 homes" / "2,100 homes"), the answer shows both, each with its source and date,
  instead of picking one silently.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answer.language.answer_types import question_type
from rag.answer.types import readable_date
from rag.retrieve.passage import Passage
from rag.text.sentences import sentence_spans
from rag.text.terms import STOP_WORDS, stem, terms

_LATEST = re.compile(r"\b(?:latest|most recent(?:ly)?|newest|current(?:ly)?|now|so far|to date|updated)\b", re.I)
_EARLIEST = re.compile(r"\b(?:earliest|first (?:reported|report|figure|estimate|count)|initial(?:ly)?|original(?:ly)?|at first)\b",
                       re.I)
#: A figure: a number (with thousands separators or decimals, or written as "1.2 million")
#: and the word that says what it counts.
_FIGURE = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s+(?:million|billion|thousand))?\s+([A-Za-z][a-z-]+)")
#: Share of content terms (numbers aside) two sentences must have in common to say the same thing.
SAME_CLAIM = 0.5
_STOP_STEMS = frozenset(stem(w) for w in STOP_WORDS)


def time_order(question: str) -> str | None:
    """'latest', 'earliest' or None: whether the question asks for the newest or oldest report."""
    if _LATEST.search(question):
        return "latest"
    if _EARLIEST.search(question):
        return "earliest"
    return None


def reported(outlet: str | None, published: str | None) -> str | None:
    """'reported by The Week on 3 March 2016' for a dated article; None when undated."""
    when = readable_date(published)
    if not when:
        return None
    on = "in" if len(published or "") <= 7 else "on"  # "in March 2016", "on 3 March 2016"
    return f"reported by {outlet} {on} {when}" if outlet else f"reported {on} {when}"


@dataclass(frozen=True)
class Figure:
    value: float
    unit: str  # the stem of the counted word
    start: int  # offsets into the text it was found in
    end: int


def figures(text: str) -> list[Figure]:
    """The counted quantities a sentence states ("1,400 homes", "2.5 million people")."""
    out = []
    for m in _FIGURE.finditer(text):
        number = float(m.group(1).replace(",", ""))
        if "million" in m.group(0):
            number *= 1e6
        elif "billion" in m.group(0):
            number *= 1e9
        elif "thousand" in m.group(0):
            number *= 1e3
        unit = stem(m.group(2).lower())
        if unit in _STOP_STEMS:
            continue
        out.append(Figure(number, unit, m.start(), m.end()))
    return out


def _claim_terms(text: str) -> set[str]:
    return {t for t in terms(text) if t and not t[0].isdigit() and t not in _STOP_STEMS}


@dataclass(frozen=True)
class Conflict:
    """Another article's sentence giving a different figure for the same claim."""

    passage: Passage
    start: int  # offsets into the passage's document
    end: int
    ours: Figure
    theirs: Figure


def conflicting_figures(question: str, span: str, span_document: int, passages: Sequence[Passage]) -> list[Conflict]:
    """Sentences in the other articles' passages that say what `span` says (most of its content
    words) but with a different number for the same counted thing; at most one per article.

    Only figures the question is about count: it asks for a number ("How many ...?"), or names
    the thing counted ("... homes evacuated"); a figure the answer merely mentions does not."""
    asked = set(terms(question))
    counting = question_type(question) == "number"
    ours = [f for f in figures(span) if counting or f.unit in asked]
    if not ours:
        return []
    claim = _claim_terms(span)
    found: dict[int, Conflict] = {}
    for passage in passages:
        if passage.document_id == span_document or passage.document_id in found:
            continue
        for a, b in sentence_spans(passage.text):
            sentence = passage.text[a:b]
            theirs_terms = _claim_terms(sentence)
            if not claim or len(claim & theirs_terms) / min(len(claim), len(theirs_terms) or 1) < SAME_CLAIM:
                continue
            pairs = [(o, t) for o in ours for t in figures(sentence) if o.unit == t.unit and o.value != t.value]
            if pairs:
                o, t = pairs[0]
                found[passage.document_id] = Conflict(passage, passage.start + a, passage.start + b, o, t)
                break
    return list(found.values())
