"""Is a model's rewrite of a chat follow-up safe to use as the question?

"And in Oxford?" after "How many children were abused in Rotherham?" should become "How
many children were abused in Oxford?". Small models instead answer the previous question
("In Rotherham, 1,400 children were abused."), or drop the new place, or bring in a name
nobody mentioned. The rewrite is used only if it is one question, keeps every name and
meaningful word of the follow-up, brings in no name that neither question has, and, where
the follow-up names no subject of its own, keeps the previous question's subject (each of
its words, but as many as the follow-up brings in their place). Otherwise
the extractive condensation (rag.answer.questions.standalone) is used.
"""

from __future__ import annotations

import re

from rag.text.terms import STOP_WORDS, content_terms

_QUESTION_START = re.compile(
    r"^\s*(?:who|whom|whose|what|which|when|where|why|how|is|are|was|were|do|does|did|has|have|had|can|could|"
    r"will|would|should|may|might|in|on|at|for|from|according)\b", re.IGNORECASE)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]*")
_FOLLOW_UP_FILLER = frozenset("and but also so about what how".split())


def _names(text: str) -> set[str]:
    """Capitalised words other than the first: names, roughly ("Oxford", "Sir Tom")."""
    body = text.strip()
    return {m.group().lower().rstrip("'’s") for m in _NAME.finditer(body) if m.start() > 0}


def acceptable_rewrite(follow_up: str, previous: str, rewrite: str) -> bool:
    """True when the model's standalone form of `follow_up` may replace it (see module doc)."""
    text = rewrite.strip()
    if not text or "\n" in text or not text.endswith("?") or text.count("?") != 1:
        return False
    if not _QUESTION_START.match(text):
        return False
    got = set(content_terms(text))
    wanted = {t for t in content_terms(follow_up) if t not in _FOLLOW_UP_FILLER}
    if not wanted <= got:
        return False  # the follow-up's own words (its new place, its new subject) must stay
    new_names = _names(text) - _names(follow_up) - _names(previous)
    if new_names:
        return False
    # The previous question's subject stays: each meaningful word of it is kept, except as many
    # as the follow-up brings in its place ("Oxford" for "Rotherham", "police" for "councils").
    subject = {t for t in content_terms(previous) if t not in STOP_WORDS} - set(content_terms(follow_up))
    return len(subject - got) <= len(wanted)
