"""Evaluation questions: the seed set (JSON lines) or a SQuAD v2 file, as one shape."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import RagError

TYPES = ("number", "date", "entity", "list", "span", "paraphrase", "multi-sentence", "cross-article", "unanswerable")
DEFAULT_DATASET = Path("eval/seed_questions.jsonl")


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answers: list[str]
    answerable: bool
    type: str
    sources: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)


def load_jsonl(path: Path) -> list[EvalQuestion]:
    """Read and validate the seed set; a malformed line is an error naming the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RagError(f"cannot read {path}: {exc.__class__.__name__}") from None
    out: list[EvalQuestion] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            q = EvalQuestion(
                id=str(row["id"]),
                question=str(row["question"]),
                answers=[str(a) for a in row.get("answers", [])],
                answerable=bool(row.get("answerable", bool(row.get("answers")))),
                type=str(row.get("type", "span")),
                sources=[str(s) for s in row.get("sources", [])],
                evidence=[str(e) for e in row.get("evidence", [])],
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise RagError(f"{path}:{number}: not a valid question line ({exc.__class__.__name__})") from None
        if q.id in seen:
            raise RagError(f"{path}:{number}: duplicate id {q.id}")
        if q.answerable and not q.answers:
            raise RagError(f"{path}:{number}: an answerable question needs accepted answers")
        seen.add(q.id)
        out.append(q)
    if not out:
        raise RagError(f"{path} holds no questions")
    return out


def is_squad(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    with open(path, "rb") as fh:
        head = fh.read(200)
    return b'"data"' in head or b'"version"' in head
