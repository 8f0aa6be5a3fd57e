"""The embedded store answers a filter in SQL exactly as DocumentFilter.matches answers it."""

from __future__ import annotations

import fnmatch
import re
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.store import database, filter_sql
from rag.store.base import StoredDocument
from rag.store.filters import DocumentFilter

_ISO = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def previous_matches(where: DocumentFilter, doc: StoredDocument) -> bool:
    """DocumentFilter.matches as it was written before the SQL path (the reference)."""
    published = doc.published if doc.published and _ISO.match(doc.published[:10]) else None
    if where.since and (published is None or published[: len(where.since)] < where.since):
        return False
    if where.until and (published is None or published[: len(where.until)] > where.until):
        return False
    if where.outlets and (doc.outlet or "").casefold() not in {o.casefold() for o in where.outlets}:
        return False
    if where.sources:
        name = doc.source.rsplit("/", 1)[-1]
        if not any(fnmatch.fnmatchcase(doc.source, g) or fnmatch.fnmatchcase(name, g) or
                   fnmatch.fnmatchcase(doc.source, f"*/{g}") for g in where.sources):
            return False
    return True


OUTLETS = ["BBC", "bbc", "The Week", "the week", "Straße", "STRASSE", "", None, "İstanbul Times", "ǅ", "Ω"]
DATES = [None, "", "2016", "2016-03", "2016-03-03", "2016-03-03T10:00:00Z", "2016-3-3", "Tuesday 3 March 2016",
         "2016-03\n", "٢٠١٦-٠٣-٠٣", "2015-12-31", "2017-01-01", "20160303", "2016-03-03x", "1999", "2016-03-0"]
SOURCES = ["/news/bbc/flood.html", "bbc/flood.html", "flood.html", "/news/BBC/Flood.HTML", "/a/b/", "/", "",
           "/news/[x]/a?b*.txt", "/n\nl/x.txt", "/news/bbc/ofsted-rotherham.txt"]
_TEXT = "ab/.*?[]!^-xZ\n"
dates = st.one_of(st.sampled_from(DATES), st.text("0123456789-TZ:٢ \n", max_size=14))
bounds = st.one_of(st.none(), st.sampled_from(["2016", "2016-03", "2016-03-03", "2015", "2017-01", "1999"]),
                   st.text("0123456789-T٢\n", min_size=1, max_size=8))
documents = st.lists(st.tuples(st.one_of(st.sampled_from(SOURCES), st.text(_TEXT, max_size=12)),
                               st.sampled_from(OUTLETS), dates), max_size=25)
filters = st.builds(
    DocumentFilter, since=bounds, until=bounds,
    outlets=st.lists(st.sampled_from([o for o in OUTLETS if o is not None] + ["strasse", "İSTANBUL TIMES"]),
                     max_size=3).map(tuple),
    sources=st.lists(st.one_of(st.sampled_from(["bbc/*", "*.html", "*rotherham*", "flood.html", "[!b]*", "*/[x]/*",
                                                "?ews/*", "*/b/", "/*", "*"]), st.text(_TEXT, max_size=6)),
                     max_size=2).map(tuple),
)


def _store(rows: list[tuple[str, str | None, str | None]]) -> tuple[sqlite3.Connection, list[StoredDocument]]:
    conn = database.connect(Path(":memory:"), create=True)
    docs = []
    for i, (source, outlet, published) in enumerate(rows):
        source = f"{source}#{i}" if any(d.source == source for d in docs) else source  # sources are unique
        doc_id = database.insert_document(conn, source=source, title="t", outlet=outlet, published=published,
                                          fingerprint="fp", text="text")
        docs.append(StoredDocument(doc_id, source, "t", outlet, published, "fp"))
    return conn, docs


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=documents, where=filters)
def test_sql_admits_exactly_what_matches_admits(rows, where: DocumentFilter) -> None:
    conn, docs = _store(rows)
    try:
        expected = {d.id for d in docs if previous_matches(where, d)}
        assert {d.id for d in docs if where.matches(d)} == expected
        assert filter_sql.matching_documents(conn, where) == expected
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("where", "admitted"),
    [
        (DocumentFilter(outlets=("strasse",)), {"straße"}),  # case-folded, not only ASCII case
        (DocumentFilter(outlets=("",)), {"none"}),  # an empty outlet asked for: those without one
        (DocumentFilter(since="2016", until="2016"), {"straße", "iso"}),
        (DocumentFilter(until="2016-03"), {"straße", "iso"}),
        (DocumentFilter(since="2016-03-04"), {"odd"}),  # Unicode digits are digits (re's \d), as they were
        (DocumentFilter(sources=("/[!x]*",)), {"straße", "none", "iso"}),  # fnmatch's negation, not GLOB's
        (DocumentFilter(sources=("Odd*",)), set()),  # case counts
        (DocumentFilter(sources=("odd/*",)), {"odd"}),
    ],
)
def test_examples(where: DocumentFilter, admitted: set[str]) -> None:
    conn, docs = _store([("/n/straße.txt", "Straße", "2016-03-03"), ("/n/none.txt", None, "Tuesday 3 March 2016"),
                         ("/n/iso.txt", "BBC", "2016-03\n"), ("/x/odd/odd.txt", "ǅ", "٢٠١٦")])
    try:
        names = {d.id: d.source.rsplit("/", 1)[-1].removesuffix(".txt") for d in docs}
        assert {names[i] for i in filter_sql.matching_documents(conn, where)} == admitted
    finally:
        conn.close()


def test_narrow_filters_use_the_indexes() -> None:
    conn, _ = _store([])
    try:
        for where, index in [(DocumentFilter(outlets=("BBC",)), "documents_outlet"),
                             (DocumentFilter(since="2016-03", until="2016-05"), "documents_published")]:
            condition, params, _ = filter_sql.filter_clause(where)
            plan = " ".join(str(r[-1]) for r in conn.execute(f"EXPLAIN QUERY PLAN SELECT id, source FROM documents"
                                                            f" WHERE {condition}", params))
            assert index in plan, plan
    finally:
        conn.close()


def test_an_open_index_remembers_a_filter(seed_index: Path) -> None:
    from rag.store.embedded import EmbeddedStore

    with EmbeddedStore.open(seed_index) as store:
        where = DocumentFilter(outlets=("the week",))
        first = store.matching_documents(where)
        assert first and store.matching_documents(DocumentFilter(outlets=("the week",))) is first
        assert first == {d.id for d in store.documents().values() if where.matches(d)}
