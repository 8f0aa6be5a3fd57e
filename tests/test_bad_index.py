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


# --- a lost manifest: refused everywhere, nothing deleted, and recoverable -------------------------

QUESTION = "How many children were sexually abused in Rotherham?"


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file() and p.name != ".lock"}


def _cli(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch) -> Path:
    """An index built from a folder other than seeds/, in a working directory that has a seeds/."""
    import shutil

    other = tmp_path / "other"
    other.mkdir()
    (other / "library.txt").write_text(
        "Bristol opens a new central library\n\nBristol City Council opened a new central library on Monday."
        " The library cost 12 million pounds and holds 80,000 books.", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(SEEDS, work / "seeds")
    monkeypatch.chdir(work)
    directory = tmp_path / "ix"
    ingest([other], directory, embedder_spec="offline", progress=False)
    return directory


@pytest.mark.parametrize("argv", [
    ["ask", "How much did the library cost?"],
    ["info"],
    ["ingest", "seeds"],
    ["ingest", "seeds", "--rebuild"],
    ["chat"],
    ["eval", "--use-index", "--dataset", str(SEEDS.parent / "eval" / "seed_questions.jsonl")],
])
def test_a_lost_manifest_is_refused_and_nothing_is_overwritten(capsys, elsewhere: Path, argv, monkeypatch):
    (elsewhere / "manifest.json").unlink()
    before = _snapshot(elsewhere)
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(""))
    code, out, err = _cli(capsys, *argv, "--index", str(elsewhere))
    _one_line_error(code, err, "index recover")
    assert _snapshot(elsewhere) == before
    assert "seeds" not in out


def test_recover_publishes_the_last_generation_again(capsys, elsewhere: Path):
    code, out, _ = _cli(capsys, "ask", "How much did the library cost?", "--index", str(elsewhere), "--json")
    expected = json.loads(out)["answer"]
    assert code == 0 and "12 million" in expected
    (elsewhere / "manifest.json").unlink()
    code, out, err = _cli(capsys, "index", "recover", "--index", str(elsewhere))
    assert code == 0, err
    assert out.startswith(f"Recovered {elsewhere}: generation 1, 1 document(s)")
    code, out, _ = _cli(capsys, "ask", "How much did the library cost?", "--index", str(elsewhere), "--json")
    assert code == 0 and json.loads(out)["answer"] == expected
    code, _, err = _cli(capsys, "index", "recover", "--index", str(elsewhere))
    _one_line_error(code, err, "nothing to recover")


