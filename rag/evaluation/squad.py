"""SQuAD v2 files as an open corpus: each article one document, every question asked of all."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag.errors import RagError


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    answers: list[str]
    answerable: bool
    title: str


def load_squad(path: Path) -> tuple[dict[str, str], list[SquadQuestion]]:
    """(title -> document text, questions). Document text: title, blank line, paragraphs."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        articles = data["data"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RagError(f"{path} is not a SQuAD v2 JSON file ({exc.__class__.__name__})") from None
    documents: dict[str, str] = {}
    questions: list[SquadQuestion] = []
    for article in articles:
        title = str(article["title"]).replace("_", " ")
        paragraphs = [p["context"].strip() for p in article["paragraphs"]]
        documents[title] = title + "\n\n" + "\n\n".join(paragraphs)
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                impossible = bool(qa.get("is_impossible", False))
                answers = list(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                questions.append(SquadQuestion(qa["id"], qa["question"], answers, not impossible, title))
    return documents, questions


def write_corpus(documents: dict[str, str], directory: Path) -> list[Path]:
    """One .txt file per article, so the project's own loader and cleaner ingest them."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (title, text) in enumerate(documents.items()):
        safe = "".join(ch if ch.isalnum() else "-" for ch in title)[:60]
        path = directory / f"{i:03d}-{safe}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
