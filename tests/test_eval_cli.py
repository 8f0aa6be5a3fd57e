"""`rag eval` runs a question set through the real pipeline and reports honest metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cli import main
from rag.evaluation.metrics import contains_answer, exact_match, normalize_answer, token_f1

from .conftest import SEEDS

ROTHERHAM = "seeds/ofsted-boss-fears-repeat-of-rotherham.txt"


def _dataset(tmp_path: Path) -> Path:
    rows = [
        {"id": "a1", "question": "How many children were sexually abused in Rotherham?", "answers": ["1,400", "1400"],
         "answerable": True, "sources": [ROTHERHAM], "type": "number",
         "evidence": ["in Rotherham 1,400 children were sexually abused between 1997 and 2013"]},
        {"id": "a2", "question": "Who is the chief inspector of schools?", "answers": ["Sir Michael Wilshaw", "Wilshaw"],
         "answerable": True, "sources": [ROTHERHAM], "type": "entity",
         "evidence": ["Ofsted boss Sir Michael Wilshaw said"]},
        {"id": "u1", "question": "Who is the Home Secretary?", "answers": [], "answerable": False, "sources": [],
         "type": "unanswerable"},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def in_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run from a directory holding seeds/, as the question set's sources are relative paths."""
    import shutil

    shutil.copytree(SEEDS, tmp_path / "seeds")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_metrics_follow_squad_normalisation():
    assert normalize_answer("The  1,400 children!") == "1400 children"
    assert exact_match("the Normans", ["Normans"]) == 1.0
    assert token_f1("10th century", ["10th and 11th centuries"]) == pytest.approx(1 / 3)
    assert contains_answer("In Rotherham 1,400 children were abused.", ["1,400"])
    assert not contains_answer("In Rotherham 11,400 children", ["1,400"])
    assert contains_answer("more than half of Ofsted's 42 inspections", ["Ofsted"])


