"""Answer without a language model: pick the sentence that answers, and check it does.

Each sentence of the retrieved passages is scored by how much of the question's meaning it
holds (question terms weighted by their rarity in the index) and by whether it holds the kind
of thing asked for (a number for "how many", a date for "when", a name for "who"). The answer
is that sentence, quoted verbatim with its offsets.

Abstention looks at what the best sentence lacks: questions the articles cannot answer
usually name something (a place, a year, a person) that the best passage does not mention,
or ask about something the index has never seen. The support score is the weighted share of
the question's indexed terms present around the chosen sentence; below the calibrated
threshold we abstain.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag.chunking import sentence_spans
from rag.retrieval import Passage
from rag.terms import STOP_WORDS, content_terms, terms, words

#: Calibrated on eval/seed_questions.jsonl with `python -m bench.calibrate` (see README).
SUPPORT_THRESHOLD = 0.5
MAX_ANSWER_CHARS = 250
PASSAGES_CONSIDERED = 5

_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve dozen dozens twenty thirty forty fifty "
    "hundred hundreds thousand thousands million millions billion half third quarter percent per cent".split()
)
_MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday "
    "saturday sunday yesterday today century decade".split()
)
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})s?\b")
_DIGIT = re.compile(r"\d")
_STOP_TERMS = frozenset(terms(" ".join(sorted(STOP_WORDS))))
_PERSON = re.compile(
    r"\b(?:Sir|Dame|Lord|Lady|Mr|Mrs|Ms|Dr|Professor|Chief Constable)\.?\s+[A-Z][\w'’-]+"
    r"|\b[A-Z][a-z][\w'’-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w'’-]+)+|\b[A-Z]{2,}s?\b"
)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z'’-]+")


@dataclass(frozen=True)
class Extract:
    """A chosen span of one passage and how well it supports an answer."""

    passage: Passage
    start: int  # offsets into the passage text
    end: int
    score: float
    support: float


def question_type(question: str) -> str:
    q = question.lower()
    if re.search(r"\bhow (many|much|old|long)\b|\bnumber of\b|\bwhat (percentage|proportion|share)\b", q):
        return "number"
    if re.search(r"\bwhen\b|\bwhat (year|date|month|day|time|century|decade)\b|\bwhich (year|month|century)\b|\bsince when\b", q):
        return "date"
    if re.search(r"\bwho\b|\bwhom\b|\bwhose\b|\bwhich (person|man|woman|body|organi[sz]ation|group|agency|watchdog|official)\b", q):
        return "entity"
    if re.search(r"\bwhere\b|\bwhich (town|city|country|place|county|region|areas?|places|towns|cities)\b", q):
        return "place"
    return "other"


def _has_type(sentence: str, kind: str, question_words: set[str]) -> bool:
    new_words = [w for w in words(sentence) if w not in question_words]
    if kind == "number":
        return bool(_DIGIT.search(sentence)) or any(w in _NUMBER_WORDS for w in new_words)
    if kind == "date":
        return bool(_YEAR.search(sentence)) or any(w in _MONTHS for w in new_words)
    if kind == "entity":
        # A person or body: a title and a name, two capitalised words, or an acronym.
        names = [m.group() for m in _PERSON.finditer(sentence)]
        return any(not set(words(n)) <= question_words for n in names)
    if kind == "place":
        names = {m.group().lower() for m in _CAPITALISED.finditer(sentence)}
        return any(n not in question_words and n not in STOP_WORDS for n in names)
    return True


def term_weights(question_terms: Sequence[str], df: dict[str, int], n_chunks: int) -> dict[str, float]:
    """BM25-style idf for terms the index knows; terms it has never seen weigh nothing here
    (they may be paraphrases) and are judged by `unseen` in the support score."""
    n = max(n_chunks, 1)
    return {t: math.log(1 + (n - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5)) for t in question_terms if df.get(t, 0) > 0}


def best_extract(
    question: str,
    passages: Sequence[Passage],
    document_frequency: Callable[[list[str]], dict[str, int]],
    n_chunks: int,
) -> Extract | None:
    """The single best answering span among the top passages, or None if nothing matches."""
    q_terms = content_terms(question)
    if not q_terms or not passages:
        return None
    df = document_frequency(q_terms)
    weights = term_weights(q_terms, df, n_chunks)
    total = sum(weights.values())
    unseen = [t for t in q_terms if df.get(t, 0) == 0]
    kind = question_type(question)
    q_words = set(words(question))
    best: Extract | None = None
    best_spans: list[tuple[int, int]] = []
    best_index, best_typed = 0, True
    for passage in passages[:PASSAGES_CONSIDERED]:
        spans = sentence_spans(passage.text)
        for i, (start, end) in enumerate(spans):
            sentence = passage.text[start:end]
            s_terms = set(terms(sentence))
            # The sentence itself, helped a little by its neighbours ("it said" refers back).
            context = s_terms | {t for j in (i - 1, i + 1) if 0 <= j < len(spans) for t in terms(passage.text[spans[j][0]:spans[j][1]])}
            hit = sum(w for t, w in weights.items() if t in s_terms)
            near = sum(w for t, w in weights.items() if t in context and t not in s_terms)
            coverage = (hit + 0.5 * near) / total if total else 0.0
            typed = _has_type(sentence, kind, q_words)
            novel = bool(s_terms - set(q_terms) - _STOP_TERMS)
            # Weights fitted on the SQuAD answerable questions (bench/extractive_weights.py).
            score = hit / total if total else 0.0
            score += 0.25 * near / (total or 1.0) + (0.15 if typed else 0.0) + 0.05 / passage.rank
            score += 0.0 if novel else -0.5
            support = coverage * (1.0 if typed else 0.7)
            if unseen and total:
                # Unknown question words: a mild penalty, since a paraphrase also has some.
                support *= total / (total + 0.5 * len(unseen) * max(weights.values()))
            elif not total:
                support = 0.0
            if best is None or score > best.score:
                best = Extract(passage, start, end, score, support)
                best_spans, best_index, best_typed = spans, i, typed
    if best is not None and not best_typed and kind != "other":
        # The sentence that matches may not hold the answer ("... the chief inspector has
        # claimed." then "Ofsted boss Sir Michael Wilshaw said ..."): add the neighbour that does.
        for j in (best_index + 1, best_index - 1):
            if 0 <= j < len(best_spans):
                a, b = best_spans[j]
                if _has_type(best.passage.text[a:b], kind, q_words):
                    start, end = min(best.start, a), max(best.end, b)
                    return Extract(best.passage, start, end, best.score, best.support / 0.7)
    return best


def trim(text: str, start: int, end: int, question: str, limit: int = MAX_ANSWER_CHARS) -> tuple[int, int]:
    """Shorten a long sentence to the clause window that best covers the question and still
    holds something new of the kind asked for (a number, a date, a name)."""
    if end - start <= limit:
        return start, end
    q = set(content_terms(question))
    kind = question_type(question)
    q_words = set(words(question))
    cuts = [start] + [start + m.end() for m in re.finditer(r"[;:,–—]\s+", text[start:end])] + [end]
    best, best_score = (start, end), -1.0
    for i in range(len(cuts) - 1):
        for j in range(i + 1, len(cuts)):
            a, b = cuts[i], cuts[j]
            if b - a > limit:
                break
            window = text[a:b]
            w_terms = set(terms(window))
            score = len(q & w_terms) + (0.5 if _has_type(window, kind, q_words) else 0.0)
            score += 0.5 if w_terms - q - _STOP_TERMS else 0.0
            score += (b - a) / 10_000  # prefer the longer of equal windows
            if score > best_score:
                best, best_score = (a, b), score
    a, b = best
    while b > a and text[b - 1] in " ,;:–—":
        b -= 1
    return a, b
