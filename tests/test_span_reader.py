"""The trained reader: hash check, loading paths, `--reader off`, and what it answers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.answer.reading import sentences_holding, snap_to_words
from rag.answer.span_reader import SHIPPED_DIR, OnnxSpanReader, TransformersSpanReader, load_reader, reader_summary
from rag.errors import RagError

from .conftest import SEEDS
from .tiny_models import build_question_answering

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_reader_loads_and_checks_its_hash() -> None:
    reader = load_reader("default")
    assert isinstance(reader, OnnxSpanReader)
    config = json.loads((SHIPPED_DIR / "reader.json").read_text())
    assert reader.sha256 == config["model_sha256"]
    assert reader_summary()["sha256"] == reader.sha256
    assert (SHIPPED_DIR / "model.onnx").stat().st_size <= 30_000_000


def test_a_tampered_reader_is_refused_in_one_line(tmp_path: Path) -> None:
    copy = tmp_path / "reader"
    shutil.copytree(SHIPPED_DIR, copy)
    with open(copy / "model.onnx", "r+b") as handle:
        handle.seek(5000)
        byte = handle.read(1)
        handle.seek(5000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(RagError) as caught:
        OnnxSpanReader(copy)
    message = str(caught.value)
    assert "sha256" in message and "\n" not in message


def test_the_shipped_hash_is_pinned_in_code_not_only_in_its_config(tmp_path: Path) -> None:
    """Rewriting reader.json to match a replaced model.onnx does not get it loaded as the shipped reader."""
    copy = tmp_path / "reader"
    shutil.copytree(SHIPPED_DIR, copy)
    from rag.answer import span_reader

    with pytest.raises(RagError, match="sha256"):
        OnnxSpanReader(copy, expected_sha256="0" * 64)
    assert span_reader.SHIPPED_SHA256 == json.loads((SHIPPED_DIR / "reader.json").read_text())["model_sha256"]


def test_reader_off_gives_the_rules() -> None:
    assert load_reader("off") is None
    assert reader_summary("off")["name"] == "off"


def test_a_transformers_qa_model_loads_from_a_local_directory(tmp_path: Path) -> None:
    model = build_question_answering(tmp_path / "tiny-qa")
    reader = load_reader(str(model))
    assert isinstance(reader, TransformersSpanReader)
    texts = ["The council apologised on Tuesday.", "Sir Tom Winsor leads the inspectorate."]
    readings = reader.read("Who leads the inspectorate?", texts)
    assert readings and {r.text_index for r in readings} == {0, 1}
    for r in readings:
        assert 0 <= r.start < r.end <= len(texts[r.text_index])


def test_an_unknown_reader_name_fails_fast_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(RagError, match="neither a local directory nor cached"):
        load_reader("deepset/no-such-reader")


def test_snapping_keeps_currency_units_and_whole_names() -> None:
    text = "Sky bid £4.2bn for the rights. Mayor Élodie Müller said 1,400 homes were hit."
    assert text[slice(*snap_to_words(text, text.index("4.2"), text.index("4.2") + 3))] == "£4.2bn"
    i = text.index("400")
    assert text[slice(*snap_to_words(text, i, i + 3))] == "1,400"
    i = text.index("Müller")
    assert text[slice(*snap_to_words(text, i + 1, i + len("Müller")))] == "Müller"


def test_a_citation_is_the_whole_sentence_holding_the_span() -> None:
    text = ("Ofsted boss fears a repeat.\n\nThe chief inspector of schools has claimed. Ofsted boss Sir Michael"
            " Wilshaw said more than half of councils were failing. He spoke on Tuesday.")
    i = text.index("more than half")
    a, b = sentences_holding(text, i, i + 14)
    assert text[a:b] == "Ofsted boss Sir Michael Wilshaw said more than half of councils were failing."


def test_no_training_paragraph_is_in_the_benchmark() -> None:
    shared = ROOT.parent / "shared" / "benchmarks"
    if not shared.is_dir():
        pytest.skip("../shared/benchmarks is not beside this checkout")
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import train_reader

    benchmark = json.loads((shared / train_reader.BENCHMARK_FILE).read_text())
    bench_paragraphs = {p["context"].strip() for a in benchmark["data"] for p in a["paragraphs"]}
    bench_ids = {q["id"] for a in benchmark["data"] for p in a["paragraphs"] for q in p["qas"]}
    bench_titles = {a["title"] for a in benchmark["data"]}
    examples = train_reader.load_examples([shared / f for f in train_reader.TRAIN_FILES])
    assert len(examples) > 13_000
    assert not {e.context.strip() for e in examples} & bench_paragraphs
    assert not {e.qid for e in examples} & bench_ids
    assert not {e.article for e in examples} & bench_titles
    with pytest.raises(SystemExit, match="benchmark"):
        train_reader.load_examples([shared / train_reader.BENCHMARK_FILE])


def test_the_reader_finds_answers_the_rules_missed_and_abstains_where_they_answered(seed_index: Path) -> None:
    """The issue's own examples: the rules answered "the Local Government Association" for the
    broadcaster and "1,400" for Rotherham's population; the reader answers BBC and abstains."""
    from rag.answer.assistant import Assistant

    reader, rules = Assistant(seed_index), Assistant(seed_index, span_reader="off")
    try:
        broadcaster = "Which broadcaster did David Simmonds speak to?"
        answer = reader.ask(broadcaster)
        assert not answer.abstained and answer.answer_span is not None and answer.answer_span.text == "BBC"
        assert "BBC" in answer.citations[0].quote and answer.reader and answer.reader["sha256"]
        assert rules.ask(broadcaster).answer_span is None or rules.ask(broadcaster).answer_span.text != "BBC"
        leader = reader.ask("Who leads HM Inspectorate of Constabulary?")
        assert not leader.abstained and "Tom" in leader.answer_span.text
        population = "What is the population of Rotherham?"
        assert reader.ask(population).abstained
        assert not rules.ask(population).abstained
    finally:
        reader.close()
        rules.close()


