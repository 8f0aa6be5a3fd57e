"""Article metadata from HTML and text headers: what the source says, never a guess."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from rag.ingest import metadata as M
from rag.ingest.cleaning import clean_news_text
from rag.ingest.loading import read_document

from .news_corpus import write_news_corpus

FIELDS = ("headline", "outlet", "authors", "published", "url", "dates_disagree")


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, dict]:
    return tmp_path, write_news_corpus(tmp_path)


def _extract(path: Path) -> M.ArticleMeta:
    """What an ingest would know: the page's metadata, completed by its cleaned text's header."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".txt":
        return M.from_text(raw)
    doc = read_document(path)
    page = M.from_html(raw, url_hint=None)
    return M.merge(page, clean_news_text(doc.text, title_hint=doc.title).meta) if hasattr(doc, "text") else page


def test_every_corpus_file_yields_its_expected_metadata(corpus):
    directory, expected = corpus
    for name, info in expected.items():
        got = M.to_dict(_extract(directory / name))
        for field in FIELDS:
            assert got[field] == info["expected"][field], (name, field)
        if "visible_published" in info["expected"]:
            assert got["visible_published"] == info["expected"]["visible_published"]


def test_signal_sources_are_recorded(corpus):
    directory, _ = corpus
    source = {n: M.from_html((directory / n).read_text(encoding="utf-8")).published_source
              for n in ("courier-floods.html", "alder-valley-post-floods.html", "westmoor-gazette-floods.html")}
    assert source == {"courier-floods.html": "json-ld", "alder-valley-post-floods.html": "meta:article:published_time",
                      "westmoor-gazette-floods.html": "html:time"}
    assert M.from_text((directory / "courier-followup-2024-02-13.txt").read_text()).published_source == "text:dateline"


def test_json_ld_modified_date_is_kept_apart(corpus):
    directory, _ = corpus
    meta = M.from_html((directory / "courier-floods.html").read_text(encoding="utf-8"))
    assert meta.published == "2024-02-12T07:40:00+00:00" and meta.updated == "2024-02-12T11:02:00+00:00"
    assert meta.published_day == "2024-02-12"


def test_structured_date_wins_over_the_shown_one_and_both_are_kept(corpus):
    directory, _ = corpus
    meta = M.from_html((directory / "council-tax-relief.html").read_text(encoding="utf-8"))
    assert meta.published == "2024-02-14T16:20:00+00:00" and meta.published_source == "meta:article:published_time"
    assert meta.dates_disagree and meta.visible_published == "2024-02-16"


def test_related_story_dates_are_not_the_article_date(corpus):
    directory, _ = corpus
    # The Gazette's aside with a 5 February <time> comes before the article in the page.
    assert M.from_html((directory / "westmoor-gazette-floods.html").read_text()).published == "2024-02-12T10:30"


def test_page_without_metadata_stays_unknown(corpus):
    directory, _ = corpus
    meta = M.from_html((directory / "rowing-club-volunteers.html").read_text(encoding="utf-8"))
    assert meta == M.ArticleMeta()


@pytest.mark.parametrize(
    "text, iso",
    [
        ("Thursday 3 March 2016", "2016-03-03"),
        ("Tuesday 1 March 2016", "2016-03-01"),
        ("March 3, 2016", "2016-03-03"),
        ("2016-03-03", "2016-03-03"),
        ("Updated 14:05 GMT, 3 Mar 2016", "2016-03-03T14:05+00:00"),
        ("Thu, 03 Mar 2016 14:05:00 GMT", "2016-03-03T14:05:00+00:00"),
        ("Posted March 3, 2016 at 9:12 a.m. EST", "2016-03-03T09:12-05:00"),
        ("2016-03-03T14:05:00.000Z", "2016-03-03T14:05:00+00:00"),
        ("14/03/2016", "2016-03-14"),
        ("3rd March 2016", "2016-03-03"),
    ],
)
def test_complete_dates_parse_as_precisely_as_written(text, iso):
    assert M.parse_date(text) == iso


@pytest.mark.parametrize(
    "text",
    [
        "3 March",                      # no year: unknown, never completed with this year
        "Monday 12 February",
        "March 3",
        "03/04/2016",                   # day-month order unknowable
        "2 hours ago",
        "yesterday",
        "today",
        "30 February 2016",
        "Tuesday 3 March 2016",         # 3 March 2016 was a Thursday: contradictory, so unknown
        "March 2016",                   # no day
        "",
    ],
)
def test_incomplete_or_contradictory_dates_are_unknown(text):
    assert M.parse_date(text) is None


