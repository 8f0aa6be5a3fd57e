"""Answer without a language model: pick the sentence that answers, and check it does.

Each sentence of the retrieved passages is scored by how much of the question's meaning it
holds (question terms weighted by their rarity in the index, the words that say what is asked
counting double) and by whether it holds the kind of thing asked for (a number for "how
many", a date for "when", a name for "who"). A sentence also holds the names it means but
shortens or replaces with "He" (rag.answer.language.references). The answer is that sentence, quoted verbatim
with its offsets.

Abstention looks at what the best sentence lacks. Support is 0 when a "how many" or "when"
question's span holds no number or date; when the question names a place, person or number
that the span's article (with its title and outlet) never mentions, typos allowed, or a number
that is not near the span (rag.answer.language.details): "How many children were abused in Derby?" is not
answered by a sentence about Rotherham; when a negated question meets a span that asserts, or
the span says the opposite of what is asked (rag.answer.language.polarity). Otherwise support is the weighted
share of the question's indexed terms in and around the span; below the threshold calibrated
on the seed set, we abstain.

`best_extract` also reports the features the fitted reader reads (rag.answer.reader: lexical
coverage, the rule flags, the question-sentence cosines when a `meaning` function is given),
and takes the rules in force by name, so bench/fit_reader.py can measure each one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from rag.answer.language.answer_types import focus_words, has_type, question_type
from rag.answer.language.details import (
    Vocabulary,
    missing_details,
    numbers_missing_near,
)
from rag.answer.language.polarity import contradicts, opposed
from rag.answer.language.spans import answer_span
from rag.answer.language.references import meant_terms, referred_terms
from rag.retrieve.passage import Passage
from rag.text.sentences import LEADING_PRONOUN, sentence_spans
from rag.text.terms import STOP_WORDS, content_terms, stem, term_weights, terms, words

#: Calibrated on eval/seed_questions.jsonl with bench/calibrate.py: accuracy + abstention is
#: flat at its best from 0.05 to 0.20; 0.12 is the middle of that range. (Most abstentions are
#: the rules above, not this threshold: on the SQuAD subset 0.1 and 0.2 abstain alike.)
SUPPORT_THRESHOLD = 0.12
MAX_ANSWER_CHARS = 320
#: Question kinds whose answer span must hold the kind of thing asked for, or we abstain.
ABSTAIN_UNTYPED = ("number", "date")
PASSAGES_CONSIDERED = 5
#: The words that say what is asked ("Who *commissioned* ...?") count this much extra
#: (0.5 and 1.0 measured alike on SQuAD and the seed set, 2.0 worse).
FOCUS_BOOST = 1.0

_STOP_TERMS = frozenset(terms(" ".join(sorted(STOP_WORDS))))

#: The lexical rules, by name, that bench/fit_reader.py measures one by one. Sentence choice:
#: focus (the asked-about word counts double), near (neighbours' words count a quarter),
#: typed (+0.15 for holding the kind asked for), novel (-0.5 for saying nothing new),
#: references (a sentence means the names it shortens), antecedent ("He ..." takes in the
#: sentence naming him), neighbour (an untyped match takes in the typed neighbour).
#: Abstention: missing_detail, number_far, contradicts, opposed, untyped (see the module doc).
RULES = frozenset({
    "focus", "near", "typed", "novel", "references", "antecedent", "neighbour",
    "missing_detail", "number_far", "contradicts", "opposed", "untyped",
})


class Documents(Protocol):
    """Where the answerer reads whole articles (an answer may reach past its chunk)."""

    def document_text(self, document_id: int) -> str: ...

    def vocabulary(self, document_id: int, near: int) -> Vocabulary:
        """The article's terms (around offset `near` in a very long document), with its title
        and outlet: where a detail the question names may sit."""
        ...


@dataclass(frozen=True)
class Extract:
    """A chosen span of one article, found through a passage, and how well it answers."""

    passage: Passage
    text: str  # the whole cleaned document
    start: int  # offsets into `text`
    end: int
    score: float
    support: float
    #: What the abstention classifier reads (rag.answer.reader): lexical coverage, rule flags and,
    #: with an embedder that knows meaning, the question-sentence cosines.
    features: dict[str, float] = field(default_factory=dict)


#: Cosines of the question with each of a list of sentences (None: the embedder knows no meaning).
Meaning = Callable[[list[str]], list[float]]


def best_extract(
    question: str,
    passages: Sequence[Passage],
    document_frequency: Callable[[list[str]], dict[str, int]],
    n_chunks: int,
    documents: Documents,
    meaning: Meaning | None = None,
    meaning_weight: float = 0.0,
    rules: frozenset[str] | None = None,
) -> Extract | None:
    """The best answering span among the top passages, with its support (0 = do not answer).

    `documents` gives the whole article, so a span can take in a sentence just outside its
    chunk, and the article's vocabulary: a question naming a place or year its article never
    mentions is about something else (rag.answer.language.details).

    `meaning`, when given, scores each candidate sentence against the question by cosine
    (sentence vectors of the index's embedder); `meaning_weight` is its weight beside the
    lexical score (fitted by bench/fit_reader.py). `rules` names the lexical rules in force
    (default: all of RULES); bench/fit_reader.py switches them off one by one to measure them.
    """
    rules = RULES if rules is None else rules
    q_terms = content_terms(question)
    if not q_terms or not passages:
        return None
    df = document_frequency(q_terms)
    weights = term_weights(q_terms, df, n_chunks)
    focus = {stem(w) for w in focus_words(question)} if "focus" in rules else set()
    scoring = {t: w * (1 + FOCUS_BOOST) if t in focus else w for t, w in weights.items()}
    scoring_total = sum(scoring.values())
    kind = question_type(question)
    q_words = set(words(question))
    considered = passages[:PASSAGES_CONSIDERED]
    # An article missing a name or number the question gives is about something else: answer
    # from the articles that mention them all, if any does.
    missing = {p.chunk_id: missing_details(question, documents.vocabulary(p.document_id, p.start)) for p in considered}
    if any(not m for m in missing.values()):
        considered = [p for p in considered if not missing[p.chunk_id]]
    best: tuple[float, Passage, list[tuple[int, int]], int, bool, float] | None = None
    all_spans = [sentence_spans(p.text) for p in considered]
    cosines: list[list[float]] = [[0.0] * len(spans) for spans in all_spans]
    if meaning is not None:
        flat = meaning([p.text[a:b] for p, spans in zip(considered, all_spans) for a, b in spans])
        at = 0
        for i, spans in enumerate(all_spans):
            cosines[i], at = flat[at : at + len(spans)], at + len(spans)
    best_cosine = max((c for row in cosines for c in row), default=0.0)
    for passage, spans, passage_cosines in zip(considered, all_spans, cosines):
        text = documents.document_text(passage.document_id)
        # A sentence means the names it shortens or stands for with "He" (rag.answer.language.references).
        if "references" in rules:
            sentence_terms = [meant_terms(text, passage.start + a, passage.start + b) for a, b in spans]
        else:
            sentence_terms = [set(terms(passage.text[a:b])) for a, b in spans]
        for i, (start, end) in enumerate(spans):
            s_terms = sentence_terms[i]
            # Neighbours help a little: "it said" refers back to the sentence before.
            context = set().union(*(sentence_terms[j] for j in (i - 1, i + 1) if 0 <= j < len(spans)))
            hit = sum(w for t, w in scoring.items() if t in s_terms)
            near = sum(w for t, w in scoring.items() if t in context and t not in s_terms)
            typed = has_type(passage.text[start:end], kind, q_words)
            novel = bool(s_terms - set(q_terms) - _STOP_TERMS)
            # Weights fitted on the SQuAD answerable questions (bench/extractive_weights.py).
            score = (hit + (0.25 * near if "near" in rules else 0.0)) / scoring_total if scoring_total else 0.0
            score += (0.15 if typed and "typed" in rules else 0.0) + 0.05 / passage.rank
            score += 0.0 if novel or "novel" not in rules else -0.5
            score += meaning_weight * passage_cosines[i]
            if best is None or score > best[0]:
                best = (score, passage, spans, i, typed, passage_cosines[i])
    if best is None:
        return None
    score, passage, spans, i, typed, cosine = best
    text = documents.document_text(passage.document_id)
    if text[passage.start : passage.end] != passage.text:
        return None  # the store disagrees with itself: never quote from it
    start, end = spans[i]
    if kind == "entity" and "antecedent" in rules and LEADING_PRONOUN.match(passage.text[start:end]):
        # "He wrote: ..." answers "Who wrote ...?" only with the sentence that names him,
        # which may sit in the chunk before.
        before = sentence_spans(text[max(0, passage.start + start - 600) : passage.start + start])
        if before:
            start, typed = before[-1][0] + max(0, passage.start + start - 600) - passage.start, True
    if not typed and kind != "other" and "neighbour" in rules:
        # The matching sentence may not hold the answer ("... the chief inspector has claimed."
        # then "Ofsted boss Sir Michael Wilshaw said ..."): take in the neighbour that does.
        for j in (i + 1, i - 1):
            if 0 <= j < len(spans) and has_type(passage.text[spans[j][0] : spans[j][1]], kind, q_words):
                start, end, typed = min(start, spans[j][0]), max(end, spans[j][1]), True
                break
    span = text[passage.start + start : passage.start + end]  # start < 0 when it reached into the chunk before
    flags = {
        "missing_detail": bool(missing[passage.chunk_id]),
        "number_far": bool(numbers_missing_near(question, text, passage.start + start, passage.start + end)),
        "contradicts": contradicts(question, span),
        "opposed": opposed(question, span),
        "untyped": kind in ABSTAIN_UNTYPED and not typed,
    }
    coverage = _support(text, passage, spans, start, end, weights, typed, kind, require_type=False)
    support = 0.0 if any(flags[f] for f in flags if f in rules) else coverage
    features = {
        "coverage": coverage,
        "typed": float(typed),
        "typed_kind": float(kind in ("number", "date", "entity", "place")),
        "score": score,
        "cosine": cosine,
        "best_cosine": best_cosine,
        "rank": 1.0 / passage.rank,
        # A question asking for a thing whose span holds none the question does not already say.
        "no_span": float(kind in ("number", "date", "entity", "place")
                         and answer_span(question, text, passage.start + max(start, 0), passage.start + end) is None),
        **{name: float(value) for name, value in flags.items()},
    }
    return Extract(passage, text, passage.start + start, passage.start + end, score, support, features)


def supporting_extract(
    question: str,
    first: Extract,
    passages: Sequence[Passage],
    document_frequency: Callable[[list[str]], dict[str, int]],
    n_chunks: int,
) -> Extract | None:
    """A second sentence for what the first leaves out, when the question needs two.

    Questions that join two facts ("Which organisation, whose 42 inspections exposed police
    weaknesses, also warned councils ...?") are answered by two sentences, often in two
    articles. If the first span and the text around it (300 characters each side) miss at
    least 30% of the question's weighted terms, the sentence covering most of the missing part
    is added, provided it covers at least 60% of it. (Counting only the span itself as covered
    added more second sentences: SQuAD containment +1.3 points, but seed-set citation precision
    -4.7 points; we keep citations precise.)
    """
    q_terms = content_terms(question)
    weights = term_weights(q_terms, document_frequency(q_terms), n_chunks)
    total = sum(weights.values())
    if not total:
        return None
    covered = set(terms(first.text[max(0, first.start - 300) : first.end + 300]))
    covered |= referred_terms(first.text, first.start, first.end)
    missing = {t: w for t, w in weights.items() if t not in covered}
    share = sum(missing.values()) / total
    if share < 0.3:
        return None
    best: tuple[float, Passage, int, int] | None = None
    for passage in passages[:PASSAGES_CONSIDERED]:
        for a, b in sentence_spans(passage.text):
            start, end = passage.start + a, passage.start + b
            if passage.document_id == first.passage.document_id and start < first.end and end > first.start:
                continue
            gain = sum(w for t, w in missing.items() if t in set(terms(passage.text[a:b]))) / total
            if gain >= 0.6 * share and (best is None or gain > best[0]):
                best = (gain, passage, start, end)
    if best is None:
        return None
    gain, passage, start, end = best
    return Extract(passage, first.text if passage.document_id == first.passage.document_id else "", start, end,
                   gain, first.support)


def _support(
    text: str,
    passage: Passage,
    spans: list[tuple[int, int]],
    start: int,
    end: int,
    weights: dict[str, float],
    typed: bool,
    kind: str,
    require_type: bool = True,
) -> float:
    """How well the span answers: 0 when it lacks the kind of answer asked for (unless
    `require_type` is False); otherwise the weighted share of the question's indexed terms it
    holds (nearby sentences count half)."""
    total = sum(weights.values())
    if not total or (require_type and kind in ABSTAIN_UNTYPED and not typed):
        return 0.0
    span_terms = meant_terms(text, passage.start + max(start, 0), passage.start + end)
    around = set(
        t for a, b in spans if (b <= start or a >= end) and (b >= start - 300 and a <= end + 300)
        for t in terms(passage.text[a:b])
    )
    held = sum(w for t, w in weights.items() if t in span_terms)
    nearby = sum(w for t, w in weights.items() if t in around and t not in span_terms)
    return (held + 0.5 * nearby) / total * (1.0 if typed else 0.8)


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
            score = len(q & w_terms) + (100.0 if has_type(window, kind, q_words) else 0.0)
            score += 0.5 if w_terms - q - _STOP_TERMS else 0.0
            score += (b - a) / 10_000  # prefer the longer of equal windows
            if score > best_score:
                best, best_score = (a, b), score
    a, b = best
    while b > a and text[b - 1] in " ,;:–—":
        b -= 1
    return a, b
