"""Which articles a question may draw on: by publication date, outlet and source path.

Light on purpose (no numpy, no FAISS): the CLI builds a filter from its flags at start-up.
`published_key` and `outlet_key` are what the filter compares; the embedded store keeps both in
indexed columns (rag.store.database, migration 5) so that it answers a filter with one SQL query
(rag.store.filter_sql). Changing either function needs a migration that recomputes them.
"""

from __future__ import annotations

import calendar
import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from rag.errors import RagError

_ISO_PREFIX = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def iso_prefix(value: str, name: str) -> str:
    """A date bound as YYYY, YYYY-MM or YYYY-MM-DD (checked against the calendar: 2024-02-30
    would otherwise compare as a string and filter silently); a clear error for anything else."""
    value = value.strip()
    if not _ISO_PREFIX.match(value):
        raise RagError(f"{name} must be a date like 2016, 2016-03 or 2016-03-03, not '{value}'")
    why = _impossible(value)
    if why:
        raise RagError(f"{name} {value} is not a date ({why}); write it like 2016, 2016-03 or 2016-03-03")
    return value


def _impossible(value: str) -> str | None:
    """Why an ISO prefix names no real year, month or day; None when it is a real one."""
    year, month, day = ([int(part) for part in value.split("-")] + [1, 1])[:3]
    if year < 1:
        return "there is no year 0"
    if not 1 <= month <= 12:
        return f"there is no month {month:02d}"
    try:
        date(year, month, day)
    except ValueError:
        return f"{calendar.month_name[month]} {year} has no day {day:02d}"
    return None


def published_key(published: str | None) -> str | None:
    """The publication date as a filter compares it: the stored value when it starts with an
    ISO date (YYYY, YYYY-MM or YYYY-MM-DD), else None (unknown: left out by any date bound)."""
    return published if published and _ISO_PREFIX.match(published[:10]) else None


def outlet_key(outlet: str | None) -> str:
    """An outlet as a filter compares it: case-folded, '' when unknown."""
    return (outlet or "").casefold()


@dataclass(frozen=True)
class StoredDocument:
    """One article's record as the store keeps it: what a filter is matched against.

    Defined here rather than in rag.store.base so that the filter and the interface that uses
    it import in one direction only (base imports filters)."""

    id: int
    source: str
    title: str
    outlet: str | None
    published: str | None
    fingerprint: str
    authors: tuple[str, ...] = ()
    url: str | None = None
    #: The syndication group (copies of one story carried by several outlets), None when alone.
    group: int | None = None


@dataclass(frozen=True)
class DocumentFilter:
    """Which articles a question may draw on. Empty fields do not filter.

    Dates compare on ISO prefixes, so `since="2016-03"` admits 2016-03-01 onwards and
    `until="2016"` admits all of 2016. An article whose date is unknown is left out by any date
    bound (it cannot be shown to fall inside it). Outlets match case-insensitively; sources are
    shell globs matched against the stored path and its file name.
    """

    since: str | None = None
    until: str | None = None
    outlets: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.since or self.until or self.outlets or self.sources)

    @cached_property
    def outlet_keys(self) -> frozenset[str]:
        """The outlets asked for, case-folded (worked out once, not once per document)."""
        return frozenset(outlet_key(o) for o in self.outlets)

    @cached_property
    def _globs(self) -> tuple[tuple[Callable[[str], object], Callable[[str], object]], ...]:
        """Each source glob compiled once, as itself and as a tail of a path (`*/glob`)."""
        return tuple((re.compile(fnmatch.translate(g)).match, re.compile(fnmatch.translate(f"*/{g}")).match)
                     for g in self.sources)

    def matches(self, doc: StoredDocument) -> bool:
        return self.admits(doc.source, doc.outlet, doc.published)

    def admits(self, source: str, outlet: str | None, published: str | None) -> bool:
        """`matches` on a document's fields, without building a StoredDocument."""
        if self.since or self.until:
            date = published_key(published)
            if self.since and (date is None or date[: len(self.since)] < self.since):
                return False
            if self.until and (date is None or date[: len(self.until)] > self.until):
                return False
        if self.outlets and outlet_key(outlet) not in self.outlet_keys:
            return False
        return not self.sources or self.admits_source(source)

    def admits_source(self, source: str) -> bool:
        """Whether a source glob matches the stored path, its file name or a tail of the path
        (`bbc/*` admits /news/bbc/flood.html): fnmatchcase, so case counts and `*` crosses `/`."""
        name = source.rsplit("/", 1)[-1]
        return any(whole(source) or whole(name) or tail(source) for whole, tail in self._globs)

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "outlets": list(self.outlets), "sources": list(self.sources)}
