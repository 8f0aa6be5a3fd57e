"""The Milvus backend end to end, on a real engine (milvus-lite 2.5.1) on a loopback port.

The store contract runs on Milvus in test_store_contract.py; here: the CLI over milvus://
gives the embedded backend's answers, ingest is idempotent, two ingest processes writing one
collection at once lose and duplicate nothing, and every misconfiguration is one line that
writes nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.cli import main

from .conftest import REPO, SEEDS

QUESTIONS = REPO / "eval" / "seed_questions.jsonl"
pytestmark = pytest.mark.milvus


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def answers(capsys: pytest.CaptureFixture[str], index: str, questions: Path, reader: str = "default") -> list[dict]:
    code, out, err = run(capsys, "--index", index, "ask", "--questions", str(questions), "--json", "--reader", reader)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [
        {
            "question": r["question"],
            "answer": r["answer"],
            "abstained": r["abstained"],
            "citations": [(c["source"], c["start"], c["end"], c["quote"]) for c in r["citations"]],
        }
        for r in rows
    ]


def test_ingest_ask_and_info_over_milvus_match_the_embedded_backend(capsys, milvus_index: str, tmp_path: Path):
    questions = tmp_path / "questions.txt"
    questions.write_text("\n".join(json.loads(line)["question"] for line in QUESTIONS.read_text().splitlines()) + "\n")
    embedded = str(tmp_path / "embedded")
    for index in (embedded, milvus_index):
        code, out, err = run(capsys, "--index", index, "ingest", str(SEEDS), "--json")
        assert code == 0, err
        assert json.loads(out)["documents_new"] == 2
    # The rules answer every question the same on both backends. The reader reads the top 3
    # passages, and Milvus' BM25 (its analyzer and idf) orders a few of them differently, so an
    # answer near the reader's threshold may differ: at most one in the set.
    for reader, allowed in (("off", 0), ("default", 1)):
        expected = answers(capsys, embedded, questions, reader)
        got = answers(capsys, milvus_index, questions, reader)
        assert len(got) == len(expected) > 50
        same = sum(a == b for a, b in zip(got, expected))
        assert same >= len(expected) - allowed, [
            (a["question"], a["answer"], b["answer"]) for a, b in zip(got, expected) if a != b][:3]

    code, out, _ = run(capsys, "--index", milvus_index, "info", "--json")
    info = json.loads(out)
    code_e, out_e, _ = run(capsys, "--index", embedded, "info", "--json")
    assert code == code_e == 0
    assert info["backend"] == "milvus" and info["index"] == milvus_index
    assert info["collection"] == milvus_index.rsplit("/", 1)[1] and info["uri"].startswith("http://127.0.0.1:")
    assert (info["documents"], info["chunks"]) == (json.loads(out_e)["documents"], json.loads(out_e)["chunks"])
    code, out, _ = run(capsys, "--index", milvus_index, "info")
    assert code == 0 and "Collection: " in out and "milvus" in out


def test_reingest_is_idempotent_and_a_changed_file_replaces_its_rows(capsys, milvus_index: str, seeds_copy: Path):
    assert run(capsys, "--index", milvus_index, "ingest", str(seeds_copy), "-q")[0] == 0
    code, out, _ = run(capsys, "--index", milvus_index, "ingest", str(seeds_copy), "--json")
    again = json.loads(out)
    assert code == 0 and again["documents_unchanged"] == 2 and again["chunks_new"] == 0 and again["chunks_embedded"] == 0
    first = next(iter(sorted(seeds_copy.iterdir())))
    first.write_text(first.read_text() + "\n\nA new closing paragraph about the Wakefield flood defences.\n")
    code, out, _ = run(capsys, "--index", milvus_index, "ingest", str(seeds_copy), "--json")
    changed = json.loads(out)
    assert code == 0 and changed["documents_updated"] == 1 and changed["chunks_reused"] > 0
    code, out, _ = run(capsys, "--index", milvus_index, "info", "--json")
    info = json.loads(out)
    assert info["documents"] == 2 and info["chunks"] == changed["chunks_total"]
    first.unlink()
    code, out, _ = run(capsys, "--index", milvus_index, "ingest", str(seeds_copy), "--json")
    assert json.loads(out)["documents_removed"] == 1
    from rag.store.factory import open_store

    with open_store(milvus_index) as store:
        assert store.counts() == (1, json.loads(out)["chunks_total"])
        assert store.document_frequencies(["wakefield"]) == {"wakefield": 0}


def _articles(folder: Path, prefix: str, n: int) -> None:
    """n distinct articles made from the seeds' paragraphs."""
    paragraphs = [p for f in sorted(SEEDS.iterdir()) for p in f.read_text().split("\n\n") if len(p) > 80]
    folder.mkdir()
    for i in range(n):
        body = "\n\n".join(paragraphs[(i + j) % len(paragraphs)] for j in range(6))
        (folder / f"{prefix}-{i:03d}.txt").write_text(f"{prefix} report number {i}\n\n{body}\n\nFiled as {prefix}{i}.\n")


