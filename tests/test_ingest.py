"""Ingest builds a consistent index, updates it incrementally, and never loses the old one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import embeddings
from rag.store import database as store
from rag.errors import LockedError, RagError
from rag.store.embedded import EmbeddedStore
from rag.ingest.pipeline import ingest
from rag.store.locking import writer_lock

from .conftest import SEEDS

BOILERPLATE = ["Copenhagen", "Westwood", "Katie Kenyon", "Capitol", "Sarah Everard", "Subscribe", "newsletter", "Sign up"]


@pytest.fixture
def embed_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the texts sent to the embedder by every embedder ingest creates."""
    calls: list[int] = []
    real = embeddings.create_embedder

    def counting(spec: str, **kwargs):  # type: ignore[no-untyped-def]
        embedder = real(spec, **kwargs)
        original = embedder.encode_documents

        def encode_documents(texts):  # type: ignore[no-untyped-def]
            calls.append(len(texts))
            return original(texts)

        embedder.encode_documents = encode_documents  # type: ignore[method-assign]
        return embedder

    monkeypatch.setattr(embeddings, "create_embedder", counting)
    return calls


def _run(paths: list[Path], index: Path, **kw):  # type: ignore[no-untyped-def]
    return ingest(paths, index, embedder_spec="offline", progress=False, warn=lambda m: None, **kw)


def test_seed_index_is_clean_and_consistent(tmp_path: Path):
    report = _run([SEEDS], tmp_path / "ix")
    assert report.documents_new == 2 and report.chunks_total == report.chunks_new > 4
    with EmbeddedStore.open(tmp_path / "ix") as index:
        chunks = store.get_chunks(index.conn, store.chunk_ids(index.conn))
        assert len(chunks) == len(index.vectors) == index.manifest.chunks
        for chunk in chunks.values():
            text = index.document_text(chunk.document_id)
            assert text[chunk.start : chunk.end] == chunk.text
            for phrase in BOILERPLATE:
                assert phrase.lower() not in chunk.text.lower()
        titles = {d.title for d in index.documents().values()}
        assert "Ofsted: council failings put children at risk of sex abuse" in titles
        assert sorted(index.vectors.ids().tolist()) == sorted(chunks)


def test_reingesting_unchanged_files_embeds_nothing(tmp_path: Path, seeds_copy: Path, embed_calls: list[int]):
    _run([seeds_copy], tmp_path / "ix")
    first = sum(embed_calls)
    assert first > 0
    report = _run([seeds_copy], tmp_path / "ix")
    assert sum(embed_calls) == first
    assert report.documents_unchanged == 2 and report.chunks_embedded == 0


def test_changed_file_replaces_its_chunks_and_reuses_unchanged_vectors(tmp_path: Path, seeds_copy: Path, embed_calls):
    _run([seeds_copy], tmp_path / "ix")
    before = sum(embed_calls)
    path = seeds_copy / "ofsted-boss-fears-repeat-of-rotherham.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA brand new closing sentence about Wakefield council.\n",
                    encoding="utf-8")
    report = _run([seeds_copy], tmp_path / "ix")
    assert report.documents_updated == 1 and report.documents_unchanged == 1
    assert report.chunks_reused > 0  # unchanged chunk text keeps its vector
    assert 0 < sum(embed_calls) - before < report.chunks_new
    with EmbeddedStore.open(tmp_path / "ix") as index:
        hits = index.lexical_search("Wakefield", 5)
        assert hits and "Wakefield" in index.get_chunks([hits[0][0]])[hits[0][0]].text
        assert len(index.vectors) == index.manifest.chunks


def test_removed_file_leaves_the_index(tmp_path: Path, seeds_copy: Path):
    _run([seeds_copy], tmp_path / "ix")
    (seeds_copy / "ofsted-council-failings-put-children-at-risk.txt").unlink()
    report = _run([seeds_copy], tmp_path / "ix")
    assert report.documents_removed == 1
    with EmbeddedStore.open(tmp_path / "ix") as index:
        assert index.manifest.documents == 1
        assert not index.lexical_search("Simmonds", 5)


