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
    assert out.startswith(f"Built the index at {tmp_path / 'ix'}: 2 documents added\n")
    assert "2 found, 2 read" in out and "embedder:" in out and "time:" in out


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


def test_global_options_go_before_or_after_the_command_and_are_in_its_help(capsys, tmp_path: Path):
    assert run(capsys, "ingest", str(SEEDS), "-q", "--index", str(tmp_path / "after"))[0] == 0
    assert (tmp_path / "after" / "manifest.json").exists()
    code, out, err = run(capsys, "ask", "How many children were sexually abused in Rotherham?",
                         "--index", str(tmp_path / "after"), "--json")
    assert code == 0, err
    assert json.loads(out)["abstained"] is False
    code, out, _ = run(capsys, "--index", str(tmp_path / "before"), "info", "--json", "--index", str(tmp_path / "after"))
    assert code == 0 and json.loads(out)["index"] == str(tmp_path / "after")  # the later one wins
    for command in ("ingest", "ask", "chat", "eval", "ui", "info"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "--index DIR" in capsys.readouterr().out, command


@pytest.mark.parametrize("question", ["", "   ", "\t\n"])
def test_an_empty_question_is_said_to_be_empty(capsys, question: str):
    code, out, err = run(capsys, "ask", question)
    assert code == 1 and out == "" and err == "Error: the question is empty; ask something about the articles\n"


def test_ask_wants_a_question_or_a_file_but_not_both(capsys, tmp_path: Path):
    assert run(capsys, "ask")[2].startswith("Error: give a question")
    assert run(capsys, "ask", "q", "--questions", str(tmp_path / "q.txt"))[2].endswith("not both\n")


def test_ingest_summary_counts_what_happened(capsys, tmp_path: Path, seeds_copy: Path):
    for i in range(4):
        (seeds_copy / f"binary-{i}.txt").write_bytes(b"\x00\x01\x02 not text")
    code, out, err = run(capsys, "--index", str(tmp_path / "ix"), "ingest", str(seeds_copy))
    assert code == 0 and err.count("Warning: skipped") == 4
    assert "6 found, 2 read, 4 skipped (see the warnings above)" in out
    for path in sorted(seeds_copy.glob("ofsted-*.txt")):
        path.write_text(path.read_text(encoding="utf-8") + "\nA new closing sentence about Wakefield.\n", encoding="utf-8")
    code, out, _ = run(capsys, "--index", str(tmp_path / "ix"), "ingest", str(seeds_copy), "-q")
    first = out.splitlines()[0]
    assert first == f"Updated the index at {tmp_path / 'ix'}: 2 documents updated", out
    assert "the updated documents' " in out and " replaced by " in out and " new," not in out
    assert "4 skipped\n" in out  # no "see the warnings" under --quiet
    code, out, _ = run(capsys, "--index", str(tmp_path / "ix"), "ingest", str(seeds_copy), "-q")
    assert "is up to date: 2 documents unchanged" in out and "none changed" in out


def test_rag_ui_on_a_port_in_use_is_one_line_of_our_own(capsys, seed_index: Path):
    """Not Gradio's "Cannot find empty port ... GRADIO_SERVER_PORT ... `launch()`", which a
    `rag ui` user cannot act on."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["--index", str(seed_index), "ui", "--port", str(port)])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1, err
    assert f"port {port} on 127.0.0.1 is in use; choose another with --port" in err
    assert "GRADIO" not in err and "launch()" not in err


def test_info_and_answers_name_the_embedder_the_same_way(seed_index, capsys):
    """Issue 20 item 13: the answer said sentence-transformers:..., info said onnx:... ."""
    from rag.cli import main

    assert main(["--index", str(seed_index), "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert main(["--index", str(seed_index), "ask", "How many children were abused in Rotherham?", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert info["embedder"] == answer["embedder"] and "embedder_spec" not in info
    assert info["embedder_runtime"] in ("onnxruntime", "torch", "none")