def test_recover_an_index_built_before_generations_kept_their_manifest(capsys, elsewhere: Path):
    """No copy of the manifest: the embedder is found by re-embedding stored chunks."""
    manifest = _manifest(elsewhere)
    (elsewhere / "manifest.json").unlink()
    (elsewhere / f"store-{manifest['generation']}.manifest.json").unlink()
    code, out, err = _cli(capsys, "index", "recover", "--index", str(elsewhere), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["embedder"] == manifest["embedder_id"] and result["settings_from"].startswith("the stored vectors")
    assert (result["chunk_size"], result["chunk_overlap"]) == (manifest["chunk_size"], manifest["chunk_overlap"])
    recovered = _manifest(elsewhere)
    for key in ("generation", "sqlite_file", "faiss_file", "embedder_spec", "dimension", "documents", "chunks"):
        assert recovered[key] == manifest[key], key
    assert _cli(capsys, "ask", "How much did the library cost?", "--index", str(elsewhere))[0] == 0


def test_recover_names_the_embedder_it_cannot_find(capsys, elsewhere: Path):
    manifest = _manifest(elsewhere)
    (elsewhere / "manifest.json").unlink()
    (elsewhere / f"store-{manifest['generation']}.manifest.json").unlink()
    code, _, err = _cli(capsys, "index", "recover", "--index", str(elsewhere), "--embedder", "offline:hash-v1:768x")
    _one_line_error(code, err)
    assert not (elsewhere / "manifest.json").exists()


def test_recover_an_unreadable_manifest_keeps_it_aside(capsys, elsewhere: Path):
    (elsewhere / "manifest.json").write_text("{not json")
    _one_line_error(*_cli(capsys, "ingest", "seeds", "--rebuild", "--index", str(elsewhere))[::2], "index recover")
    code, _, err = _cli(capsys, "index", "recover", "--index", str(elsewhere))
    assert code == 0, err
    assert (elsewhere / "manifest.json.broken").read_text() == "{not json"
    assert _cli(capsys, "info", "--index", str(elsewhere))[0] == 0


def test_rebuild_over_a_lost_manifest_goes_ahead_only_when_nothing_checks_out(capsys, elsewhere: Path):
    manifest = _manifest(elsewhere)
    (elsewhere / "manifest.json").unlink()
    (elsewhere / manifest["faiss_file"]).write_bytes(b"garbage")
    code, _, err = _cli(capsys, "index", "recover", "--index", str(elsewhere))
    _one_line_error(code, err, "nothing in", "corrupt", "--rebuild")
    code, _, err = _cli(capsys, "ingest", "seeds", "--rebuild", "-q", "--index", str(elsewhere))
    assert code == 0, err
    assert _manifest(elsewhere)["generation"] == manifest["generation"] + 1
    assert _cli(capsys, "ask", QUESTION, "--index", str(elsewhere))[0] == 0


def test_a_damaged_newer_generation_is_passed_over_for_an_intact_older_one(capsys, elsewhere: Path):
    import shutil

    m = _manifest(elsewhere)
    (elsewhere / "manifest.json").unlink()
    n = m["generation"]
    shutil.copyfile(elsewhere / m["sqlite_file"], elsewhere / f"store-{n + 1}.sqlite3")
    (elsewhere / f"vectors-{n + 1}.faiss").write_bytes(b"half a file")
    code, out, err = _cli(capsys, "index", "recover", "--index", str(elsewhere))
    assert code == 0, err
    assert f"generation {n}," in out and f"passed over generation {n + 1}" in err


def test_rebuild_never_replaces_an_index_from_a_newer_rag(capsys, index: Path):
    db = index / _manifest(index)["sqlite_file"]
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (99, 'future')")
    conn.commit()
    conn.close()
    before = _snapshot(index)
    code, _, err = _cli(capsys, "--index", str(index), "ingest", str(SEEDS), "--rebuild", "-q")
    _one_line_error(code, err, "newer", "upgrade")
    assert _snapshot(index) == before


# --- --index naming something that is not an index ------------------------------------------------

@pytest.mark.parametrize("argv", [["ask", QUESTION], ["chat"], ["ui"], ["info"]])
def test_a_named_index_that_is_not_there_is_an_error_not_a_seed_index(capsys, tmp_path: Path, argv, monkeypatch):
    monkeypatch.chdir(tmp_path)
    import shutil

    shutil.copytree(SEEDS, tmp_path / "seeds")
    code, _, err = _cli(capsys, "--index", str(tmp_path / "typo"), *argv)
    _one_line_error(code, err, "no index at", "ingest")
    assert not (tmp_path / "typo").exists()
    monkeypatch.setenv("RAG_INDEX", str(tmp_path / "typo-env"))
    code, _, err = _cli(capsys, *argv)
    _one_line_error(code, err, "no index at")
    assert not (tmp_path / "typo-env").exists()


@pytest.mark.parametrize("argv", [["ingest", str(SEEDS)], ["ask", QUESTION], ["info"], ["chat"], ["ui"],
                                  ["index", "recover"], ["eval", "--use-index"]])
def test_an_index_path_that_is_a_file_is_one_line(capsys, tmp_path: Path, argv):
    target = tmp_path / "notes.txt"
    target.write_text("my notes")
    code, _, err = _cli(capsys, "--index", str(target), *argv)
    _one_line_error(code, err, "is a file, not an index directory")
    assert target.read_text() == "my notes"


def _back_to_schema_1(conn: sqlite3.Connection) -> None:
    """Undo migrations 2-6, as a store written before them stands."""
    for index in ("documents_published", "documents_outlet", "documents_unkeyed", "documents_group"):  # 5, 6
        conn.execute(f"DROP INDEX {index}")
    conn.execute("DROP TABLE signature_keys")  # 6
    for column in ("authors", "url", "signature", "syndication_group",  # migrations 2 and 3
                   "published_key", "outlet_key", "signature_keyed"):  # 5 and 6
        conn.execute(f"ALTER TABLE documents DROP COLUMN {column}")
    conn.execute("DROP TABLE chunk_sentences")  # migration 4
    conn.execute("DELETE FROM schema_migrations WHERE version >= 2")


def test_an_index_from_the_previous_schema_is_upgraded_in_place(tmp_path: Path) -> None:
    """An index written before migration 2 (no metadata or syndication columns, no sentence vectors) still answers."""
    from rag.answer.assistant import Assistant
    from rag.store.manifest import read_manifest, write_manifest

    directory = tmp_path / "old"
    ingest([SEEDS], directory, embedder_spec="offline", progress=False)
    manifest = read_manifest(directory)
    assert manifest is not None
    with sqlite3.connect(directory / manifest.sqlite_file) as conn:
        _back_to_schema_1(conn)
    manifest.schema_version = 1
    write_manifest(directory, manifest)
    answer = Assistant(directory, embedder_spec="offline").ask("How many children were sexually abused in Rotherham?")
    assert "1,400" in answer.answer and answer.citations[0].authors == ()


def test_recover_a_generation_at_an_older_schema(capsys, elsewhere: Path):
    """A lost manifest over a store from before migrations 2 and 3: recovered, then upgraded on open."""
    manifest = _manifest(elsewhere)
    with sqlite3.connect(elsewhere / manifest["sqlite_file"]) as conn:
        _back_to_schema_1(conn)
    conn.close()
    (elsewhere / "manifest.json").unlink()
    (elsewhere / f"store-{manifest['generation']}.manifest.json").unlink()
    code, out, err = _cli(capsys, "index", "recover", "--index", str(elsewhere), "--json")
    assert code == 0, err
    assert _manifest(elsewhere)["schema_version"] == 1
    code, out, err = _cli(capsys, "ask", "How much did the library cost?", "--index", str(elsewhere), "--json")
    assert code == 0 and "12 million" in json.loads(out)["answer"], err


# --- advice that acts on the index the user named ---------------------------------------------------

def test_an_embedder_mismatch_names_the_index_in_its_advice(capsys, index: Path):
    code = main(["--index", str(index), "ask", QUESTION, "--embedder", "offline:hash-v1:384"])
    _one_line_error(code, capsys.readouterr().err,
                    f"`rag --index {index} ingest --rebuild --embedder offline:hash-v1:384 PATH`")


@pytest.mark.parametrize("damage", ["faiss garbage", "sqlite truncated", "sqlite removed"])
def test_damaged_store_advice_names_the_index(capsys, index: Path, damage: str):
    manifest = _manifest(index)
    if damage == "faiss garbage":
        (index / manifest["faiss_file"]).write_bytes(b"garbage")
    elif damage == "sqlite truncated":
        (index / manifest["sqlite_file"]).write_bytes((index / manifest["sqlite_file"]).read_bytes()[:2048])
    else:
        (index / manifest["sqlite_file"]).unlink()
    _one_line_error(*_ask(capsys, index), "damaged", f"`rag --index {index} ingest --rebuild PATH`")


def test_advice_for_the_default_index_has_no_index_option(capsys, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAG_INDEX")
    ingest([SEEDS], Path(".rag-index"), embedder_spec="offline", progress=False)
    (Path(".rag-index") / _manifest(Path(".rag-index"))["faiss_file"]).write_bytes(b"garbage")
    code = main(["ask", QUESTION])
    _one_line_error(code, capsys.readouterr().err, "`rag ingest --rebuild PATH`")


@pytest.mark.parametrize("command", ["ask", "info", "ingest"])
def test_an_empty_sqlite_file_is_a_damaged_store_not_an_internal_error(capsys, index: Path, tmp_path: Path,
                                                                       command: str):
    """A 0-byte store (a copy cut short, a disk that lost it) was "internal error: 1 chunks but
    275 vectors" at ingest: it is a damaged index, and the advice says how to rebuild it."""
    (index / _manifest(index)["sqlite_file"]).write_bytes(b"")
    before = (index / "manifest.json").read_text()
    story = tmp_path / "new.txt"
    story.write_text("Leeds names a new mayor\n\nThe city of Leeds named Ann Smith its new mayor on Friday.",
                     encoding="utf-8")
    argv = {"ask": ["ask", QUESTION], "info": ["info"], "ingest": ["ingest", str(story), "-q"]}[command]
    code = main(["--index", str(index), *argv])
    err = capsys.readouterr().err
    _one_line_error(code, err, "damaged", f"`rag --index {index} ingest --rebuild PATH`")
    assert "internal error" not in err
    assert (index / "manifest.json").read_text() == before
