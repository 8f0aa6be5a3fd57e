"""Whether a sentence says the opposite of what a question asks.

"What is usually not stated using the big O notation?" is not answered by "Upper and lower
bounds are usually stated using the big O notation": a sentence that asserts what a negated
question denies cannot answer it, however well its words match. On the SQuAD 2.0 subset a
negated question over a sentence without negation marks 12.5% of the unanswerable questions
and 1.1% of the answerable ones (measured with the project's own retrieval). Likewise "What is
the least difficult class?" is not answered by "... the most difficult problems": a question
word whose opposite the sentence says instead (on SQuAD, 1.7% more of the unanswerable
questions, no answerable one).
"""

from __future__ import annotations

import re

_NEGATION = re.compile(
    r"\b(?:not|no|never|neither|nor|without|none|nothing|nobody|nowhere|cannot)\b|n['’]t\b", re.IGNORECASE
)


#: Words that negate without saying "not": "failing to put an action plan into place" answers
#: "Which councils have no plan?".
_IMPLICIT = re.compile(
    r"\b(?:fail|fails|failed|failing|failure|lack|lacks|lacked|lacking|unable|absence|absent|refuse[sd]?|refusing"
    r"|den(?:y|ies|ied)|rarely|seldom|hardly)\b",
    re.IGNORECASE,
)


def is_negated(text: str) -> bool:
    return bool(_NEGATION.search(text))


_OPPOSITES = [
    ("most", "least"), ("more", "less"), ("more", "fewer"), ("largest", "smallest"), ("biggest", "smallest"),
    ("highest", "lowest"), ("higher", "lower"), ("larger", "smaller"), ("greatest", "least"), ("first", "last"),
    ("earliest", "latest"), ("earlier", "later"), ("oldest", "newest"), ("oldest", "youngest"), ("best", "worst"),
    ("better", "worse"), ("maximum", "minimum"), ("increase", "decrease"), ("increased", "decreased"),
    ("rise", "fall"), ("rose", "fell"), ("gain", "loss"), ("won", "lost"), ("win", "lose"), ("accept", "reject"),
    ("accepted", "rejected"), ("legal", "illegal"), ("major", "minor"), ("positive", "negative"),
    ("north", "south"), ("northern", "southern"), ("east", "west"), ("eastern", "western"), ("upper", "lower"),
    ("before", "after"), ("inside", "outside"), ("easy", "hard"), ("easiest", "hardest"), ("strong", "weak"),
    ("strongest", "weakest"), ("common", "rare"), ("commonly", "rarely"), ("always", "never"), ("often", "rarely"),
    ("success", "failure"), ("successful", "unsuccessful"), ("allowed", "forbidden"), ("private", "public"),
    ("concrete", "abstract"), ("simple", "complex"), ("simplicity", "complexity"), ("easy", "difficult"),
    ("ancient", "modern"), ("rural", "urban"), ("minority", "majority"), ("import", "export"),
    ("imports", "exports"), ("internal", "external"), ("cheap", "expensive"), ("shortest", "longest"),
    ("hot", "cold"), ("wet", "dry"), ("top", "bottom"), ("start", "end"), ("began", "ended"), ("male", "female"),
    ("men", "women"), ("boys", "girls"), ("domestic", "foreign"), ("domestic", "international"),
    ("lowest", "highest"), ("poorest", "richest"), ("poor", "rich"), ("young", "old"), ("youngest", "eldest"),
]
_OPPOSITE: dict[str, set[str]] = {}
for _a, _b in _OPPOSITES:
    _OPPOSITE.setdefault(_a, set()).add(_b)
    _OPPOSITE.setdefault(_b, set()).add(_a)
_WORD = re.compile(r"[a-z]+")


def opposed(question: str, answer: str) -> bool:
    """The question says one of a pair of opposites ("least") that the answer does not say,
    and the answer says the other ("most"). A question naming both ("simple or complex?")
    asks which one, and is not opposed."""
    q = set(_WORD.findall(question.lower()))
    a = set(_WORD.findall(answer.lower()))
    return any(w not in a and (_OPPOSITE[w] & a) - q for w in q & _OPPOSITE.keys())


def contradicts(question: str, answer: str) -> bool:
    """A negated question over an answer that negates nothing, not even implicitly."""
    return is_negated(question) and not (is_negated(answer) or _IMPLICIT.search(answer))
