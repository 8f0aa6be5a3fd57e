"""Reader variants side by side on the held-out training articles, at equal answered rates.

Each variant is a reader (a directory in the shipped layout, or "default") optionally with how
many of the top passages it reads, e.g.

    python bench/reader_variants.py default default:read=2 /tmp/other-reader

For each it answers every question of the held-out articles (train_reader.HOLDOUT, never the
benchmark) through the open-corpus pipeline with no threshold, then reports EM / F1 / containment
and abstention at the thresholds where it answers 0.95, 0.90 and 0.85 of answerable questions, so
readers with different score scales are compared at the same operating points.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reader_open_corpus import HEADER, figures, fmt, holdout_dataset, run, threshold_at  # noqa: E402

from rag.evaluation.squad import load_squad, write_corpus  # noqa: E402
from rag.ingest.pipeline import ingest  # noqa: E402

RATES = (0.95, 0.90, 0.85)


def parse_variant(variant: str) -> tuple[str, int | None]:
    """"DIR[:read=N]" -> (DIR, N or None for the assistant's default)."""
    reader, _, option = variant.partition(":read=")
    return reader, int(option) if option else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs="+", help="READER[:read=N]")
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        documents, questions = load_squad(holdout_dataset(tmp_path))
        ingest(write_corpus(documents, tmp_path / "corpus"), tmp_path / "index", progress=False)
        print(f"held-out articles: {len(documents)}, questions: {len(questions)}")
        print(HEADER)
        for variant in args.variants:
            reader, read = parse_variant(variant)
            t = time.perf_counter()
            outcomes = run(tmp_path / "index", questions, reader, k=args.k, force=True, read=read)
            for rate in RATES:
                print(fmt(f"{variant} at {rate:.2f} answered", figures(outcomes, threshold_at(outcomes, rate))),
                      flush=True)
            print(f"<!-- {variant}: {time.perf_counter() - t:.0f} s -->", flush=True)


if __name__ == "__main__":
    main()
