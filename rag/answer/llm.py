"""Answers from a chat model through LangChain, checked against the passages before shown.

The chain numbers the retrieved passages, asks for [n] citations, and streams tokens. The
finished text is then verified: markers that point at no passage are dropped, each sentence
must be supported by a passage it cites (its content words and every number it states are
in that passage), and unsupported sentences are removed. If nothing supported is left, the
assistant falls back to the extractive answer, or abstains.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.answer.claims import ClaimChecker, Verifier
from rag.answer.llm_settings import LLMSettings
from rag.answer.markers import split_reply
from rag.answer.prompt_fit import fit_passages, header
from rag.answer.types import ABSTAIN_TEXT, Answer, Citation, Grounding
from rag.errors import RagError

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
HUMAN_PROMPT = "Passages:\n\n{context}\n\nQuestion: {question}"
CONDENSE_PROMPT = (
    "Rewrite the follow-up question so that it can be understood without the previous one. "
    "Reply with the rewritten question only.\n\nPrevious question: {previous}\nFollow-up: {question}"
)
#: Finish reasons of a whole reply (OpenAI "stop", Ollama "stop", Anthropic "end_turn" ...).
FINISHED = frozenset({"stop", "end_turn", "stop_sequence", "eos", "tool_calls"})
#: Providers whose streams always end with a finish reason: none means the reply was cut off.
FINISH_REPORTED = frozenset({"openai", "ollama", "anthropic"})
PROVIDER_PACKAGES = {"openai": "langchain-openai", "ollama": "langchain-ollama", "anthropic": "langchain-anthropic"}
#: Where each provider is reached when no --llm-base-url is given (named in connection errors).
DEFAULT_URLS = {"openai": "https://api.openai.com/v1", "ollama": "http://127.0.0.1:11434",
                "anthropic": "https://api.anthropic.com"}
#: The environment variable holding each provider's API key.
KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
#: A failed request is not retried: a 502 or a timeout retried doubles the wait for the same error.
MAX_RETRIES = 0


def parse_llm_spec(spec: str) -> tuple[str, str, str | None]:
    """'provider:model[@base_url]' -> (provider, model, base_url)."""
    base_url = None
    if "@" in spec:
        spec, base_url = spec.split("@", 1)
    provider, sep, model = spec.partition(":")
    if not sep or not provider or not model:
        raise RagError(f"--llm must look like PROVIDER:MODEL (e.g. ollama:llama3.2, openai:gpt-4o-mini), not '{spec}'")
    return provider, model, base_url


def build_chat_model(spec: str) -> "BaseChatModel":
    """A LangChain chat model from a spec, with an install hint when the provider is missing."""
    import os

    from langchain.chat_models import init_chat_model

    provider, model, base_url = parse_llm_spec(spec)
    settings = LLMSettings.from_env()
    kwargs: dict[str, Any] = {"temperature": 0}
    if base_url:
        kwargs["base_url"] = base_url
        if provider == "openai":
            kwargs["api_key"] = os.environ.get("OPENAI_API_KEY", "not-needed")
    if provider == "openai":
        # The client's defaults (10 minutes, 2 retries with backoff) leave a user staring at nothing.
        # It sends max_tokens as max_completion_tokens; OpenAI-compatible servers that predate
        # that name (llama.cpp, vLLM, LM Studio) get max_tokens as well.
        kwargs.update(timeout=settings.timeout_s, max_retries=MAX_RETRIES, max_tokens=settings.max_tokens)
        if base_url:
            kwargs["extra_body"] = {"max_tokens": settings.max_tokens}
    elif provider == "ollama":
        # Ollama's default context (2,048 tokens) silently cuts a longer prompt from its start.
        kwargs.update(num_ctx=settings.context_tokens, num_predict=settings.max_tokens,
                      client_kwargs={"timeout": settings.timeout_s})
    else:
        kwargs.update(max_tokens=settings.max_tokens, timeout=settings.timeout_s)
    try:
        return init_chat_model(model, model_provider=provider, **kwargs)
    except (ImportError, AttributeError):  # the provider's integration package is not installed
        package = PROVIDER_PACKAGES.get(provider, f"langchain-{provider}")
        raise RagError(f"the {provider} provider needs `pip install {package}`") from None
    except ValueError as exc:
        raise RagError(f"cannot use --llm {spec}: {' '.join(str(exc).split())[:200]}") from None
    except Exception as exc:  # noqa: BLE001 - the provider's client refusing its settings (e.g. no API key)
        raise provider_error(exc, spec) from None


def _settings_or_default() -> LLMSettings:
    try:
        return LLMSettings.from_env()
    except RagError:
        return LLMSettings()


def display_url(url: str) -> str:
    """A base URL without the credentials it may carry ('http://user:key@host/v1' -> 'http://host/v1')."""
    return re.sub(r"(?<=://)[^/@]*@", "", url)


def _short(exc: BaseException, limit: int = 160) -> str:
    text = " ".join(str(exc).split())
    return text[:limit] + ("..." if len(text) > limit else "")


def provider_error(exc: BaseException, spec: str, settings: LLMSettings | None = None) -> RagError:
    """One line for a chat-model failure: what went wrong and which setting fixes it.

    Classified by exception class names and status codes, so no provider library is imported:
    openai's, httpx's and ollama's errors all end up here.
    """
    if isinstance(exc, RagError):
        return exc
    provider, model, base_url = parse_llm_spec(spec)
    where_shown = display_url(base_url) if base_url else None
    names = {cls.__name__ for cls in type(exc).__mro__}
    status = getattr(exc, "status_code", None) or getattr(getattr(exc, "response", None), "status_code", None)
    where = where_shown or DEFAULT_URLS.get(provider, f"the {provider} server")
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
        timeout = (settings or _settings_or_default()).timeout_s
        return RagError(f"the {provider} server at {where} did not answer within {timeout:g} s;"
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
    if "context" in text and ("exceed" in text or "too long" in text or "maximum" in text):
        return RagError(f"the prompt is longer than the context of model '{model}' at {where}; set RAG_LLM_CONTEXT to"
                        f" the server's context size in tokens (now {(settings or _settings_or_default()).context_tokens})")
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
    return "\n\n".join(header(i, p) + p.text for i, p in enumerate(passages, start=1))


def display_spec(spec: str) -> str:
    """'openai:MODEL' for 'openai:MODEL@http://user:key@host/v1': what may be shown to a user
    (a base URL can carry credentials)."""
    return spec.split("@", 1)[0]


@dataclass(frozen=True)
class Fallback:
    """The model's reply is not shown; `reason` says why, naming the dropped sentences."""

    reason: str
    draft: str = ""


