"""Choose the default chunk size: lexical (FTS5 BM25) retrieval on the SQuAD subset per size.

Runs the project's own cleaner, chunker and SQLite store (no embedder), so it isolates the
effect of chunking. Prints recall@1/5 and whether the answer is within the first 1,000 and
3,000 characters of the ranked context, which compares sizes fairly.

    .venv/bin/python bench/chunk_sizes.py [eval/squad2-dev-5articles.json]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from rag.store import database as store
from rag.ingest.chunking import chunk_text
from rag.ingest.cleaning import clean_news_text, normalise
from rag.evaluation.metrics import first_hit_rank, within_budget
from rag.evaluation.squad import load_squad

DEFAULT = Path(__file__).resolve().parents[1] / "eval" / "squad2-dev-5articles.json"
SETTINGS = [(300, 0), (300, 60), (500, 0), (500, 100), (500, 200), (700, 150), (1000, 0), (1000, 200)]


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    documents, questions = load_squad(path)
    answerable = [q for q in questions if q.answerable]
    lost = 0
    cleaned = {}
    for title, text in documents.items():
        c = clean_news_text(text).text
        cleaned[title] = c
        lost += sum(1 for para in normalise(text).split("\n\n") if para.strip() and para.strip() not in c)
    print(f"{len(documents)} articles, {len(answerable)} answerable questions; paragraphs lost by cleaning: {lost}")
    print("| size | overlap | chunks | recall@1 | recall@5 | within 1,000 | within 3,000 | ms/query |")
    print("|---|---|---|---|---|---|---|---|")
    for size, overlap in SETTINGS:
        with tempfile.TemporaryDirectory() as tmp:
            conn = store.connect(Path(tmp) / "s.sqlite3", create=True)
            n = 0
            with store.transaction(conn):
                for title, text in cleaned.items():
                    doc = store.insert_document(conn, source=title, title=title, outlet=None, published=None,
                                                fingerprint="", text=text)
                    rows = [(c.ordinal, c.start, c.end, c.text, "") for c in chunk_text(text, size, overlap)]
                    n += len(store.insert_chunks(conn, doc, rows))
            r1 = r5 = b1 = b3 = 0
            started = time.perf_counter()
            for q in answerable:
                ids = [cid for cid, _ in store.bm25_search(conn, q.question, 20)]
                chunks = store.get_chunks(conn, ids)
                texts = [chunks[i].text for i in ids]
                rank = first_hit_rank(texts, q.answers)
                r1 += rank == 1
                r5 += rank is not None and rank <= 5
                b1 += within_budget(texts, q.answers, 1000)
                b3 += within_budget(texts, q.answers, 3000)
            ms = (time.perf_counter() - started) * 1000 / len(answerable)
            conn.close()
        k = len(answerable)
        print(f"| {size} | {overlap} | {n} | {r1/k:.3f} | {r5/k:.3f} | {b1/k:.3f} | {b3/k:.3f} | {ms:.2f} |")


if __name__ == "__main__":
    main()
