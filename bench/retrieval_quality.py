"""Retrieval on the SQuAD subset: lexical (BM25) vs dense vs hybrid, per embedder.

Ingests the five articles with the project's own pipeline for each embedder spec and asks
every answerable question. Prints recall@1/3/5 and whether a gold answer lies within the
first 1,000 / 3,000 characters of the ranked passages.

    .venv/bin/python bench/retrieval_quality.py [SQUAD_JSON] [--embedders offline,offline:512]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from rag.evaluation.metrics import first_hit_rank, within_budget
from rag.evaluation.squad import load_squad, write_corpus
from rag.store.embedded import EmbeddedStore as Index
from rag.ingest.pipeline import ingest
from rag.retrieve.hybrid import Retriever

DEFAULT = Path(__file__).resolve().parents[1] / "eval" / "squad2-dev-5articles.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--embedders", default="offline")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()
    documents, questions = load_squad(args.dataset)
    answerable = [q for q in questions if q.answerable]
    print(f"{len(answerable)} answerable questions over {len(documents)} articles")
    print("| embedder | mode | recall@1 | recall@3 | recall@5 | within 1,000 | within 3,000 | ms/query |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        write_corpus(documents, Path(tmp) / "corpus")
        for spec in args.embedders.split(","):
            directory = Path(tmp) / f"index-{spec.replace(':', '-').replace('/', '-')}"
            ingest([Path(tmp) / "corpus"], directory, embedder_spec=spec, progress=False)
            index = Index.open(directory)
            for mode in ("lexical", "dense", "hybrid"):
                retriever = Retriever(index, mode)
                r1 = r3 = r5 = b1 = b3 = 0
                started = time.perf_counter()
                for q in answerable:
                    texts = [p.text for p in retriever.search(q.question, args.k).passages]
                    rank = first_hit_rank(texts, q.answers)
                    r1 += rank == 1
                    r3 += rank is not None and rank <= 3
                    r5 += rank is not None and rank <= 5
                    b1 += within_budget(texts, q.answers, 1000)
                    b3 += within_budget(texts, q.answers, 3000)
                ms = (time.perf_counter() - started) * 1000 / len(answerable)
                n = len(answerable)
                print(f"| {index.manifest.embedder_id} | {mode} | {r1/n:.3f} | {r3/n:.3f} | {r5/n:.3f} |"
                      f" {b1/n:.3f} | {b3/n:.3f} | {ms:.1f} |")
            index.close()


if __name__ == "__main__":
    main()
