"""The reader through the open-corpus pipeline: ingest SQuAD articles as files, ask every question.

Calibration (on articles held out from the training files, never the benchmark):

    python bench/reader_open_corpus.py --calibrate            # sweeps thresholds, writes reader.json's

Scoring (the five-article benchmark, the threshold as shipped; nothing is fitted):

    python bench/reader_open_corpus.py --dataset eval/squad2-dev-5articles.json --readers default,off

For each reader it prints short-answer EM/F1 on answerable questions (an abstention scores 0),
the answer's containment of a gold answer, the share of answerable questions answered, the share
of unanswerable questions abstained on, and ms per question. With --calibrate it also prints the
sweep and whether also abstaining when the hand-written rules would (the rules veto) helps.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from rag.answer.assistant import Assistant  # noqa: E402
from rag.answer.span_reader import SHIPPED_DIR, load_reader  # noqa: E402
from rag.evaluation.metrics import contains_answer, exact_match, token_f1  # noqa: E402
from rag.evaluation.squad import SquadQuestion, load_squad, write_corpus  # noqa: E402
from rag.ingest.pipeline import ingest  # noqa: E402


@dataclass
class Outcome:
    question: SquadQuestion
    confidence: float
    short: str
    answer: str
    answered: bool
    ms: float


def holdout_dataset(tmp: Path) -> Path:
    """The held-out training articles (train_reader.HOLDOUT) as one SQuAD file."""
    import train_reader as tr

    data = []
    for name in tr.TRAIN_FILES:
        data += [a for a in json.loads((tr.SHARED / name).read_text())["data"] if a["title"] in tr.HOLDOUT]
    path = tmp / "holdout.json"
    path.write_text(json.dumps({"version": "holdout", "data": data}))
    return path


def run(index: Path, questions: list[SquadQuestion], reader: str, *, k: int, force: bool, veto: object = None,
        read: int | None = None) -> list[Outcome]:
    span_reader = load_reader(reader)
    if span_reader is not None and force:
        span_reader = copy.copy(span_reader)  # the loaded reader is shared within the process
        span_reader.threshold = -1e9  # every question answered; thresholds applied afterwards
    assistant = Assistant(index, k=k, span_reader=span_reader if span_reader is not None else "off", rules_veto=veto,
                          read_passages=read)
    out = []
    try:
        for q in questions:
            t = time.perf_counter()
            a = assistant.ask(q.question)
            ms = (time.perf_counter() - t) * 1000
            out.append(Outcome(q, a.support if a.support is not None else 0.0, a.short_answer if not a.abstained else "",
                               a.plain_text, not a.abstained, ms))
    finally:
        assistant.close()
    return out


def figures(outcomes: list[Outcome], threshold: float | None = None) -> dict[str, float]:
    def answered(o: Outcome) -> bool:
        return o.answered and (threshold is None or o.confidence >= threshold)

    ans = [o for o in outcomes if o.question.answerable]
    una = [o for o in outcomes if not o.question.answerable]
    n = max(len(ans), 1)
    return {
        "em": sum(exact_match(o.short, o.question.answers) for o in ans if answered(o)) / n,
        "f1": sum(token_f1(o.short, o.question.answers) for o in ans if answered(o)) / n,
        "contains": sum(contains_answer(o.answer, o.question.answers) for o in ans if answered(o)) / n,
        "answered": sum(answered(o) for o in ans) / n,
        "abstained_unanswerable": sum(not answered(o) for o in una) / max(len(una), 1),
        "ms_p50": sorted(o.ms for o in outcomes)[len(outcomes) // 2],
    }


def fmt(name: str, f: dict[str, float]) -> str:
    return (f"| {name} | {f['em']:.3f} | {f['f1']:.3f} | {f['contains']:.3f} | {f['answered']:.3f} |"
            f" {f['abstained_unanswerable']:.3f} | {f['ms_p50']:.1f} |")


HEADER = ("| reader | EM (answerable) | F1 (answerable) | contains gold | answered | abstained (unanswerable) | ms p50 |\n"
          "|---|---|---|---|---|---|---|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=None)
    parser.add_argument("--calibrate", action="store_true", help="on the held-out training articles; writes the threshold")
    parser.add_argument("--readers", default="default,off")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--curve", action="store_true", help="with --dataset: the first reader at other answered rates (a report)")
    parser.add_argument("--variants", action="store_true", help="with --calibrate: also the rule vetoes and reading all k")
    parser.add_argument("--no-write", action="store_true", help="with --calibrate: print, do not write the threshold")
    parser.add_argument("--limit", type=int, default=0, help="ask only this many questions (a quick check)")
    parser.add_argument("--target-answered", type=float, default=0.85)
    parser.add_argument("--reader-dir", type=Path, default=SHIPPED_DIR, help="the reader --calibrate sets (default: the shipped one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        dataset = holdout_dataset(tmp_path) if args.calibrate else args.dataset
        if dataset is None:
            parser.error("give --dataset or --calibrate")
        documents, questions = load_squad(dataset)
        if args.limit:
            questions = questions[:: max(1, len(questions) // args.limit)][: args.limit]
        paths = write_corpus(documents, tmp_path / "corpus")
        index = tmp_path / "index"
        t = time.perf_counter()
        ingest(paths, index, progress=False)
        print(f"{dataset.name}: {len(documents)} articles, {len(questions)} questions; ingest {time.perf_counter() - t:.0f} s")
        if args.calibrate:
            calibrate(index, questions, args)
            return
        print(HEADER)
        for reader in args.readers.split(","):
            print(fmt(reader, figures(run(index, questions, reader, k=args.k, force=False))), flush=True)
        if args.curve:
            curve(index, questions, args)


def threshold_at(outcomes: list[Outcome], rate: float) -> float:
    """The confidence at which a reader run with no threshold answers `rate` of answerable questions.
    Questions it did not answer whatever the threshold (a rule vetoed them, nothing was read) are
    counted in the share but never reached: where they leave fewer than `rate`, the lowest
    confidence answered, so that every question that can be answered is."""
    answerable = sum(o.question.answerable for o in outcomes)
    reached = sorted((o.confidence for o in outcomes if o.question.answerable and o.answered), reverse=True)
    return reached[min(len(reached), int(rate * answerable)) - 1]


def curve(index: Path, questions: list[SquadQuestion], args: argparse.Namespace) -> None:
    """The first of --readers at other answered rates (a report: the shipped threshold is not chosen here)."""
    reader = args.readers.split(",")[0]
    outcomes = run(index, questions, reader, k=args.k, force=True)
    for rate in (0.974, 0.95, 0.90, 0.85):
        t = threshold_at(outcomes, rate)
        print(fmt(f"{reader}, threshold {t:.2f} (answers {rate:.3f} of answerable)", figures(outcomes, t)), flush=True)


def calibrate(index: Path, questions: list[SquadQuestion], args: argparse.Namespace) -> None:
    """Pick the threshold that maximises SQuAD 2.0's overall F1 (an abstention on an unanswerable
    question scores 1) among those answering at least --target-answered of answerable questions."""
    reader = str(args.reader_dir)
    outcomes = run(index, questions, reader, k=args.k, force=True)
    variants = {}
    if args.variants:
        variants["+ veto: missing_detail"] = run(index, questions, reader, k=args.k, force=True,
                                                 veto=frozenset({"missing_detail"}))
        variants["+ veto: missing_detail, number_far, contradicts, opposed"] = run(
            index, questions, reader, k=args.k, force=True,
            veto=frozenset({"missing_detail", "number_far", "contradicts", "opposed"}))
        variants["+ veto: the whole rule-based answerer"] = run(index, questions, reader, k=args.k, force=True, veto=True)
        variants[f"reading all {args.k} passages"] = run(index, questions, reader, k=args.k, force=True, read=args.k)
    print(HEADER)
    print(fmt("rules off (today's answerer)", figures(run(index, questions, "off", k=args.k, force=False))))
    candidates = sorted({round(o.confidence, 2) for o in outcomes})
    best, best_score = None, -1.0
    for t in candidates[:: max(1, len(candidates) // 200)]:
        f = figures(outcomes, t)
        overall = (f["f1"] * sum(o.question.answerable for o in outcomes)
                   + f["abstained_unanswerable"] * sum(not o.question.answerable for o in outcomes)) / len(outcomes)
        if f["answered"] >= args.target_answered and overall > best_score:
            best, best_score = t, overall
    assert best is not None
    for t in sorted({best - 2, best - 1, best, best + 1, best + 2}):
        print(fmt(f"reader, threshold {t:.2f}", figures(outcomes, t)))
        for name, variant in variants.items():
            print(fmt(f"reader {name}, threshold {t:.2f}", figures(variant, t)))
    if args.no_write:
        print(f"best threshold {best:.2f} (not written)")
        return
    config_path = args.reader_dir / "reader.json"
    config = json.loads(config_path.read_text())
    config["threshold"] = best
    config["calibration"] = {"articles": sorted({q.title for q in questions}), "questions": len(questions),
                             "k": args.k, "at_threshold": figures(outcomes, best),
                             "rule": f"max SQuAD 2.0 overall F1 with answered >= {args.target_answered}"}
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    print(f"threshold {best:.2f} written to {config_path}")


if __name__ == "__main__":
    main()