def test_eval_reports_and_writes_files(capsys, in_repo: Path):
    dataset = _dataset(in_repo)
    code = main(["eval", "--dataset", str(dataset), "--out", str(in_repo / "out"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    summary = out["summary"]
    assert summary["questions"] == 3 and summary["answer_accuracy"] == 1.0
    assert summary["abstention_recall"] == 1.0 and summary["citation_precision"] == 1.0
    assert summary["hit_at_k"] == 1.0 and summary["evidence_recall_at_k"] == 1.0
    assert set(out["by_type"]) == {"number", "entity", "unanswerable"}
    assert out["by_type"]["unanswerable"]["citation_precision"] is None
    assert out["by_type"]["number"]["citation_precision"] == 1.0
    assert out["settings"]["embedder"].startswith("offline") and out["settings"]["generator"] == "extractive"
    results = json.loads((in_repo / "out" / "results.json").read_text())
    assert len(results["rows"]) == 3 and results["rows"][0]["citations"]
    assert (in_repo / "out" / "report.md").read_text().startswith("# Evaluation report")
    assert (in_repo / "out" / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fail_under_exits_non_zero(capsys, in_repo: Path):
    dataset = _dataset(in_repo)
    assert main(["eval", "--dataset", str(dataset), "--fail-under", "answer_accuracy=0.5"]) == 0
    assert main(["eval", "--dataset", str(dataset), "--fail-under", "latency_p50_ms=1e9"]) == 1
    assert "below threshold" in capsys.readouterr().err
    assert main(["eval", "--dataset", str(dataset), "--fail-under", "nonsense=1"]) == 1


def test_compare_shows_deltas(capsys, in_repo: Path):
    dataset = _dataset(in_repo)
    main(["eval", "--dataset", str(dataset), "--out", str(in_repo / "old")])
    capsys.readouterr()
    main(["eval", "--dataset", str(dataset), "--compare", str(in_repo / "old" / "results.json")])
    assert "answer_accuracy" in capsys.readouterr().out


def test_squad_file_builds_a_temporary_index(capsys, tmp_path: Path):
    squad = {"version": "v2.0", "data": [{"title": "Normans", "paragraphs": [{
        "context": "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, "
                   "a region in France. Their leader was Rollo.",
        "qas": [
            {"id": "q1", "question": "Who was the Norse leader?", "is_impossible": False,
             "answers": [{"text": "Rollo", "answer_start": 0}]},
            {"id": "q2", "question": "What is the population of Tokyo?", "is_impossible": True, "answers": []},
        ]}]}]}
    path = tmp_path / "squad.json"
    path.write_text(json.dumps(squad), encoding="utf-8")
    code = main(["eval", "--dataset", str(path), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out["by_type"]) == {"answerable", "unanswerable"}
    assert out["summary"]["hit_at_k"] == 1.0


def test_malformed_dataset_is_a_clear_error(capsys, tmp_path: Path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\nnot json\n', encoding="utf-8")
    assert main(["eval", "--dataset", str(bad)]) == 1
    assert capsys.readouterr().err.startswith("Error: ")


def _row(**given):
    """A results row; score fields not named here (or added later) are 0."""
    from dataclasses import MISSING, fields

    from rag.evaluation.runner import Row

    scores = {f.name: 0.0 for f in fields(Row) if f.default is MISSING and f.default_factory is MISSING}
    base = scores | dict(id="q", type="number", question="How many?", answerable=True, accepted=["1,400"], answer="",
                abstained=False, support=None, hit_rank=1, evidence_recall=None, correct=False, em=0.0, f1=0.0,
                span=None, citations=[], citations_correct=0, evidence_cited=None)
    return Row(**(base | given))


def test_report_misses_are_one_markdown_line_each_and_cut_at_a_word(tmp_path: Path, monkeypatch):
    import matplotlib.figure

    from rag.evaluation import report
    from rag.evaluation.runner import summarise, summarise_by_type

    long_answer = "The council said\n\nthat " + "twelve hundred children were " * 12 + "abused."
    rows = [
        _row(id="a1", question="How many\n\nchildren?", answer=long_answer),
        _row(id="a2", type="entity", accepted=["Wilshaw"], answer="Sir Michael Wilshaw said", correct=True,
             span="Sir Michael Wilshaw", citations=[{"n": 1}], citations_correct=1),
        _row(id="u1", type="unanswerable", question="Who is the *Home* Secretary?", answerable=False, accepted=[],
             answer="Amber Rudd <b>said</b>", span="Amber Rudd", citations=[{"n": 1}], hit_rank=None),
    ]
    charts = []
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", lambda fig, *a, **k: charts.append(fig))
    report.write(tmp_path, {"dataset": "set.jsonl"}, summarise(rows), summarise_by_type(rows), rows)
    md = (tmp_path / "report.md").read_text(encoding="utf-8").splitlines()

    misses = md[md.index("## Misses (2)") + 2:]
    assert len(misses) == 2 and all(line.startswith("- `") for line in misses), misses
    got = misses[0].split("got: ", 1)[1]
    assert "\n" not in got and got.endswith("were…") and len(got) <= report.MISS_CHARS, got
    assert "How many children?" in misses[0]
    assert "\\*Home\\*" in misses[1] and "\\<b\\>" in misses[1]  # shown as typed, never as markup

    header = next(line for line in md if line.startswith("| set |")).split(" | ")
    unanswerable = next(line for line in md if line.startswith("| unanswerable |")).split(" | ")
    assert unanswerable[header.index("span")] == "–" and unanswerable[header.index("citP")] == "–", unanswerable
    assert unanswerable[header.index("absR")] == "0.000"
    saved = json.loads((tmp_path / "results.json").read_text())["by_type"]["unanswerable"]
    assert saved["span_rate"] is None and saved["citation_precision"] is None  # as the table says
    assert saved["abstention_recall"] == 0.0

    [figure] = charts
    by_type_axes = figure.axes[1]
    labels = [t.get_text() for t in by_type_axes.get_yticklabels()]
    assert labels == ["entity", "number"], labels  # answer accuracy only: no abstention recall mixed in
    assert [round(p.get_width(), 3) for p in by_type_axes.patches] == [1.0, 0.0]