def test_year_less_dateline_leaves_published_unknown():
    meta = M.from_text("Storm hits the coast\n\nMonday 12 February\n\nThe storm hit the coast on Monday night, and it was the worst in years for the town.")
    assert meta.published is None and meta.published_source is None


def test_prose_mentioning_a_date_is_not_a_dateline():
    assert M.date_line("The council met on 3 March 2016 and agreed to publish the report in full.") is None
    assert M.from_text("Headline\n\nThe council met on 3 March 2016 and agreed to publish it.").published is None


def test_updated_line_is_not_the_publication_date():
    meta = M.from_text("Headline\nUpdated 14:05 GMT, 3 Mar 2016\n\nBody.")
    assert meta.published is None and meta.updated == "2016-03-03T14:05+00:00"
    both = M.from_text("Headline\nPublished 1 March 2016\nUpdated 3 March 2016\n\nBody.")
    assert both.published == "2016-03-01" and both.updated == "2016-03-03"


@pytest.mark.parametrize(
    "line, names",
    [
        ("By Jane Smith and John Doe", ("Jane Smith", "John Doe")),
        ("By Jane Smith, Home Affairs Editor", ("Jane Smith",)),
        ("By JANE SMITH", ("Jane Smith",)),
        ("By Jane Smith in Leeds | 3 March 2016", ("Jane Smith",)),
        ("By Dana A. Ford, Lauren del Valle & Tom Watkins, CNN", ("Dana A. Ford", "Lauren del Valle", "Tom Watkins")),
        ("By Staff", ()),
        ("By the time the council met, it was late.", ()),
        ("Byron Smith said so.", ()),
    ],
)
def test_bylines(line, names):
    assert M.byline(line) == names


def test_text_header_has_headline_byline_date_and_outlet():
    text = ("Council approves flood plan\n\nBy Jane Smith, Environment Correspondent\nMarch 3, 2016\n\n"
            "The council approved the plan on Tuesday, after a long debate about its cost.\n\n"
            "Subscribe to The Kelmsford Courier\n")
    assert M.from_text(text) == M.ArticleMeta(
        headline="Council approves flood plan", outlet="The Kelmsford Courier", authors=("Jane Smith",),
        published="2016-03-03", published_source="text:dateline")


def test_merge_fills_only_unknown_fields():
    page = M.ArticleMeta(headline="H", published="2024-02-14", published_source="json-ld")
    text = M.ArticleMeta(headline="Other", authors=("Jane Smith",), published="2024-02-16", published_source="text:dateline",
                         outlet="The Courier")
    merged = M.merge(page, text)
    assert merged.headline == "H" and merged.authors == ("Jane Smith",) and merged.outlet == "The Courier"
    assert merged.published == "2024-02-14" and merged.published_source == "json-ld"
    assert merged.dates_disagree and merged.visible_published == "2024-02-16"
    assert M.merge(M.ArticleMeta(), text).published_source == "text:dateline"


def test_malformed_json_ld_is_skipped_and_other_signals_still_read():
    html = ("<html><head><script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"headline\": </script>"
            "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"datePublished\": \"2024-01-02\",}</script>"
            "<meta property='og:title' content='A title'></head><body><p>x</p></body></html>")
    meta = M.from_html(html)
    assert meta.headline == "A title"
    assert meta.published == "2024-01-02" and meta.published_source == "json-ld"  # a trailing comma is forgiven


def test_json_ld_author_forms_and_organisation_authors():
    def page(author: str) -> str:
        return ("<html><head><script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"author\": "
                + author + "}</script></head><body></body></html>")

    assert M.from_html(page('"Jane Smith"')).authors == ("Jane Smith",)
    assert M.from_html(page('{"@type": "Person", "name": "Jane Smith"}')).authors == ("Jane Smith",)
    assert M.from_html(page('[{"@type": "Person", "name": "A Smith"}, {"@type": "Person", "name": "B Jones"}]')).authors == ("A Smith", "B Jones")
    assert M.from_html(page('[{"@type": "Organization", "name": "Northern Press"}, {"@type": "Person", "name": "B Jones"}]')).authors == ("B Jones",)


