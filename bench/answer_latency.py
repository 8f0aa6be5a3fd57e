"""Per-question latency of `Assistant.ask` on the seed set, cold and warm, per embedder.

Each seed question is asked twice in one process: the first pass pays for sentence vectors
not yet cached (and the model's first calls), the second is the steady state of a running
assistant. Prints p50 / p95 of each pass and the share of the time spent per stage.

    python bench/answer_latency.py [--embedder SPEC ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.answer.assistant import Assistant  # noqa: E402
from rag.evaluation.dataset import load_jsonl  # noqa: E402
from rag.evaluation.metrics import percentile  # noqa: E402
from rag.ingest.pipeline import ingest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", type=Path, default=Path("eval/seed_questions.jsonl"))
    parser.add_argument("--embedder", action="append", default=None)
    args = parser.parse_args()
    embedders = args.embedder or ["offline"]
    questions = load_jsonl(args.dataset)
    sources = sorted({Path(s) for q in questions for s in q.sources})
    print("| embedder | pass | p50 ms | p95 ms | embed | search | rerank | answer |\n|---|---|---|---|---|---|---|---|")
    for spec in embedders:
        with tempfile.TemporaryDirectory() as tmp:
            ingest(sources, Path(tmp) / "index", embedder_spec=spec, progress=False)
            t = time.perf_counter()
            assistant = Assistant(Path(tmp) / "index")
            assistant.ask("warm up the model")
            opened = time.perf_counter() - t
            for name in ("first", "second"):
                totals, stages = [], {"embed": 0.0, "search": 0.0, "rerank": 0.0, "answer": 0.0}
                for q in questions:
                    answer = assistant.ask(q.question)
                    totals.append(answer.timings_ms["total"])
                    for k in stages:
                        stages[k] += answer.timings_ms.get(k, 0.0)
                label = spec if "/" not in spec else "st:" + Path(spec.split(":", 1)[1]).name
                print(f"| {label} | {name} | {percentile(totals, 0.5):.1f} | {percentile(totals, 0.95):.1f} | "
                      + " | ".join(f"{v / len(questions):.1f}" for v in stages.values()) + " |")
            print(f"(opening the assistant and a first question: {opened:.1f} s)")
            assistant.close()


if __name__ == "__main__":
    main()
