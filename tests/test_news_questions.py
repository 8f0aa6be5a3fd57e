"""eval/news_questions.jsonl stays true to the news test corpus as an ingest would see it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from rag.evaluation.dataset import load_jsonl
from rag.evaluation.metrics import contains_answer
from rag.ingest.cleaning import clean_news_text
from rag.ingest.loading import read_document

from .conftest import REPO
from .news_corpus import write_news_corpus

DATASET = REPO / "eval" / "news_questions.jsonl"
NEWS_TYPES = {"when", "latest", "outlet", "disagreement"}


def _rows() -> list[dict]:
    return [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_set_loads_with_the_seed_loader_and_covers_every_kind():
    questions = load_jsonl(DATASET)
    counts = Counter(q.type for q in questions)
    assert set(counts) == NEWS_TYPES
    assert all(n >= 4 for n in counts.values())
    assert sum(not q.answerable for q in questions) >= 3


def test_evidence_occurs_in_the_cleaned_corpus_and_metadata_matches_it(tmp_path: Path):
    expected = write_news_corpus(tmp_path)
    cleaned = {}
    for name in expected:
        doc = read_document(tmp_path / name)
        cleaned[name] = clean_news_text(doc.text, title_hint=doc.title).text
    for row in _rows():
        assert row["answerable"] == bool(row["answers"]), row["id"]
        assert set(row["sources"]) <= set(expected), row["id"]
        for quote in row["evidence"]:
            assert any(quote in cleaned[s] for s in row["sources"]), (row["id"], quote)
        for name, fields in row.get("metadata", {}).items():
            for field, value in fields.items():
                assert expected[name]["expected"][field] == value, (row["id"], name, field)
        if row["answerable"] and "metadata" not in row:
            assert contains_answer(" ".join(row["evidence"]), row["answers"]), row["id"]


def test_the_committed_corpus_is_what_the_generator_writes(tmp_path: Path):
    write_news_corpus(tmp_path)
    committed = REPO / "eval" / "news_corpus"
    assert sorted(p.name for p in committed.iterdir()) == sorted(p.name for p in tmp_path.iterdir())
    for path in tmp_path.iterdir():
        assert (committed / path.name).read_bytes() == path.read_bytes(), path.name


def test_rag_eval_scores_the_news_kinds_as_their_own_types(capsys):
    from rag.cli import main

    code = main(["eval", "--dataset", str(DATASET), "--corpus", str(REPO / "eval" / "news_corpus"), "--json",
                 "--embedder", "offline"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and set(result["by_type"]) >= NEWS_TYPES
    # 0.947 with the reader (offline embedder): it misses only the yes/no question. Questions about
    # when a report was published are answered from its metadata (0.789 before they were recognised).
    assert result["summary"]["answer_accuracy"] >= 0.90
    assert result["by_type"]["outlet"]["answer_accuracy"] == 1.0
    assert result["by_type"]["when"]["answer_accuracy"] == 1.0