def test_two_ingest_processes_writing_one_collection_lose_and_duplicate_nothing(milvus_index: str, tmp_path: Path):
    _articles(tmp_path / "east", "east", 30)
    _articles(tmp_path / "west", "west", 30)
    # Small batches, so the two writers' rows interleave on the server.
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               RAG_MILVUS_FLUSH_ROWS="40")
    workers = [
        subprocess.Popen([sys.executable, "-W", "ignore", "-m", "rag", "--index", milvus_index, "ingest",
                          str(tmp_path / side), "--json"], cwd=tmp_path, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for side in ("east", "west")
    ]
    reports = []
    for w in workers:
        out, err = w.communicate(timeout=300)
        assert w.returncode == 0, err
        reports.append(json.loads(out))
    from rag.store.factory import open_store

    with open_store(milvus_index) as store:
        docs = store.documents()
        assert len(docs) == 60
        expected_chunks = sum(r["chunks_new"] for r in reports)
        assert store.counts() == (60, expected_chunks)
        ids = store.conn.query_all(store.chunks_name, "chunk_id", "", ["chunk_id", "document_id"])
        assert len(ids) == expected_chunks == len({r["chunk_id"] for r in ids})  # none lost, none twice
        assert {r["document_id"] for r in ids} == {d.id for d in docs.values()}
        for doc in list(docs.values())[:5]:
            chunks = store.get_chunks([r["chunk_id"] for r in ids if r["document_id"] == doc.id])
            text = store.document_text(doc.id)
            assert all(text[c.start : c.end] == c.text for c in chunks.values())


def test_bad_uri_is_one_line_and_touches_nothing(capsys, tmp_path: Path):
    pytest.importorskip("pymilvus", reason="the Milvus backend needs pymilvus (pip install -e '.[milvus]')")
    for uri in ("milvus://127.0.0.1:19530/", "milvus://127.0.0.1:19530/bad-name", "milvus://127.0.0.1:notaport/x",
                "milvus://127.0.0.1:19530/1starts_with_digit"):
        code, out, err = run(capsys, "--index", uri, "info")
        assert code == 1 and out == "" and err.startswith("Error: bad index URI") and err.count("\n") == 1, err
    code, _, err = run(capsys, "--index", "qdrant://x/y", "info")
    assert code == 1 and "unknown index location" in err and err.count("\n") == 1


def test_a_server_that_is_down_is_one_line(capsys, monkeypatch, tmp_path: Path):
    pytest.importorskip("pymilvus", reason="the Milvus backend needs pymilvus (pip install -e '.[milvus]')")
    from rag.store.milvus_local import free_port

    monkeypatch.setenv("RAG_MILVUS_TIMEOUT", "1")
    uri = f"milvus://127.0.0.1:{free_port()}/nobody"
    for argv in (["info"], ["ingest", str(SEEDS), "-q"], ["ask", "Who is the chief inspector?"]):
        code, out, err = run(capsys, "--index", uri, *argv)
        assert code == 1 and out == "" and err.count("\n") == 1, err
        assert err.startswith("Error: cannot reach Milvus at http://127.0.0.1:") and "running" in err


def test_another_embedder_or_schema_is_one_line_and_writes_nothing(capsys, milvus_index: str):
    assert run(capsys, "--index", milvus_index, "ingest", str(SEEDS), "-q")[0] == 0
    code, out, _ = run(capsys, "--index", milvus_index, "info", "--json")
    before = json.loads(out)
    code, _, err = run(capsys, "--index", milvus_index, "ingest", str(SEEDS), "--embedder", "offline:256", "-q")
    assert code == 1 and "rebuild" in err and err.count("\n") == 1, err
    code, _, err = run(capsys, "--index", milvus_index, "ask", "Who is the chief inspector?", "--embedder", "offline:256")
    assert code == 1 and "built with embedder" in err and err.count("\n") == 1, err
    from rag.store.milvus import MilvusBackend, _Connection

    with pytest.raises(Exception, match="built with embedder"):  # the writer refuses too, before writing
        from dataclasses import replace

        backend = MilvusBackend(milvus_index)
        settings = replace(backend.settings(), embedder_id="other", dimension=256)
        with backend.writer(settings):
            pass
    code, out, _ = run(capsys, "--index", milvus_index, "info", "--json")
    after = json.loads(out)
    assert (after["documents"], after["chunks"], after["built_at"]) == (before["documents"], before["chunks"], before["built_at"])

    conn = _Connection(milvus_index)
    meta = json.loads(conn.query(conn.meta_name, "key == 0", ["body"])[0]["body"])
    conn.client.upsert(conn.meta_name, [{"key": 0, "body": json.dumps(dict(meta, schema_version=99)), "_v": [0.0, 1.0]}])
    for argv in (["info"], ["ingest", str(SEEDS), "-q"]):
        code, out, err = run(capsys, "--index", milvus_index, *argv)
        assert code == 1 and "schema 99" in err and err.count("\n") == 1, err
    # An index of the previous schema (2: no sentence vectors) says to rebuild, and a rebuild replaces it.
    meta = json.loads(conn.query(conn.meta_name, "key == 0", ["body"])[0]["body"])
    conn.client.upsert(conn.meta_name, [{"key": 0, "body": json.dumps(dict(meta, schema_version=2)), "_v": [0.0, 1.0]}])
    conn.client.drop_collection(conn.names(meta["generation"])[3])
    code, out, err = run(capsys, "--index", milvus_index, "ask", "Who is the chief inspector?")
    assert code == 1 and "schema 2" in err and "--rebuild" in err and err.count("\n") == 1, err
    assert run(capsys, "--index", milvus_index, "ingest", str(SEEDS), "--rebuild", "-q")[0] == 0
    code, out, _ = run(capsys, "--index", milvus_index, "info", "--json")
    rebuilt = json.loads(out)
    assert code == 0 and rebuilt["schema_version"] == 3 and rebuilt["generation"] == meta["generation"] + 1
    assert (rebuilt["documents"], rebuilt["chunks"]) == (before["documents"], before["chunks"])
    assert not conn.has(conn.names(meta["generation"])[0])  # the old generation is gone
    conn.client.upsert(conn.meta_name, [{"key": 0, "body": json.dumps({"something": "else"}), "_v": [0.0, 1.0]}])
    for argv in (["info"], ["ingest", str(SEEDS), "--rebuild", "-q"]):  # a rebuild never takes a foreign collection
        code, _, err = run(capsys, "--index", milvus_index, *argv)
        assert code == 1 and "not a rag-news index" in err and err.count("\n") == 1, err
    conn.close()


def test_bm25_on_an_empty_collection_returns_nothing(milvus_index: str):
    import numpy as np

    from rag.store.milvus import MilvusBackend

    from .store_contract import SETTINGS, fill

    backend = MilvusBackend(milvus_index)
    fill(backend)
    with backend.writer(SETTINGS) as w:
        for doc in w.documents().values():
            w.delete_document(doc.id)
    with backend.open() as store:
        assert store.counts() == (0, 0)
        assert store.lexical_search("Wakefield flood", 5) == []
        assert store.hybrid_search("Wakefield flood", np.ones(8, np.float32) / 8**0.5, 5).order == []


def test_ui_uploads_to_a_remote_index_go_to_a_local_folder(milvus_index: str, tmp_path: Path, monkeypatch):
    from rag.ingest.pipeline import ingest
    from rag.ui.uploads import add_files, uploads_dir

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    name = milvus_index.rsplit("/", 1)[1]
    assert uploads_dir(milvus_index) == tmp_path / "home" / ".cache" / "rag-news" / "uploads" / name
    monkeypatch.setenv("RAG_UPLOADS_DIR", str(tmp_path / "up"))
    assert uploads_dir(milvus_index) == tmp_path / "up"
    assert uploads_dir(tmp_path / "ix") == tmp_path / "ix" / "uploads"
    first, seed = sorted(SEEDS.glob("*.txt"))[:2]
    refused = add_files([(seed, "My Article.txt")], milvus_index)  # an upload never starts an index
    assert refused.added == [] and refused.error and refused.error.startswith("no index at ")
    assert not (tmp_path / "up").exists()
    ingest([first], milvus_index, embedder_spec="offline", progress=False, warn=lambda m: None)
    result = add_files([(seed, "My Article.txt")], milvus_index)
    assert result.added == ["My_Article.txt"] and result.error is None and result.documents_after == 2
    assert (tmp_path / "up" / "My_Article.txt").exists()


def test_eval_and_the_langchain_retriever_work_on_a_milvus_index(capsys, milvus_index: str, tmp_path: Path):
    assert run(capsys, "--index", milvus_index, "ingest", str(SEEDS), "-q")[0] == 0
    embedded = str(tmp_path / "embedded")
    assert run(capsys, "--index", embedded, "ingest", str(SEEDS), "-q")[0] == 0
    summaries = []
    for index in (embedded, milvus_index):
        code, out, err = run(capsys, "--index", index, "eval", "--use-index", "--limit", "20", "--json")
        assert code == 0, err
        summaries.append({k: v for k, v in json.loads(out)["summary"].items() if "latency" not in k})
    assert summaries[0] == summaries[1]

    from rag.retrieve.langchain import RagRetriever

    docs = RagRetriever.from_index(milvus_index, k=3).invoke("How many children were abused in Rotherham?")
    assert len(docs) == 3 and all(d.metadata["source"].endswith(".txt") for d in docs)
    assert "1,400" in " ".join(d.page_content for d in docs)


def test_rows_sent_before_commit_are_invisible_and_taken_back_on_failure(milvus_index: str, monkeypatch):
    import numpy as np

    from rag.store.milvus import MilvusBackend

    from .store_contract import SETTINGS, fill, rows_for, unit

    monkeypatch.setenv("RAG_MILVUS_FLUSH_ROWS", "1")  # every chunk goes to the server at once
    backend = MilvusBackend(milvus_index)
    fill(backend)
    with backend.open() as store:
        before = store.counts()
    text = "Zanzibar ferries sailed at dawn. Harbour officials counted 900 passengers."
    rows = rows_for(text)
    with pytest.raises(RuntimeError):
        with backend.writer(SETTINGS) as w:
            w.add_document(source="z.txt", title="Ferries", outlet=None, published=None, fingerprint="fz", text=text,
                           chunks=rows, vectors=np.vstack([unit(500 + i) for i in range(len(rows))]))
            with backend.open() as reader:  # sent, not committed: a reader sees none of it
                assert reader.counts()[1] == before[1] + len(rows)  # the rows are there...
                hits = reader.lexical_search("Zanzibar ferries", 5)
                assert hits == [] and reader.get_chunks(w.chunk_hashes(document_id=next(iter(
                    d.id for d in w.documents().values() if d.source == "z.txt"))).values()) == {}
                assert "z.txt" not in reader.documents()
            raise RuntimeError("crash after the chunks were sent")
    with backend.open() as store:
        assert store.counts() == before  # ...and taken back
        assert store.lexical_search("Zanzibar", 5) == []
