"""Answers from a chat model through LangChain, checked against the passages before shown.

The chain numbers the retrieved passages, asks for [n] citations, and streams tokens. The
finished text is then verified: markers that point at no passage are dropped, each sentence
must be supported by a passage it cites (its content words and every number it states are
in that passage), and unsupported sentences are removed. If nothing supported is left, the
assistant falls back to the extractive answer, or abstains.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from rag.answer.types import ABSTAIN_TEXT, Answer, Citation, Grounding
from rag.errors import RagError
from rag.text.sentences import sentence_spans
from rag.text.terms import content_terms, terms

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from rag.retrieve.passage import Passage

NOT_FOUND = "NOT_FOUND"
SYSTEM_PROMPT = (
    "You answer questions about news articles using only the numbered passages given. "
    "Answer in one or two short sentences. After each sentence put the number of the passage "
    "that supports it in square brackets, like [1] or [2][3]. Do not use outside knowledge. "
    f"If the passages do not contain the answer, reply with exactly {NOT_FOUND}."
)
CONDENSE_PROMPT = (
    "Rewrite the follow-up question so that it can be understood without the previous one. "
    "Reply with the rewritten question only.\n\nPrevious question: {previous}\nFollow-up: {question}"
)
_MARKER = re.compile(r"\s*\[(\d+)\]")
_NUMBER = re.compile(r"\d[\d,.]*")
SUPPORT_MIN = 0.6
PROVIDER_PACKAGES = {"openai": "langchain-openai", "ollama": "langchain-ollama", "anthropic": "langchain-anthropic"}
#: Where each provider is reached when no --llm-base-url is given (named in connection errors).
DEFAULT_URLS = {"openai": "https://api.openai.com/v1", "ollama": "http://127.0.0.1:11434",
                "anthropic": "https://api.anthropic.com"}
#: The environment variable holding each provider's API key.
KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
#: Seconds one request to the model may take ($RAG_LLM_TIMEOUT), and how often a failed one is retried.
DEFAULT_TIMEOUT_S = 60.0
MAX_RETRIES = 1


def parse_llm_spec(spec: str) -> tuple[str, str, str | None]:
    """'provider:model[@base_url]' -> (provider, model, base_url)."""
    base_url = None
    if "@" in spec:
        spec, base_url = spec.split("@", 1)
    provider, sep, model = spec.partition(":")
    if not sep or not provider or not model:
        raise RagError(f"--llm must look like PROVIDER:MODEL (e.g. ollama:llama3.2, openai:gpt-4o-mini), not '{spec}'")
    return provider, model, base_url


def llm_timeout() -> float:
    """Seconds one request to the model may take: $RAG_LLM_TIMEOUT, else 60."""
    import os

    raw = os.environ.get("RAG_LLM_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise RagError(f"RAG_LLM_TIMEOUT must be a number of seconds between 0 and 3600, not '{raw}'")
    return value


def build_chat_model(spec: str) -> "BaseChatModel":
    """A LangChain chat model from a spec, with an install hint when the provider is missing."""
    import os

    from langchain.chat_models import init_chat_model

    provider, model, base_url = parse_llm_spec(spec)
    kwargs: dict[str, Any] = {"temperature": 0}
    if base_url:
        kwargs["base_url"] = base_url
        if provider == "openai":
            kwargs["api_key"] = os.environ.get("OPENAI_API_KEY", "not-needed")
    if provider == "openai":
        # The client's defaults (10 minutes, 2 retries with backoff) leave a user staring at nothing.
        kwargs.update(timeout=llm_timeout(), max_retries=MAX_RETRIES)
    try:
        return init_chat_model(model, model_provider=provider, **kwargs)
    except (ImportError, AttributeError):  # the provider's integration package is not installed
        package = PROVIDER_PACKAGES.get(provider, f"langchain-{provider}")
        raise RagError(f"the {provider} provider needs `pip install {package}`") from None
    except ValueError as exc:
        raise RagError(f"cannot use --llm {spec}: {' '.join(str(exc).split())[:200]}") from None
    except Exception as exc:  # noqa: BLE001 - the provider's client refusing its settings (e.g. no API key)
        raise provider_error(exc, spec) from None


def _short(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split())
    return text[:limit] + ("..." if len(text) > limit else "")


def provider_error(exc: BaseException, spec: str) -> RagError:
    """One line for a chat-model failure: what went wrong and which setting fixes it.

    Classified by exception class names and status codes, so no provider library is imported:
    openai's, httpx's and ollama's errors all end up here.
    """
    if isinstance(exc, RagError):
        return exc
    provider, model, base_url = parse_llm_spec(spec)
    names = {cls.__name__ for cls in type(exc).__mro__}
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    where = base_url or DEFAULT_URLS.get(provider, f"the {provider} server")
    url_setting = "--llm-base-url (RAG_LLM_BASE_URL)"
    key = KEY_VARIABLES.get(provider)
    text = str(exc).lower()
    if key and (status == 401 or "AuthenticationError" in names):
        return RagError(f"the {provider} server at {where} rejected the API key (401); check {key}")
    if key and status is None and ("api_key" in text or "api key" in text or "credentials" in text):
        return RagError(f"--llm {provider}:{model} needs an API key: set {key}, or point {url_setting}"
                        " at an OpenAI-compatible server that needs none")
    if status == 403 or "PermissionDeniedError" in names:
        return RagError(f"the {provider} server at {where} refused access to model '{model}' (403);"
                        f" check {key or 'its credentials'} and the model in --llm (RAG_LLM)")
    if status == 429 or "RateLimitError" in names:
        return RagError(f"the {provider} server at {where} is rate limiting requests (429: {_short(exc, 100)});"
                        f" wait and try again, or use another model in --llm (RAG_LLM)"
                        + (f" or another {key}" if key else ""))
    if status == 404 or "NotFoundError" in names or ("ResponseError" in names and "not found" in text):
        hint = f"; if the server is right, check that {url_setting} ends in /v1" if base_url and provider == "openai" else ""
        return RagError(f"the {provider} server at {where} has no model '{model}' (404); check the model name in"
                        f" --llm (RAG_LLM){hint}")
    if names & {"APITimeoutError", "TimeoutException", "ReadTimeout", "ConnectTimeout", "TimeoutError",
                "Timeout"}:
        return RagError(f"the {provider} server at {where} did not answer within {llm_timeout():g} s;"
                        f" check {url_setting}, or allow longer with RAG_LLM_TIMEOUT")
    if names & {"APIConnectionError", "ConnectError", "ConnectionError", "NetworkError", "RemoteProtocolError"}:
        causes = _causes(exc)
        if "refused" in text or "ConnectionRefusedError" in causes:
            reason = "connection refused"
        elif "gaierror" in causes:
            reason = "host name not found"
        else:
            reason = _short(_root(exc), 80)
        hint = "is `ollama serve` running? or " if provider == "ollama" else ""
        return RagError(f"cannot reach the {provider} server at {where} ({reason}); {hint}check {url_setting}")
    if status is not None:
        return RagError(f"the {provider} server at {where} failed ({status}: {_short(exc, 120)});"
                        f" check --llm (RAG_LLM) and {url_setting}")
    return RagError(f"the language model {provider}:{model} failed ({exc.__class__.__name__}: {_short(exc, 120)});"
                    f" check --llm (RAG_LLM) and {url_setting}")


def _root(exc: BaseException) -> BaseException:
    """The innermost exception along the cause/context chain (its message is the specific one)."""
    seen: set[int] = set()
    while id(exc) not in seen and (exc.__cause__ or exc.__context__) is not None:
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return exc


def _causes(exc: BaseException) -> set[str]:
    """Class names along an exception's cause/context chain."""
    out: set[str] = set()
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out.add(current.__class__.__name__)
        current = current.__cause__ or current.__context__
    return out


