"""Fit the numbered passages into the model's context, keeping the system prompt whole.

A server given more than its context either fails obscurely ("No generation chunks were
returned") or, as Ollama does, silently drops the start of the prompt, which is where the
instructions are. So the prompt is sized before it is sent: the system prompt and the
question always go; passages follow in rank order while they fit; the one that does not fit
whole is cut at a sentence end; the rest are left out (and cannot be cited).

The model's tokenizer is unknown here, so tokens are estimated generously (3 characters per
token; English BPE vocabularies average about 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from rag.text.sentences import sentence_spans

if TYPE_CHECKING:
    from rag.retrieve.passage import Passage

CHARS_PER_TOKEN = 3
#: Tokens for the chat template's own markup (roles, separators) and the passage headers.
TEMPLATE_TOKENS = 48
#: A cut passage shorter than this many tokens is not worth sending.
MIN_PASSAGE_TOKENS = 32


def estimate_tokens(text: str) -> int:
    """A generous token count for text in an unknown tokenizer."""
    return len(text) // CHARS_PER_TOKEN + 1


def header(index: int, passage: "Passage") -> str:
    """How passage `index` (1-based) is introduced in the prompt."""
    return f"[{index}] {passage.title}\n"


def fit_passages(passages: Sequence["Passage"], fixed_text: str, context_tokens: int,
                 reply_tokens: int) -> list["Passage"]:
    """The passages that fit beside `fixed_text` (system prompt, question, template) and a reply
    of `reply_tokens`, the last one cut at a sentence end if need be; [] if none fits."""
    budget = context_tokens - reply_tokens - estimate_tokens(fixed_text) - TEMPLATE_TOKENS
    out: list[Passage] = []
    for i, passage in enumerate(passages, start=1):
        cost = estimate_tokens(header(i, passage) + passage.text + "\n\n")
        if cost <= budget:
            out.append(passage)
            budget -= cost
            continue
        room = (budget - estimate_tokens(header(i, passage))) * CHARS_PER_TOKEN
        cut = _cut(passage.text, room)
        if cut and estimate_tokens(cut) >= MIN_PASSAGE_TOKENS:
            out.append(replace(passage, text=cut, end=passage.start + len(cut)))
        break
    return out


def _cut(text: str, limit: int) -> str:
    """The longest run of whole sentences from the start of `text` within `limit` characters."""
    end = 0
    for _, stop in sentence_spans(text):
        if stop > limit:
            break
        end = stop
    return text[:end]
