"""The short answer: a typed span inside the cited sentence, verbatim, in the JSON, CLI and UI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.answer.assistant import Assistant
from rag.answer.language.spans import answer_span
from rag.answer.types import AnswerSpan
from rag.cli import main
from rag.cli.ask_cmd import BOLD, render
from rag.ui.render import sources_html


def _span(question: str, sentence: str) -> str | None:
    found = answer_span(question, sentence, 0, len(sentence))
    return None if found is None else sentence[found[0] : found[1]]


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        ("How many children were sexually abused in Rotherham between 1997 and 2013?",
         "A report published in 2014 found that in Rotherham 1,400 children were sexually abused between 1997 and 2013.",
         "1,400"),
        ("When was the report published?", "A report published in 2014 found that 1,400 children were abused.", "2014"),
        ("What proportion of inspections revealed weaknesses?",
         "Sir Michael said that more than half of Ofsted's 42 inspections revealed weaknesses.", "more than half"),
        ("Who is the chief inspector of schools?",
         "The chief inspector of schools has claimed. Ofsted boss Sir Michael Wilshaw said it was worrying.",
         "Sir Michael Wilshaw"),
        ("Where were more than 300 children abused?", "While in Oxford more than 300 were violently abused.", "Oxford"),
        ("In what year did the Normans conquer England?", "The Normans conquered England in 1066.", "1066"),
        ("Over how many years were children in Oxford abused?", "In Oxford more than 300 were abused over more than 15 years.", "more than 15 years"),
        ("Over what period were children abused?", "A report published in 2014 found 1,400 were abused between 1997 and 2013.",
         "between 1997 and 2013"),
        ("Who is the lead for child protection?",
         "The lead for child protection, Chief Constable Simon Bailey said he will raise Sir Michael's concerns.",
         "Chief Constable Simon Bailey"),
        ("How long did the abuse in Oxford last?", "In Oxford 300 were abused over more than 15 years.", "more than 15 years"),
    ],
)
def test_the_span_is_the_thing_asked_for(question: str, sentence: str, expected: str):
    assert _span(question, sentence) == expected


def test_no_span_for_a_question_that_asks_for_no_thing_or_only_repeats_the_question():
    assert _span("What did the LGA call for?", "The LGA called for an independent review.") is None
    # The only year in the sentence is the one the question gives.
    assert _span("What happened in 2014?", "In 2014 a report was published.") is None
    # A capitalised stop word after an opening quote names nothing ("'The sexual exploitation ...'").
    titled = "The report – titled 'The sexual exploitation of children' – said sharing was poor."
    assert _span("Who commissioned the report that said sharing was poor?", titled) is None


def test_the_answer_leads_with_the_span_and_the_json_carries_its_offsets(seed_index: Path, capsys):
    code = main(["--index", str(seed_index), "ask", "How many children were sexually abused in Rotherham?", "--json"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    span = out["answer_span"]
    assert span["text"] == "1,400" and span["citation"] == 1
    assert out["answer"].startswith("1,400 — “")
    citation = out["citations"][0]
    assert citation["start"] <= span["start"] < span["end"] <= citation["end"]
    assert citation["quote"][span["start"] - citation["start"] : span["end"] - citation["start"]] == "1,400"
    a = Assistant(seed_index)
    try:
        chunk = a.store.get_chunks([citation["chunk_id"]])[citation["chunk_id"]]
        assert a.store.document_text(chunk.document_id)[span["start"] : span["end"]] == "1,400"
    finally:
        a.close()


def test_the_reader_gives_a_span_for_what_the_rules_leave_as_a_sentence(seed_index: Path):
    """With the reader, "What did the LGA call for?" has a short answer too, inside its quote."""
    a = Assistant(seed_index)
    try:
        answer = a.ask("What did the LGA call for?")
        span = answer.answer_span
        assert not answer.abstained and span is not None and "independent review" in span.text
        quote = answer.citations[span.citation - 1]
        assert quote.start <= span.start < span.end <= quote.end and answer.answer.startswith(span.text + " — “")
    finally:
        a.close()


def test_an_answer_without_a_thing_asked_for_has_no_span(seed_index: Path):
    """The hand-written rules (--reader off) give a span only for a thing asked for."""
    a = Assistant(seed_index, span_reader="off")
    try:
        answer = a.ask("What did the LGA call for?")
        assert not answer.abstained and answer.answer_span is None
        assert answer.to_json()["answer_span"] is None and not answer.answer.startswith("“")
        assert a.ask("How many children were abused in Derby?").to_json()["answer_span"] is None  # abstained
    finally:
        a.close()


def test_the_cli_bolds_the_span_only_on_a_terminal(seed_index: Path):
    a = Assistant(seed_index)
    try:
        answer = a.ask("How many children were sexually abused in Rotherham?")
    finally:
        a.close()
    plain = render(answer, color=False)
    assert "\033[" not in plain and plain.startswith("1,400 — ")
    coloured = render(answer, color=True)
    assert coloured.startswith(f"{BOLD}1,400\033[0m")
    assert f"Rotherham {BOLD}1,400\033[0m children" in coloured  # inside the quote too


def test_the_ui_marks_the_span_from_its_offsets_escaped(seed_index: Path):
    a = Assistant(seed_index)
    try:
        answer = a.ask("How many children were sexually abused in Rotherham?")
    finally:
        a.close()
    html = sources_html(answer)
    assert '<mark class="rag-span">1,400</mark> children' in html
    # Text from a document is escaped even inside the span mark.
    c = answer.citations[0]
    c.quote = "<b>1,400</b> children"
    answer.answer_span = AnswerSpan("1,400", c.start + 3, c.start + 8, 1)
    html = sources_html(answer)
    assert '&lt;b&gt;<mark class="rag-span">1,400</mark>&lt;/b&gt;' in html and "<b>" not in html
