"""Why a question found no passage at all: the index is empty, or a filter admits no article.

Without a notice such an answer reads "The articles do not say." over an empty list of closest
passages, as if the articles had been read and were silent. The notice travels in the Answer
(`notice`), so the CLI, `--json` and the UI all say the same thing.
"""

from __future__ import annotations

from rag.store.base import Store
from rag.store.filters import DocumentFilter, StoredDocument, published_key

#: Outlets named in a notice at most (an archive may have hundreds).
OUTLETS_SHOWN = 8


def nothing_found(store: Store, where: DocumentFilter | None) -> str | None:
    """The notice for a question that retrieved nothing; None when nothing explains it."""
    if store.counts()[0] == 0:
        return "The index holds no articles yet: add some, then ask again."
    if not where:
        return None
    parts = _parts(where)
    documents = list(store.documents().values())
    empty = [(text, part) for text, part in parts if not store.matching_documents(part)]
    if not empty:
        together = "; ".join(text for text, _ in parts)
        return f"No indexed article matches all the filters together ({together})."
    return " ".join(f"No indexed article {text}{_hint(part, documents)}." for text, part in empty)


def _parts(where: DocumentFilter) -> list[tuple[str, DocumentFilter]]:
    """Each active part of a filter on its own, with how a sentence names it."""
    parts = []
    if where.since:
        parts.append((f"was published on or after {where.since}", DocumentFilter(since=where.since)))
    if where.until:
        parts.append((f"was published on or before {where.until}", DocumentFilter(until=where.until)))
    if where.outlets:
        parts.append((f"is from {' or '.join(where.outlets)}", DocumentFilter(outlets=where.outlets)))
    if where.sources:
        parts.append((f"has a file matching {' or '.join(where.sources)}", DocumentFilter(sources=where.sources)))
    return parts


def _hint(part: DocumentFilter, documents: list[StoredDocument]) -> str:
    """What the index does hold, so the user can correct the filter."""
    if part.outlets:
        outlets = sorted({d.outlet for d in documents if d.outlet})
        if not outlets:
            return " (no article in the index names its outlet)"
        more = f" and {len(outlets) - OUTLETS_SHOWN} more" if len(outlets) > OUTLETS_SHOWN else ""
        return f" (the outlets in the index: {', '.join(outlets[:OUTLETS_SHOWN])}{more})"
    if part.since or part.until:
        dates = sorted(key for d in documents if (key := published_key(d.published)))
        undated = len(documents) - len(dates)
        known = f"the articles run from {dates[0][:10]} to {dates[-1][:10]}" if dates else ""
        unknown = f"{undated} article(s) have no known date, which a date filter leaves out" if undated else ""
        return f" ({'; '.join(x for x in (known, unknown) if x)})"
    return ""
