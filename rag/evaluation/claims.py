"""How well the claim check (rag.answer.claims) tells a model's true sentences from its false
ones, on the labelled replies of eval/claims.jsonl.

Two figures matter to a user: of the false replies, the share rejected (a false claim shown
as checked is the failure that costs trust; target >= 95%), and of the true replies, the share
kept (a true answer thrown away costs fluency, since the extractive answer is shown instead;
target >= 90%). A reply counts as accepted when every sentence of it is supported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.answer.claims import ClaimChecker, Verifier
from rag.errors import RagError

DEFAULT_CLAIMS = Path("eval/claims.jsonl")
KINDS = ("correct", "wrong_subject", "swapped_figure", "other_place", "negation", "unsupported_addition")


@dataclass(frozen=True)
class ClaimCase:
    """One labelled reply: the question, the numbered passages, the model's reply, and whether
    the passages support it ("supported"/"unsupported") and how it is wrong (`kind`)."""

    id: str
    kind: str
    supported: bool
    question: str
    reply: str
    passages: tuple[str, ...]
    format: str = ""


def load_claims(path: Path) -> list[ClaimCase]:
    """The cases of a claims JSONL file; a malformed line is a one-line error naming it."""
    cases = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RagError(f"cannot read {path}: {exc.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            verdict = row["verdict"]
            assert verdict in ("supported", "unsupported") and row["kind"] in KINDS
            cases.append(ClaimCase(str(row["id"]), row["kind"], verdict == "supported", str(row["question"]),
                                   str(row["reply"]), tuple(str(p) for p in row["passages"]), str(row.get("format", ""))))
        except (json.JSONDecodeError, KeyError, TypeError, AssertionError):
            raise RagError(f"{path}:{number} is not a claim case (id, kind, verdict, question, reply, passages)") from None
    return cases


def accepted(case: ClaimCase, verifier: Verifier | None = None) -> bool:
    """Does the check accept the whole reply (every sentence supported)?"""
    verdicts = ClaimChecker(case.passages, case.question, verifier).check_reply(case.reply)
    return bool(verdicts) and all(v.supported for v in verdicts)


def score_claims(cases: Sequence[ClaimCase], verifier: Verifier | None = None) -> dict[str, Any]:
    """The two figures, per kind and per citation format, and the ids the check gets wrong."""
    by_kind: dict[str, list[int]] = {}
    by_format: dict[str, list[int]] = {}
    wrong: list[str] = []
    for case in cases:
        right = accepted(case, verifier) == case.supported
        for table, name in ((by_kind, case.kind), (by_format, case.format or "?")):
            table.setdefault(name, [0, 0])
            table[name][0] += int(right)
            table[name][1] += 1
        if not right:
            wrong.append(case.id)
    false_cases = [c for c in cases if not c.supported]
    true_cases = [c for c in cases if c.supported]
    rejected = sum(by_kind[k][0] for k in by_kind if k != "correct")
    kept = by_kind.get("correct", [0, 0])[0]
    return {
        "cases": len(cases),
        "false_cases": len(false_cases),
        "false_rejected": rejected,
        "false_rejected_rate": round(rejected / len(false_cases), 4) if false_cases else None,
        "true_cases": len(true_cases),
        "true_kept": kept,
        "true_kept_rate": round(kept / len(true_cases), 4) if true_cases else None,
        "by_kind": {k: {"right": r, "cases": n} for k, (r, n) in sorted(by_kind.items())},
        "by_format": {k: {"right": r, "cases": n} for k, (r, n) in sorted(by_format.items())},
        "wrong": wrong,
    }


def claims_lines(summary: dict[str, Any], path: Path | str) -> list[str]:
    """The claim-check figures as the eval report prints them."""
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}%"

    lines = [
        f"Claim check ({path}, {summary['cases']} replies): false claims rejected"
        f" {summary['false_rejected']}/{summary['false_cases']} = {pct(summary['false_rejected_rate'])} (target 95%),"
        f" correct claims kept {summary['true_kept']}/{summary['true_cases']} = {pct(summary['true_kept_rate'])}"
        " (target 90%)",
        "  by kind: " + ", ".join(f"{k} {v['right']}/{v['cases']}" for k, v in summary["by_kind"].items()),
    ]
    return lines
