"""Does the rule-based answerer's abstention add to the reader's, and at which answered rates?

The reader abstains when its span does not beat "no answer" by the threshold, and three
hand-written rules veto what it answers (assistant.RULES_VETO). This asks whether more of the old
answerer would help, above all at high answered rates, where the rules alone abstain on 0.305 of
the benchmark's unanswerable questions answering 0.974 of the answerable ones. Each question is
asked once with the shipped reader and no threshold (recording its confidence and which rules flag
its answer) and once with `--reader off` (recording whether the old answerer abstains); then each
policy below is scored at the thresholds where it answers the given shares of answerable questions:

- the reader's margin alone, no vetoes;
- the shipped vetoes (number_far, contradicts, opposed);
- those plus missing_detail (the question names a detail the article never mentions);
- those plus the old answerer's abstention, always or only when the reader's margin is below M.

    python bench/rules_with_reader.py                  # the held-out training articles (selection)
    python bench/rules_with_reader.py --dataset eval/squad2-dev-5articles.json   # a report, never fitted
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reader_open_corpus import Outcome, figures, holdout_dataset, threshold_at  # noqa: E402

from rag.answer.assistant import RULES_VETO, Assistant, rule_flags  # noqa: E402
from rag.answer.span_reader import load_reader  # noqa: E402
from rag.evaluation.squad import SquadQuestion, load_squad, write_corpus  # noqa: E402
from rag.ingest.pipeline import ingest  # noqa: E402

ALL_FLAGS = frozenset({"missing_detail", "number_far", "contradicts", "opposed"})
RATES = (0.974, 0.95, 0.90, 0.85)
MARGINS = (-2.0, 0.0, 2.0, 4.0)


@dataclass(frozen=True)
class Asked:
    outcome: Outcome  # the reader's, with no threshold and no vetoes
    flags: frozenset[str]
    rules_answer: bool


Policy = Callable[[Asked], bool]  # True: this question may be answered, whatever the threshold


def ask_all(index: Path, questions: list[SquadQuestion], k: int) -> list[Asked]:
    reader = copy.copy(load_reader("default"))
    assert reader is not None
    reader.threshold = float("-inf")
    with_reader = Assistant(index, k=k, span_reader=reader, rules_veto=frozenset())
    rules = Assistant(index, k=k, span_reader="off")
    out = []
    try:
        for q in questions:
            with_reader.last_read = None
            answer = with_reader.ask(q.question)
            read = with_reader.last_read
            flags = (rule_flags(q.question, read, with_reader, ALL_FLAGS, with_reader.last_shown) if read is not None
                     else frozenset())
            outcome = Outcome(q, answer.support if answer.support is not None else float("-inf"),
                              "" if answer.abstained else (answer.short_answer or ""), answer.plain_text,
                              not answer.abstained, 0.0)
            out.append(Asked(outcome, flags, not rules.ask(q.question).abstained))
    finally:
        with_reader.close()
        rules.close()
    return out


def policies() -> dict[str, Policy]:
    found: dict[str, Policy] = {
        "margin alone": lambda a: True,
        "shipped vetoes": lambda a: not a.flags & RULES_VETO,
        "shipped vetoes + missing_detail": lambda a: not a.flags & (RULES_VETO | {"missing_detail"}),
        "shipped vetoes + the old answerer's abstention": lambda a: not a.flags & RULES_VETO and a.rules_answer,
    }
    for margin in MARGINS:
        found[f"shipped vetoes + the old answerer's abstention below margin {margin:g}"] = (
            lambda a, m=margin: not a.flags & RULES_VETO and (a.rules_answer or a.outcome.confidence >= m))
    return found


def at_rate(asked: list[Asked], policy: Policy, rate: float) -> dict[str, float] | None:
    """The policy's figures at the threshold where it answers `rate` of answerable questions
    (None when its vetoes alone leave fewer answered)."""
    outcomes = [replace(a.outcome, answered=a.outcome.answered and policy(a)) for a in asked]
    threshold = threshold_at(outcomes, rate)
    found = figures(outcomes, threshold)
    answerable = sum(o.question.answerable for o in outcomes)
    if round(found["answered"] * answerable) < int(rate * answerable):
        return None
    return {"threshold": threshold, "f1": found["f1"], "contains": found["contains"],
            "abstained": found["abstained_unanswerable"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=None, help="a SQuAD v2 file (default: the held-out articles)")
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        documents, questions = load_squad(args.dataset or holdout_dataset(tmp_path))
        ingest(write_corpus(documents, tmp_path / "corpus"), tmp_path / "index", progress=False)
        asked = ask_all(tmp_path / "index", questions, args.k)
    answerable = [a for a in asked if a.outcome.question.answerable]
    unanswerable = [a for a in asked if not a.outcome.question.answerable]
    print(f"{len(documents)} articles, {len(answerable)} answerable and {len(unanswerable)} unanswerable questions")
    print(f"old answerer alone: answers {sum(a.rules_answer for a in answerable) / len(answerable):.3f} of answerable,"
          f" abstains on {sum(not a.rules_answer for a in unanswerable) / len(unanswerable):.3f} of unanswerable")
    print("| policy | " + " | ".join(f"F1 / contains / abstained at {r:.3f} answered" for r in RATES) + " |")
    print("|---|" + "---|" * len(RATES))
    for name, policy in policies().items():
        cells = []
        for rate in RATES:
            f = at_rate(asked, policy, rate)
            cells.append("–" if f is None else f"{f['f1']:.3f} / {f['contains']:.3f} / {f['abstained']:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
