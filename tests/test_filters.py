"""Article filters (dates, outlets, sources): parsed once, applied inside retrieval."""

from __future__ import annotations

import json

import pytest

from rag.answer.assistant import Assistant
from rag.cli import main
from rag.errors import RagError
from rag.store.base import StoredDocument
from rag.store.filters import DocumentFilter, iso_prefix
from rag.ui.service import filter_from


def doc(published: str | None = None, outlet: str | None = None, source: str = "/news/bbc/flood.html") -> StoredDocument:
    return StoredDocument(1, source, "t", outlet, published, "fp")


@pytest.mark.parametrize(
    ("where", "published", "admitted"),
    [
        (DocumentFilter(since="2016-03"), "2016-03-01", True),
        (DocumentFilter(since="2016-03"), "2016-02-29", False),
        (DocumentFilter(until="2016"), "2016-12-31T23:00:00Z", True),
        (DocumentFilter(until="2016-03-02"), "2016-03-03", False),
        (DocumentFilter(since="2016"), None, False),  # unknown date: not shown to be in range
        (DocumentFilter(since="2016"), "Tuesday 3 March 2016", False),  # not an ISO date: unknown
        (DocumentFilter(), None, True),
    ],
)
def test_dates_compare_on_iso_prefixes(where: DocumentFilter, published: str | None, admitted: bool) -> None:
    assert where.matches(doc(published)) is admitted


def test_outlets_and_sources() -> None:
    assert DocumentFilter(outlets=("the week",)).matches(doc(outlet="The Week"))
    assert not DocumentFilter(outlets=("BBC",)).matches(doc(outlet="The Week"))
    assert not DocumentFilter(outlets=("BBC",)).matches(doc(outlet=None))
    assert DocumentFilter(sources=("bbc/*",)).matches(doc())
    assert DocumentFilter(sources=("*.html",)).matches(doc())
    assert not DocumentFilter(sources=("guardian/*",)).matches(doc())


@pytest.mark.parametrize("bad", ["March 2016", "2016-3", "16-03-03", "", "2016-03-03x"])
def test_bad_dates_are_one_line_errors(bad: str) -> None:
    with pytest.raises(RagError, match="like 2016, 2016-03 or 2016-03-03"):
        iso_prefix(bad, "--since")


def test_ui_fields_make_a_filter() -> None:
    assert filter_from("", " ", [], "") is None
    assert filter_from("2016", None, "BBC, The Week", "bbc/*,*.txt") == DocumentFilter(
        since="2016", outlets=("BBC", "The Week"), sources=("bbc/*", "*.txt"))


def test_retrieval_draws_only_on_admitted_articles_and_still_fills_k(seed_index) -> None:
    assistant = Assistant(seed_index, embedder_spec="offline")
    question = "What did Ofsted say about councils and child sexual exploitation?"
    unfiltered = {p.source.rsplit("/", 1)[-1] for p in assistant.ask(question, k=3).passages}
    assert "ofsted-boss-fears-repeat-of-rotherham.txt" not in unfiltered  # so the filter below must reach past them
    for where, expected in [
        (DocumentFilter(outlets=("The Week",)), "ofsted-council-failings-put-children-at-risk.txt"),
        (DocumentFilter(sources=("*rotherham*",)), "ofsted-boss-fears-repeat-of-rotherham.txt"),
    ]:
        answer = assistant.ask(question, k=3, where=where)
        assert len(answer.passages) == 3
        assert {p.source.rsplit("/", 1)[-1] for p in answer.passages} == {expected}
        assert answer.filters == where.to_json()
    none = assistant.ask(question, k=3, where=DocumentFilter(since="2030"))
    assert none.abstained and none.passages == []