class _NotFoundFilter:
    """Streams text with the NOT_FOUND token taken out, holding back a tail that may be its start."""

    def __init__(self) -> None:
        self.pending = ""

    def feed(self, piece: str) -> str:
        self.pending = (self.pending + piece).replace(NOT_FOUND, "")
        hold = next((n for n in range(min(len(NOT_FOUND) - 1, len(self.pending)), 0, -1)
                     if NOT_FOUND.startswith(self.pending[-n:])), 0)
        out, self.pending = self.pending[: len(self.pending) - hold], self.pending[len(self.pending) - hold:]
        return out

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return out


def _content(chunk: Any) -> str:
    """A streamed chunk's text (a string, or a list of content blocks)."""
    content = getattr(chunk, "content", chunk)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b if isinstance(b, str) else str(b.get("text", "")) for b in content if isinstance(b, (str, dict)))
    return ""


def _finish_reason(chunk: Any) -> str | None:
    """Why the model stopped, when this chunk says: OpenAI's finish_reason, Ollama's done_reason,
    Anthropic's stop_reason."""
    metadata = getattr(chunk, "response_metadata", None) or {}
    for name in ("finish_reason", "done_reason", "stop_reason"):
        if metadata.get(name):
            return str(metadata[name])
    return None


class LLMGenerator:
    """Turns passages into a cited answer with a chat model; `model` may be injected (tests).

    generate() streams the model's tokens, then yields either the checked Answer or a
    Fallback saying why the reply is not used (cut off, empty, unsupported). Every reply is
    bounded: max_tokens is sent, the whole answer has a time limit beside the per-chunk one,
    and the prompt is fitted to the model's context (rag.answer.llm_settings).
    """

    def __init__(self, spec: str, model: "BaseChatModel | None" = None, *, settings: LLMSettings | None = None,
                 clock: Callable[[], float] = time.monotonic, verifier: Verifier | None = None) -> None:
        self.name = "llm:" + display_spec(spec)
        self.spec = spec
        self.provider = parse_llm_spec(spec)[0]
        self.settings = settings or LLMSettings.from_env()
        self.model = model if model is not None else build_chat_model(spec)
        self.clock = clock
        #: A second opinion on supported claims (rag.answer.claims.ReaderVerifier), if any.
        self.verifier = verifier

    def _chain(self):  # type: ignore[no-untyped-def]
        from langchain_core.prompts import ChatPromptTemplate

        prompt = ChatPromptTemplate.from_messages([("system", SYSTEM_PROMPT), ("human", HUMAN_PROMPT)])
        return prompt | self.model

    def condense(self, question: str, previous: str) -> str:
        """A follow-up rewritten into a standalone question by the model (checked by the caller:
        rag.answer.condense.acceptable_rewrite)."""
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import ChatPromptTemplate

        chain = ChatPromptTemplate.from_messages([("human", CONDENSE_PROMPT)]) | self.model | StrOutputParser()
        try:
            rewritten = chain.invoke({"previous": previous, "question": question}).strip()
        except Exception:  # noqa: BLE001 - a failing model must not break the chat
            return question
        return rewritten.splitlines()[0].strip() if rewritten else question

    def fitted(self, question: str, passages: Sequence["Passage"]) -> list["Passage"]:
        """The passages that fit the model's context beside the system prompt and the question."""
        fixed = SYSTEM_PROMPT + HUMAN_PROMPT.format(context="", question=question)
        return fit_passages(passages, fixed, self.settings.context_tokens, self.settings.max_tokens)

    def generate(self, question: str, passages: list["Passage"],
                 grounding: Grounding) -> Iterator[str | Answer | Fallback]:
        """Stream tokens, then yield the verified Answer, or a Fallback saying why there is none."""
        sent = self.fitted(question, passages)
        if not sent:
            yield Fallback(f"the question leaves no room for a passage in RAG_LLM_CONTEXT"
                           f" ({self.settings.context_tokens} tokens)")
            return
        draft, finish, cut = "", None, None
        visible = _NotFoundFilter()
        started = self.clock()
        stream = self._chain().stream({"context": number_passages(sent), "question": question})
        try:
            for chunk in stream:
                piece = _content(chunk)
                finish = _finish_reason(chunk) or finish
                draft += piece
                shown = visible.feed(piece)
                if shown:
                    yield shown
                if self.clock() - started > self.settings.total_timeout_s:
                    cut = (f"the model's reply took longer than {self.settings.total_timeout_s:g} s"
                           f" (RAG_LLM_TOTAL_TIMEOUT) and was cut off")
                    break
        except ValueError as exc:
            if "No generation chunks" not in str(exc):
                raise provider_error(exc, self.spec, self.settings) from None
            # The stream ended before a single chunk: an empty reply (or a prompt the server
            # would not take); the extractive answer is shown, saying so.
            cut = ("the model's reply was empty (the server sent nothing; if its context is smaller than"
                   f" RAG_LLM_CONTEXT = {self.settings.context_tokens} tokens, lower RAG_LLM_CONTEXT)")
        except Exception as exc:  # noqa: BLE001 - network, auth, server errors: one line naming the setting
            raise provider_error(exc, self.spec, self.settings) from None
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # an abandoned reply: the HTTP stream is closed, not left running
        tail = visible.flush()
        if tail:
            yield tail
        problem = cut or self._incomplete(finish, draft)
        if problem:
            yield Fallback(problem, draft)
            return
        yield self.checked(question, draft, sent, grounding)

    def _incomplete(self, finish: str | None, draft: str) -> str | None:
        """Why a finished stream is not a whole reply, or None."""
        if finish == "length":
            return (f"the model's reply was cut off at RAG_LLM_MAX_TOKENS ({self.settings.max_tokens} tokens)"
                    " before it finished")
        if finish is None and self.provider in FINISH_REPORTED:
            return "the model's reply ended without a finish reason: the server stopped in the middle of it"
        if finish is not None and finish not in FINISHED:
            return f"the model stopped for '{finish}' instead of finishing its reply"
        return None

    def verify(self, question: str, text: str, passages: list["Passage"], grounding: Grounding) -> Answer | None:
        """The checked Answer for a whole reply, or None when none of it may be shown."""
        result = self.checked(question, text, passages, grounding)
        return result if isinstance(result, Answer) else None

    def checked(self, question: str, text: str, passages: Sequence["Passage"],
                grounding: Grounding) -> Answer | Fallback:
        """Keep only the sentences a cited passage supports (rag.answer.claims), each citing the
        sentence(s) that support it; renumber citations from 1. A reply that is NOT_FOUND alone
        abstains; an empty reply, or one with nothing supported, falls back."""
        if text.strip().strip(".").strip() == NOT_FOUND:
            return Answer(question, ABSTAIN_TEXT, True, [], list(passages), grounding.embedder_id, self.name,
                          grounding.retrieval_mode)
        body = text.replace(NOT_FOUND, " ")
        if not body.strip():
            return Fallback("the model's reply was empty", text)
        checker = ClaimChecker([p.text for p in passages], question, self.verifier)
        kept: list[str] = []
        dropped: list[dict[str, str]] = []
        citations: list[Citation] = []
        by_quote: dict[tuple[int, int, int], int] = {}
        for sentence in split_reply(body):
            verdict = checker.check(sentence.text, sentence.markers)
            support = verdict.support
            if support is None:
                dropped.append({"sentence": sentence.raw.strip(), "reason": verdict.reason or "not supported"})
                continue
            passage = passages[support.passage]
            where = (support.passage, support.start, support.end)
            if where not in by_quote:
                citation = grounding.cite(len(citations) + 1, passage, passage.start + support.start,
                                          passage.start + support.end)
                if citation is None:
                    dropped.append({"sentence": sentence.raw.strip(), "reason": "its passage is out of date"})
                    continue
                citations.append(citation)
                by_quote[where] = citation.n
            kept.append(f"{sentence.text} [{by_quote[where]}]")
        if not kept:
            named = "; ".join(f"\"{d['sentence']}\" ({d['reason']})" for d in dropped)
            return Fallback(f"no sentence of the model's reply is supported by the passages: {named}", text)
        answer = Answer(question, " ".join(kept), False, citations, list(passages), grounding.embedder_id, self.name,
                        grounding.retrieval_mode)
        answer.dropped = dropped
        return answer
