"""Questions as users type them: validated, and follow-ups made standalone.

A follow-up such as "And in Oxford?" only makes sense next to the question before it; without
a language model we rebuild it from that question by swapping the names it replaces.
"""

from __future__ import annotations

import re

from rag.errors import RagError

MAX_QUESTION_CHARS = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Lone surrogates: undecodable bytes in argv (surrogateescape) or "\udcff" in JSON. SQLite, FAISS
#: tokenisers and UTF-8 output all refuse them, so they become U+FFFD, as a decoder would make them.
_SURROGATE = re.compile("[\ud800-\udfff]")
_LEAD = re.compile(r"^\s*(and|but|also|so|what about|how about|and what about|and how about)\b[\s,]*", re.I)
_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_PRONOUN = re.compile(r"\b(he|she|they|it|him|her|them|his|their|its|this|that|those|these)\b", re.I)


def validate(question: str) -> str:
    """The question with control characters removed; empty or oversized input is an error."""
    cleaned = _CONTROL.sub(" ", without_surrogates(question))
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if not cleaned:
        raise RagError("the question is empty; ask something about the articles")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise RagError(f"the question is {len(cleaned):,} characters long; the limit is {MAX_QUESTION_CHARS:,}")
    return cleaned


def without_surrogates(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD, so it can be encoded as UTF-8."""
    return _SURROGATE.sub("\ufffd", text)


def is_follow_up(question: str) -> bool:
    words = question.split()
    return bool(_LEAD.match(question)) or (len(words) <= 4 and bool(_PRONOUN.search(question))) or len(words) <= 2


def standalone(question: str, previous: str | None) -> str:
    """Rewrite a follow-up into a question that stands alone, using the previous question."""
    if not previous or not is_follow_up(question):
        return question
    rest = _LEAD.sub("", question).strip().rstrip("?").strip()
    new_names = [m.group() for m in _NAME.finditer(rest) if m.start() > 0 or not _is_sentence_start_word(m.group())]
    old_names = [m.group() for m in _NAME.finditer(previous) if m.start() > 0]
    if new_names and old_names:
        # "And in Oxford?" after "... abused in Rotherham?": the last name is what changes.
        return previous.replace(old_names[-1], new_names[0], 1)
    return f"{previous.rstrip('?')} {rest}?".strip()


def _is_sentence_start_word(word: str) -> bool:
    return word.lower() in {"what", "who", "how", "when", "where", "why", "which", "in", "and", "the"}
