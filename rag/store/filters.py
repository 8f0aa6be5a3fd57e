"""Which articles a question may draw on: by publication date, outlet and source path.

Light on purpose (no numpy, no FAISS): the CLI builds a filter from its flags at start-up.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.errors import RagError

if TYPE_CHECKING:
    from rag.store.base import StoredDocument

_ISO_PREFIX = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?$")


def iso_prefix(value: str, name: str) -> str:
    """A date bound as YYYY, YYYY-MM or YYYY-MM-DD (checked); a clear error for anything else."""
    value = value.strip()
    if not _ISO_PREFIX.match(value):
        raise RagError(f"{name} must be a date like 2016, 2016-03 or 2016-03-03, not '{value}'")
    return value


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

    def matches(self, doc: StoredDocument) -> bool:
        published = doc.published if doc.published and _ISO_PREFIX.match(doc.published[:10]) else None
        if self.since and (published is None or published[: len(self.since)] < self.since):
            return False
        if self.until and (published is None or published[: len(self.until)] > self.until):
            return False
        if self.outlets and (doc.outlet or "").casefold() not in {o.casefold() for o in self.outlets}:
            return False
        if self.sources:
            name = doc.source.rsplit("/", 1)[-1]
            if not any(fnmatch.fnmatchcase(doc.source, g) or fnmatch.fnmatchcase(name, g) or
                       fnmatch.fnmatchcase(doc.source, f"*/{g}") for g in self.sources):
                return False
        return True

    def to_json(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "outlets": list(self.outlets), "sources": list(self.sources)}
