"""A damaged or foreign index is a one-line error that says how to recover; nothing is lost."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from rag.cli import main
from rag.ingest.pipeline import ingest

from .conftest import SEEDS


@pytest.fixture
def index(tmp_path: Path) -> Path:
    directory = tmp_path / "ix"
    ingest([SEEDS], directory, embedder_spec="offline", progress=False)
    return directory


def _manifest(index: Path) -> dict:
    return json.loads((index / "manifest.json").read_text())


def _ask(capsys, index: Path) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    code = main(["--index", str(index), "ask", "How many children were abused in Rotherham?"])
    err = capsys.readouterr().err
    return code, err


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, err


def test_missing_faiss_file(capsys, index: Path):
    (index / _manifest(index)["faiss_file"]).unlink()
    _one_line_error(*_ask(capsys, index), "missing", "--rebuild")


def test_truncated_sqlite_file(capsys, index: Path):
    db = index / _manifest(index)["sqlite_file"]
    db.write_bytes(db.read_bytes()[:2048])
    _one_line_error(*_ask(capsys, index), "--rebuild")


def test_foreign_sqlite_file(capsys, index: Path):
    db = index / _manifest(index)["sqlite_file"]
    db.unlink()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER, total REAL)")
    conn.commit()
    conn.close()
    _one_line_error(*_ask(capsys, index), "not a rag index")


def test_newer_schema_is_refused(capsys, index: Path):
    db = index / _manifest(index)["sqlite_file"]
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (99, 'future')")
    conn.commit()
    conn.close()
    _one_line_error(*_ask(capsys, index), "newer", "upgrade")


def test_manifest_from_a_newer_version(capsys, index: Path):
    manifest = _manifest(index)
    manifest["manifest_version"] = 42
    (index / "manifest.json").write_text(json.dumps(manifest))
    _one_line_error(*_ask(capsys, index), "newer")


def test_manifest_with_another_embedder(capsys, index: Path):
    manifest = _manifest(index)
    manifest["embedder_id"] = "offline:hash-v0:768"
    (index / "manifest.json").write_text(json.dumps(manifest))
    _one_line_error(*_ask(capsys, index), "does not match", "--rebuild")


def test_counts_that_disagree(capsys, index: Path):
    db = index / _manifest(index)["sqlite_file"]
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("DELETE FROM chunks WHERE id = (SELECT MIN(id) FROM chunks)")
    conn.commit()
    conn.close()
    _one_line_error(*_ask(capsys, index), "inconsistent", "--rebuild")


def test_rebuild_recovers_a_broken_index(capsys, index: Path):
    (index / _manifest(index)["faiss_file"]).write_bytes(b"garbage")
    assert main(["--index", str(index), "ingest", str(SEEDS), "--rebuild", "-q"]) == 0
    code, err = _ask(capsys, index)
    assert code == 0, err


def test_ingest_refuses_to_update_a_corrupt_index(capsys, index: Path):
    (index / _manifest(index)["faiss_file"]).write_bytes(b"garbage")
    before = (index / "manifest.json").read_text()
    code = main(["--index", str(index), "ingest", str(SEEDS), "-q"])
    _one_line_error(code, capsys.readouterr().err, "corrupt", "--rebuild")
    assert (index / "manifest.json").read_text() == before


def test_an_index_from_the_previous_schema_is_upgraded_in_place(tmp_path: Path) -> None:
    """An index written before migration 2 (no metadata or syndication columns) still answers."""
    from rag.answer.assistant import Assistant
    from rag.store.manifest import read_manifest, write_manifest

    directory = tmp_path / "old"
    ingest([SEEDS], directory, embedder_spec="offline", progress=False)
    manifest = read_manifest(directory)
    assert manifest is not None
    with sqlite3.connect(directory / manifest.sqlite_file) as conn:
        for column in ("authors", "url", "signature", "syndication_group"):  # migrations 2 and 3
            conn.execute(f"ALTER TABLE documents DROP COLUMN {column}")
        conn.execute("DELETE FROM schema_migrations WHERE version >= 2")
    manifest.schema_version = 1
    write_manifest(directory, manifest)
    answer = Assistant(directory, embedder_spec="offline").ask("How many children were sexually abused in Rotherham?")
    assert "1,400" in answer.answer and answer.citations[0].authors == ()
