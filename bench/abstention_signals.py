"""How well can what the bi-encoder knows tell an answerable question from an unanswerable one?

For every question of the SQuAD 2.0 subset and of the seed set, the extractive answerer picks
its sentence as shipped (every lexical rule; no cosine in the choice) and this script records
the features `best_extract` reports plus signals built from all-MiniLM-L6-v2:

- `q_cos`: cosine of the question with the chosen sentence (each encoded on its own);
- `abl_max` / `abl_sum`: concept absence by ablation. For each question word whose stem the
  sentence lacks, the question is encoded without it; if the cosine with the sentence *rises*
  (the sentence does not hold that idea, not even in other words) the difference counts.
  `abl_max` is the largest rise, `abl_sum` the sum of the rises;
- `span_cov`, `max_missing`: the weighted share of the question's terms in the sentence itself,
  and the largest share of one term it lacks.

It prints each signal's ROC AUC (answerable vs unanswerable; 0.5 is chance) on SQuAD and on
the seed set, then the abstention classifier of bench/fit_reader.py held out by article on
SQuAD (threshold: answer >= ANSWERED of the training articles' answerable questions) with and
without the new signals, and the same classifier fitted on all of SQuAD applied to the seed
set (never fitted on it).

    .venv/bin/python bench/abstention_signals.py [--answered 0.95]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fit_reader  # noqa: E402
from rag.answer.assistant import Assistant  # noqa: E402
from rag.answer.extractive import RULES, Extract  # noqa: E402
from rag.answer.language.references import meant_terms  # noqa: E402
from rag.evaluation.dataset import load_jsonl  # noqa: E402
from rag.evaluation.squad import load_squad, write_corpus  # noqa: E402
from rag.ingest.pipeline import ingest  # noqa: E402
from rag.text.terms import content_terms, stem, term_weights  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
WORD = re.compile(r"[\w'’-]+")
NEW = ("q_cos", "abl_max", "abl_sum", "span_cov", "max_missing")
BASE = fit_reader.SOFT_FEATURES + fit_reader.ABSTAIN_RULES


def signals(assistant: Assistant, question: str, best: Extract, frequencies) -> dict[str, float]:  # type: ignore[no-untyped-def]
    q_terms = content_terms(question)
    weights = term_weights(q_terms, frequencies(q_terms), assistant.store.n_chunks)
    total = sum(weights.values()) or 1.0
    held = meant_terms(best.text, best.start, best.end)
    missing = [t for t in weights if t not in held]
    embedder = assistant.retriever.embedder
    assert embedder is not None
    q_vec = embedder.encode_query(question)
    s_vec = embedder.encode_documents([best.text[best.start : best.end]])[0]
    base = float(q_vec @ s_vec)
    rises = [0.0]
    if missing:
        variants = [" ".join(m.group() for m in WORD.finditer(question) if stem(m.group().lower()) != t) for t in missing]
        rises = [max(0.0, float(v @ s_vec) - base) for v in embedder.encode_documents(variants)]
    return {"q_cos": base, "abl_max": max(rises), "abl_sum": sum(rises),
            "span_cov": 1 - sum(weights[t] for t in missing) / total,
            "max_missing": max((weights[t] for t in missing), default=0.0) / total}


def collect(index: Path, questions: list[tuple[str, list[str], bool, str]], k: int) -> list[tuple]:  # type: ignore[type-arg]
    """(answerable, article, features or None, answer holds gold) per question."""
    assistant = Assistant(index, k=k, reader=None)
    frequencies = assistant.store.memoised_frequencies()
    cases = []
    for question, answers, answerable, article in questions:
        r = assistant.retriever.search(question, k, frequencies)
        cases.append(fit_reader.Case(question, answers, answerable, article, r.passages, r.query_vector))
    results = fit_reader.outcomes(assistant, cases, 0.0, RULES)
    rows = []
    for case, (features, contained, *_rest) in zip(cases, results):
        assistant._extractive(case.question, case.passages, frequencies, case.vector)
        best = assistant.last_extract
        if features is not None and best is not None:
            features = {**features, **signals(assistant, case.question, best, frequencies)}
        rows.append((case.answerable, case.article, features, contained))
    assistant.close()
    return rows


def matrix(rows: list[tuple], names: tuple[str, ...]) -> np.ndarray:  # type: ignore[type-arg]
    return np.array([[(r[2] or {}).get(n, 0.0) for n in names] for r in rows], dtype=float)


def main() -> None:
    from sklearn.metrics import roc_auc_score

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answered", type=float, default=0.95)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        documents, squad_questions = load_squad(REPO / "eval" / "squad2-dev-5articles.json")
        write_corpus(documents, Path(tmp) / "squad")
        ingest([Path(tmp) / "squad"], Path(tmp) / "squad-index", progress=False)
        squad = collect(Path(tmp) / "squad-index",
                        [(q.question, q.answers, q.answerable, q.title) for q in squad_questions], 10)
        seed_questions = load_jsonl(REPO / "eval" / "seed_questions.jsonl")
        ingest(sorted({Path(s) for q in seed_questions for s in q.sources}), Path(tmp) / "seed-index",
               progress=False, warn=lambda m: None)
        seed = collect(Path(tmp) / "seed-index",
                       [(q.question, q.answers, q.answerable, "seed") for q in seed_questions], 5)

    print("| signal | AUC on SQuAD (1,407) | AUC on the seed set (89) |\n|---|---|---|")
    for name in ("coverage", "cosine", "score") + NEW:
        cells = []
        for rows in (squad, seed):
            has = np.array([r[2] is not None for r in rows])
            y = np.array([r[0] for r in rows], dtype=int)[has]
            cells.append(f"{roc_auc_score(y, matrix(rows, (name,))[has, 0]):.3f}")
        print(f"| {name} | {cells[0]} | {cells[1]} |")

    y = np.array([r[0] for r in squad], dtype=int)
    articles = np.array([r[1] for r in squad])
    has = np.array([r[2] is not None for r in squad])
    contained = np.array([r[3] for r in squad], dtype=bool)
    ys = np.array([r[0] for r in seed], dtype=int)
    hs = np.array([r[2] is not None for r in seed])
    cs = np.array([r[3] for r in seed], dtype=bool)
    print(f"\nAbstention classifier (threshold: answers >= {args.answered} of the training articles' answerable"
          " questions); SQuAD held out by article; seed set: fitted on all of SQuAD\n")
    print("| features | SQuAD answered | SQuAD abstained | SQuAD answer contains gold | seed accuracy |"
          " seed abstention |\n|---|---|---|---|---|---|")
    for label, names in (("the reader's", BASE), ("the reader's + the new signals", BASE + NEW)):
        x, xs = matrix(squad, names), matrix(seed, names)
        answer = np.zeros(len(y), dtype=bool)
        for article in sorted(set(articles)):
            train, test = (articles != article) & has, (articles == article) & has
            fitted = fit_reader.fit_classifier(x[train], y[train], args.answered)
            answer[test] = fit_reader.probability(x[test], fitted) >= fitted[4]
        fitted = fit_reader.fit_classifier(x[has], y[has], args.answered)
        seed_answer = hs & (fit_reader.probability(xs, fitted) >= fitted[4])
        print(f"| {label} | {answer[y == 1].mean():.3f} | {(~answer[y == 0]).mean():.3f} |"
              f" {(answer & contained)[y == 1].mean():.3f} | {(seed_answer & cs)[ys == 1].mean():.3f} |"
              f" {(~seed_answer[ys == 0]).mean():.3f} |")


if __name__ == "__main__":
    main()
