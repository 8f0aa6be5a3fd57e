"""The seed evaluation set stays true to the articles as the index sees them."""

from __future__ import annotations

from collections import Counter

from rag.ingest.cleaning import clean_news_text
from rag.evaluation.dataset import TYPES, load_jsonl
from rag.evaluation.metrics import contains_answer

from .conftest import REPO

DATASET = REPO / "eval" / "seed_questions.jsonl"


def test_every_evidence_quote_occurs_in_its_cleaned_source():
    questions = load_jsonl(DATASET)
    cleaned = {}
    for q in questions:
        for source in q.sources:
            if source not in cleaned:
                cleaned[source] = clean_news_text((REPO / source).read_text(encoding="utf-8")).text
        for quote in q.evidence:
            assert any(quote in cleaned[s] for s in q.sources), (q.id, quote)


def test_set_covers_every_type_with_enough_questions():
    questions = load_jsonl(DATASET)
    counts = Counter(q.type for q in questions)
    assert set(counts) <= set(TYPES)
    assert sum(q.answerable for q in questions) >= 60
    assert counts["unanswerable"] >= 15
    for kind in TYPES:
        assert counts[kind] >= 5, kind
    for q in questions:
        assert q.answerable == (q.type != "unanswerable")
        if q.type == "cross-article":
            assert len(set(q.sources)) == 2


def test_answers_sit_in_the_evidence():
    for q in load_jsonl(DATASET):
        if q.answerable and q.type != "paraphrase":
            assert contains_answer(" ".join(q.evidence), q.answers), q.id


def test_boilerplate_only_answers_are_gone_from_the_cleaned_text():
    texts = " ".join(clean_news_text(p.read_text(encoding="utf-8")).text for p in (REPO / "seeds").iterdir())
    for phrase in ("21 people", "Katie Kenyon", "Westwood", "Copenhagen", "echo chamber", "smoke bombs"):
        assert phrase not in texts
