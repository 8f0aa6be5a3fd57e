"""The whole assistant (retrieve, read or generate, check) as a LangChain Runnable, so it
composes in a user's own LCEL pipeline:

    from rag.answer.assistant import Assistant
    from rag.answer.runnable import AssistantRunnable

    qa = AssistantRunnable(Assistant(".rag-index"))
    result = qa.invoke("How many children were abused in Rotherham?")
    result["answer"], result["abstained"], result["citations"][0]["quote"]

`invoke` and `batch` return one dict per question: the answer, the abstention flag and the
verified citations (chunk id, source, title, start/end offsets into the cleaned article, the
quote found there). `stream` yields {"draft": token} pieces while a language model writes,
then the same dict; added up (LangChain's AddableDict) they make {"draft": what the model
wrote, **the checked result}. The draft is what was streamed, the answer what was checked.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.utils import AddableDict

if TYPE_CHECKING:
    from rag.answer.assistant import Assistant
    from rag.answer.types import Answer

#: What the runnable takes: a question, or {"question": ..., "k": passages to retrieve}.
AssistantInput = str | dict[str, Any]


def answer_dict(answer: "Answer") -> dict[str, Any]:
    """The parts of an Answer a pipeline uses: text, abstention, verified citations, provenance."""
    return {
        "question": answer.question,
        "answer": answer.answer,
        "abstained": answer.abstained,
        "citations": [{k: v for k, v in asdict(c).items() if k in _CITATION_KEYS} for c in answer.citations],
        "generator": answer.generator,
        "fallback_reason": answer.fallback_reason,
    }


_CITATION_KEYS = ("n", "chunk_id", "source", "title", "start", "end", "quote", "published", "outlet", "url")


def _question(value: AssistantInput) -> tuple[str, int | None]:
    if isinstance(value, str):
        return value, None
    if isinstance(value, dict) and isinstance(value.get("question"), str):
        k = value.get("k")
        return value["question"], int(k) if k is not None else None
    raise TypeError("AssistantRunnable takes a question string or {'question': str, 'k': int}")


class AssistantRunnable(Runnable[AssistantInput, dict[str, Any]]):
    """An Assistant behind LangChain's Runnable interface (invoke, stream, batch).

    One assistant answers one question at a time (its index handles are not shared between
    threads), so concurrent calls wait their turn and `batch` answers in order."""

    def __init__(self, assistant: "Assistant") -> None:
        self.assistant = assistant
        self._lock = threading.Lock()

    @property
    def InputType(self) -> Any:  # noqa: N802 - LangChain's name
        return AssistantInput

    @property
    def OutputType(self) -> Any:  # noqa: N802 - LangChain's name
        return dict[str, Any]

    def invoke(self, input: AssistantInput, config: RunnableConfig | None = None, **kwargs: Any) -> dict[str, Any]:
        return self._call_with_config(self._answer, input, config, run_type="chain")

    def _answer(self, value: AssistantInput) -> dict[str, Any]:
        question, k = _question(value)
        with self._lock:
            return answer_dict(self.assistant.ask(question, k=k))

    def stream(self, input: AssistantInput, config: RunnableConfig | None = None,
               **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield from self._transform_stream_with_config(iter([input]), self._pieces, config, run_type="chain")

    def _pieces(self, inputs: Iterator[AssistantInput]) -> Iterator[dict[str, Any]]:
        for value in inputs:
            question, k = _question(value)
            with self._lock:
                generating = self.assistant.generator is not None
                for item in self.assistant.ask_stream(question, k=k):
                    if isinstance(item, str):
                        if generating:
                            yield AddableDict(draft=item)
                    else:
                        yield AddableDict(answer_dict(item))

    def batch(self, inputs: list[AssistantInput], config: RunnableConfig | list[RunnableConfig] | None = None,
              *, return_exceptions: bool = False, **kwargs: Any) -> list[Any]:
        configs = config if isinstance(config, list) else [config] * len(inputs)
        out: list[Any] = []
        for value, one in zip(inputs, configs):
            try:
                out.append(self.invoke(value, one))
            except Exception as exc:  # noqa: BLE001 - returned in place when asked to
                if not return_exceptions:
                    raise
                out.append(exc)
        return out
