"""The bounds on one model answer, read from the environment: how long, how many tokens, how
big a prompt. Without them a model rambles for minutes, a server trickling a token a second
never times out, and a long prompt is cut from its start (system prompt first) by the server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from rag.errors import RagError

#: Seconds the server may stay silent: before its first token, and between two ($RAG_LLM_TIMEOUT).
DEFAULT_TIMEOUT_S = 60.0
#: Seconds a whole answer may take, however steadily it streams ($RAG_LLM_TOTAL_TIMEOUT).
DEFAULT_TOTAL_TIMEOUT_S = 120.0
#: Tokens a reply may run to ($RAG_LLM_MAX_TOKENS): two short sentences with markers need ~80.
DEFAULT_MAX_TOKENS = 256
#: The model's context window in tokens ($RAG_LLM_CONTEXT); the prompt is fitted to it.
DEFAULT_CONTEXT_TOKENS = 4096


@dataclass(frozen=True)
class LLMSettings:
    """Bounds on one answer from a chat model."""

    timeout_s: float = DEFAULT_TIMEOUT_S
    total_timeout_s: float = DEFAULT_TOTAL_TIMEOUT_S
    max_tokens: int = DEFAULT_MAX_TOKENS
    context_tokens: int = DEFAULT_CONTEXT_TOKENS

    @classmethod
    def from_env(cls) -> "LLMSettings":
        """The settings from RAG_LLM_TIMEOUT, RAG_LLM_TOTAL_TIMEOUT, RAG_LLM_MAX_TOKENS and
        RAG_LLM_CONTEXT; a bad value is a one-line error naming the variable."""
        timeout = _number("RAG_LLM_TIMEOUT", DEFAULT_TIMEOUT_S, 0, 3600)
        total = _number("RAG_LLM_TOTAL_TIMEOUT", max(DEFAULT_TOTAL_TIMEOUT_S, timeout), 0, 36000)
        max_tokens = int(_number("RAG_LLM_MAX_TOKENS", DEFAULT_MAX_TOKENS, 1, 1_000_000, whole=True))
        context = int(_number("RAG_LLM_CONTEXT", DEFAULT_CONTEXT_TOKENS, 256, 10_000_000, whole=True))
        if max_tokens >= context // 2:
            raise RagError(f"RAG_LLM_MAX_TOKENS ({max_tokens}) must be under half of RAG_LLM_CONTEXT ({context}),"
                           " or no passage fits in the prompt")
        return cls(timeout, total, max_tokens, context)


def _number(name: str, default: float, low: float, high: float, *, whole: bool = False) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not low < value <= high or (whole and not value.is_integer()):
        kind = "a whole number" if whole else "a number of seconds"
        raise RagError(f"{name} must be {kind} between {low:g} and {high:g}, not '{raw}'")
    return value
