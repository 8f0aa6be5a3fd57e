"""The family hunt (bench/fault_matrix.py) as tests: hostile conditions give one line, lose nothing.

Read-only and full-disk cases mount a small tmpfs and are skipped where mounting is not
permitted (not root, or no CAP_SYS_ADMIN).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from rag.cli import main
from rag.ingest.pipeline import ingest

from .conftest import REPO, SEEDS

QUESTION = "How many children were sexually abused in Rotherham?"


def _cli(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


def _answers(capsys, index: Path) -> bool:  # type: ignore[no-untyped-def]
    code, out, _ = _cli(capsys, "--index", str(index), "ask", QUESTION, "--json")
    return code == 0 and "1,400" in json.loads(out)["answer"]


def _published(index: Path) -> dict[str, bytes]:
    manifest = json.loads((index / "manifest.json").read_text())
    return {name: (index / name).read_bytes() for name in ("manifest.json", manifest["sqlite_file"], manifest["faiss_file"])}


@contextmanager
def _tmpfs(path: Path, size: str) -> Iterator[None]:
    path.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here ({done.stderr.decode(errors='replace').strip()})")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _more_articles(folder: Path, n: int) -> Path:
    shutil.copytree(SEEDS, folder)
    for i in range(n):
        (folder / f"new-{i}.txt").write_text(
            f"Wakefield story {i}\n\n" + " ".join(f"Sentence {j} of story {i} is about the Wakefield library."
                                                  for j in range(30)), encoding="utf-8")
    return folder


# --- the file system -------------------------------------------------------------------------------

def test_a_read_only_index_answers_and_ingest_says_why_it_cannot_write(capsys, tmp_path: Path):
    mount = tmp_path / "ro"
    with _tmpfs(mount, "8m"):
        index = mount / "ix"
        ingest([SEEDS], index, embedder_spec="offline", progress=False)
        before = _published(index)
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        code, _, err = _cli(capsys, "--index", str(index), "ingest", str(_more_articles(tmp_path / "more", 2)), "-q")
        _one_line_error(code, err, "read-only", "asking works")
        assert _answers(capsys, index)
        assert _cli(capsys, "--index", str(index), "info")[0] == 0
        _one_line_error(*_cli(capsys, "--index", str(index), "index", "recover")[::2], "read-only")
        assert _published(index) == before


def test_a_full_disk_is_one_line_and_the_published_index_is_untouched(capsys, tmp_path: Path):
    mount = tmp_path / "full"
    with _tmpfs(mount, "2m"):
        index = mount / "ix"
        ingest([SEEDS], index, embedder_spec="offline", progress=False)
        before = _published(index)
        with suppress(OSError), open(mount / "filler", "wb") as fh:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        code, _, err = _cli(capsys, "--index", str(index), "ingest", str(_more_articles(tmp_path / "more", 30)), "-q")
        _one_line_error(code, err, "full" if "disk" in err else "no space")
        assert _published(index) == before
        assert sorted(p.name for p in index.iterdir() if p.name.startswith(("store-", "vectors-"))) == sorted(
            [n for n in before if n != "manifest.json"] + [f"store-{json.loads(before['manifest.json'])['generation']}.manifest.json"])
        assert _answers(capsys, index)


def test_every_stage_of_a_full_disk_gives_the_same_line(capsys, tmp_path: Path, monkeypatch):
    """Without a mount: the SQLite copy, the FAISS write and the manifest write each failing."""
    import errno
    import sqlite3

    index = tmp_path / "ix"
    ingest([SEEDS], index, embedder_spec="offline", progress=False)
    before = _published(index)
    more = _more_articles(tmp_path / "more", 2)

    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(index / "x.tmp"))

    def full_faiss(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("Error: 'ret == (size)' failed: write error in x.faiss.tmp: 1 != 2 (No space left on device)")

    def full_sqlite(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("database or disk is full")

    for target, fake in (("rag.store.embedded.write_manifest", full), ("faiss.write_index", full_faiss),
                         ("rag.store.embedded._working_copy", full_sqlite),
                         ("rag.store.database._migrate", full_sqlite)):  # not "unreadable: rebuild"
        with monkeypatch.context() as m:
            m.setattr(target, fake)
            code, _, err = _cli(capsys, "--index", str(index), "ingest", str(more), "-q")
        _one_line_error(code, err, "free some space")
        assert _published(index) == before, target
    assert _answers(capsys, index)


def test_a_write_that_fails_mid_transaction_leaves_no_journal(capsys, tmp_path: Path, monkeypatch):
    """A full disk can stop SQLite from finishing a transaction, and its `-journal` stays beside
    the new generation's file: the failed write removes it with its other files, not the next
    ingest."""
    import sqlite3

    from rag.store import embedded

    index = tmp_path / "ix"
    ingest([SEEDS], index, embedder_spec="offline", progress=False)
    before = _published(index)
    real_copy = embedded._working_copy
    stuck: list[sqlite3.Connection] = []

    def copy_then_disk_full(directory: Path, base, generation: int):  # type: ignore[no-untyped-def]
        real_copy(directory, base, generation).close()
        other = sqlite3.connect(directory / f"store-{generation}.sqlite3", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("DELETE FROM chunks")  # a transaction that the full disk never lets finish
        stuck.append(other)
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(embedded, "_working_copy", copy_then_disk_full)
    code, _, err = _cli(capsys, "--index", str(index), "ingest", str(_more_articles(tmp_path / "more", 2)), "-q")
    try:
        _one_line_error(code, err, "free some space")
        leftovers = sorted(p.name for p in index.iterdir() if p.name.startswith(("store-", "vectors-")))
        assert leftovers == ["store-1.manifest.json", "store-1.sqlite3", "vectors-1.faiss"]
        assert _published(index) == before
    finally:
        for conn in stuck:
            conn.close()


# --- an index from a newer rag -------------------------------------------------------------------

def test_rag_ui_refuses_an_index_from_a_newer_rag_before_serving(capsys, tmp_path: Path):
    import sqlite3

    index = tmp_path / "ix"
    ingest([SEEDS], index, embedder_spec="offline", progress=False)
    db = index / json.loads((index / "manifest.json").read_text())["sqlite_file"]
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (99, 'future')")
    conn.commit()
    conn.close()
    _one_line_error(*_cli(capsys, "--index", str(index), "ui", "--port", "1")[::2], "newer", "upgrade")


# --- invalid UTF-8 -------------------------------------------------------------------------------

def test_questions_with_undecodable_bytes_are_answered(capsys, seed_index: Path, tmp_path: Path):
    question = os.fsdecode(b"How many children were sexually abused in Rotherham \xff\xfe?")
    code, out, err = _cli(capsys, "--index", str(seed_index), "ask", question, "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert "\ufffd" in answer["question"] and "1,400" in answer["answer"]
    assert _cli(capsys, "--index", str(seed_index), "ask", question)[0] == 0
    questions = tmp_path / "q.txt"
    questions.write_bytes(b"How many children were sexually abused in Rotherham \xff?\n\xed\xa0\x80\n")
    code, out, _ = _cli(capsys, "--index", str(seed_index), "ask", "--questions", str(questions), "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2 and "1,400" in lines[0]["answer"]


def test_the_ui_service_answers_a_question_with_a_lone_surrogate(seed_index: Path):
    from rag.ui.service import Service

    service = Service(seed_index)
    try:
        answer = service.ask("How many children were sexually abused in Rotherham \udcff?")
    finally:
        service.close()
    assert "1,400" in answer.answer
    json.dumps(answer.to_json(str), ensure_ascii=False).encode("utf-8")  # encodable as the API sends it


def test_a_file_name_that_is_not_utf8_is_one_warning_in_ingest(capsys, tmp_path: Path):
    folder = _more_articles(tmp_path / "docs", 0)
    try:
        (folder / os.fsdecode(b"caf\xe9.txt")).write_bytes(b"Caf\xe9 story\n\nThe caf\xe9 council met on Monday.")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses non-UTF-8 names")
    code, out, err = _cli(capsys, "--index", str(tmp_path / "ix"), "ingest", str(folder))
    assert code == 0 and "Traceback" not in err
    (warning,) = [line for line in err.splitlines() if line.startswith("Warning:")]
    assert "caf\\udce9.txt" in warning and "not valid UTF-8" in warning
    assert "3 found, 2 read, 1 skipped" in out


# --- hostile files -------------------------------------------------------------------------------

def _pdf(streams: list[bytes]) -> bytes:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from fault_matrix import _pdf as build
    finally:
        sys.path.pop(0)
    return build(streams)


def _flate(n_bytes: int) -> bytes:
    c = zlib.compressobj(9)
    head = c.compress(b"BT /F1 12 Tf 72 720 Td (Wakefield council approved the budget) Tj ET\n")
    return head + b"".join(c.compress(b" " * (1 << 20)) for _ in range(n_bytes >> 20)) + c.flush()


def test_a_pdf_stream_that_expands_past_the_limit_is_skipped_at_once(tmp_path: Path):
    from rag.ingest.loading import PDF_MAX_STREAM_BYTES, Skipped, read_document

    (tmp_path / "bomb.pdf").write_bytes(_pdf([_flate(PDF_MAX_STREAM_BYTES * 3)]))
    result = read_document(tmp_path / "bomb.pdf")
    assert isinstance(result, Skipped) and "compression bomb" in result.reason


def test_pdf_pages_that_expand_past_the_total_are_skipped(tmp_path: Path, monkeypatch):
    from rag.ingest import loading

    monkeypatch.setattr(loading, "PDF_MAX_CONTENT_BYTES", 3 << 20)
    (tmp_path / "pages.pdf").write_bytes(_pdf([_flate(2 << 20) for _ in range(3)]))
    result = loading.read_document(tmp_path / "pages.pdf")
    assert isinstance(result, loading.Skipped) and "expand to over" in result.reason


def test_ingest_of_pdf_bombs_is_one_warning_each(capsys, tmp_path: Path):
    folder = _more_articles(tmp_path / "docs", 0)
    (folder / "bomb.pdf").write_bytes(_pdf([_flate(64 << 20)]))
    code, out, err = _cli(capsys, "--index", str(tmp_path / "ix"), "ingest", str(folder))
    assert code == 0 and "Traceback" not in err
    assert [line for line in err.splitlines() if "bomb.pdf" in line] == [
        line for line in err.splitlines() if line.startswith("Warning:")]
    assert _answers(capsys, tmp_path / "ix")


@pytest.mark.slow
def test_fifty_megabytes_of_nested_html_is_skipped_quickly(tmp_path: Path):
    import time

    from rag.ingest.loading import Skipped, read_document

    n = 50 * 2**20 // 11
    (tmp_path / "nested.html").write_bytes(b"<html><body>" + b"<div>" * n + b"Wakefield council met." + b"</div>" * n
                                           + b"</body></html>")
    started = time.monotonic()
    result = read_document(tmp_path / "nested.html")
    assert isinstance(result, Skipped) and "\n" not in result.reason
    assert time.monotonic() - started < 60


@pytest.mark.slow
def test_pdf_bombs_of_the_fault_matrix_are_skipped_quickly(tmp_path: Path):
    """One stream of 4 GiB, and 20 pages of 70 MB each (under pypdf's own 75 MB limit)."""
    import time

    from rag.ingest.loading import Skipped, read_document

    (tmp_path / "4gib.pdf").write_bytes(_pdf([_flate(4 << 30)]))
    (tmp_path / "pages.pdf").write_bytes(_pdf([_flate(70 << 20) for _ in range(20)]))
    for name in ("4gib.pdf", "pages.pdf"):
        started = time.monotonic()
        assert isinstance(read_document(tmp_path / name), Skipped)
        assert time.monotonic() - started < 30, name


# --- a killed upload, and readers while a writer runs ----------------------------------------------

KILL_UPLOAD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import rag.ingest.pipeline as pipeline
    from rag.ui.service import Service

    def flush(self):
        os.kill(os.getpid(), signal.SIGKILL)

    pipeline._Batcher.flush = flush
    Service(Path(sys.argv[1])).add_files([(Path(sys.argv[2]), "upload.txt")])
""")


def test_sigkill_during_a_ui_upload_keeps_the_index_and_the_next_upload_works(capsys, tmp_path: Path):
    from rag.ui.service import Service

    index = tmp_path / "ix"
    ingest([SEEDS], index, embedder_spec="offline", progress=False)
    before = _published(index)
    upload = tmp_path / "upload.txt"
    upload.write_text("Uploaded story about Wakefield\n\n" + "The Wakefield council met on Monday. " * 40,
                      encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", KILL_UPLOAD, str(index), str(upload)], env=env, cwd=REPO,
                          capture_output=True, timeout=300)
    assert done.returncode == -signal.SIGKILL
    assert _published(index) == before and _answers(capsys, index)
    service = Service(index)
    try:
        assert service.pending_uploads() == ["upload.txt"]  # copied in, never indexed: the UI says so
        result = service.add_files([(upload, "upload.txt")])
        assert result.added == ["upload.txt"] and result.documents_after == 3, result
        assert service.pending_uploads() == []
        # The upload is searchable: its passages are retrieved (whether the reader answers one
        # sentence repeated forty times is not what this test is about).
        found = service.ask("When did the Wakefield council meet?")
        assert any(p.source.endswith("upload.txt") for p in found.passages), found.passages
    finally:
        service.close()


def test_two_ui_services_keep_answering_while_an_ingest_publishes(seed_index: Path, tmp_path: Path):
    from rag.ui.service import Service

    index = tmp_path / "ix"
    shutil.copytree(seed_index, index)
    services = [Service(index), Service(index)]
    failures: list[str] = []
    done = threading.Event()

    def keep_asking(service: Service) -> None:
        while not done.is_set():
            try:
                if "1,400" not in service.ask(QUESTION).answer:
                    failures.append("wrong answer")
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                failures.append(repr(exc))

    threads = [threading.Thread(target=keep_asking, args=(s,)) for s in services]
    for t in threads:
        t.start()
    try:
        report = ingest([_more_articles(tmp_path / "more", 40)], index, embedder_spec="offline", progress=False)
    finally:
        done.set()
        for t in threads:
            t.join(timeout=60)
    try:
        assert not failures, failures[:3]
        assert report.documents_new == 42
        for service in services:
            service.reload()  # as after an upload: the next question opens the new generation
            assert service.info()["documents"] == 44
            assert "1,400" in service.ask(QUESTION).answer
    finally:
        for service in services:
            service.close()
