"""The UI's event handlers, called as Gradio calls them (no server, no browser): an index that
breaks while the UI serves, example questions after an upload, files an interrupted upload left.
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_ui import GRADIO_WARNINGS, OTHER_CORPUS, build_seed_index

pytestmark = GRADIO_WARNINGS

NORTHPORT = ("Lighthouse keepers return to Northport\n\n"
             "Northport harbour said on Tuesday that it had hired 12 lighthouse keepers, the first since 1985.\n\n"
             "The harbour master, Ann Kerr, said the keepers would start work in the spring.\n")
WAKEFIELD = ("Wakefield council approves new bus routes\n\n"
             "The Wakefield council met on Monday and approved 40 new bus routes for the district.\n")
KEEPERS = "How many lighthouse keepers did Northport hire?"


@pytest.fixture
def index(tmp_path: Path) -> Path:
    return build_seed_index(tmp_path / "index")


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "incoming" / "northport.txt"
    path.parent.mkdir()
    path.write_text(NORTHPORT, encoding="utf-8")
    return path


class Handlers:
    """The Blocks built by `build_app`, with its event handlers by function name."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.service = app.rag_service
        self.fns: dict[str, Callable[..., Any]] = {f.name: f.fn for f in app.fns.values()}

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return self.fns[name]

    def chat(self, question: str) -> str:
        """The last chat bubble `respond` yields for `question`."""
        *_, last = self.respond(question, [], None, 5, "hybrid", "extractive", "", "", [], "")
        return str(last[0][-1]["content"])


@pytest.fixture
def ui() -> Iterator[Callable[[Path], Handlers]]:
    from rag.ui.app import build_app

    built: list[Any] = []

    def make(index_dir: Path) -> Handlers:
        built.append(build_app(index_dir))
        return Handlers(built[-1])

    yield make
    for app in built:
        app.rag_service.close()


def text_lines(markup: str) -> list[str]:
    """What a panel shows, one line per element, unescaped."""
    return [html.unescape(t).strip() for t in re.split(r"<[^>]+>", markup) if t.strip()]


