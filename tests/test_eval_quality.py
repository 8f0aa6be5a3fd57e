"""A quality gate: the seed set, through the real pipeline, must not regress below these floors.

The floors sit just under what the extractive answerer measures today (see the README's
evaluation table); a change that makes answers, citations or abstention worse fails here.
"""

from __future__ import annotations

import pytest

from rag.cli import main

from .conftest import REPO

FLOORS = {
    "answer_accuracy": 0.85,
    "citation_precision": 0.77,
    # The short answer (the answer span, else the whole answer) is now a real measure.
    "exact_match": 0.38,
    "f1": 0.50,
    "evidence_recall_at_k": 0.95,
    "abstention_recall": 0.75,
    "abstention_precision": 0.90,
}


def test_seed_set_meets_its_floors(capsys, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(REPO)
    args = ["eval", "--json"]
    for metric, floor in FLOORS.items():
        args += ["--fail-under", f"{metric}={floor}"]
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
