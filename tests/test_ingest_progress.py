"""Ingest shows progress on a terminal only, reports it to a callback, stops cleanly on Ctrl-C,
and publishes nothing when nothing changed (issue 21; issue 20 item 13)."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest

from rag.cli import main
from rag.ingest.pipeline import IngestProgress, ingest

from .conftest import SEEDS


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as stderr does in an interactive shell."""

    def isatty(self) -> bool:
        return True


class Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def _listing(index: Path) -> dict[str, int]:
    """Every file of the index directory with its modification time (ns); the writer lock aside."""
    return {p.name: p.stat().st_mtime_ns for p in sorted(index.iterdir()) if not p.name.startswith(".")}


def _ingest(paths: list[Path], index: Path, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("progress", False)
    return ingest(paths, index, embedder_spec="offline", warn=lambda m: None, **kw)


# --- progress on a terminal, nothing when piped ------------------------------------------------------


def test_the_bars_appear_on_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    stream = Terminal()
    monkeypatch.setattr("sys.stderr", stream)
    report = _ingest([SEEDS], tmp_path / "ix", progress=True)
    shown = stream.getvalue()
    assert "Reading" in shown and "/2 [" in shown and "files/s" in shown  # files: count of total, rate
    assert "Embedding" in shown and "chunks/s" in shown
    last = shown.rstrip("\n").rsplit("\n", 1)[-1].rsplit("\r", 1)[-1]  # the bars cleared, one line left
    assert report.chunks_embedded > 0
    assert last.startswith(f"Read 2 of 2 files and embedded {report.chunks_embedded} chunks in ")
    assert last.endswith(" chunks/s)")


def test_no_bars_when_piped_or_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    stream = Pipe()
    monkeypatch.setattr("sys.stderr", stream)
    _ingest([SEEDS], tmp_path / "piped", progress=True)
    assert stream.getvalue() == ""
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    _ingest([SEEDS], tmp_path / "off", progress=False)
    assert terminal.getvalue() == ""


@pytest.mark.parametrize(("flags", "bars"), [((), True), (("--json",), False), (("-q",), False)])
def test_rag_ingest_shows_the_bars_only_on_a_terminal_without_json(tmp_path: Path, monkeypatch, capsys, flags, bars):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["--index", str(tmp_path / "ix"), "ingest", str(SEEDS), *flags]) == 0
    out = capsys.readouterr().out
    assert ("Embedding" in terminal.getvalue()) is bars
    assert ("Read 2 of 2 files and embedded" in terminal.getvalue()) is bars
    if "--json" in flags:
        assert json.loads(out)["documents_new"] == 2  # stdout is only the JSON


def test_rag_ingest_piped_prints_no_bar(tmp_path: Path, monkeypatch, capsys):
    pipe = Pipe()
    monkeypatch.setattr("sys.stderr", pipe)
    assert main(["--index", str(tmp_path / "ix"), "ingest", str(SEEDS)]) == 0
    assert "Embedding" not in pipe.getvalue() and "\r" not in pipe.getvalue()
    assert capsys.readouterr().out.startswith("Built the index")


def test_the_callback_sees_every_file_and_chunk(tmp_path: Path):
    seen: list[IngestProgress] = []
    report = _ingest([SEEDS], tmp_path / "ix", on_progress=seen.append)
    files = len(list(SEEDS.iterdir()))
    assert [p.files_done for p in seen if p.chunks_embedded == 0][:files] == list(range(1, files + 1))
    assert all(p.files_total == files for p in seen)
    assert all(a.chunks_embedded <= b.chunks_embedded and a.files_done <= b.files_done for a, b in zip(seen, seen[1:]))
    assert seen[-1] == IngestProgress(files, files, report.chunks_embedded, report.chunks_embedded)


def test_ctrl_c_during_the_bar_leaves_the_published_index_unchanged(tmp_path: Path, seeds_copy: Path, monkeypatch):
    _ingest([seeds_copy], tmp_path / "ix")
    before = _listing(tmp_path / "ix")
    manifest = (tmp_path / "ix" / "manifest.json").read_bytes()
    (seeds_copy / "ferry.txt").write_text("Ferry returns\n\nThe ferry to the island returned on Monday.", encoding="utf-8")
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)

    def interrupt(step: IngestProgress) -> None:
        if step.chunks_embedded:  # Ctrl-C while the model works, the bar on screen
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _ingest([seeds_copy], tmp_path / "ix", progress=True, on_progress=interrupt)
    assert "Embedding" in terminal.getvalue()
    assert _listing(tmp_path / "ix") == before
    assert (tmp_path / "ix" / "manifest.json").read_bytes() == manifest
    assert _ingest([seeds_copy], tmp_path / "ix").documents_new == 1  # and the next ingest works


