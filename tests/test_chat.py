"""`rag chat`: an interactive session where follow-ups keep their context."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rag.cli import main


def test_chat_follow_up_without_an_llm(capsys, seed_index: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("How many children were abused in Rotherham?\nAnd in Oxford?\n\n"))
    code = main(["--index", str(seed_index), "chat"])
    out = capsys.readouterr().out
    assert code == 0
    first, second = out.split("understood as:")
    assert "1,400" in first
    assert "How many children were abused in Oxford?" in second and "300" in second


def test_chat_ends_on_eof_and_reports_errors_per_line(capsys, seed_index: Path, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("\x00\x01\nWho is the chief inspector of schools?\n"))
    code = main(["--index", str(seed_index), "chat"])
    captured = capsys.readouterr()
    assert code == 0
    assert "Error: the question is empty" in captured.err
    assert "Wilshaw" in captured.out


def test_streamed_llm_answer_is_not_printed_twice(capsys, seed_index: Path, monkeypatch):
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    import rag.answer.llm

    reply = "In Rotherham 1,400 children were sexually abused between 1997 and 2013 [1]."
    monkeypatch.setattr(rag.answer.llm, "build_chat_model",
                        lambda spec: GenericFakeChatModel(messages=iter([AIMessage(content=reply)])))
    code = main(["--index", str(seed_index), "ask", "How many children were abused in Rotherham?", "--llm", "fake:x"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("1,400 children were sexually abused between 1997 and 2013. [1]") == 1  # piped: the checked answer only
    assert "Sources:" in out and "llm:fake:x" in out
