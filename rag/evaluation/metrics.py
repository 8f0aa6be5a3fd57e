"""SQuAD-style answer metrics and ranking metrics, written once for `rag eval` and bench/."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation) | {"‘", "’", "“", "”", "–", "—"}


def normalize_answer(text: str) -> str:
    """SQuAD normalisation: lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    p = normalize_answer(prediction)
    return float(any(p == normalize_answer(g) for g in golds)) if golds else float(not p)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """Best token-overlap F1 against any gold answer."""
    pred = normalize_answer(prediction).split()
    best = 0.0
    for gold in golds:
        g = normalize_answer(gold).split()
        common = Counter(pred) & Counter(g)
        overlap = sum(common.values())
        if overlap == 0:
            continue
        precision, recall = overlap / len(pred), overlap / len(g)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


_POSSESSIVE = re.compile(r"(?<=\w)['’]s\b")


def contains_answer(text: str, golds: Sequence[str]) -> bool:
    """Does `text` hold a gold answer (after SQuAD normalisation, on word boundaries)?

    A possessive does not hide an answer: "Ofsted's 42 inspections" holds "Ofsted".
    """
    haystacks = {f" {normalize_answer(text)} ", f" {normalize_answer(_POSSESSIVE.sub('', text))} "}
    return any(f" {normalize_answer(g)} " in h for g in golds if normalize_answer(g) for h in haystacks)


def first_hit_rank(texts: Sequence[str], golds: Sequence[str]) -> int | None:
    """1-based rank of the first text holding a gold answer."""
    for rank, text in enumerate(texts, start=1):
        if contains_answer(text, golds):
            return rank
    return None


def within_budget(texts: Sequence[str], golds: Sequence[str], budget: int) -> bool:
    """Is a gold answer inside the first `budget` characters of the ranked context?"""
    context = ""
    for text in texts:
        context += text + "\n"
        if len(context) >= budget:
            break
    return contains_answer(context[:budget], golds)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
