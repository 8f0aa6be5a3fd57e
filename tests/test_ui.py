"""The web UI: its API endpoint (through gradio_client), uploads, and HTML escaping.

The browser tests (tests/test_ui_browser.py) drive the same app through Chromium.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, SEEDS

#: Gradio's queue calls pandas APIs that pandas 3 deprecates; not ours to fix.
GRADIO_WARNINGS = [pytest.mark.filterwarnings("ignore:.*no_silent_downcasting"),
                   pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]
pytestmark = GRADIO_WARNINGS

ROTHERHAM = "How many children were sexually abused in Rotherham?"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


# --- helpers shared with tests/test_ui_browser.py ------------------------------------------------

def build_seed_index(directory: Path) -> Path:
    from rag.ingest.pipeline import ingest

    ingest([SEEDS], directory, embedder_spec="offline", progress=False, warn=lambda m: None)
    return directory


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_app(index_dir: Path, auth: tuple[str, str] | None = None, **options: Any) -> Iterator[str]:
    """The UI over `index_dir`, served on a free loopback port; yields its URL, then closes it."""
    from rag.ui.app import build_app, launch_app

    app = build_app(index_dir, **options)
    try:
        url = None
        for attempt in range(3):  # another process may take the port between probe and bind
            try:
                url = launch_app(app, host="127.0.0.1", port=free_port(), auth=auth, prevent_thread_lock=True,
                                 quiet=True)
                break
            except OSError:
                if attempt == 2:
                    raise
        assert url and url.startswith("http://127.0.0.1:")
        yield url
    finally:
        app.close()
        app.rag_service.close()  # type: ignore[attr-defined]


# --- fixtures ------------------------------------------------------------------------------------

@pytest.fixture
def index(tmp_path: Path) -> Path:
    return build_seed_index(tmp_path / "index")


@pytest.fixture
def client(index: Path) -> Iterator[Any]:
    from gradio_client import Client

    with running_app(index) as url:
        yield Client(url, verbose=False, download_files=False)


# --- the API endpoint ----------------------------------------------------------------------------

def test_ask_endpoint_returns_the_cli_json(client: Any, index: Path) -> None:
    result = client.predict(ROTHERHAM, api_name="/ask")
    assert isinstance(result, dict)
    for key in ("question", "answer", "abstained", "citations", "passages", "embedder", "generator", "timings_ms"):
        assert key in result
    assert result["question"] == ROTHERHAM
    assert result["abstained"] is False
    assert result["citations"], result
    assert any("1,400" in c["quote"] for c in result["citations"])
    for c in result["citations"]:
        assert set(c) >= {"n", "chunk_id", "source", "title", "start", "end", "quote"}
        assert f"[{c['n']}]" in result["answer"]
    assert result["embedder"].startswith("offline")
    assert result["generator"] == "extractive"

    # The same object `rag ask --json` prints (timings aside).
    from rag.answer.assistant import Assistant
    from rag.config import display_path

    assistant = Assistant(index)
    try:
        expected = assistant.ask(ROTHERHAM).to_json(display_path)
    finally:
        assistant.close()
    expected.pop("timings_ms")
    result.pop("timings_ms")
    assert json.loads(json.dumps(result)) == json.loads(json.dumps(expected))


def test_ask_endpoint_takes_k_and_mode(client: Any) -> None:
    result = client.predict("Who is the chief inspector of schools?", 2, "lexical", api_name="/ask")
    assert result["retrieval_mode"] == "lexical"
    assert 1 <= len(result["passages"]) <= 2


def test_ask_endpoint_reports_bad_input(client: Any) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="retrieval mode"):
        client.predict(ROTHERHAM, 5, "psychic", api_name="/ask")
    with pytest.raises(AppError, match="number of passages"):
        client.predict(ROTHERHAM, 0, "hybrid", api_name="/ask")


def test_only_the_ask_endpoint_is_public(client: Any) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/ask"}


# --- uploads -------------------------------------------------------------------------------------

def _documents(index_dir: Path) -> tuple[int, int]:
    from rag.store.manifest import read_manifest

    manifest = read_manifest(index_dir)
    assert manifest is not None
    return manifest.documents, manifest.generation


def test_bad_uploads_are_rejected_and_the_index_is_unchanged(index: Path, tmp_path: Path) -> None:
    from rag.ui.service import Service
    from rag.ui.uploads import MAX_UPLOAD_BYTES

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    (incoming / "tool.exe").write_bytes(b"MZ\x90\x00 not an article")
    (incoming / "script.js").write_text("alert(1)\n")
    big = incoming / "huge.txt"
    with open(big, "wb") as fh:
        fh.truncate(MAX_UPLOAD_BYTES + 1)
    (incoming / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (incoming / "empty.md").write_bytes(b"")
    (incoming / "fake.pdf").write_text("this is not a PDF at all")
    before = _documents(index)
    service = Service(index)
    try:
        files = [(p, p.name) for p in sorted(incoming.iterdir())]
        result = service.add_files(files)
    finally:
        service.close()
    reasons = dict(result.rejected)
    assert result.added == []
    assert set(reasons) == {p.name for p in incoming.iterdir()}
    assert "not accepted" in reasons["tool.exe"] and "not accepted" in reasons["script.js"]
    assert "too large" in reasons["huge.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "empty" in reasons["empty.md"]
    assert "PDF" in reasons["fake.pdf"]
    assert _documents(index) == before  # same documents, same generation: nothing was written
    assert not any((index / "uploads").glob("*")) if (index / "uploads").exists() else True
    assert any("Rejected" in m for m in result.messages())


def test_a_good_upload_is_added_and_answerable(index: Path, tmp_path: Path) -> None:
    from rag.ui.service import Service

    article = tmp_path / "my article (draft).txt"
    article.write_text(
        "Lighthouse keepers return to Northport\n\n"
        "Northport harbour said on Tuesday that it had hired 12 lighthouse keepers, the first since 1985.\n\n"
        "The harbour master, Ann Kerr, said the keepers would start work in the spring.\n",
        encoding="utf-8",
    )
    documents, generation = _documents(index)
    service = Service(index)
    try:
        before = service.ask("How many lighthouse keepers did Northport hire?")
        result = service.add_files([(article, article.name)])
        assert result.rejected == [] and result.error is None
        assert result.added == ["my_article_draft.txt"]
        assert (index / "uploads" / "my_article_draft.txt").is_file()
        assert _documents(index) == (documents + 1, generation + 1)
        assert result.documents_after == documents + 1
        after = service.ask("How many lighthouse keepers did Northport hire?")  # re-opened on the new index
    finally:
        service.close()
    assert not any("uploads" in p.source for p in before.passages)
    assert any(p.source.endswith("my_article_draft.txt") for p in after.passages)
    assert any("12 lighthouse keepers" in c.quote for c in after.citations)


def test_upload_names_are_made_safe() -> None:
    from rag.ui.uploads import safe_name

    assert safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert safe_name("C:\\Users\\me\\Report 2024.HTML") == "Report_2024.html"
    assert safe_name("<script>.md") == "script.md"
    assert safe_name("...") == "upload"


def test_answers_stream_from_a_configured_llm(index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    import rag.answer.llm
    from rag.answer.types import Answer
    from rag.answer.assistant import Conversation
    from rag.ui.service import Service

    reply = "In Rotherham 1,400 children were sexually abused between 1997 and 2013 [1]."
    monkeypatch.setattr(rag.answer.llm, "build_chat_model",
                        lambda spec: GenericFakeChatModel(messages=iter([AIMessage(content=reply)] * 4)))
    service = Service(index, llm="fake:model")
    try:
        assert service.generators == ["extractive", "fake:model"]
        items = list(service.ask_stream(ROTHERHAM, Conversation(), generator="fake:model"))
        extractive = service.ask(ROTHERHAM, generator="extractive")
        default = service.ask(ROTHERHAM)  # the API's default is the configured model, as for `rag ask`
    finally:
        service.close()
    pieces, final = items[:-1], items[-1]
    assert len(pieces) > 3 and all(isinstance(p, str) for p in pieces)  # streamed token by token
    assert "".join(pieces).startswith(reply)  # (then the extractive text if verification drops the reply)
    assert isinstance(final, Answer) and final.generator == "llm:fake:model"
    assert any("1,400" in c.quote for c in final.citations)
    assert extractive.generator == "extractive"
    assert default.generator == "llm:fake:model"


# --- escaping ------------------------------------------------------------------------------------

def _answer_with_payload() -> Any:
    from rag.answer.types import Answer, Citation
    from rag.retrieve.passage import Passage

    prefix = "Intro & more. "
    quote = f"The council said {SCRIPT} and {IMG} happened."
    text = prefix + quote + ' Then <a href="javascript:alert(1)">x</a> "quoted" it\'s.'
    doc_start = 100
    passage = Passage(rank=1, chunk_id=7, document_id=1, source="/data/<b>evil</b>.txt",
                      title=f"Title {SCRIPT}", start=doc_start, end=doc_start + len(text), text=text, score=0.5)
    other = Passage(rank=2, chunk_id=8, document_id=1, source="/data/other.txt", title=IMG,
                    start=0, end=20, text=f"Other {IMG}", score=0.1)
    start = doc_start + len(prefix)
    citation = Citation(1, 7, passage.source, passage.title, start, start + len(quote), quote)
    answer = Answer(question=f"What? {SCRIPT}", answer=f"{quote} [1]", abstained=False, citations=[citation],
                    passages=[passage, other], embedder="offline", generator="extractive", retrieval_mode="hybrid",
                    timings_ms={"total": 3.0})
    return answer, quote


ALLOWED_TAGS = {"div", "span", "strong", "blockquote", "details", "summary", "mark", "br", "p", "dl", "dt", "dd",
                "ul", "li"}


def _assert_inert(markup: str) -> None:
    """Parse the markup as a browser would: only our own tags, and no attribute that loads or runs."""
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collect().feed(markup)
    assert found
    for tag, attrs in found:
        assert tag in ALLOWED_TAGS, (tag, markup)
        for name, _ in attrs:
            assert name in ("class", "style", "id", "data-n"), (tag, name)


def test_sources_panel_escapes_everything_and_marks_the_quote() -> None:
    from rag.ui.render import sources_html

    answer, quote = _answer_with_payload()
    out = sources_html(answer, display=str)
    _assert_inert(out)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "&lt;b&gt;evil&lt;/b&gt;" in out  # the file name too
    # The highlight wraps exactly the cited span, computed from the offsets.
    assert f"<mark>{html.escape(quote)}</mark>" in out
    assert out.count("<mark>") == 1
    assert html.escape("Intro & more. ") + "<mark>" in out


def test_abstention_panel_shows_closest_passages_escaped() -> None:
    from rag.ui.render import answer_message, sources_html

    answer, _ = _answer_with_payload()
    answer.abstained, answer.citations, answer.answer = True, [], "The articles do not say."
    out = sources_html(answer, display=str)
    _assert_inert(out)
    assert "abstained" in out and "closest passages" in out
    assert "<mark>" not in out
    assert out.count('class="rag-source rag-retrieved"') == 2
    bubble = answer_message(answer)
    assert "No supported answer" in bubble and "rag-abstained" in bubble


def test_the_bubble_says_why_the_model_s_reply_was_not_used_and_what_was_left_out() -> None:
    """As `rag ask` does: the fallback reason, the dropped sentences, and a notice, all escaped."""
    from rag.ui.render import answer_message

    answer, _ = _answer_with_payload()
    answer.fallback_reason = f"the reply was cut off at max_tokens {SCRIPT}"
    bubble = answer_message(answer)
    _assert_inert(bubble)
    assert "rag-fallback" in bubble and "cut off at max_tokens" in bubble
    answer.fallback_reason = None
    answer.dropped = [{"sentence": f"Oxford had 1,400 victims {IMG}", "reason": "no passage says it"}]
    bubble = answer_message(answer)
    _assert_inert(bubble)
    assert "rag-dropped" in bubble and "no passage says it" in bubble and "rag-fallback" not in bubble
    answer.dropped, answer.abstained, answer.notice = [], True, "the index is empty"
    bubble = answer_message(answer)
    assert "rag-notice" in bubble and "the index is empty" in bubble
    answer.notice = None
    assert "rag-notice" not in answer_message(answer) and "rag-dropped" not in answer_message(answer)


def test_chat_messages_escape_questions_and_answers() -> None:
    from rag.ui.render import answer_message, error_message, index_html, user_message

    answer, _ = _answer_with_payload()
    for markup in (user_message(f"Hi {SCRIPT} {IMG}\nnext"), answer_message(answer, f"Understood {IMG}"),
                   error_message(SCRIPT)):
        _assert_inert(markup)
        assert "&lt;" in markup
    assert "<br>" in user_message("a\nb")
    info = {"documents": 1, "chunks": 2, "embedder": IMG, "dimension": 8, "index_type": "flat", "built_at": "x",
            "generation": 1, "sources": [{"source": "/x/<b>.txt", "title": SCRIPT}]}
    _assert_inert(index_html(info))


# --- the command -----------------------------------------------------------------------------------

def test_ui_command_parses_its_options() -> None:
    from rag.cli import ui_cmd

    parser = argparse.ArgumentParser(prog="rag")
    parser.add_argument("--index")
    ui_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["ui"])
    assert (args.host, args.port, args.share, args.handler) == ("127.0.0.1", 7860, False, ui_cmd.run)
    args = parser.parse_args(["ui", "--host", "0.0.0.0", "--port", "8080", "--share", "--k", "3", "--mode", "dense"])
    assert (args.host, args.port, args.share, args.k, args.mode) == ("0.0.0.0", 8080, True, 3, "dense")


def test_login_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.errors import RagError
    from rag.ui.app import auth_from_env

    monkeypatch.delenv("RAG_UI_USER", raising=False)
    monkeypatch.delenv("RAG_UI_PASSWORD", raising=False)
    assert auth_from_env() is None
    monkeypatch.setenv("RAG_UI_USER", "ann")
    with pytest.raises(RagError, match="RAG_UI_PASSWORD"):
        auth_from_env()
    monkeypatch.setenv("RAG_UI_PASSWORD", "s3cret")
    assert auth_from_env() == ("ann", "s3cret")


def test_login_is_required_when_configured(index: Path) -> None:
    import urllib.error
    import urllib.request

    from gradio_client import Client

    with running_app(index, auth=("ann", "s3cret")) as url:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "config", timeout=30)  # noqa: S310 - loopback
        assert refused.value.code == 401
        with pytest.raises(Exception):
            Client(url, auth=("ann", "wrong"), verbose=False)
        result = Client(url, auth=("ann", "s3cret"), verbose=False).predict(ROTHERHAM, api_name="/ask")
        assert result["abstained"] is False


def test_importing_the_command_does_not_import_gradio() -> None:
    code = "import sys, rag.cli.ui_cmd, rag.ui; sys.exit(1 if 'gradio' in sys.modules else 0)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=dict(os.environ), timeout=60)
    assert done.returncode == 0


# --- examples and start-up -------------------------------------------------------------------------

OTHER_CORPUS = {
    "library.txt": "Bristol opens a new central library\n\nBristol City Council opened a new central library on"
                   " Monday. The library cost 12 million pounds and holds 80,000 books. The mayor said the"
                   " library would open seven days a week.",
    "harbour.txt": "Harbour festival returns to Bristol\n\nThe harbour festival returned to Bristol in July."
                   " Organisers said 250,000 visitors came over the three days of the festival.",
}


def test_example_questions_come_from_the_served_index(tmp_path: Path) -> None:
    from rag.ingest.pipeline import ingest
    from rag.ui.app import example_topics
    from rag.ui.service import Service

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in OTHER_CORPUS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    ingest([corpus], tmp_path / "other", embedder_spec="offline", progress=False, warn=lambda m: None)
    service = Service(tmp_path / "other")
    try:
        topics = example_topics(service)
        assert topics and all("Bristol" in t.headline and t.headline in t.question for t in topics), topics
        assert not any("Rotherham" in t.question or "LGA" in t.question for t in topics)
        for topic in topics:  # clicking one gives an answer, not "No supported answer"
            assert not service.ask(topic.question).abstained
    finally:
        service.close()
    with running_app(tmp_path / "other") as url:
        import urllib.request

        config = urllib.request.urlopen(url + "config", timeout=30).read().decode()  # noqa: S310 - loopback
    assert "Rotherham" not in config and "LGA" not in config and "Bristol" in config


def test_no_examples_when_the_index_answers_none(tmp_path: Path) -> None:
    from rag.ui.app import example_topics

    class Nothing:
        def info(self) -> dict[str, Any]:
            return {"sources": [{"title": ""}, {"title": "x" * 500}]}

    assert example_topics(Nothing()) == []  # type: ignore[arg-type]


def test_rag_ui_prints_one_line_naming_share_not_gradios_hint(index: Path) -> None:
    import signal

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "rag", "--index", str(index), "ui", "--port", str(free_port())],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert line.startswith(f"Serving {index} on http://127.0.0.1:") and "--share" in line, line
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "share=True" not in out + err and "launch()" not in out + err and "Traceback" not in err
    assert err.strip() == "Stopped."