def test_meta_author_urls_are_not_names():
    html = ("<html><head><meta property='article:author' content='https://www.facebook.com/someone'>"
            "<meta name='byl' content='By Jane Smith and John Doe'></head><body></body></html>")
    assert M.from_html(html).authors == ("Jane Smith", "John Doe")


def test_parsely_and_sailthru_meta():
    html = ("<html><head><meta name='parsely-pub-date' content='2023-11-06T10:00:00Z'>"
            "<meta name='sailthru.author' content='Jane Smith'></head><body></body></html>")
    meta = M.from_html(html)
    assert meta.published == "2023-11-06T10:00:00+00:00" and meta.published_source == "meta:parsely-pub-date"
    assert meta.authors == ("Jane Smith",)


def test_scripts_are_never_executed_or_returned_as_text(corpus):
    directory, _ = corpus
    html = (directory / "courier-floods.html").read_text(encoding="utf-8")
    meta = M.from_html(html)
    for value in M.to_dict(meta).values():
        assert "TRACKING-SCRIPT-TEXT" not in str(value) and "dataLayer" not in str(value)
    evil = ("<html><head><title><script>alert('x')</script>Real title</title></head>"
            "<body><h1>Head<script>document.write('INJECTED')</script>line</h1></body></html>")
    got = M.from_html(evil)
    assert "INJECTED" not in (got.headline or "") and "alert" not in (got.headline or "")


@pytest.mark.parametrize("html", ["", "<", "<html", "\x00\x01binary", "<?xml version='1.0' encoding='utf-8'?><html><body>x</body></html>",
                                  "<html><body>" + "<div>" * 5000 + "deep" + "</div>" * 5000 + "</body></html>"])
def test_broken_markup_never_raises(html):
    assert isinstance(M.from_html(html), M.ArticleMeta)


def test_a_five_megabyte_page_takes_bounded_time():
    filler = "<div class='x'><p>Some filler text about the flood and the council. </p><script>var a = 1;</script></div>"
    html = ("<html><head><title>A big page about the flood | Big Outlet</title><meta property='article:published_time' content='2024-02-12'>"
            "</head><body><h1>A big page about the flood</h1>" + filler * (5_000_000 // len(filler)) + "</body></html>")
    assert len(html) > 5_000_000
    started = time.perf_counter()
    meta = M.from_html(html)
    assert time.perf_counter() - started < 10  # about 0.5 s here; the bound is for slow CI machines
    assert meta.published == "2024-02-12" and meta.headline == "A big page about the flood" and meta.outlet == "Big Outlet"


def test_cleaning_reads_its_header_through_metadata():
    text = ("A headline here\n\nBy Jane Smith\nPublished 3 March 2016\nUpdated 4 March 2016\n\n"
            "The first sentence of the article is long enough to count as prose, clearly, and it goes on.")
    cleaned = clean_news_text(text)
    assert cleaned.published == "2016-03-03" and cleaned.meta.updated == "2016-03-04"
    assert cleaned.meta.authors == ("Jane Smith",)
    assert "Published" not in cleaned.text and "Updated" not in cleaned.text
    assert clean_news_text(cleaned.text).text == cleaned.text


def test_utc_timestamp_gives_way_to_the_same_instant_in_the_outlets_zone():
    # JSON-LD in UTC, the page's <time> in local time: the same instant, so the local day is kept
    html = ("<html><head><script type='application/ld+json'>{\"@type\": \"NewsArticle\", "
            "\"datePublished\": \"2023-11-09T01:49:09Z\"}</script></head><body>"
            "<time datetime='2023-11-08 17:49:09'>November 8, 2023 at 5:49 p.m.</time></body></html>")
    meta = M.from_html(html)
    assert meta.published == "2023-11-08T17:49:09-08:00" and meta.published_source == "json-ld"
    assert not meta.dates_disagree
    # A different time of day is not the same instant: the UTC value stays.
    other = html.replace("17:49:09", "17:40:00")
    assert M.from_html(other).published == "2023-11-09T01:49:09+00:00"


def test_a_utc_timestamp_a_day_from_a_local_date_is_not_a_disagreement():
    html = ("<html><head><meta property='article:published_time' content='2023-11-09T03:28:35Z'></head>"
            "<body><time datetime='2023-11-08'>8 November 2023</time></body></html>")
    meta = M.from_html(html)
    assert meta.published == "2023-11-09T03:28:35+00:00" and not meta.dates_disagree
