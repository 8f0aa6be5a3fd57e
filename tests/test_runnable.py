"""The assistant as a LangChain Runnable: invoke, stream and batch, with the extractive answerer
and with a model behind the scripted OpenAI-compatible server."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.runnables import RunnableLambda

from rag.answer.assistant import Assistant
from rag.answer.runnable import AssistantRunnable
from tests.openai_stub import Reply, ScriptedServer

ROTHERHAM = "How many children were sexually abused in Rotherham?"


def _check_citations(result: dict, assistant: Assistant) -> None:
    """Each citation's quote is the article's text at its offsets."""
    assert result["citations"]
    texts = [assistant.document_text(d.id) for d in assistant.store.documents().values()]
    for c in result["citations"]:
        assert any(text[c["start"]:c["end"]] == c["quote"] for text in texts), c


def test_invoke_stream_and_batch_with_the_extractive_answerer(seed_index: Path):
    assistant = Assistant(seed_index, embedder_spec="offline")
    qa = AssistantRunnable(assistant)
    try:
        result = qa.invoke(ROTHERHAM)
        assert not result["abstained"] and "1,400" in result["answer"] and result["generator"] == "extractive"
        _check_citations(result, assistant)
        pieces = list(qa.stream({"question": ROTHERHAM, "k": 3}))
        assert pieces[-1]["answer"] == result["answer"] and "draft" not in pieces[-1]
        results = qa.batch([ROTHERHAM, "Who is the Home Secretary?"])
        assert results[0]["answer"] == result["answer"] and results[1]["abstained"]
        chain = qa | RunnableLambda(lambda r: r["citations"][0]["quote"])  # composes in LCEL
        assert "1,400" in chain.invoke(ROTHERHAM)
    finally:
        assistant.close()


def test_stream_gives_the_models_draft_then_the_checked_answer(seed_index: Path, monkeypatch: pytest.MonkeyPatch):
    pytest.importorskip("langchain_openai")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    reply = "In Rotherham 1,400 children were sexually abused between 1997 and 2013 [1]. Bananas are yellow [1]."
    with ScriptedServer(Reply(reply)) as server:
        assistant = Assistant(seed_index, embedder_spec="offline", llm=f"openai:stub@{server.url}")
        qa = AssistantRunnable(assistant)
        try:
            pieces = list(qa.stream(ROTHERHAM))
            invoked = qa.invoke(ROTHERHAM)
        finally:
            assistant.close()
    drafts = [p["draft"] for p in pieces if "draft" in p]
    assert len(drafts) > 3 and "".join(drafts) == reply
    final = pieces[-1]
    assert final["generator"] == "llm:openai:stub" and "Bananas" not in final["answer"]
    assert "1,400" in final["answer"] and final["citations"][0]["quote"].count("1,400") == 1
    total = pieces[0]
    for piece in pieces[1:]:
        total = total + piece  # LangChain's AddableDict: the draft adds up, the result joins it
    assert total["draft"] == reply and total["answer"] == final["answer"]
    assert invoked["answer"] == final["answer"]