def test_cli_filters(seed_index, capsys) -> None:
    code = main(["--index", str(seed_index), "ask", "Who is the chief inspector?", "--outlet", "The Week", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["filters"]["outlets"] == ["The Week"]
    assert all("council-failings" in p["source"] for p in out["passages"])
    assert main(["--index", str(seed_index), "ask", "Who?", "--since", "last week"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: --since must be a date") and "\n" not in err


def test_citations_say_where_and_when_the_article_appeared(seed_index, capsys) -> None:
    answer = Assistant(seed_index, embedder_spec="offline").ask(
        "What share of councils failed to put an action plan in place?", where=DocumentFilter(outlets=("The Week",)))
    cited = answer.to_json()["citations"][0]
    assert (cited["outlet"], cited["published"], cited["authors"], cited["url"]) == ("The Week", None, [], None)
    assert answer.citations[0].provenance == "The Week"
    main(["--index", str(seed_index), "ask", "What share of councils failed to put an action plan in place?",
          "--outlet", "The Week"])
    assert "(The Week) —" in capsys.readouterr().out


def test_provenance_reads_like_a_dateline() -> None:
    from rag.answer.types import Citation, readable_date

    assert readable_date("2016-03-03T10:00:00Z") == "3 March 2016"
    assert readable_date("2016-03") == "March 2016"
    c = Citation(1, 1, "s", "t", 0, 1, "q", published="2016-03-03", outlet="BBC News", authors=("A B", "C D", "E F"))
    assert c.provenance == "BBC News, 3 March 2016, by A B, C D and E F"


@pytest.mark.parametrize("bad", ["2024-13-45", "2024-02-30", "2024-02-99", "2023-02-29", "2024-00", "0000"])
def test_impossible_dates_are_one_line_errors(bad: str, seed_index, capsys) -> None:
    with pytest.raises(RagError, match=f"--until {bad} is not a date"):
        iso_prefix(bad, "--until")
    assert main(["--index", str(seed_index), "ask", "Who?", "--until", bad]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"Error: --until {bad} is not a date (") and err.count("\n") == 1, err


def test_real_dates_still_pass() -> None:
    assert [iso_prefix(d, "--since") for d in ("2024-02-29", "2016", "2016-12", " 2016-03-03 ")] == [
        "2024-02-29", "2016", "2016-12", "2016-03-03"]


@pytest.mark.parametrize(("flags", "says"), [
    (["--outlet", "Nope Times"], "No indexed article is from Nope Times (the outlets in the index: The Week)."),
    (["--since", "2030"], "No indexed article was published on or after 2030 (2 article(s) have no known date"),
    (["--source", "guardian/*"], "No indexed article has a file matching guardian/*."),
    (["--outlet", "The Week", "--source", "*rotherham*"], "No indexed article matches all the filters together"),
])
def test_a_filter_that_admits_no_article_says_which(seed_index, capsys, flags: list[str], says: str) -> None:
    question = "What did Ofsted say about councils?"
    assert main(["--index", str(seed_index), "ask", question, *flags]) == 0
    out = capsys.readouterr().out
    assert says in " ".join(out.split()) and "Closest passages:" not in out, out
    assert main(["--index", str(seed_index), "ask", question, *flags, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["abstained"] and answer["passages"] == [] and says in answer["notice"]


def test_the_notice_travels_in_the_answer_and_only_when_nothing_was_found(seed_index) -> None:
    assistant = Assistant(seed_index, embedder_spec="offline")
    try:
        assert assistant.ask("What did Ofsted say about councils?").notice is None
        nothing = assistant.ask("What did Ofsted say about councils?", where=DocumentFilter(outlets=("Nope Times",)))
        assert nothing.notice is not None and "Nope Times" in nothing.notice
    finally:
        assistant.close()


def test_asking_an_empty_index_says_it_is_empty(tmp_path, capsys) -> None:
    empty = tmp_path / "no-articles"
    empty.mkdir()
    index = tmp_path / "ix"
    assert main(["--index", str(index), "ingest", str(empty), "-q"]) == 0
    capsys.readouterr()
    assert main(["--index", str(index), "ask", "Who is the mayor?"]) == 0
    out = capsys.readouterr().out
    assert "The index holds no articles yet" in out and "Closest passages:" not in out, out
    assert main(["--index", str(index), "ask", "Who is the mayor?", "--json"]) == 0
    assert "no articles yet" in json.loads(capsys.readouterr().out)["notice"]
