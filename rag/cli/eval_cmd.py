"""`rag eval`: score the assistant on the seed question set or a SQuAD v2 file."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from rag.cli.common import (
    add_reader_flag,
    reader_spec,
    add_embedder_flag,
    add_json_flag,
    embedder_spec,
    index_path,
    llm_spec,
    print_json,
)
from rag.config import DEFAULT_SEEDS_DIR
from rag.errors import RagError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "eval",
        help="score answers, citations and abstention on a question set",
        description=(
            "Run a question set through the real pipeline and report retrieval (hit@k, MRR, evidence "
            "recall), answers (accuracy, EM, F1), citations (precision, recall), abstention and latency, "
            "by question type. The seed set (eval/seed_questions.jsonl) is run on a fresh temporary index "
            "of the files it cites (or on --index with --use-index); a SQuAD v2 JSON file gets a temporary "
            "index of its articles, one document each."
        ),
        epilog="examples:\n  rag eval\n  rag eval --out report/ --fail-under answer_accuracy=0.95\n"
        "  rag eval --dataset eval/squad2-dev-5articles.json --out squad/\n"
        "  rag eval --compare report/results.json\n  rag eval --claims-only   # the claim check on eval/claims.jsonl",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--dataset", type=Path, default=None, help="JSONL question set or SQuAD v2 JSON (default: eval/seed_questions.jsonl)")
    p.add_argument("--out", type=Path, default=None, help="write report.md, results.json and chart.png here")
    p.add_argument("--compare", type=Path, default=None, help="an earlier results.json to show deltas against")
    p.add_argument("--fail-under", action="append", default=[], metavar="METRIC=VALUE",
                   help="exit 1 if METRIC is below VALUE (repeatable), e.g. answer_accuracy=0.95")
    p.add_argument("--use-index", action="store_true", help="evaluate the existing index instead of a fresh one")
    p.add_argument("--corpus", type=Path, default=None, metavar="DIR",
                   help="index this folder for a JSONL set instead of the files it cites"
                   " (eval/news_questions.jsonl: --corpus eval/news_corpus)")
    p.add_argument("--limit", type=int, default=None, help="only the first N questions")
    p.add_argument("--k", type=int, default=5, help="passages per question (default 5)")
    p.add_argument("--mode", choices=("hybrid", "lexical", "dense"), default="hybrid")
    p.add_argument("--llm", metavar="SPEC", default=None, help="evaluate LLM answers (see rag ask --llm)")
    p.add_argument("--claims", type=Path, default=None, metavar="FILE",
                   help="labelled model replies for the claim check (default eval/claims.jsonl, reported with"
                   " every run when present)")
    p.add_argument("--claims-only", action="store_true",
                   help="report only the claim check: how many false replies it rejects, true ones it keeps")
    add_embedder_flag(p)
    add_reader_flag(p)
    add_json_flag(p)
    p.set_defaults(handler=run)


def _thresholds(specs: list[str]) -> dict[str, float]:
    from rag.evaluation.runner import METRICS  # deferred: heavy, not needed for --help

    out = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or name not in METRICS:
            raise RagError(f"--fail-under wants METRIC=VALUE with METRIC one of: {', '.join(METRICS)}")
        try:
            out[name] = float(value)
        except ValueError:
            raise RagError(f"--fail-under {spec}: '{value}' is not a number") from None
    return out


def _claim_figures(args: argparse.Namespace) -> tuple[Path, dict[str, object]] | None:
    """The claim check scored on its labelled replies, or None when there are none to score."""
    from rag.evaluation.claims import DEFAULT_CLAIMS, load_claims, score_claims  # deferred: not for --help

    path = args.claims or DEFAULT_CLAIMS
    if not path.exists():
        if args.claims is not None or args.claims_only:
            raise RagError(f"no claim set at {path}")
        return None
    return path, score_claims(load_claims(path))


def _print_claims(figures: tuple[Path, dict[str, object]] | None, args: argparse.Namespace) -> None:
    from rag.evaluation.claims import claims_lines  # deferred: not for --help

    if figures is not None and not args.json:
        print("\n".join(claims_lines(figures[1], figures[0])))


def run(args: argparse.Namespace) -> int:
    if args.claims_only:
        figures = _claim_figures(args)
        assert figures is not None
        if args.json:
            print_json({"claims": {"dataset": str(figures[0]), **figures[1]}})
        else:
            _print_claims(figures, args)
        return 0
    from rag.answer.assistant import Assistant  # deferred: heavy, not needed for --help
    from rag.evaluation import report  # deferred: heavy, not needed for --help
    from rag.evaluation.dataset import (  # deferred: heavy, not needed for --help
        DEFAULT_DATASET,
        EvalQuestion,
        is_squad,
        load_jsonl,
    )
    from rag.evaluation.runner import (
        run as run_questions,  # deferred: heavy, not needed for --help
    )
    from rag.evaluation.runner import (  # deferred: heavy, not needed for --help
        summarise,
        summarise_by_type,
    )
    from rag.evaluation.squad import (  # deferred: heavy, not needed for --help
        load_squad,
        write_corpus,
    )
    from rag.ingest.pipeline import ingest  # deferred: heavy, not needed for --help

    thresholds = _thresholds(args.fail_under)
    dataset = args.dataset or DEFAULT_DATASET
    if not dataset.exists():
        raise RagError(f"no question set at {dataset}")
    with tempfile.TemporaryDirectory(prefix="rag-eval-") as tmp:
        workdir = Path(tmp)
        progress = not args.json
        if is_squad(dataset):
            documents, squad = load_squad(dataset)
            questions = [EvalQuestion(q.id, q.question, q.answers, q.answerable,
                                      "answerable" if q.answerable else "unanswerable") for q in squad]
            corpus = write_corpus(documents, workdir / "corpus")
            directory = workdir / "index"
            ingest([workdir / "corpus"], directory, embedder_spec=embedder_spec(args), progress=progress)
            del corpus
        else:
            questions = load_jsonl(dataset)
            if args.use_index:
                directory = index_path(args)
            elif args.corpus is not None:
                if not args.corpus.is_dir():
                    raise RagError(f"--corpus {args.corpus} is not a folder")
                directory = workdir / "index"
                ingest([args.corpus], directory, embedder_spec=embedder_spec(args), progress=progress,
                       warn=lambda m: print(f"Warning: {m}", file=sys.stderr))
            else:
                sources = sorted({Path(s) for q in questions for s in q.sources}) or [DEFAULT_SEEDS_DIR]
                missing = [str(s) for s in sources if not s.exists()]
                if missing:
                    raise RagError(f"the question set cites files that are not here: {', '.join(missing[:3])}")
                directory = workdir / "index"
                ingest(sources, directory, embedder_spec=embedder_spec(args), progress=progress,
                       warn=lambda m: print(f"Warning: {m}", file=sys.stderr))
        if args.limit:
            questions = questions[: args.limit]
        assistant = Assistant(directory, mode=args.mode, k=args.k, embedder_spec=embedder_spec(args), llm=llm_spec(args),
                              span_reader=reader_spec(args))
        try:
            rows = run_questions(assistant, questions, args.k, progress=progress)
            settings = {
                "dataset": str(dataset),
                "embedder": assistant.embedder_id,
                "mode": args.mode,
                "generator": assistant.generator_name,
                "reader": assistant.reader_info,
                "k": args.k,
                "chunks": assistant.store.n_chunks,
                "support_threshold": assistant.support_threshold,
            }
        finally:
            assistant.close()
    summary = summarise(rows)
    by_type = summarise_by_type(rows)
    claims = _claim_figures(args)
    if args.json:
        extra = {"claims": {"dataset": str(claims[0]), **claims[1]}} if claims else {}
        print_json({"settings": settings, "summary": summary, "by_type": by_type, **extra})
    else:
        print(report.settings_line(settings))
        print(report.table(summary, by_type))
        _print_claims(claims, args)
    if args.compare:
        print(report.compare(summary, args.compare), file=sys.stderr if args.json else sys.stdout)
    if args.out:
        written = report.write(args.out, settings, summary, by_type, rows)
        if claims is not None:  # beside the report: the claim check's figures and the cases it gets wrong
            import json

            (args.out / "claims.json").write_text(json.dumps({"dataset": str(claims[0]), **claims[1]}, indent=2) + "\n")
            written = [*written, args.out / "claims.json"]
        if not args.json:
            print("Wrote " + ", ".join(str(p) for p in written))
    failed = [f"{name} {summary.get(name)} < {value}" for name, value in thresholds.items()
              if summary.get(name) is None or summary[name] < value]
    if failed:
        print("Error: below threshold: " + "; ".join(failed), file=sys.stderr)
        return 1
    return 0
