"""A killed ingest leaves the previous index whole; readers never see a half-written one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rag.cli import main
from rag.errors import RagError
from rag.store import database as store
from rag.answer.assistant import Assistant
from rag.store.embedded import EmbeddedStore
from rag.ingest.pipeline import ingest

from .conftest import REPO, SEEDS

QUESTION = "How many children were sexually abused in Rotherham?"

# Runs an ingest in a child process that SIGKILLs itself in the middle: after the new
# generation's SQLite file has been written to and vectors are being added, before publishing.
KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import rag.ingest.pipeline as ingest_module

    calls = 0
    real_flush = ingest_module._Batcher.flush

    def flush(self):
        global calls
        calls += 1
        if calls == 2:
            os.kill(os.getpid(), signal.SIGKILL)
        real_flush(self)

    ingest_module._Batcher.flush = flush
    ingest_module.EMBED_BATCH = 4
    ingest_module.ingest([Path(sys.argv[1])], Path(sys.argv[2]), embedder_spec="offline", progress=False)
    """
)


def _consistent(index_dir: Path) -> tuple[int, int]:
    with EmbeddedStore.open(index_dir) as index:
        ids = set(store.chunk_ids(index.conn))
        assert ids == set(index.vectors.ids().tolist())
        return index.manifest.documents, len(ids)


def test_sigkill_mid_ingest_keeps_the_previous_index(tmp_path: Path, seeds_copy: Path):
    index_dir = tmp_path / "ix"
    ingest([seeds_copy], index_dir, embedder_spec="offline", progress=False)
    before = _consistent(index_dir)
    for i in range(6):
        (seeds_copy / f"extra-{i}.txt").write_text(
            f"Extra story {i}\n\n" + " ".join(f"Sentence {j} of extra story {i} mentions Wakefield." for j in range(40)),
            encoding="utf-8",
        )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(REPO)]))}
    proc = subprocess.run([sys.executable, "-c", KILLER, str(seeds_copy), str(index_dir)], env=env, cwd=REPO)
    assert proc.returncode == -signal.SIGKILL
    assert _consistent(index_dir) == before
    assistant = Assistant(index_dir, embedder_spec="offline")
    try:
        answer = assistant.ask("How many children were sexually abused in Rotherham?")
    finally:
        assistant.close()
    assert "1,400" in answer.answer
    # The next ingest cleans up the dead run's files and completes.
    report = ingest([seeds_copy], index_dir, embedder_spec="offline", progress=False)
    assert report.documents_new == 6
    assert _consistent(index_dir)[0] == before[0] + 6
    names = {p.name for p in index_dir.iterdir() if p.name.startswith(("store-", "vectors-"))}
    generation = json.loads((index_dir / "manifest.json").read_text())["generation"]
    # Only the live generation is left: its store, its vectors and its copy of the manifest.
    assert names == {f"store-{generation}.sqlite3", f"vectors-{generation}.faiss", f"store-{generation}.manifest.json"}


def test_reader_keeps_its_generation_while_a_writer_publishes(tmp_path: Path, seeds_copy: Path):
    index_dir = tmp_path / "ix"
    ingest([seeds_copy], index_dir, embedder_spec="offline", progress=False)
    reader = Assistant(index_dir, embedder_spec="offline")
    try:
        (seeds_copy / "ofsted-council-failings-put-children-at-risk.txt").unlink()
        ingest([seeds_copy], index_dir, embedder_spec="offline", progress=False)
        # The old generation's files are gone from the directory, but the open reader still
        # sees its complete, consistent snapshot.
        answer = reader.ask("What did the LGA call for?")
        assert "independent review" in answer.answer
    finally:
        reader.close()
    fresh = Assistant(index_dir, embedder_spec="offline")
    try:
        assert fresh.store.counts()[0] == 1
    finally:
        fresh.close()


# A first `rag ingest` that stops in the middle of its write (the writer lock held, the new
# generation's SQLite file half written, nothing published) and waits there to be killed.
PAUSED_FIRST_INGEST = textwrap.dedent(
    """
    import signal, sys
    import rag.ingest.pipeline as ingest_module
    from rag.cli import main

    for sig in (signal.SIGTERM, signal.SIGHUP):  # as in a terminal, whatever the test runner ignores
        signal.signal(sig, signal.SIG_DFL)
    real_flush = ingest_module._Batcher.flush
    calls = 0

    def flush(self):
        global calls
        calls += 1
        if calls == 2:
            print("building", flush=True)
            sys.stdin.read()  # until the test kills this process
        real_flush(self)

    ingest_module._Batcher.flush = flush
    ingest_module.EMBED_BATCH = 4
    main(["--index", sys.argv[1], "ingest", sys.argv[2], "-q"])
    """
)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGHUP], ids=["KILL", "TERM", "HUP"])
def test_a_killed_first_ingest_is_taken_over_by_the_next(capsys, tmp_path: Path, sig: int):
    """A directory that never had a published generation is no index to protect: while the first
    ingest runs, readers say it is being built; once it is killed, a plain ingest takes over."""
    index_dir = tmp_path / "ix"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(REPO)]))}
    proc = subprocess.Popen([sys.executable, "-c", PAUSED_FIRST_INGEST, str(index_dir), str(SEEDS)], env=env,
                            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"building"
        for argv in (["info"], ["ask", QUESTION]):
            code = main(["--index", str(index_dir), *argv])
            err = capsys.readouterr().err
            assert code == 1 and err.count("\n") == 1, err
            assert "an ingest" in err and "is building the index" in err and "recover" not in err, err
        proc.send_signal(sig)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -sig
    assert not (index_dir / "manifest.json").exists() and any(index_dir.glob("store-*.sqlite3"))
    code = main(["--index", str(index_dir), "info"])
    err = capsys.readouterr().err
    assert code == 1 and "no index" in err and "ingest PATH" in err and "recover" not in err, err
    code = main(["--index", str(index_dir), "index", "recover"])
    err = capsys.readouterr().err
    assert code == 1 and "nothing to recover" in err and "ingest PATH" in err, err
    assert main(["--index", str(index_dir), "ingest", str(SEEDS), "-q"]) == 0
    capsys.readouterr()
    assistant = Assistant(index_dir, embedder_spec="offline")
    try:
        assert "1,400" in assistant.ask(QUESTION).answer
    finally:
        assistant.close()
    generation = json.loads((index_dir / "manifest.json").read_text())["generation"]
    assert {p.name for p in index_dir.iterdir() if p.name.startswith(("store-", "vectors-"))} == {
        f"store-{generation}.sqlite3", f"vectors-{generation}.faiss", f"store-{generation}.manifest.json"}


def test_an_ingest_over_a_damaged_directory_with_a_published_past_still_refuses(tmp_path: Path):
    """The take-over is only for a directory that never published: an index whose manifest.json
    was lost keeps its generation (and its copy of the manifest), and a plain ingest refuses."""
    index_dir = tmp_path / "ix"
    ingest([SEEDS], index_dir, embedder_spec="offline", progress=False)
    (index_dir / "manifest.json").unlink()
    (index_dir / "vectors-1.faiss").unlink()  # not even recoverable: still not taken over silently
    with pytest.raises(RagError, match="recover|rebuild"):
        ingest([SEEDS], index_dir, embedder_spec="offline", progress=False)
    assert (index_dir / "store-1.sqlite3").exists()