def cli_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The one line `rag ARGV...` prints to stderr (it must fail)."""
    from rag.cli import main

    capsys.readouterr()
    assert main(list(argv)) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: ") and "\n" not in err, err
    return err


def snapshot(directory: Path) -> dict[str, str]:
    """Every file under `directory`, with a digest of its bytes."""
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file()}


# --- 1. an index that becomes unreadable while the UI serves -------------------------------------

@pytest.mark.parametrize("damage", ["manifest deleted", "manifest garbled"])
def test_every_ui_action_shows_the_clis_line_when_the_index_breaks(
    damage: str, index: Path, article: Path, ui: Callable[[Path], Handlers], capsys: pytest.CaptureFixture[str],
) -> None:
    import gradio as gr

    handlers = ui(index)
    if damage == "manifest deleted":
        (index / "manifest.json").unlink()
    else:
        (index / "manifest.json").write_text("{not json", encoding="utf-8")
    before = snapshot(index)
    line = cli_error(capsys, "--index", str(index), "ingest", str(article))
    assert line == cli_error(capsys, "--index", str(index), "ask", KEEPERS)

    status, panel, files, *_ = handlers.add_uploads([str(article)])
    assert line in text_lines(status)
    assert line in text_lines(panel)
    assert snapshot(index) == before  # nothing copied in, nothing removed
    assert not (index / "uploads").exists()
    assert files is not None  # the chosen files stay, to add again once the index is back
    assert line in text_lines(handlers.page_load()[0])

    assert line in " ".join(text_lines(handlers.chat(KEEPERS)))
    with pytest.raises(gr.Error) as refused:
        handlers.ask(KEEPERS)
    assert f"Error: {refused.value.message}" == line
    assert snapshot(index) == before


def test_questions_follow_the_published_index_without_a_reload(
    index: Path, article: Path, ui: Callable[[Path], Handlers], capsys: pytest.CaptureFixture[str],
) -> None:
    import gradio as gr

    from rag.ingest.pipeline import ingest

    handlers = ui(index)  # its example questions opened the index
    assert "No supported answer" in handlers.chat(KEEPERS)
    ingest([article], index, embedder_spec="offline", progress=False, warn=lambda m: None)  # `rag ingest` elsewhere
    assert "12 lighthouse keepers" in handlers.chat(KEEPERS)

    (index / "manifest.json").unlink()
    line = cli_error(capsys, "--index", str(index), "ask", KEEPERS)
    for _ in range(2):  # every question, not only the first after the damage
        assert line in " ".join(text_lines(handlers.chat(KEEPERS)))
        with pytest.raises(gr.Error) as refused:
            handlers.ask(KEEPERS)
        assert f"Error: {refused.value.message}" == line


def test_an_upload_to_an_index_that_went_away_creates_none(
    index: Path, article: Path, ui: Callable[[Path], Handlers], capsys: pytest.CaptureFixture[str],
) -> None:
    handlers = ui(index)
    shutil.rmtree(index)
    status, *_ = handlers.add_uploads([str(article)])
    assert cli_error(capsys, "--index", str(index), "info") in text_lines(status)
    assert not index.exists()  # the upload did not start a new index holding only itself


def test_an_index_that_breaks_mid_upload_gets_its_uploads_folder_back(
    index: Path, article: Path, tmp_path: Path, ui: Callable[[Path], Handlers], monkeypatch: pytest.MonkeyPatch,
) -> None:
    import rag.ui.uploads

    handlers = ui(index)
    first = tmp_path / "story.txt"
    first.write_text(WAKEFIELD, encoding="utf-8")
    assert handlers.service.add_files([(first, "story.txt")]).added == ["story.txt"]
    real_ingest = rag.ui.uploads.ingest

    def manifest_lost_then_ingest(*args: Any, **kwargs: Any) -> Any:
        (index / "manifest.json").unlink()
        return real_ingest(*args, **kwargs)

    monkeypatch.setattr(rag.ui.uploads, "ingest", manifest_lost_then_ingest)
    update = tmp_path / "update" / "story.txt"
    update.parent.mkdir()
    update.write_text(NORTHPORT, encoding="utf-8")
    before = snapshot(index)
    status, *_ = handlers.add_uploads([str(article), str(update)])
    lines = text_lines(status)
    assert any(m.startswith("Error: ") and "no manifest.json" in m for m in lines), lines
    after = snapshot(index)
    assert {k: v for k, v in before.items() if k != "manifest.json"} == after  # story.txt is the old one again


# --- 2. example questions after an upload ---------------------------------------------------------

def _corpus_index(tmp_path: Path, articles: dict[str, str]) -> Path:
    from rag.ingest.pipeline import ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in articles.items():
        (corpus / name).write_text(text, encoding="utf-8")
    ingest([corpus], tmp_path / "other", embedder_spec="offline", progress=False, warn=lambda m: None)
    return tmp_path / "other"


def shown_topics(updates: tuple[Any, ...] | list[Any]) -> list[str]:
    """The headlines the topic buttons show, from (topics box update, *button updates)."""
    box, *buttons = updates
    return [b["value"] for b in buttons if b.get("visible")] if box.get("visible") else []


def test_an_upload_refreshes_the_example_questions(
    tmp_path: Path, article: Path, ui: Callable[[Path], Handlers],
) -> None:
    handlers = ui(_corpus_index(tmp_path, OTHER_CORPUS))
    old = shown_topics(handlers.page_load()[1:])
    assert old and all("Bristol" in headline for headline in old), old

    status, _, files, *topics = handlers.add_uploads([str(article)])
    assert "Added northport.txt" in text_lines(status) and files is None
    headlines = shown_topics(topics)
    assert headlines[0] == "Lighthouse keepers return to Northport", headlines  # the new article first
    question = handlers.pick_example(headlines[0])  # clicking one fills the question box
    assert "Lighthouse keepers return to Northport" in question and question.endswith("?")
    assert not handlers.service.ask(question).abstained
    assert shown_topics(handlers.page_load()[1:]) == headlines  # a page opened later shows them too


def test_examples_appear_after_an_upload_when_the_index_had_none(
    tmp_path: Path, article: Path, ui: Callable[[Path], Handlers],
) -> None:
    long_title = "A headline far too long to make a short example question out of, " * 3
    handlers = ui(_corpus_index(tmp_path, {"long.txt": f"{long_title.strip()}\n\n" + OTHER_CORPUS["library.txt"]}))
    assert shown_topics(handlers.page_load()[1:]) == []
    _, _, _, *topics = handlers.add_uploads([str(article)])
    assert shown_topics(topics) == ["Lighthouse keepers return to Northport"]


# --- 3. files an interrupted upload left in the uploads folder --------------------------------------

def _interrupted_uploads(index: Path, tmp_path: Path) -> None:
    """What a UI killed mid-upload leaves: a copy the index never took in, and a new version of
    an earlier upload whose old version the index still holds."""
    from rag.ui.service import Service

    earlier = tmp_path / "earlier.txt"
    earlier.write_text("Wakefield council meets\n\nThe Wakefield council met on Monday to discuss parking.\n",
                       encoding="utf-8")
    service = Service(index)
    try:
        assert service.add_files([(earlier, "story.txt")]).added == ["story.txt"]
    finally:
        service.close()
    (index / "uploads" / "story.txt").write_text(WAKEFIELD, encoding="utf-8")
    (index / "uploads" / "leftover.txt").write_text(NORTHPORT, encoding="utf-8")


def test_files_an_interrupted_upload_left_are_reported_then_added_with_the_next(
    index: Path, tmp_path: Path, ui: Callable[[Path], Handlers],
) -> None:
    _interrupted_uploads(index, tmp_path)
    handlers = ui(index)
    assert handlers.service.pending_uploads() == ["leftover.txt", "story.txt"]
    notice = [m for m in text_lines(handlers.page_load()[0]) if "not in the index" in m]
    assert len(notice) == 1 and "leftover.txt, story.txt" in notice[0], notice
    assert handlers.service.ask(KEEPERS).abstained  # not answered from a file the index lacks
    with handlers.service._ingest_lock:  # an upload running here: what is in the folder may be its own
        assert handlers.service.pending_uploads() == []

    other = tmp_path / "other.txt"
    other.write_text(OTHER_CORPUS["harbour.txt"], encoding="utf-8")
    status, panel, *_ = handlers.add_uploads([str(other)])
    lines = text_lines(status)
    assert "Added other.txt" in lines
    assert "Added leftover.txt (left in the uploads folder by an upload that did not finish)" in lines
    assert "Added story.txt (left in the uploads folder by an upload that did not finish)" in lines
    assert handlers.service.pending_uploads() == []
    assert not any("not in the index" in m for m in text_lines(panel))
    assert any("12 lighthouse keepers" in c.quote for c in handlers.service.ask(KEEPERS).citations)
    assert "40 new bus routes" in handlers.service.ask("How many new bus routes did Wakefield approve?").answer


def test_add_with_no_new_files_adds_what_an_interrupted_upload_left(
    index: Path, tmp_path: Path, ui: Callable[[Path], Handlers],
) -> None:
    handlers = ui(index)
    status, *_ = handlers.add_uploads(None)
    assert text_lines(status)[0].startswith("No files to add")
    _interrupted_uploads(index, tmp_path)
    status, *_ = handlers.add_uploads(None)
    assert [m for m in text_lines(status) if m.startswith("Added")] == [
        "Added leftover.txt (left in the uploads folder by an upload that did not finish)",
        "Added story.txt (left in the uploads folder by an upload that did not finish)",
    ]
    assert handlers.service.pending_uploads() == []


def test_a_copy_cut_short_leaves_no_half_file_in_the_uploads_folder(
    index: Path, article: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    import rag.ui.uploads
    from rag.ui.uploads import add_files

    class Killed(BaseException):
        pass

    def half_then_die(source: Path, target: Path) -> None:
        Path(target).write_bytes(Path(source).read_bytes()[:40])
        raise Killed

    monkeypatch.setattr(rag.ui.uploads.shutil, "copyfile", half_then_die)
    with pytest.raises(Killed):
        add_files([(article, "northport.txt")], index)
    assert not (index / "uploads" / "northport.txt").exists()


def test_rag_ui_names_files_an_interrupted_upload_left_when_it_starts(
    index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import argparse

    import rag.ui.app
    from rag.cli import ui_cmd

    _interrupted_uploads(index, tmp_path)
    monkeypatch.setattr(rag.ui.app, "launch_app", lambda app, **options: "http://127.0.0.1:1/")  # never serves
    parser = argparse.ArgumentParser(prog="rag")
    parser.add_argument("--index")
    ui_cmd.register(parser.add_subparsers(dest="command"))
    capsys.readouterr()
    assert ui_cmd.run(parser.parse_args(["--index", str(index), "ui"])) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("Warning:")]
    assert len(warnings) == 1 and "leftover.txt, story.txt" in warnings[0], warnings


# --- 4. uploads that share a name, or bytes, with an earlier one ----------------------------------

FERRY = ("Ferry service to Skerry Island resumes\n\n"
         "The ferry to Skerry Island resumed on Thursday after the harbour bought a new boat for 2 million pounds.\n")
LIGHTHOUSE = ("Lighthouse at Gull Point repainted\n\n"
              "The lighthouse at Gull Point was repainted red and white on Wednesday by 6 volunteers.\n")


def _upload_file(tmp_path: Path, folder: str, text: str, name: str = "upload_article.txt") -> Path:
    path = tmp_path / folder / name
    path.parent.mkdir()
    path.write_text(text, encoding="utf-8")
    return path


def test_an_upload_never_replaces_another_of_the_same_name(
    index: Path, tmp_path: Path, ui: Callable[[Path], Handlers],
) -> None:
    handlers = ui(index)
    lighthouse = _upload_file(tmp_path, "first", LIGHTHOUSE)
    status, *_ = handlers.add_uploads([str(lighthouse)])
    assert "Added upload_article.txt" in text_lines(status)
    count = len(handlers.service.info()["sources"])

    status, *_ = handlers.add_uploads([str(_upload_file(tmp_path, "second", FERRY))])
    lines = text_lines(status)
    assert "Added upload_article.txt as upload_article-2.txt (a different file named upload_article.txt is"\
           " already in the index)" in lines, lines
    assert f"The index now holds {count + 1} document(s)." in lines
    assert "6 volunteers" in handlers.service.ask("How many volunteers repainted the Gull Point lighthouse?").answer
    assert "2 million" in handlers.service.ask("How much did the new Skerry Island ferry boat cost?").answer

    status, *_ = handlers.add_uploads([str(lighthouse)])  # the very same file again
    lines = text_lines(status)
    assert "Already in the index: upload_article.txt; nothing changed" in lines, lines
    assert f"The index now holds {count + 1} document(s)." in lines
    assert sorted(p.name for p in (index / "uploads").iterdir()) == ["upload_article-2.txt", "upload_article.txt"]

    renamed = _upload_file(tmp_path, "third", LIGHTHOUSE, name="gull.txt")  # the same bytes, another name
    status, *_ = handlers.add_uploads([str(renamed)])
    assert "Already in the index: gull.txt (the same file as upload_article.txt); nothing changed" \
        in text_lines(status)


def test_two_different_files_of_one_name_in_one_upload_are_both_added(
    index: Path, tmp_path: Path, ui: Callable[[Path], Handlers],
) -> None:
    handlers = ui(index)
    files = [_upload_file(tmp_path, "a", LIGHTHOUSE), _upload_file(tmp_path, "b", FERRY),
             _upload_file(tmp_path, "c", FERRY)]
    lines = text_lines(handlers.add_uploads([str(f) for f in files])[0])
    assert "Added upload_article.txt" in lines
    assert any(m.startswith("Added upload_article.txt as upload_article-2.txt") for m in lines), lines
    assert "Rejected upload_article.txt: the same file was given twice" in lines


# --- 5. upload progress ---------------------------------------------------------------------------

def test_an_upload_reports_files_read_and_chunks_embedded_as_it_goes(
    index: Path, article: Path, ui: Callable[[Path], Handlers],
) -> None:
    handlers = ui(index)
    seen: list[tuple[float, str]] = []

    def progress(fraction: float, desc: str = "", **_: Any) -> None:  # what gr.Progress is called with
        seen.append((fraction, desc))

    status, *_ = handlers.add_uploads([str(article)], progress)
    assert "Added northport.txt" in text_lines(status)
    fractions = [fraction for fraction, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0, seen
    counts = [re.fullmatch(r"Indexing: (\d+)/(\d+) files read, (\d+)/(\d+) chunks embedded", desc) for _, desc in seen]
    counts = [tuple(map(int, m.groups())) for m in counts if m]
    assert counts, seen
    files_done, files_total, embedded, queued = counts[-1]
    assert files_done == files_total == 1 and embedded == queued > 0, counts
