"""The answer object every front end shares: text with [n] markers and verified citations."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from rag.retrieve.passage import Passage

ABSTAIN_TEXT = "The articles do not say."
_MONTHS = ("January February March April May June July August September October November December").split()
_ISO_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def listed(names: Sequence[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def dated(iso: str | None) -> str | None:
    """'on 3 March 2016' for a day, 'in March 2016' for a month or year; None when undated."""
    when = readable_date(iso)
    if not when:
        return None
    return f"{'in' if len(iso or '') <= 7 else 'on'} {when}"


def readable_date(iso: str | None) -> str | None:
    """'2016-03-03' -> '3 March 2016', '2016-03' -> 'March 2016'; anything else as it is."""
    m = _ISO_DATE.match(iso or "")
    if not iso or not m:
        return iso
    year, month, day = m.groups()
    if month and 1 <= int(month) <= 12:
        name = _MONTHS[int(month) - 1]
        return f"{int(day)} {name} {year}" if day else f"{name} {year}"
    return year


@dataclass
class Citation:
    """A verbatim quote: `document_text[start:end] == quote` (checked before it is shown)."""

    n: int
    chunk_id: int
    source: str
    title: str
    start: int
    end: int
    quote: str
    #: Where and when the cited article appeared, when the article says (never guessed).
    published: str | None = None
    outlet: str | None = None
    authors: tuple[str, ...] = ()
    url: str | None = None
    #: The other outlets (or files, when the outlet is unknown) that carried the same story.
    also_published_by: tuple[str, ...] = ()

    @property
    def provenance(self) -> str:
        """'The Week, 3 March 2016, by Jane Smith': what is known of where and when, or ''."""
        parts = [p for p in (self.outlet, readable_date(self.published)) if p]
        if self.authors:
            parts.append("by " + listed(self.authors))
        return ", ".join(parts)


@dataclass
class AnswerSpan:
    """The short answer (a number, a date, a name, a place) inside citation `citation`:
    `document_text[start:end] == text`, and [start, end) lies within that citation's quote."""

    text: str
    start: int
    end: int
    citation: int


@dataclass
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    passages: list[Passage]
    embedder: str
    generator: str
    retrieval_mode: str
    timings_ms: dict[str, float] = field(default_factory=dict)
    support: float | None = None
    #: The article filter the question was asked under (DocumentFilter.to_json), if any.
    filters: dict[str, Any] | None = None
    #: Why nothing was found when nothing was: the index is empty, or a filter admits no article.
    notice: str | None = None
    #: True when articles give different figures for the same thing and the answer shows each.
    disagreement: bool = False
    answer_span: AnswerSpan | None = None
    #: The reader that chose the span and decided abstention ({name, sha256, ...}); None: the rules did.
    reader: dict[str, Any] | None = None
    #: Why a language model's reply is not the answer shown (cut off, empty, unsupported; naming
    #: the sentences dropped); None when the model's answer is shown or no model was asked.
    fallback_reason: str | None = None
    #: Sentences of a model's reply left out of the answer, each {sentence, reason}.
    dropped: list[dict[str, str]] = field(default_factory=list)

    @property
    def plain_text(self) -> str:
        """The answer without its [n] markers (what answer metrics compare), "" if abstained."""
        return "" if self.abstained else re.sub(r"\s*\[\d+\]", "", self.answer)

    @property
    def model_reply_note(self) -> str | None:
        """What the terminal and the UI say of a language model's reply that was not shown whole:
        why it was not used, or which of its sentences were left out; None otherwise."""
        if self.fallback_reason:
            return f"The model's reply was not used: {self.fallback_reason}"
        if self.dropped:
            left_out = "; ".join(f"“{d['sentence']}” ({d['reason']})" for d in self.dropped)
            return f"Left out of the model's reply as unsupported: {left_out}"
        return None

    @property
    def short_answer(self) -> str:
        """The span when there is one, else the plain answer (what EM and F1 compare)."""
        if self.abstained:
            return ""
        return self.answer_span.text if self.answer_span else self.plain_text

    def to_json(self, display_source: Any = str) -> dict[str, Any]:
        """The JSON contract of DESIGN.md (plus retrieval_mode and support)."""
        return {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [{**asdict(c), "source": display_source(c.source), "authors": list(c.authors),
                           "also_published_by": list(c.also_published_by)} for c in self.citations],
            "passages": [
                {
                    "rank": p.rank,
                    "chunk_id": p.chunk_id,
                    "source": display_source(p.source),
                    "title": p.title,
                    "start": p.start,
                    "end": p.end,
                    "score": round(p.score, 6),
                    "text": p.text,
                    "bm25_rank": p.bm25_rank,
                    "dense_rank": p.dense_rank,
                    "rerank_score": p.rerank_score,
                }
                for p in self.passages
            ],
            "embedder": self.embedder,
            "generator": self.generator,
            "retrieval_mode": self.retrieval_mode,
            "support": None if self.support is None or not math.isfinite(self.support) else round(self.support, 4),
            "reader": self.reader,
            "filters": self.filters,
            "notice": self.notice,
            "disagreement": self.disagreement,
            "answer_span": None if self.answer_span is None else asdict(self.answer_span),
            "fallback_reason": self.fallback_reason,
            "dropped_sentences": self.dropped,
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
        }


class Grounding(Protocol):
    """What an answer generator needs from the assistant: checked citations and provenance.

    The Assistant provides it; a generator (rag.answer.llm) sees only this, so answering
    never reaches back into the assistant that drives it."""

    @property
    def embedder_id(self) -> str: ...

    @property
    def retrieval_mode(self) -> str: ...

    def cite(self, n: int, passage: Passage, start: int, end: int) -> Citation | None:
        """A citation for document_text[start:end], or None if the passage is stale."""
        ...