# --- a no-change ingest publishes nothing ----------------------------------------------------------------


def test_an_unchanged_ingest_writes_nothing(tmp_path: Path, seeds_copy: Path, monkeypatch):
    first = _ingest([seeds_copy], tmp_path / "ix")
    assert first.published
    before = _listing(tmp_path / "ix")

    def no_writer(*a, **k):  # type: ignore[no-untyped-def]
        raise AssertionError("an up-to-date index needs no working copy")

    monkeypatch.setattr("rag.store.embedded._working_copy", no_writer)
    again = _ingest([seeds_copy], tmp_path / "ix")
    assert not again.published and again.documents_unchanged == 2 and again.chunks_embedded == 0
    assert (again.documents_total, again.chunks_total) == (first.documents_total, first.chunks_total)
    assert again.chunks_unchanged == first.chunks_total
    assert _listing(tmp_path / "ix") == before


def test_ingest_tunes_its_embedder_for_bulk_only_when_it_embeds(tmp_path: Path, seeds_copy: Path, monkeypatch):
    """Ingest asks its own embedder for throughput (the onnx backend's spinning threads); an
    ingest that finds nothing to do does not pay for re-opening the model."""
    from embeddings.offline import OfflineEmbedder

    calls: list[str] = []
    monkeypatch.setattr(OfflineEmbedder, "for_bulk", lambda self: calls.append(self.spec), raising=False)
    _ingest([seeds_copy], tmp_path / "ix")
    assert calls == ["offline"]
    _ingest([seeds_copy], tmp_path / "ix")
    assert calls == ["offline"]


def test_an_unchanged_ingest_of_one_root_of_two_writes_nothing(tmp_path: Path, seeds_copy: Path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "ferry.txt").write_text("Ferry returns\n\nThe ferry to the island returned on Monday.", encoding="utf-8")
    _ingest([seeds_copy, other], tmp_path / "ix")
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    before = _listing(tmp_path / "ix")
    report = _ingest([seeds_copy], tmp_path / "ix")  # the ferry article is not under this root: kept
    assert not report.published and report.documents_unchanged == 2 and report.documents_total == 3
    assert _listing(tmp_path / "ix") == before
    assert json.loads((tmp_path / "ix" / "manifest.json").read_text())["generation"] == manifest["generation"]


def test_a_change_still_publishes_a_new_generation(tmp_path: Path, seeds_copy: Path):
    _ingest([seeds_copy], tmp_path / "ix")
    generation = json.loads((tmp_path / "ix" / "manifest.json").read_text())["generation"]
    target = sorted(seeds_copy.iterdir())[0]
    target.write_text(target.read_text(encoding="utf-8") + "\nA new closing sentence.\n", encoding="utf-8")
    report = _ingest([seeds_copy], tmp_path / "ix")
    assert report.published and report.documents_updated == 1
    assert json.loads((tmp_path / "ix" / "manifest.json").read_text())["generation"] == generation + 1
    os.remove(target)
    report = _ingest([seeds_copy], tmp_path / "ix")
    assert report.published and report.documents_removed == 1


def test_a_skipped_file_does_not_make_an_unchanged_ingest_write(tmp_path: Path, seeds_copy: Path):
    (seeds_copy / "empty.txt").write_bytes(b"")
    _ingest([seeds_copy], tmp_path / "ix")
    before = _listing(tmp_path / "ix")
    warnings: list[str] = []
    report = ingest([seeds_copy], tmp_path / "ix", embedder_spec="offline", progress=False, warn=warnings.append)
    assert not report.published and [w for w in warnings if "empty.txt" in w]
    assert report.skipped and report.skipped[0][0].endswith("empty.txt")
    assert _listing(tmp_path / "ix") == before


def test_rag_ingest_says_nothing_was_written(tmp_path: Path, capsys):
    folder = tmp_path / "news"
    shutil.copytree(SEEDS, folder)
    assert main(["--index", str(tmp_path / "ix"), "ingest", str(folder), "-q"]) == 0
    capsys.readouterr()
    assert main(["--index", str(tmp_path / "ix"), "ingest", str(folder), "-q"]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert head == f"The index at {tmp_path / 'ix'} is up to date: 2 documents unchanged; nothing was written"
    assert main(["--index", str(tmp_path / "ix"), "ingest", str(folder), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["published"] is False
