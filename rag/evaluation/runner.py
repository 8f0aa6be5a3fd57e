"""Run questions through the real assistant and score retrieval, answers, citations, abstention."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from rag.answer.assistant import Assistant
from rag.errors import RagError
from rag.evaluation.dataset import EvalQuestion
from rag.evaluation.metrics import (
    contains_answer,
    exact_match,
    first_hit_rank,
    normalize_answer,
    percentile,
    token_f1,
)

# The metrics every report shows, in order; `--fail-under` accepts these names.
METRICS = (
    "hit_at_k", "mrr", "evidence_recall_at_k", "answer_accuracy", "exact_match", "f1", "span_rate",
    "span_em", "span_f1", "unanswerable_f1", "overall_f1",
    "citation_precision", "citation_recall", "abstention_precision", "abstention_recall",
    "answered_rate", "mean_answer_chars", "latency_p50_ms", "latency_p95_ms",
)


@dataclass
class Row:
    """One question's outcome, written to results.json."""

    id: str
    type: str
    question: str
    answerable: bool
    accepted: list[str]
    answer: str
    abstained: bool
    support: float | None
    hit_rank: int | None
    evidence_recall: float | None
    correct: bool
    em: float  # of the short answer: the answer span when there is one, else the whole answer
    f1: float
    span: str | None
    #: SQuAD EM / F1 of `answer_span` alone (no span: 0); on an unanswerable question, 1 for an abstention.
    span_em: float
    span_f1: float
    citations: list[dict[str, Any]]
    citations_correct: int
    evidence_cited: float | None
    passages: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float = 0.0


def _holds(text: str, needle: str) -> bool:
    a, b = normalize_answer(text), normalize_answer(needle)
    return bool(b) and b in a


def _citation_ok(quote: str, q: EvalQuestion) -> bool:
    if any(contains_answer(quote, [a]) for a in q.answers):
        return True
    nq = normalize_answer(quote)
    return any(nq and (normalize_answer(e) in nq or nq in normalize_answer(e)) for e in q.evidence)


def evaluate_question(assistant: Assistant, q: EvalQuestion, k: int) -> Row:
    started = time.perf_counter()
    try:
        answer = assistant.ask(q.question, k=k)
    except RagError as exc:
        raise RagError(f"question {q.id}: {exc}") from None
    latency = (time.perf_counter() - started) * 1000
    texts = [p.text for p in answer.passages]
    hit = first_hit_rank(texts, q.answers) if q.answerable else None
    evidence_recall = None
    if q.evidence:
        evidence_recall = sum(any(_holds(t, e) for t in texts) for e in q.evidence) / len(q.evidence)
    answered = not answer.abstained
    correct = q.answerable and answered and contains_answer(answer.answer, q.answers)
    quotes = [c.quote for c in answer.citations]
    citations_correct = sum(_citation_ok(quote, q) for quote in quotes)
    evidence_cited = None
    if q.evidence and answered:
        evidence_cited = sum(
            any(_holds(e, quote) or _holds(quote, e) for quote in quotes) for e in q.evidence
        ) / len(q.evidence)
    short = answer.short_answer
    return Row(
        id=q.id,
        type=q.type,
        question=q.question,
        answerable=q.answerable,
        accepted=q.answers,
        answer=answer.answer,
        abstained=answer.abstained,
        support=answer.support,
        hit_rank=hit,
        evidence_recall=evidence_recall,
        correct=bool(correct),
        em=exact_match(short, q.answers) if q.answerable and answered else 0.0,
        f1=token_f1(short, q.answers) if q.answerable and answered else 0.0,
        span=answer.answer_span.text if answer.answer_span and answered else None,
        span_em=_span_score(exact_match, answer, q),
        span_f1=_span_score(token_f1, answer, q),
        citations=[asdict(c) for c in answer.citations],
        citations_correct=citations_correct,
        evidence_cited=evidence_cited,
        passages=[{"rank": p.rank, "source": p.source, "start": p.start, "end": p.end, "score": p.score,
                   "text": p.text} for p in answer.passages],
        latency_ms=latency,
    )


def _span_score(metric: Callable[[str, list[str]], float], answer: Any, q: EvalQuestion) -> float:
    """SQuAD 2.0 scoring of the short answer: the span against the gold answers, or for an
    unanswerable question 1 when the assistant abstained and 0 when it answered."""
    if not q.answerable:
        return float(answer.abstained)
    if answer.abstained or answer.answer_span is None:
        return 0.0
    return float(metric(answer.answer_span.text, q.answers))


def run(
    assistant: Assistant,
    questions: Sequence[EvalQuestion],
    k: int,
    progress: bool = True,
    on_row: Callable[[Row], None] | None = None,
) -> list[Row]:
    import sys

    from tqdm import tqdm

    rows = []
    for q in tqdm(questions, desc="Evaluating", unit="q", disable=not progress or None, file=sys.stderr, leave=False):
        row = evaluate_question(assistant, q, k)
        rows.append(row)
        if on_row:
            on_row(row)
    return rows


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def summarise(rows: Sequence[Row]) -> dict[str, Any]:
    """All metrics over `rows` (None where a metric does not apply to them)."""
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    answered = [r for r in rows if not r.abstained]
    abstained = [r for r in rows if r.abstained]
    citations = sum(len(r.citations) for r in answered)
    cited_ok = sum(r.citations_correct for r in answered)
    latencies = [r.latency_ms for r in rows]
    return {
        "questions": len(rows),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "hit_at_k": _mean([float(r.hit_rank is not None) for r in answerable]),
        "mrr": _mean([1.0 / r.hit_rank if r.hit_rank else 0.0 for r in answerable]),
        "evidence_recall_at_k": _mean([r.evidence_recall for r in answerable if r.evidence_recall is not None]),
        "answer_accuracy": _mean([float(r.correct) for r in answerable]),
        "exact_match": _mean([r.em for r in answerable]),
        "f1": _mean([r.f1 for r in answerable]),
        "span_rate": _mean([float(r.span is not None) for r in answered]) if answered else None,
        "span_em": _mean([r.span_em for r in answerable]),
        "span_f1": _mean([r.span_f1 for r in answerable]),
        "unanswerable_f1": _mean([r.span_f1 for r in unanswerable]),
        "overall_f1": _mean([r.span_f1 for r in rows]),
        "citation_precision": cited_ok / citations if citations else None,
        "citation_recall": _mean([r.evidence_cited for r in answerable if r.evidence_cited is not None]),
        "abstention_precision": _mean([float(not r.answerable) for r in abstained]) if abstained else None,
        "abstention_recall": _mean([float(r.abstained) for r in unanswerable]),
        "answered_rate": _mean([float(not r.abstained) for r in answerable]),
        "mean_answer_chars": _mean([float(len(r.answer)) for r in answered]),
        "latency_p50_ms": percentile(latencies, 0.5),
        "latency_p95_ms": percentile(latencies, 0.95),
    }


#: Metrics of the answers given to answerable questions: meaningless for a set with none (an
#: unanswerable question answered anyway has no span to lead with and no answer to cite).
ANSWER_ONLY = ("span_rate", "citation_precision")


def summarise_by_type(rows: Sequence[Row]) -> dict[str, dict[str, Any]]:
    """`summarise` per question type, the answer-only metrics None for a type with no answerable
    question (the same in the table, `--json` and results.json)."""
    out = {}
    for t in sorted({r.type for r in rows}):
        summary = summarise([r for r in rows if r.type == t])
        if not summary["answerable"]:
            summary.update({key: None for key in ANSWER_ONLY})
        out[t] = summary
    return out