def number_passages(passages: Sequence["Passage"]) -> str:
    return "\n\n".join(f"[{i}] {p.title}\n{p.text}" for i, p in enumerate(passages, start=1))


def supported(sentence: str, passage_text: str) -> bool:
    """Does the passage hold the sentence's content words (most of them) and all its numbers?"""
    words = content_terms(sentence)
    if not words:
        return False
    have = set(terms(passage_text))
    share = sum(1 for w in words if w in have) / len(words)
    numbers = [n.rstrip(".,") for n in _NUMBER.findall(sentence)]
    return share >= SUPPORT_MIN and all(n in passage_text for n in numbers)


def _best_quote(sentence: str, passage_text: str) -> tuple[int, int]:
    """The passage sentence that shares most content words with an answer sentence."""
    wanted = set(content_terms(sentence))
    best, best_score = (0, len(passage_text)), -1
    for start, end in sentence_spans(passage_text):
        score = len(wanted & set(terms(passage_text[start:end])))
        if score > best_score:
            best, best_score = (start, end), score
    return best


class LLMGenerator:
    """Turns passages into a cited answer with a chat model; `model` may be injected (tests)."""

    def __init__(self, spec: str, model: "BaseChatModel | None" = None) -> None:
        self.name = "llm:" + spec.split("@", 1)[0]
        self.spec = spec
        self.model = model if model is not None else build_chat_model(spec)

    def _chain(self):  # type: ignore[no-untyped-def]
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        prompt = ChatPromptTemplate.from_messages(
            [("system", SYSTEM_PROMPT), ("human", "Passages:\n\n{context}\n\nQuestion: {question}")]
        )
        return prompt | self.model | StrOutputParser()

    def condense(self, question: str, previous: str) -> str:
        """A follow-up rewritten into a standalone question by the model."""
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        chain = ChatPromptTemplate.from_messages([("human", CONDENSE_PROMPT)]) | self.model | StrOutputParser()
        try:
            rewritten = chain.invoke({"previous": previous, "question": question}).strip()
        except Exception:  # noqa: BLE001 - a failing model must not break the chat
            return question
        return rewritten.splitlines()[0].strip() if rewritten else question

    def generate(self, question: str, passages: list["Passage"], grounding: Grounding) -> Iterator[str | Answer | None]:
        """Stream tokens, then yield the verified Answer (or None to fall back to extractive)."""
        text = ""
        try:
            for token in self._chain().stream({"context": number_passages(passages), "question": question}):
                text += token
                yield token
        except Exception as exc:  # noqa: BLE001 - network, auth, server errors: one line naming the setting
            raise provider_error(exc, self.spec) from None
        answer = self.verify(question, text, passages, grounding)
        if answer is not None:
            yield answer

    def verify(self, question: str, text: str, passages: list["Passage"], grounding: Grounding) -> Answer | None:
        """Keep only the sentences a cited passage supports; renumber citations from 1."""
        if NOT_FOUND in text or not text.strip():
            return Answer(question, ABSTAIN_TEXT, True, [], passages, grounding.embedder_id, self.name,
                          grounding.retrieval_mode)
        kept: list[str] = []
        citations: list[Citation] = []
        by_passage: dict[int, int] = {}
        for start, end in sentence_spans(text):
            raw = text[start:end]
            markers = [int(m) for m in _MARKER.findall(raw)]
            sentence = _MARKER.sub("", raw).strip()
            valid = [m for m in dict.fromkeys(markers) if 1 <= m <= len(passages)]
            good = [m for m in valid if supported(sentence, passages[m - 1].text)]
            if not sentence or not good:
                continue
            numbers = []
            for m in good:
                if m not in by_passage:
                    passage = passages[m - 1]
                    q_start, q_end = _best_quote(sentence, passage.text)
                    citation = grounding.cite(len(citations) + 1, passage, passage.start + q_start, passage.start + q_end)
                    if citation is None:
                        continue
                    citations.append(citation)
                    by_passage[m] = citation.n
                numbers.append(by_passage[m])
            if numbers:
                kept.append(sentence + "".join(f" [{n}]" for n in numbers))
        if not kept:
            return None
        return Answer(question, " ".join(kept), False, citations, passages, grounding.embedder_id, self.name,
                      grounding.retrieval_mode)
