"""What retrieval hands to answering: ranked passages, each with its place in its article."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Passage:
    """A retrieved chunk with where it sits in its document and why it was chosen."""

    rank: int
    chunk_id: int
    document_id: int
    source: str
    title: str
    start: int
    end: int
    text: str
    score: float
    bm25_rank: int | None = None
    dense_rank: int | None = None
    rerank_score: float | None = None


@dataclass
class Retrieval:
    passages: list[Passage]
    timings_ms: dict[str, float] = field(default_factory=dict)
    #: The question's vector when the mode embedded it (the answerer reuses it).
    query_vector: Any = None