def test_cli_names_the_reader_and_reader_off_names_none(seed_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli import main

    assert main(["--index", str(seed_index), "ask", "Who leads HM Inspectorate of Constabulary?", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reader"]["name"] == "rag-reader-minilm-l6" and len(data["reader"]["sha256"]) == 64
    assert main(["--index", str(seed_index), "ask", "Who leads HM Inspectorate of Constabulary?", "--json",
                 "--reader", "off"]) == 0
    assert json.loads(capsys.readouterr().out)["reader"] is None
    assert main(["--index", str(seed_index), "info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["reader"]["sha256"] == data["reader"]["sha256"]


def test_short_answers_keep_full_names_and_currency_signs() -> None:
    """Issue 20 item 7: the rules' spans gave "Müller" (Élodie dropped) and "4.2bn" (£ dropped)."""
    from rag.answer.reading import read_passages
    from rag.retrieve.passage import Passage

    reader = load_reader("default")
    assert reader is not None
    for question, text, expected in [
        ("Who is the mayor?", "The town hall reopened on Friday. Mayor Élodie Müller said the repairs cost less than feared.",
         "Élodie Müller"),
        ("How much did Sky bid?", "Sky bid £4.2bn for the Premier League rights, the league said on Monday.", "£4.2bn"),
    ]:
        passage = Passage(1, 1, 7, "a.txt", "A", 0, len(text), text, 1.0)
        read = read_passages(reader, question, [passage], lambda _id, t=text: t)
        assert read is not None and text[read.span_start:read.span_end] == expected
        sentence = text[read.sentence_start:read.sentence_end]
        assert expected in sentence and sentence.endswith(".") and sentence[0].isupper()


def test_rule_flags_runs_only_the_wanted_rules(seed_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The vetoes in force are checked; missing_detail (not one of them) builds no vocabulary."""
    from rag.answer.assistant import RULES_VETO, Assistant, rule_flags

    assistant = Assistant(seed_index)
    try:
        question = "How many children were sexually abused in Rotherham in 1850?"
        assistant.ask(question)
        read = assistant.last_read
        assert read is not None
        every = {"missing_detail", "number_far", "contradicts", "opposed"}
        assert rule_flags(question, read, assistant, every) >= {"missing_detail", "number_far"}
        monkeypatch.setattr(Assistant, "vocabulary", lambda *a: pytest.fail("vocabulary built"))
        assert "missing_detail" not in RULES_VETO
        assert rule_flags(question, read, assistant, RULES_VETO) == {"number_far"}
        assert rule_flags(question, read, assistant, frozenset()) == frozenset()
    finally:
        assistant.close()


def test_export_averages_the_last_checkpoints_weights(tmp_path: Path) -> None:
    """`export_reader.py --average N` ships the element-wise mean of the last N saved weights
    (by step, not by file name order); integer buffers are carried, not averaged."""
    import sys

    import torch

    sys.path.insert(0, str(ROOT / "bench"))
    import export_reader

    for step, value in ((300, 100.0), (900, 1.0), (1200, 3.0), (2400, 8.0)):
        torch.save({"w": torch.full((2, 2), value), "ids": torch.arange(3)}, tmp_path / f"weights-{step}.pt")
    steps: list[int] = []
    mean = export_reader.averaged_weights(tmp_path, 3, steps)
    assert steps == [900, 1200, 2400]  # 300 is the oldest: "weights-300" sorts after "weights-2400" as text
    assert torch.allclose(mean["w"], torch.full((2, 2), 4.0)) and mean["w"].dtype == torch.float32
    assert torch.equal(mean["ids"], torch.arange(3))
    with pytest.raises(SystemExit, match="only 4"):
        export_reader.averaged_weights(tmp_path, 5, [])


def test_bm25_negatives_pair_a_question_with_the_paragraph_retrieval_would_confuse() -> None:
    """`--negatives bm25`: an answerable question is paired, as "no answer", with the other
    paragraph of its article that BM25 ranks highest for it, never one that holds its answer."""
    import random
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import train_reader

    own = "The Rhine flows north through Basel. Its length is 1,230 kilometres."
    near = "The Rhine's length was measured again in 2010 by Dutch surveyors in kilometres."
    holds = "Some say the length of the Rhine is 1,230 kilometres, counting the delta."
    far = "Pharmacists dispense medicines in the town."
    question = "What is the length of the Rhine in kilometres?"
    start = own.index("1,230")
    examples = [train_reader.Example("q1", "Rhine", question, own, (start, start + 15), ("1,230 kilometres",))]
    examples += [train_reader.Example(f"x{i}", "Rhine", "Who?", c, None, ()) for i, c in enumerate((far, holds, near))]
    for seed in range(5):
        negatives = train_reader.other_paragraph_negatives(examples, 1.0, random.Random(seed), "bm25")
        assert [(n.qid, n.context, n.answer) for n in negatives] == [("q1-other", near, None)]
    chosen = {train_reader.other_paragraph_negatives(examples, 1.0, random.Random(s))[0].context for s in range(20)}
    assert chosen == {near, far}  # random: any paragraph but the answer's own and one holding the answer


def test_reader_variants_name_a_reader_and_how_many_passages_it_reads() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import reader_variants

    assert reader_variants.parse_variant("default") == ("default", None)
    assert reader_variants.parse_variant("default:read=2") == ("default", 2)
    assert reader_variants.parse_variant("/tmp/a:b/reader:read=4") == ("/tmp/a:b/reader", 4)


def test_threshold_at_answers_the_asked_share_of_answerable_questions() -> None:
    import sys
    from types import SimpleNamespace

    sys.path.insert(0, str(ROOT / "bench"))
    import reader_open_corpus

    outcomes = [SimpleNamespace(confidence=c, question=SimpleNamespace(answerable=a), answered=True)
                for c, a in [(5.0, True), (4.0, True), (9.0, False), (3.0, True), (2.0, True), (1.0, True)]]
    assert reader_open_corpus.threshold_at(outcomes, 0.6) == 3.0  # 3 of 5 answerable reach it
    assert reader_open_corpus.threshold_at(outcomes, 1.0) == 1.0
    outcomes[1].answered = False  # vetoed: counted among the answerable, never reached
    assert reader_open_corpus.threshold_at(outcomes, 0.6) == 2.0  # 5, 3 and 2: still 3 of 5
    assert reader_open_corpus.threshold_at(outcomes, 1.0) == 1.0  # 4 of 5 at most: all it can


def test_rules_with_reader_scores_a_policy_at_the_asked_answered_rate() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import rules_with_reader as rw
    from rag.evaluation.squad import SquadQuestion

    def asked(conf: float, answerable: bool, flags: frozenset[str] = frozenset(), rules: bool = True) -> "rw.Asked":
        question = SquadQuestion("q", "?", ["Paris"] if answerable else [], answerable, "t")
        return rw.Asked(rw.Outcome(question, conf, "Paris", "In Paris.", True, 0.0), flags, rules)

    rows = [asked(5, True), asked(4, True, frozenset({"contradicts"})), asked(3, True), asked(2, True),
            asked(9, False), asked(9.5, False, rules=False), asked(0.5, False, frozenset({"opposed"}))]
    policies = rw.policies()
    margin = rw.at_rate(rows, policies["margin alone"], 0.5)  # 2 of 4 answerable reach 4
    assert margin == {"threshold": 4, "f1": 0.5, "contains": 0.5, "abstained": 1 / 3}
    vetoed = rw.at_rate(rows, policies["shipped vetoes"], 0.5)  # the vetoed 4.0 is skipped: threshold 3
    assert vetoed is not None and vetoed["threshold"] == 3 and vetoed["abstained"] == 1 / 3
    assert rw.at_rate(rows, policies["shipped vetoes"], 1.0) is None  # the veto leaves 3 of 4 at most
    old = rw.at_rate(rows, policies["shipped vetoes + the old answerer's abstention"], 0.75)
    assert old is not None and old["threshold"] == 2 and old["abstained"] == 2 / 3  # 9.5: the old answerer abstains


def test_detail_rule_precision_tells_a_missing_word_from_a_missing_name_of_several_words() -> None:
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    import detail_rule_precision as drp
    from rag.answer.language.details import Vocabulary

    article = Vocabulary("In 1900 the Los Angeles Times defined southern California.")
    assert drp.flagged_by("What did Derby define?", article) == "word"
    assert drp.flagged_by("What did the California Times define?", article) == "name"
    assert drp.flagged_by("What did the Los Angeles Times define in 1900?", article) is None