def test_other_roots_are_kept_unless_pruned(tmp_path: Path, seeds_copy: Path):
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "note.txt").write_text("Headline\n\nThe Wakefield council report was published on Monday.", encoding="utf-8")
    _run([seeds_copy, extra], tmp_path / "ix")
    (extra / "note.txt").unlink()
    assert _run([seeds_copy], tmp_path / "ix").documents_removed == 0
    assert _run([seeds_copy], tmp_path / "ix", prune=True).documents_removed == 1


def test_a_missing_file_is_removed_only_when_a_folder_above_it_was_given(tmp_path: Path):
    """A root matches whole path components: `news` is not a folder above `news-old/a.txt`."""
    for name in ("news", "news-old"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.txt").write_text(f"Headline {name}\n\nThe council met on Monday about {name}.")
    _run([tmp_path / "news", tmp_path / "news-old"], tmp_path / "ix")
    (tmp_path / "news-old" / "a.txt").unlink()
    assert _run([tmp_path / "news"], tmp_path / "ix").documents_removed == 0
    assert _run([tmp_path / "news-old"], tmp_path / "ix").documents_removed == 1


def test_failure_before_publishing_keeps_the_previous_index(tmp_path: Path, seeds_copy: Path, monkeypatch):
    _run([seeds_copy], tmp_path / "ix")
    manifest_before = (tmp_path / "ix" / "manifest.json").read_text()
    (seeds_copy / "new.txt").write_text("Headline\n\nA new article about Wakefield.", encoding="utf-8")

    def boom(*a, **k):  # type: ignore[no-untyped-def]
        raise KeyboardInterrupt

    monkeypatch.setattr("rag.store.embedded.write_manifest", boom)
    with pytest.raises(KeyboardInterrupt):
        _run([seeds_copy], tmp_path / "ix")
    assert (tmp_path / "ix" / "manifest.json").read_text() == manifest_before
    with EmbeddedStore.open(tmp_path / "ix") as index:
        assert index.manifest.documents == 2
        assert not index.lexical_search("Wakefield", 5)
    files = sorted(p.name for p in (tmp_path / "ix").iterdir() if not p.name.startswith("."))
    before = json.loads(manifest_before)
    assert files == sorted(["manifest.json", before["sqlite_file"], before["faiss_file"],
                            f"store-{before['generation']}.manifest.json"])


def test_second_writer_is_refused(tmp_path: Path):
    with writer_lock(tmp_path / "ix"):
        with pytest.raises(LockedError, match="another ingest|an ingest .* is building the index"):
            _run([SEEDS], tmp_path / "ix")


def test_switching_embedder_without_rebuild_is_an_error(tmp_path: Path, monkeypatch):
    _run([SEEDS], tmp_path / "ix")
    manifest = json.loads((tmp_path / "ix" / "manifest.json").read_text())
    manifest["embedder_id"] = "sentence-transformers:some-other-model"
    (tmp_path / "ix" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RagError, match="rebuild"):
        _run([SEEDS], tmp_path / "ix")
    report = _run([SEEDS], tmp_path / "ix", rebuild=True)
    assert report.documents_new == 2


def test_bad_files_are_skipped_and_the_rest_ingested(tmp_path: Path, seeds_copy: Path):
    (seeds_copy / "empty.txt").write_bytes(b"")
    (seeds_copy / "binary.txt").write_bytes(bytes(range(256)) * 20)
    warnings: list[str] = []
    report = ingest([seeds_copy], tmp_path / "ix", embedder_spec="offline", progress=False, warn=warnings.append)
    assert report.documents_new == 2
    assert len(report.skipped) == 2 and len(warnings) == 2
    assert all("\n" not in w for w in warnings)


def test_chunk_settings_change_rechunks(tmp_path: Path):
    first = _run([SEEDS], tmp_path / "ix")
    second = _run([SEEDS], tmp_path / "ix", chunk_size=300, chunk_overlap=50)
    assert second.documents_updated == 2 and second.chunks_total > first.chunks_total
    with EmbeddedStore.open(tmp_path / "ix") as index:
        assert index.manifest.chunk_size == 300


def test_duplicate_files_are_indexed_but_never_shown_twice(tmp_path: Path, seeds_copy: Path):
    import shutil

    from rag.answer.assistant import Assistant

    shutil.copy(seeds_copy / "ofsted-boss-fears-repeat-of-rotherham.txt", seeds_copy / "copy-of-the-same-article.txt")
    report = _run([seeds_copy], tmp_path / "ix")
    assert report.documents_new == 3
    assistant = Assistant(tmp_path / "ix", embedder_spec="offline")
    try:
        passages = assistant.retriever.search("How many children were sexually abused in Rotherham?", 5).passages
    finally:
        assistant.close()
    texts = [p.text for p in passages]
    assert len(texts) == len(set(texts))


def test_non_utf8_file_is_decoded(tmp_path: Path):
    folder = tmp_path / "latin"
    folder.mkdir()
    (folder / "article.txt").write_bytes(
        "Réunion du conseil\n\nLe conseil a déclaré que les enfants étaient protégés à l'école.".encode("cp1252")
    )
    _run([folder], tmp_path / "ix")
    with EmbeddedStore.open(tmp_path / "ix") as index:
        (doc,) = index.documents().values()
        assert "déclaré" in index.document_text(doc.id)


# --- issue 20, items 2 and 3: what is stored is what the file says ------------------------------------

ACCENTED = ("Mayor Élodie Müller opened the new café on the quay on Friday.\n\n"
            "Zoë Brontë, the council's treasurer, said the façade had cost €2m and the crème brûlée stall"
            " would stay.\n")


def _nearly_utf8() -> bytes:
    good = ACCENTED.encode("utf-8")
    cut = good.index(b" on Friday")
    return good[:cut] + b"\xed\xa0\x80" + good[cut:]  # one lone surrogate: not UTF-8


def _stored_texts(index: Path) -> list[str]:
    with EmbeddedStore.open(index) as store:
        return [store.document_text(doc.id) for doc in store.documents().values()]


def test_a_nearly_utf8_file_is_stored_as_utf8_with_one_warning(tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "mayor.txt").write_bytes(_nearly_utf8())
    warnings: list[str] = []
    ingest([folder], tmp_path / "ix", embedder_spec="offline", progress=False, warn=warnings.append)
    (text,) = _stored_texts(tmp_path / "ix")
    assert "Mayor Élodie Müller" in text and "Zoë Brontë" in text and "Ă" not in text
    (warning,) = warnings
    assert "mayor.txt: invalid UTF-8 at byte" in warning and "\n" not in warning


def test_a_nearly_utf8_upload_is_stored_as_utf8(tmp_path: Path):
    from rag.ui.uploads import add_files

    _run([SEEDS], tmp_path / "ix")
    upload = tmp_path / "upload_article.txt"
    upload.write_bytes(_nearly_utf8())
    result = add_files([(upload, "upload_article.txt")], tmp_path / "ix")
    assert result.error is None and not result.rejected, result
    texts = [t for t in _stored_texts(tmp_path / "ix") if "Müller" in t]
    assert len(texts) == 1 and "Mayor Élodie Müller" in texts[0] and "Ă" not in texts[0]


def test_a_paragraph_of_escaped_markup_is_stored(tmp_path: Path):
    from .test_cleaning import BRIDGE_PAGE

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "bridge.html").write_text(BRIDGE_PAGE, encoding="utf-8")
    _run([folder], tmp_path / "ix")
    (text,) = _stored_texts(tmp_path / "ix")
    assert "the harbour authority said. <script>alert(1)</script>" in text
    assert "from-a-real-script" not in text


# --- issue 20, item 13: `rag ingest` with no path says what it reads -----------------------------------

def test_ingest_without_a_path_says_it_reads_the_seeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    import shutil

    from rag.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["--index", str(tmp_path / "none"), "ingest"]) == 1  # no seeds/ here
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("Error: nothing to ingest: no path given and no seeds/ folder here")
    shutil.copytree(SEEDS, tmp_path / "seeds")
    assert main(["--index", str(tmp_path / "ix"), "ingest"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("No path given: ingesting seeds/ (")
    assert not [line for line in err[1:] if line.startswith("No path given")]
    assert main(["--index", str(tmp_path / "ix"), "ingest", "-q"]) == 0  # --quiet: nothing on stderr
    assert capsys.readouterr().err == ""
