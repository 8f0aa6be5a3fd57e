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


# --- provider errors: one line naming the setting to fix (loopback stubs, no network) -------------

class _FailingStub(BaseHTTPRequestHandler):
    """Answers every request with `status` and an OpenAI-style error body; never retried."""

    status = 500
    message = "boom"

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        payload = json.dumps({"error": {"message": self.message, "type": "invalid_request_error",
                                        "code": None}}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-should-retry", "false")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def _serve(handler: type) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


def _cli_error(capsys, seed_index: Path, *llm_args: str) -> str:  # type: ignore[no-untyped-def]
    from rag.cli import main

    code = main(["ask", "How many children were sexually abused in Rotherham?", "--index", str(seed_index),
                 "--llm", *llm_args])
    out, err = capsys.readouterr()
    assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def test_openai_without_an_api_key_is_one_line_naming_the_variable(capsys, seed_index: Path, monkeypatch):
    pytest.importorskip("langchain_openai")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    err = _cli_error(capsys, seed_index, "openai:gpt-4o-mini")
    assert "OPENAI_API_KEY" in err and "needs an API key" in err


@pytest.mark.parametrize("status, message, needles", [
    (401, "Incorrect API key provided", ["rejected the API key", "OPENAI_API_KEY"]),
    (429, "Rate limit reached for requests", ["rate limiting", "429", "--llm"]),
    (404, "The model `nope` does not exist", ["no model 'nope'", "--llm (RAG_LLM)", "/v1"]),
    (500, "internal trouble", ["failed (500", "--llm-base-url"]),
])
def test_server_errors_are_one_line_naming_the_setting(capsys, seed_index: Path, monkeypatch, status, message, needles):
    pytest.importorskip("langchain_openai")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    handler = type("Stub", (_FailingStub,), {"status": status, "message": message})
    server, url = _serve(handler)
    try:
        err = _cli_error(capsys, seed_index, "openai:nope", "--llm-base-url", url)
    finally:
        server.shutdown()
    for needle in needles:
        assert needle in err, err


def test_a_refused_connection_is_one_line_naming_the_base_url(capsys, seed_index: Path, monkeypatch):
    pytest.importorskip("langchain_openai")
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    err = _cli_error(capsys, seed_index, "openai:gpt-4o-mini", "--llm-base-url", f"http://127.0.0.1:{port}/v1")
    assert "cannot reach" in err and "connection refused" in err and "--llm-base-url" in err


def test_a_server_that_never_answers_times_out_in_one_line(capsys, seed_index: Path, monkeypatch):
    pytest.importorskip("langchain_openai")
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections (the kernel's backlog) and never replies
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "0.2")
    try:
        err = _cli_error(capsys, seed_index, "openai:gpt-4o-mini", "--llm-base-url",
                         f"http://127.0.0.1:{listener.getsockname()[1]}/v1")
    finally:
        listener.close()
    assert "did not answer within 0.2 s" in err and "RAG_LLM_TIMEOUT" in err


def test_a_bad_timeout_setting_is_one_line(capsys, seed_index: Path, monkeypatch):
    pytest.importorskip("langchain_openai")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "soon")
    assert "RAG_LLM_TIMEOUT must be a number" in _cli_error(capsys, seed_index, "openai:gpt-4o-mini")


def test_provider_errors_are_classified_without_importing_the_provider():
    from rag.answer.llm import provider_error

    class ConnectError(Exception):
        pass

    class ResponseError(Exception):
        status_code = 404

    refused = ConnectError("[Errno 111] Connection refused")
    assert "is `ollama serve` running?" in str(provider_error(refused, "ollama:llama3.2"))
    assert "no model 'llama9'" in str(provider_error(ResponseError("model 'llama9' not found"), "ollama:llama9"))
    assert "TimeoutError" not in str(provider_error(TimeoutError(), "ollama:llama3.2"))
    assert "RAG_LLM_TIMEOUT" in str(provider_error(TimeoutError(), "ollama:llama3.2"))
