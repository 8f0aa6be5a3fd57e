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


def test_the_squad_subset_ships_with_the_project_and_every_reference_points_at_it():
    """README, `rag eval --help` and bench/ name eval/squad2-dev-5articles.json, which a clone has;
    the training files (../shared/benchmarks/, read only by bench/ training scripts) are never the benchmark."""
    import subprocess

    from rag.evaluation.squad import load_squad

    path = REPO / "eval" / "squad2-dev-5articles.json"
    documents, questions = load_squad(path)
    assert len(documents) == 5 and len(questions) == 1407
    assert sum(q.answerable for q in questions) == 705
    note = (REPO / "eval" / "squad2-dev-5articles.md").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in note and "Rajpurkar" in note
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    for name in tracked or [str(p.relative_to(REPO)) for p in REPO.rglob("*.py")]:
        if not name.endswith((".py", ".md", ".sh", ".toml")) or name.startswith("tests/"):
            continue
        text = (REPO / name).read_text(encoding="utf-8", errors="replace")
        assert "shared/benchmarks/squad2-dev-5articles" not in text and "parents[1].parent" not in text, name
