"""Calibrate the abstention threshold on the seed evaluation set.

Answers every question once with abstention by threshold switched off (support is still
computed; rule-based abstentions stay), then sweeps the threshold: a question is answered when
its support reaches it. Prints, per threshold, answer accuracy on answerable questions and
abstention on unanswerable ones, and the threshold that maximises their sum (when a range of
thresholds ties, its middle: the choice furthest from either edge). rag/extractive.py's
SUPPORT_THRESHOLD takes that value.

    .venv/bin/python bench/calibrate.py [eval/seed_questions.jsonl]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from rag.answer.assistant import Assistant
from rag.evaluation.dataset import load_jsonl
from rag.evaluation.metrics import contains_answer
from rag.ingest.pipeline import ingest


def main() -> None:
    dataset = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("eval/seed_questions.jsonl")
    questions = load_jsonl(dataset)
    sources = sorted({Path(s) for q in questions for s in q.sources})
    with tempfile.TemporaryDirectory() as tmp:
        ingest(sources, Path(tmp) / "index", embedder_spec="offline", progress=False)
        assistant = Assistant(Path(tmp) / "index", support_threshold=0.0)
        outcomes = []
        for q in questions:
            answer = assistant.ask(q.question)
            correct = contains_answer(answer.answer, q.answers) if q.answerable else False
            outcomes.append((q.answerable, answer.support or 0.0, not answer.abstained, correct))
        assistant.close()
    n_ans = sum(1 for o in outcomes if o[0])
    n_un = len(outcomes) - n_ans
    print("| threshold | answer accuracy | abstention (unanswerable) | sum |")
    print("|---|---|---|---|")
    sums: list[tuple[float, float]] = []
    for step in range(0, 101, 5):
        t = step / 100
        acc = sum(1 for a, s, ok, c in outcomes if a and ok and s >= t and c) / n_ans
        abst = sum(1 for a, s, ok, c in outcomes if not a and (not ok or s < t)) / n_un
        print(f"| {t:.2f} | {acc:.3f} | {abst:.3f} | {acc + abst:.3f} |")
        sums.append((t, acc + abst))
    top = max(total for _, total in sums)
    plateau = [t for t, total in sums if total > top - 1e-9]
    print(f"\nbest sum {top:.3f} for thresholds {plateau[0]:.2f}-{plateau[-1]:.2f};"
          f" chosen: {(plateau[0] + plateau[-1]) / 2:.2f}")


if __name__ == "__main__":
    main()
