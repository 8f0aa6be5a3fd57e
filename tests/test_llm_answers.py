"""LLM answers a user can rely on (issue 22): each numbered defect, through a fake chat model or
the scripted OpenAI-compatible server on loopback (tests/openai_stub.py)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from rag.answer.assistant import Assistant, Conversation
from rag.answer.llm import LLMGenerator
from rag.cli import main
from tests.openai_stub import Reply, ScriptedServer

ROTHERHAM = "How many children were sexually abused in Rotherham?"
TRUE_REPLY = "In Rotherham 1,400 children were sexually abused between 1997 and 2013 [1]."


def _assistant(seed_index: Path, replies: list[str]) -> Assistant:
    a = Assistant(seed_index, embedder_spec="offline")
    model = GenericFakeChatModel(messages=iter([AIMessage(content=r) for r in replies]))
    a.generator = LLMGenerator("fake:model", model=model)
    return a


def _ask(seed_index: Path, reply: str, question: str = ROTHERHAM, k: int = 5):  # type: ignore[no-untyped-def]
    a = _assistant(seed_index, [reply])
    try:
        return a.ask(question, k=k)
    finally:
        a.close()


@pytest.fixture
def openai_env(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("langchain_openai")
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")


def _cli(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# 1. False statements are rejected -------------------------------------------------------------------

@pytest.mark.parametrize("reply, question", [
    ("Sir Michael Wilshaw leads the police watchdog [1].", "Who leads the police watchdog?"),
    ("In Oxford 1,400 children were sexually abused [1].", "How many children were sexually abused in Oxford?"),
    ("The LGA did not call for an independent review [1].", "What did the LGA call for?"),
])
def test_false_statements_citing_a_passage_are_not_accepted(seed_index: Path, reply: str, question: str):
    answer = _ask(seed_index, reply, question, k=8)
    shown = answer.answer.lower()
    assert reply.split(" [")[0].lower() not in shown
    assert answer.generator != "llm:fake:model"


# 2. Correct answers in common shapes are kept -------------------------------------------------------

@pytest.mark.parametrize("reply", [
    "In Rotherham 1,400 children were sexually abused between 1997 and 2013 [1, 4].",
    "In Rotherham 1,400 children were sexually abused between 1997 and 2013 [Passage 1].",
    "In Rotherham 1,400 children were sexually abused between 1997 and 2013 (Passage 1).",
    "In Rotherham 1,400 children were sexually abused between 1997 and 2013 [^1].\n\n[^1]: Passage 1",
    "In Rotherham 1400 children were sexually abused between 1997 and 2013 [1].",
    "In Rotherham 1,400 children were sexually abused between 1997 and 2013.",
])
def test_correct_answers_in_common_shapes_are_kept(seed_index: Path, reply: str):
    answer = _ask(seed_index, reply)
    assert answer.generator == "llm:fake:model", answer.fallback_reason
    assert not answer.abstained and "children were sexually abused between 1997 and 2013. [1]" in answer.answer
    (citation,) = answer.citations
    assert "1,400 children were sexually abused" in citation.quote


# 3. A fallback is labelled as one ---------------------------------------------------------------------

def test_a_fallback_is_labelled_extractive_with_the_reason_naming_the_dropped_sentence(
        capsys, seed_index: Path, monkeypatch: pytest.MonkeyPatch):
    import rag.answer.llm

    monkeypatch.setattr(rag.answer.llm, "build_chat_model",
                        lambda spec: GenericFakeChatModel(messages=iter([AIMessage(content="Bananas are yellow [1].")] * 2)))
    code, out, _ = _cli(capsys, "--index", str(seed_index), "ask", ROTHERHAM, "--llm", "fake:x", "--json")
    data = json.loads(out)
    assert code == 0 and "1,400" in data["answer"]
    assert data["generator"] == "extractive (fallback from llm:fake:x)"
    assert "Bananas are yellow" in data["fallback_reason"]
    code, out, _ = _cli(capsys, "--index", str(seed_index), "ask", ROTHERHAM, "--llm", "fake:x")
    assert "(extractive (fallback from llm:fake:x)," in out and "llm:fake:x," not in out.replace("from llm:fake:x", "")


# 4. The terminal never keeps rejected text as the answer ------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _fake_model(monkeypatch: pytest.MonkeyPatch, *replies: str) -> None:
    import rag.answer.llm

    messages = iter([AIMessage(content=r) for r in replies])
    monkeypatch.setattr(rag.answer.llm, "build_chat_model", lambda spec: GenericFakeChatModel(messages=messages))


def test_on_a_terminal_rejected_text_is_cleared_and_the_fallback_is_not_glued_on(
        seed_index: Path, monkeypatch: pytest.MonkeyPatch):
    _fake_model(monkeypatch, "Rotherham abuse happened in Rotherham.")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("TERM", "xterm")
    code = main(["--index", str(seed_index), "ask", ROTHERHAM, "--llm", "fake:x"])
    out = terminal.getvalue()
    assert code == 0
    assert "Rotherham." in out.split("\033[J")[0]  # streamed first ...
    assert "\r" in out and "\033[J" in out  # ... then cleared
    after = out.split("\033[J", 1)[1].split("(The model's reply was not used")[0]
    assert "Rotherham abuse happened" not in after and "1,400" in after
    assert "not used: no sentence of the model's reply is supported" in out  # and says why
    assert "Rotherham.1,400" not in out and "Checked against the passages" not in out


def test_piped_output_prints_only_the_checked_answer(capsys, seed_index: Path, monkeypatch: pytest.MonkeyPatch):
    _fake_model(monkeypatch, "Rotherham abuse happened in Rotherham. " + TRUE_REPLY)
    code, out, _ = _cli(capsys, "--index", str(seed_index), "ask", ROTHERHAM, "--llm", "fake:x")
    assert code == 0
    assert "Rotherham abuse happened" not in out.split("(Left out")[0]
    assert out.count("1,400 children were sexually abused between 1997 and 2013. [1]") == 1


def test_chat_on_a_terminal_clears_rejected_text(seed_index: Path, monkeypatch: pytest.MonkeyPatch):
    _fake_model(monkeypatch, "Bananas are yellow [1].")
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr(sys, "stdin", io.StringIO(ROTHERHAM + "\n\n"))
    assert main(["--index", str(seed_index), "chat", "--llm", "fake:x"]) == 0
    out = terminal.getvalue()
    assert "\033[J" in out and "Bananas are yellow" not in out.split("\033[J", 1)[1].split("(The model's")[0]
    assert "[1].1,400" not in out


# 5. Bounds: max_tokens, a total time limit, the finish reason -------------------------------------------

def _ask_server(capsys, seed_index: Path, server: ScriptedServer, *extra: str) -> tuple[int, dict, str]:  # type: ignore[no-untyped-def]
    code, out, err = _cli(capsys, "--index", str(seed_index), "ask", ROTHERHAM, "--llm", "openai:stub",
                          "--llm-base-url", server.url, "--json", *extra)
    return code, (json.loads(out) if out.strip() else {}), err


def test_max_tokens_is_sent(capsys, seed_index: Path, openai_env: None, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAG_LLM_MAX_TOKENS", "120")
    with ScriptedServer(Reply(TRUE_REPLY)) as server:
        code, data, _ = _ask_server(capsys, seed_index, server)
    assert code == 0 and data["generator"] == "llm:openai:stub"
    request = server.requests[-1]
    assert request["stream"] is True and request["max_tokens"] == 120


def test_max_tokens_defaults_to_a_short_cited_answer(capsys, seed_index: Path, openai_env: None):
    with ScriptedServer(Reply(TRUE_REPLY)) as server:
        _ask_server(capsys, seed_index, server)
    assert 64 <= server.requests[-1]["max_tokens"] <= 512


def test_a_slow_steady_stream_is_cut_at_the_total_time_limit(capsys, seed_index: Path, openai_env: None,
                                                             monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "5")  # each chunk comes well within this ...
    monkeypatch.setenv("RAG_LLM_TOTAL_TIMEOUT", "0.4")  # ... but the whole reply would take 2 s
    slow = Reply(TRUE_REPLY * 2, piece=4, delay=0.05)
    with ScriptedServer(slow) as server:
        code, data, _ = _ask_server(capsys, seed_index, server)
    assert data["timings_ms"]["answer"] < 1500
    assert code == 0 and data["generator"].startswith("extractive (fallback")
    assert "RAG_LLM_TOTAL_TIMEOUT" in data["fallback_reason"]


@pytest.mark.parametrize("reply, needle", [
    (Reply(TRUE_REPLY[:40], finish=None), "without a finish reason"),
    (Reply(TRUE_REPLY[:40], finish="length"), "RAG_LLM_MAX_TOKENS"),
])
def test_a_reply_cut_off_is_never_taken_as_complete(capsys, seed_index: Path, openai_env: None, reply: Reply,
                                                   needle: str):
    with ScriptedServer(reply) as server:
        code, data, _ = _ask_server(capsys, seed_index, server)
    assert data["generator"] == "extractive (fallback from llm:openai:stub)"
    assert needle in data["fallback_reason"] and "1,400" in data["answer"]


# 6. Empty replies fall back; NOT_FOUND is handled ------------------------------------------------------

def test_an_empty_reply_falls_back_to_the_extractive_answer(seed_index: Path):
    answer = _ask(seed_index, "")
    assert not answer.abstained and "1,400" in answer.answer
    assert answer.generator.startswith("extractive (fallback") and "empty" in (answer.fallback_reason or "")


def test_not_found_inside_a_reply_is_dropped_not_the_whole_reply_and_never_shown(seed_index: Path):
    a = _assistant(seed_index, [TRUE_REPLY + " NOT_FOUND"])
    try:
        items = list(a.ask_stream(ROTHERHAM))
    finally:
        a.close()
    answer = items[-1]
    assert not answer.abstained and "1,400" in answer.answer and answer.generator == "llm:fake:model"
    assert "NOT_FOUND" not in "".join(i for i in items if isinstance(i, str))


def test_a_reply_of_not_found_alone_abstains_without_showing_the_token(seed_index: Path):
    a = _assistant(seed_index, ["NOT_FOUND"])
    try:
        items = list(a.ask_stream("Who is the Home Secretary?"))
    finally:
        a.close()
    assert items[-1].abstained and "NOT_FOUND" not in "".join(i for i in items if isinstance(i, str))


# 7. A chat follow-up is condensed only into the question that was asked --------------------------------

def test_a_condensed_follow_up_that_is_not_the_question_is_not_used(seed_index: Path):
    a = _assistant(seed_index, [
        TRUE_REPLY,
        "In Rotherham, 1,400 children were abused.",  # the model's "rewrite" of "And in Oxford?"
        "In Oxford more than 300 were violently abused and tortured over more than 15 years [1].",
    ])
    conversation = Conversation()
    try:
        a.ask("How many children were abused in Rotherham?", conversation)
        a.ask("And in Oxford?", conversation)
    finally:
        a.close()
    assert conversation.previous == "How many children were abused in Oxford?"


# 8. The prompt fits the model's context -----------------------------------------------------------------

def test_the_prompt_is_fitted_to_a_small_context_keeping_the_system_prompt(capsys, seed_index: Path, openai_env: None,
                                                                          monkeypatch: pytest.MonkeyPatch):
    from rag.answer.llm import SYSTEM_PROMPT

    monkeypatch.setenv("RAG_LLM_CONTEXT", "1024")
    with ScriptedServer(Reply(TRUE_REPLY, context=1024)) as server:
        code, data, err = _ask_server(capsys, seed_index, server, "--k", "12")
    assert code == 0, err
    messages = server.requests[-1]["messages"]
    assert messages[0]["role"] == "system" and messages[0]["content"] == SYSTEM_PROMPT
    assert len(json.dumps(messages)) // 4 <= 1024
    assert data["generator"] == "llm:openai:stub"


def test_a_prompt_too_long_for_the_server_names_the_context_setting(capsys, seed_index: Path, openai_env: None,
                                                                    monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAG_LLM_CONTEXT", "8192")
    with ScriptedServer(Reply(TRUE_REPLY, context=300)) as server:
        code, _, err = _ask_server(capsys, seed_index, server, "--k", "12")
    assert code == 1 and err.startswith("Error: ") and "RAG_LLM_CONTEXT" in err and err.count("\n") == 1


# 9. The UI shows no base URL; a 502 is not retried --------------------------------------------------------

def test_the_ui_generator_list_shows_no_base_url_or_credentials(seed_index: Path, openai_env: None):
    from rag.ui.service import Service

    spec = "openai:stub@http://alice:s3cret@127.0.0.1:9/v1"
    service = Service(seed_index, llm=spec)
    try:
        shown = " ".join(service.generators)
        assert "s3cret" not in shown and "127.0.0.1" not in shown and "openai:stub" in shown
        with ScriptedServer(Reply(TRUE_REPLY)) as server:
            service.llm = f"openai:stub@{server.url}"
            answer = service.ask(ROTHERHAM, generator=service.generators[-1])
        assert answer.generator == "llm:openai:stub"
    finally:
        service.close()


def test_a_502_from_a_proxy_is_one_error_line_and_not_retried(capsys, seed_index: Path, openai_env: None):
    html = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    with ScriptedServer(Reply(status=502, body=html, content_type="text/html")) as server:
        code, _, err = _ask_server(capsys, seed_index, server)
    assert code == 1 and err.startswith("Error: ") and "502" in err and err.count("\n") == 1
    assert len(server.requests) == 1


def test_an_error_line_never_shows_credentials_in_the_base_url(capsys, seed_index: Path, openai_env: None):
    html = "<html><body>502 Bad Gateway</body></html>"
    with ScriptedServer(Reply(status=502, body=html, content_type="text/html")) as server:
        url = server.url.replace("http://", "http://alice:s3cret@")
        code, _, err = _cli(capsys, "--index", str(seed_index), "ask", ROTHERHAM, "--llm", "openai:stub",
                            "--llm-base-url", url)
    assert code == 1 and "s3cret" not in err


def test_ollama_is_given_the_context_and_max_tokens_so_it_never_cuts_the_prompt_from_its_start(
        monkeypatch: pytest.MonkeyPatch):
    import langchain.chat_models

    from rag.answer.llm import build_chat_model

    seen: dict = {}
    monkeypatch.setattr(langchain.chat_models, "init_chat_model", lambda model, **kwargs: seen.update(kwargs) or object())
    monkeypatch.setenv("RAG_LLM_CONTEXT", "8192")
    monkeypatch.setenv("RAG_LLM_MAX_TOKENS", "200")
    build_chat_model("ollama:llama3.2")
    assert seen["num_ctx"] == 8192 and seen["num_predict"] == 200
