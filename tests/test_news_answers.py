"""News answers: who reported it when, the latest report, and reports that disagree."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer.assistant import Assistant
from rag.answer.news import conflicting_figures, figures, reported, time_order
from rag.ingest.pipeline import ingest

PAGE = """<html><head><title>{title}</title>
<meta property="og:site_name" content="{outlet}"><meta property="article:published_time" content="{date}"></head>
<body><article><h1>{title}</h1>{paragraphs}</article></body></html>"""


def _page(title: str, outlet: str, date: str, *paragraphs: str) -> str:
    return PAGE.format(title=title, outlet=outlet, date=date, paragraphs="".join(f"<p>{p}</p>" for p in paragraphs))


@pytest.fixture(scope="module")
def flood(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    corpus = tmp_path_factory.mktemp("flood")
    (corpus / "first.html").write_text(_page(
        "Wakefield flood: homes evacuated", "Yorkshire Post", "2016-03-03T09:00:00Z",
        "Heavy rain caused the River Calder to burst its banks on Wednesday night.",
        "About 1,400 homes were evacuated in Wakefield as the water rose, the council said.",
        "Emergency shelters were opened at two schools in the town centre for families who had nowhere else to go."))
    (corpus / "update.html").write_text(_page(
        "Wakefield flood: evacuations rise", "BBC News", "2016-03-05T18:30:00Z",
        "The flood defences along the River Calder failed again on Saturday morning.",
        "About 2,100 homes have now been evacuated in Wakefield as the water kept rising, the council said.",
        "Volunteers from across Yorkshire brought food and blankets to the emergency shelters."))
    (corpus / "undated.txt").write_text(
        "Rail services in Yorkshire\n\nNorthern said 40 trains between Leeds and York were cancelled because of flooding.\n")
    index = tmp_path_factory.mktemp("flood-index")
    ingest([corpus], index, embedder_spec="offline", progress=False, warn=lambda m: None)
    return Assistant(index, embedder_spec="offline")


def test_reports_that_differ_are_shown_side_by_side(flood: Assistant) -> None:
    answer = flood.ask("How many homes were evacuated in Wakefield?")
    assert answer.disagreement and answer.answer.startswith("Reports differ: ")
    quotes = {c.outlet: c.quote for c in answer.citations}
    assert "1,400 homes" in quotes["Yorkshire Post"] and "2,100 homes" in quotes["BBC News"]
    assert "(reported by Yorkshire Post on 3 March 2016)" in answer.answer
    assert "(reported by BBC News on 5 March 2016)" in answer.answer
    assert answer.to_json()["disagreement"] is True


def test_the_latest_question_leads_with_the_newest_report(flood: Assistant) -> None:
    answer = flood.ask("What is the latest number of homes evacuated in Wakefield?")
    assert answer.citations[0].outlet == "BBC News" and "2,100" in answer.citations[0].quote
    assert answer.answer.startswith("The latest report: ") and "Earlier: " in answer.answer
    earliest = flood.ask("What was the initial number of homes evacuated in Wakefield?")
    assert earliest.citations[0].outlet == "Yorkshire Post"


def test_a_figure_the_question_is_not_about_raises_no_disagreement(flood: Assistant) -> None:
    answer = flood.ask("Where were emergency shelters opened?")
    assert not answer.disagreement and len(answer.citations) == 1
    assert "two schools" in answer.citations[0].quote


def test_an_undated_answer_says_no_date(flood: Assistant) -> None:
    answer = flood.ask("How many trains between Leeds and York were cancelled?")
    assert "40 trains" in answer.answer and "reported" not in answer.answer and not answer.disagreement


def test_helpers() -> None:
    assert time_order("What is the latest figure?") == "latest"
    assert time_order("How many were first reported missing?") == "earliest"
    assert time_order("Who first said it?") is None
    assert reported("The Week", "2016-03-03") == "reported by The Week on 3 March 2016"
    assert reported(None, "2016-03") == "reported in March 2016"
    assert reported("The Week", None) is None
    assert [(f.value, f.unit) for f in figures("About 1,400 homes and 2.5 million people, in 2016.")] == [
        (1400.0, "home"), (2.5e6, "peopl")]


def test_same_number_or_another_claim_is_no_conflict(tmp_path: Path) -> None:
    from rag.retrieve.passage import Passage

    def p(doc: int, text: str) -> Passage:
        return Passage(1, doc, doc, f"s{doc}", "t", 0, len(text), text, 1.0)

    span = "About 1,400 homes were evacuated in Wakefield, the council said."
    same = p(2, "About 1,400 homes were evacuated in Wakefield, officials said.")
    other_claim = p(3, "About 900 homes lost power in Leeds on Friday.")
    assert conflicting_figures("How many homes were evacuated?", span, 1, [same, other_claim]) == []
    differs = p(4, "About 1,600 homes were evacuated in Wakefield, the council said.")
    (conflict,) = conflicting_figures("How many homes were evacuated?", span, 1, [differs])
    assert (conflict.ours.value, conflict.theirs.value) == (1400.0, 1600.0)
    # Worded unlike the answer's sentence, but answering the question itself with another figure
    headline = "Wakefield floods: 1,400 homes evacuated as the River Calder bursts its banks overnight"
    final = p(5, "The council said the final count of homes evacuated during the flood was 2,350, after homes"
                 " in Upper Brenning were added to the total.")
    question = "How many homes were evacuated in the Wakefield flood?"
    (conflict,) = conflicting_figures(question, headline, 1, [final, other_claim])
    assert (conflict.ours.value, conflict.theirs.value) == (1400.0, 2350.0)
    assert conflicting_figures(question, headline, 1, [p(6, "About 2,350 people attended the meeting.")]) == []


@pytest.fixture(scope="module")
def wire(tmp_path_factory: pytest.TempPathFactory) -> tuple[Assistant, dict]:
    from .news_corpus import write_news_corpus

    corpus = tmp_path_factory.mktemp("wire")
    expected = write_news_corpus(corpus)
    index = tmp_path_factory.mktemp("wire-index")
    ingest([corpus], index, embedder_spec="offline", progress=False, warn=lambda m: None)
    return Assistant(index, embedder_spec="offline"), expected


def test_syndicated_copies_are_grouped_shown_once_and_credited(wire: tuple[Assistant, dict]) -> None:
    assistant, expected = wire
    copies = sorted(name for name, item in expected.items() if item["group"] == "alder-wire")
    info = assistant.store.info()
    assert [[s.rsplit("/", 1)[-1] for s in group] for group in info["syndicated"]] == [copies]
    answer = assistant.ask("Which river burst its banks in Kelmsford?", k=5)
    shown = [p.source.rsplit("/", 1)[-1] for p in answer.passages]
    assert len([s for s in shown if s in copies]) <= len(copies)
    texts = [p.text for p in answer.passages]
    from rag.text.shingles import near_duplicate_text

    assert not any(near_duplicate_text(a, b) for i, a in enumerate(texts) for b in texts[i + 1:])
    cited = answer.citations[0]
    if cited.source.rsplit("/", 1)[-1] in copies:
        outlets = {expected[c]["expected"]["outlet"] for c in copies} - {cited.outlet}
        assert set(cited.also_published_by) == outlets


def test_metadata_reaches_the_citation(wire: tuple[Assistant, dict]) -> None:
    assistant, expected = wire
    answer = assistant.ask("How many homes were evacuated when the evacuation was widened as the river peaked?")
    by_file = {c.source.rsplit("/", 1)[-1]: c for c in answer.citations}
    assert by_file, answer.answer
    for name, c in by_file.items():
        meta = expected[name]["expected"]
        assert (c.outlet, c.published, list(c.authors), c.url) == (
            meta["outlet"], meta["published"], meta["authors"], meta["url"])


def test_questions_about_the_report_itself_are_answered_from_its_metadata(wire: tuple[Assistant, dict]) -> None:
    assistant, _ = wire
    when = assistant.ask("When did the Courier report that Kelmsford residents had begun returning home?")
    assert when.answer.startswith("On 15 February 2024, in The Kelmsford Courier: ")
    outlets = assistant.ask("Which outlets published the wire story that about 1,400 homes in Kelmsford were evacuated?")
    assert outlets.answer.startswith("The Kelmsford Courier, Alder Valley Post and The Westmoor Gazette")
    who = assistant.ask("Who wrote the Kelmsford Courier's report that the evacuation had widened to 2,100 homes?")
    assert who.answer.startswith("Tomasz Wolski, in The Kelmsford Courier on 13 February 2024: ")
    # Unknown stays unknown: the explainer has no date and no outlet.
    assert assistant.ask("When was the explainer on how the Fenwick Bridge flood wall works published?").abstained
    assert assistant.ask("Which outlet published the explainer on the Fenwick Bridge flood wall?").abstained


def test_a_question_bounded_by_a_date_uses_only_what_was_published_by_then(wire: tuple[Assistant, dict]) -> None:
    assistant, _ = wire
    answer = assistant.ask("As of 13 February 2024, how many homes had been evacuated in Kelmsford?")
    assert answer.filters and answer.filters["until"] == "2024-02-13"
    assert all((c.published or "")[:10] <= "2024-02-13" for c in answer.citations)
    assert "2,100" in answer.answer and "2,350" not in answer.answer
    latest = assistant.ask("What is the latest figure for the number of homes evacuated in the Kelmsford flood?")
    assert latest.answer.startswith("The latest report: ") and "2,350" in latest.citations[0].quote


def test_content_questions_are_not_mistaken_for_metadata_questions() -> None:
    from rag.answer.news import date_bounds, metadata_question, metadata_topic

    outlets = ["The Week", "BBC News"]
    assert metadata_question("When was the MPs' report into the Rotherham cases published, according to The Week article?",
                             outlets) is None
    assert metadata_question("Which broadcaster did David Simmonds speak to about the Ofsted report?", outlets) is None
    assert metadata_question("Who wrote that chief constables could fail?", outlets) is None
    assert metadata_question("When did The Week report that councils failed?", outlets) == "published"
    # "the report that ..." names a piece (a noun, not the verb), and a paper called "... Post" is a name
    assert metadata_question("When was the report that the bank cut its rates published?", outlets) == "published"
    assert metadata_question("When was the Financial Post's story on oil prices published?", outlets) == "published"
    assert metadata_question("When was the Ofsted report into the school published?", outlets) is None
    # What identifies the piece: the asking and the verb of publishing left out
    assert metadata_topic("When was the Alder Valley Post's article on council tax relief published?") == (
        "the Alder Valley Post's article on council tax relief")
    assert metadata_topic("Which outlet reported that the B1190 was closed?") == "that the B1190 was closed"
    assert metadata_topic("In which outlet did the report that residents were returning home appear?") == (
        "the report that residents were returning home")
    assert date_bounds("How many by 13 February?") == (None, None, "How many by 13 February?")  # no year: no bound
    assert date_bounds("How many homes, according to reports published on 12 February 2024?")[:2] == (
        "2024-02-12", "2024-02-12")
