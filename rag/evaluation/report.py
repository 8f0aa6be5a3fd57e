"""Evaluation output: a terminal table, report.md, results.json and a PNG chart."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rag.errors import RagError
from rag.evaluation.runner import METRICS, Row

COLUMNS = [
    ("questions", "n"), ("hit_at_k", "hit@k"), ("mrr", "MRR"), ("evidence_recall_at_k", "evid@k"),
    ("answer_accuracy", "acc"), ("exact_match", "EM"), ("f1", "F1"), ("span_rate", "span"), ("citation_precision", "citP"),
    ("citation_recall", "citR"), ("abstention_precision", "absP"), ("abstention_recall", "absR"),
    ("mean_answer_chars", "chars"), ("latency_p50_ms", "p50ms"), ("latency_p95_ms", "p95ms"),
]

#: How much of a wrong answer the report's list of misses shows.
MISS_CHARS = 200


def one_line(text: str, limit: int | None = None) -> str:
    """`text` on one line (runs of whitespace, line breaks included, become one space), cut at
    a word boundary to at most `limit` characters with an ellipsis when it is longer."""
    flat = " ".join(text.split())
    if limit is None or len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if flat[limit - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-") + "…"


def _md(text: str) -> str:
    """Text for a markdown line, its markup characters (` * _ [ ] < > \\) escaped: a question
    or an answer cannot open code, emphasis, a link or HTML in the report."""
    return re.sub(r"([`*_\\[\]<>])", r"\\\1", text)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}" if value <= 1.0 else f"{value:.1f}"


def table(summary: dict[str, Any], by_type: dict[str, dict[str, Any]], markdown: bool = False) -> str:
    header = ["set"] + [label for _, label in COLUMNS]
    body = [["all"] + [_fmt(summary.get(key)) for key, _ in COLUMNS]]
    body += [[name] + [_fmt(s.get(key)) for key, _ in COLUMNS] for name, s in by_type.items()]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    fmt = lambda row: "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))  # noqa: E731
    return "\n".join([fmt(header)] + [fmt(r) for r in body])


def settings_line(settings: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in settings.items())


def compare(summary: dict[str, Any], old_path: Path) -> str:
    try:
        old = json.loads(old_path.read_text(encoding="utf-8"))["summary"]
    except (OSError, ValueError, KeyError) as exc:
        raise RagError(f"cannot compare with {old_path}: not a results.json ({exc.__class__.__name__})") from None
    lines = [f"Compared with {old_path}:"]
    for key in METRICS:
        new, before = summary.get(key), old.get(key)
        if isinstance(new, (int, float)) and isinstance(before, (int, float)):
            delta = new - before
            lines.append(f"  {key:22s} {_fmt(before):>8s} -> {_fmt(new):>8s}  ({delta:+.3f})")
    return "\n".join(lines)


def write(out: Path, settings: dict[str, Any], summary: dict[str, Any], by_type: dict[str, dict[str, Any]],
          rows: list[Row], extra_tables: dict[str, str] | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.json"
    results.write_text(json.dumps({"settings": settings, "summary": summary, "by_type": by_type,
                                   "rows": [asdict(r) for r in rows]}, ensure_ascii=False, indent=1),
                       encoding="utf-8")
    wrong = [r for r in rows if (r.answerable and not r.correct) or (not r.answerable and not r.abstained)]
    md = [
        "# Evaluation report", "",
        f"Settings: {settings_line(settings)}", "",
        table(summary, by_type, markdown=True), "",
    ]
    for title, text in (extra_tables or {}).items():
        md += [f"## {title}", "", text, ""]
    md += [
        "Columns: hit@k = an accepted answer in the top-k passages; evid@k = evidence quotes found in them;",
        "acc = an accepted answer contained in a non-abstaining answer; EM/F1 = of the short answer (the answer",
        "span when there is one, else the whole answer); span = share of answers that lead with a span;",
        "citP/citR = citation precision/recall;",
        "absP/absR = abstention precision/recall (unanswerable questions).", "",
        f"## Misses ({len(wrong)})", "",
    ]
    md += [_miss(r) for r in wrong[:200]]
    report = out / "report.md"
    report.write_text("\n".join(md) + "\n", encoding="utf-8")
    chart = out / "chart.png"
    _chart(chart, summary, by_type, settings)
    return [report, results, chart]


def _miss(r: Row) -> str:
    """One markdown list item for a question the assistant got wrong, on one line."""
    expected = "(should abstain)" if not r.answerable else " / ".join(one_line(a) for a in r.accepted)
    got = "(abstained)" if r.abstained else one_line(r.answer, MISS_CHARS)
    return (f"- `{one_line(r.id).replace('`', '')}` [{_md(one_line(r.type))}] {_md(one_line(r.question))}"
            f" — expected {_md(expected)}; got: {_md(got)}")


def _chart(path: Path, summary: dict[str, Any], by_type: dict[str, dict[str, Any]], settings: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ["hit_at_k", "evidence_recall_at_k", "answer_accuracy", "citation_precision", "citation_recall",
            "abstention_recall"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    values = [summary.get(k) or 0.0 for k in keys]
    left.barh(keys, values, color="#3b6ea5")
    left.set_xlim(0, 1)
    left.set_title("Overall")
    for y, v in enumerate(values):
        left.text(min(v + 0.01, 0.9), y, f"{v:.2f}", va="center")
    # Answer accuracy only: abstention recall (of the unanswerable questions) is in the overall panel.
    types = [t for t, s in by_type.items() if s.get("answer_accuracy") is not None]
    acc = [by_type[t]["answer_accuracy"] for t in types]
    right.barh(types, acc, color="#6a9f58")
    right.set_xlim(0, 1)
    right.set_title("Answer accuracy by question type (answerable questions)")
    if not types:
        right.text(0.5, 0.5, "no answerable questions", ha="center", va="center")
    fig.suptitle(settings_line({k: settings[k] for k in ("dataset", "embedder", "mode", "generator") if k in settings}),
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
