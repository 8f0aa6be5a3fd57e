"""The LLM chain: streamed tokens, then only citations and sentences the passages support."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rag.answer.assistant import Assistant, Conversation
from rag.errors import RagError
from rag.answer.llm import LLMGenerator, parse_llm_spec


def _assistant(seed_index: Path, replies: list[str]) -> Assistant:
    a = Assistant(seed_index, embedder_spec="offline")
    model = GenericFakeChatModel(messages=iter([AIMessage(content=r) for r in replies]))
    a.generator = LLMGenerator("fake:model", model=model)
    return a


def _stream(a: Assistant, question: str, conversation: Conversation | None = None):  # type: ignore[no-untyped-def]
    items = list(a.ask_stream(question, conversation))
    return [i for i in items if isinstance(i, str)], items[-1]


def test_supported_answer_streams_and_keeps_valid_citations(seed_index: Path):
    a = _assistant(seed_index, ["In Rotherham 1,400 children were sexually abused between 1997 and 2013 [1]."])
    tokens, answer = _stream(a, "How many children were sexually abused in Rotherham?")
    assert len(tokens) > 3  # streamed piece by piece
    assert not answer.abstained and "1,400" in answer.answer and answer.generator == "llm:fake:model"
    (citation,) = answer.citations
    assert "1,400" in citation.quote
    assert answer.answer.endswith("[1]")


def test_markers_to_missing_passages_and_unsupported_sentences_are_dropped(seed_index: Path):
    reply = ("In Rotherham 1,400 children were sexually abused between 1997 and 2013 [1][9]. "
             "The abuse was organised by the mayor of London [2]. Rotherham has 9,999 victims [1].")
    a = _assistant(seed_index, [reply])
    _, answer = _stream(a, "How many children were sexually abused in Rotherham?")
    assert "[9]" not in answer.answer
    assert "mayor" not in answer.answer and "9,999" not in answer.answer
    assert "1,400" in answer.answer and len(answer.citations) == 1


def test_no_supported_sentence_falls_back_to_extractive(seed_index: Path):
    a = _assistant(seed_index, ["Bananas are yellow [1]."])
    _, answer = _stream(a, "How many children were sexually abused in Rotherham?")
    assert not answer.abstained and "1,400" in answer.answer
    assert all(c.quote in answer.answer for c in answer.citations)


def test_model_saying_not_found_abstains(seed_index: Path):
    a = _assistant(seed_index, ["NOT_FOUND"])
    _, answer = _stream(a, "Who is the Home Secretary?")
    assert answer.abstained and not answer.citations


def test_follow_up_is_condensed_by_the_model(seed_index: Path):
    a = _assistant(seed_index, [
        "In Rotherham 1,400 children were sexually abused [1].",
        "How many children were abused in Oxford?",
        "In Oxford more than 300 were violently abused and tortured [1].",
    ])
    conversation = Conversation()
    _stream(a, "How many children were abused in Rotherham?", conversation)
    _, answer = _stream(a, "And in Oxford?", conversation)
    assert conversation.previous == "How many children were abused in Oxford?"
    assert "300" in answer.answer


def test_spec_parsing():
    assert parse_llm_spec("ollama:llama3.2") == ("ollama", "llama3.2", None)
    assert parse_llm_spec("openai:gpt-4o-mini@http://127.0.0.1:8000/v1") == (
        "openai", "gpt-4o-mini", "http://127.0.0.1:8000/v1")
    with pytest.raises(RagError):
        parse_llm_spec("gpt-4o")


class _OpenAIStub(BaseHTTPRequestHandler):
    """A loopback OpenAI-compatible server streaming a fixed reply as chat.completion chunks."""

    reply = "In Rotherham 1,400 children were sexually abused between 1997 and 2013 [1]."
    requests: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        pieces = [self.reply[i : i + 8] for i in range(0, len(self.reply), 8)]
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in pieces + [None]:
                delta = {"content": piece} if piece is not None else {}
                chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"],
                         "choices": [{"index": 0, "delta": delta, "finish_reason": None if piece else "stop"}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
        else:
            data = {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": self.reply},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
            payload = json.dumps(data).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def test_openai_compatible_server_through_langchain_openai(seed_index: Path, monkeypatch):
    pytest.importorskip("langchain_openai")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OpenAIStub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("OPENAI_API_KEY", "test-key")
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        a = Assistant(seed_index, embedder_spec="offline", llm=f"openai:stub-model@{url}")
        tokens, answer = _stream(a, "How many children were sexually abused in Rotherham?")
        a.close()
    finally:
        server.shutdown()
    assert len(tokens) > 3 and "".join(tokens).startswith("In Rotherham")
    assert "1,400" in answer.answer and answer.citations
    request = _OpenAIStub.requests[-1]
    assert request["model"] == "stub-model" and request["stream"] is True
    prompt = json.dumps(request["messages"])
    assert "[1]" in prompt and "1,400" in prompt  # the numbered passages were sent


def test_missing_provider_package_gives_an_install_hint(seed_index: Path):
    pytest.importorskip("langchain_core")
    try:
        import langchain_ollama  # noqa: F401
    except ImportError:
        with pytest.raises(RagError, match="pip install langchain-ollama"):
            Assistant(seed_index, embedder_spec="offline", llm="ollama:llama3.2")
    with pytest.raises(RagError, match="Unsupported provider"):
        Assistant(seed_index, embedder_spec="offline", llm="no-such-provider:model")
