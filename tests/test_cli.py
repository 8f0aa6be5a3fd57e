"""The `rag` command: exit codes, one-line errors, JSON output, and a first-run index."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag.cli import main

from .conftest import REPO, SEEDS


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_commands_and_examples(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("ingest", "ask", "chat", "info"):
        assert command in out
    assert "examples:" in out and "RAG_INDEX" in out


def test_ingest_then_info_json(capsys, tmp_path: Path):
    code, out, err = run(capsys, "--index", str(tmp_path / "ix"), "ingest", str(SEEDS), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["documents_new"] == 2 and report["chunks_total"] > 4
    code, out, _ = run(capsys, "--index", str(tmp_path / "ix"), "info", "--json")
    info = json.loads(out)
    assert code == 0
    assert info["documents"] == 2 and info["chunks"] == report["chunks_total"]
    assert info["embedder"].startswith("offline") and info["dimension"] > 0
    assert info["schema_version"] >= 1 and info["index_type"] == "flat" and info["size_bytes"] > 0
    assert info["built_at"]


def test_ingest_summary_text(capsys, tmp_path: Path):
    code, out, _ = run(capsys, "--index", str(tmp_path / "ix"), "ingest", str(SEEDS), "-q")
    assert code == 0
    assert "documents: 2 new" in out and "embedder:" in out and "time:" in out


def test_info_without_index_is_a_one_line_error(capsys, tmp_path: Path):
    code, out, err = run(capsys, "--index", str(tmp_path / "nothing"), "info")
    assert code == 1 and out == ""
    assert err.startswith("Error: no index") and err.count("\n") == 1


def test_index_from_environment(capsys, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("RAG_INDEX", str(tmp_path / "env-ix"))
    assert run(capsys, "ingest", str(SEEDS), "-q")[0] == 0
    assert (tmp_path / "env-ix" / "manifest.json").exists()


def test_corrupt_manifest_is_a_clear_error(capsys, tmp_path: Path):
    run(capsys, "--index", str(tmp_path / "ix"), "ingest", str(SEEDS), "-q")
    (tmp_path / "ix" / "manifest.json").write_text("{not json")
    code, _, err = run(capsys, "--index", str(tmp_path / "ix"), "info")
    assert code == 1 and "manifest.json is unreadable" in err and "--rebuild" in err


def test_truncated_vectors_file_is_a_clear_error(capsys, tmp_path: Path):
    run(capsys, "--index", str(tmp_path / "ix"), "ingest", str(SEEDS), "-q")
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    faiss_file = tmp_path / "ix" / manifest["faiss_file"]
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])
    code, _, err = run(capsys, "--index", str(tmp_path / "ix"), "info")
    assert code == 1 and "corrupt" in err and err.count("\n") == 1


def test_manifest_cannot_point_outside_the_index(capsys, tmp_path: Path):
    run(capsys, "--index", str(tmp_path / "ix"), "ingest", str(SEEDS), "-q")
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    manifest["sqlite_file"] = "../../etc/passwd"
    (tmp_path / "ix" / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = run(capsys, "--index", str(tmp_path / "ix"), "info")
    assert code == 1 and "outside the index" in err


def test_ask_builds_the_index_from_seeds_on_first_use(capsys, tmp_path: Path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(SEEDS, work / "seeds")
    monkeypatch.chdir(work)
    monkeypatch.delenv("RAG_INDEX")
    code, out, err = run(capsys, "ask", "How many children were sexually abused in Rotherham?")
    assert code == 0, err
    assert "building it from seeds/" in err
    assert "1,400" in out and "[1]" in out
    assert (work / ".rag-index" / "manifest.json").exists()


def test_rag_help_runs_as_a_process_without_heavy_imports():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    code = (
        "import sys, runpy; sys.argv=['rag','--help'];\n"
        "try: runpy.run_module('rag', run_name='__main__')\n"
        "except SystemExit: pass\n"
        "heavy=[m for m in ('torch','sentence_transformers','gradio','langchain_core','faiss') if m in sys.modules];"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO).stdout
    assert "HEAVY []" in out


def test_ingest_of_missing_paths_is_an_error_and_creates_nothing(capsys, tmp_path: Path):
    code, _, err = run(capsys, "--index", str(tmp_path / "ix"), "ingest", str(tmp_path / "nope"))
    assert code == 1 and err.startswith("Error: nothing to ingest") and not (tmp_path / "ix").exists()


def test_embedder_errors_are_one_line(capsys, tmp_path: Path):
    code, _, err = run(capsys, "--index", str(tmp_path / "ix"), "ingest", str(SEEDS), "--embedder", "nonsense")
    assert code == 1 and err.startswith("Error: unknown embedder 'nonsense'") and err.count("\n") == 1
    assert not (tmp_path / "ix").exists()  # a failed first ingest leaves nothing behind
