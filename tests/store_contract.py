"""What every store backend must do, written against `rag.store.base` only.

`tests/test_store_contract.py` runs these checks on each backend (the embedded index
directory always; Milvus when its engine is installed). A backend passes when ingest,
retrieval and answering could not tell it from another.
"""

from __future__ import annotations

import numpy as np
import pytest

from rag.store.base import ChunkRow, ChunkSentences, IndexSettings, StoreBackend
from rag.store.filters import DocumentFilter

DIM = 8
SETTINGS = IndexSettings("test:dim8", "test-embedder", DIM, 200, 0)

ARTICLES = {
    "a.txt": ("Flood in Wakefield", "Wakefield flooded on Monday. About 1,400 homes were evacuated by the council."),
    "b.txt": ("Budget row", "The council budget was cut. Ministers defended the savings plan in Parliament."),
    "c.txt": ("Rail strike", "Rail workers walked out. Trains between Leeds and York were cancelled."),
}


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def rows_for(text: str) -> list[ChunkRow]:
    """One chunk per sentence, with exact offsets."""
    rows, start = [], 0
    for i, sentence in enumerate(s for s in text.split(". ") if s):
        at = text.index(sentence, start)
        rows.append(ChunkRow(i, at, at + len(sentence), sentence, f"h-{hash(sentence) & 0xFFFF}"))
        start = at + len(sentence)
    return rows


def fill(backend: StoreBackend, articles: dict[str, tuple[str, str]] = ARTICLES) -> dict[str, list[int]]:
    """Write the articles (vector of chunk i of article j = unit(10*j + i)); chunk ids per source."""
    ids = {}
    with backend.writer(SETTINGS) as w:
        for j, (source, (title, text)) in enumerate(articles.items()):
            rows = rows_for(text)
            vectors = np.vstack([unit(10 * j + i) for i in range(len(rows))])
            ids[source] = w.add_document(source=source, title=title, outlet="The Test", published="2016-03-03",
                                         fingerprint=f"fp-{source}", text=text, chunks=rows, vectors=vectors)
    return ids


def check_empty_location_has_no_index(backend: StoreBackend) -> None:
    assert backend.settings() is None and not backend.exists()


def check_written_documents_read_back_exactly(backend: StoreBackend) -> None:
    ids = fill(backend)
    assert backend.settings() == SETTINGS
    with backend.open() as store:
        assert store.counts() == (3, sum(len(v) for v in ids.values()))
        docs = store.documents()
        assert set(docs) == set(ARTICLES)
        for source, (title, text) in ARTICLES.items():
            doc = docs[source]
            assert (doc.title, doc.outlet, doc.published, doc.fingerprint) == (title, "The Test", "2016-03-03", f"fp-{source}")
            assert store.document(doc.id) == doc
            assert store.document_text(doc.id) == text
            chunks = store.get_chunks(ids[source])
            assert len(chunks) == len(ids[source])
            for chunk in chunks.values():
                assert text[chunk.start : chunk.end] == chunk.text
                assert (chunk.document_id, chunk.source, chunk.title) == (doc.id, source, title)
            last = max(chunks.values(), key=lambda c: c.end)
            assert store.text_before(doc.id, last.end, 10) == text[last.end - 10 : last.end]


def check_lexical_search_ranks_the_chunk_with_the_words(backend: StoreBackend) -> None:
    ids = fill(backend)
    with backend.open() as store:
        hits = store.lexical_search("How many homes were evacuated in Wakefield?", 5)
        assert hits and hits[0][0] == ids["a.txt"][1]
        assert all(a[1] >= b[1] for a, b in zip(hits, hits[1:]))
        assert isinstance(store.lexical_search('"AND" OR NEAR( * : )', 5), list)  # any text is a safe query
        assert store.lexical_search("", 5) == []


def check_dense_search_finds_the_nearest_vector(backend: StoreBackend) -> None:
    ids = fill(backend)
    with backend.open() as store:
        target = ids["c.txt"][1]  # vector unit(21)
        hits = store.dense_search(unit(21), 3)
        assert hits[0][0] == target and hits[0][1] == pytest.approx(1.0, abs=1e-4)
        hybrid = store.hybrid_search("Trains between Leeds and York", unit(21), 5)
        assert hybrid.order[0] == target


def check_term_statistics_count_chunks(backend: StoreBackend) -> None:
    fill(backend)
    with backend.open() as store:
        df = store.document_frequencies(["council", "wakefield", "zzzunknown"])
        assert df == {"council": 2, "wakefield": 1, "zzzunknown": 0}


def check_a_failed_write_changes_nothing(backend: StoreBackend) -> None:
    fill(backend)
    with pytest.raises(RuntimeError):
        with backend.writer(SETTINGS) as w:
            doc = w.documents()["a.txt"]
            w.delete_document(doc.id)
            raise RuntimeError("crash mid-write")
    with backend.open() as store:
        assert store.counts()[0] == 3
        assert store.lexical_search("Wakefield", 5)


def check_updates_replace_and_reuse(backend: StoreBackend) -> None:
    ids = fill(backend)
    with backend.writer(SETTINGS) as w:
        docs = w.documents()
        hashes = w.chunk_hashes(docs["a.txt"].id)
        assert len(hashes) == len(ids["a.txt"]) == w.chunk_count(docs["a.txt"].id)
        kept = w.vectors_for(list(hashes.values()))
        assert set(kept) == set(ids["a.txt"])
        assert w.delete_document(docs["a.txt"].id) == len(ids["a.txt"])
        w.delete_document(docs["b.txt"].id)
        text = "Wakefield dried out on Friday. Residents returned home."
        rows = rows_for(text)
        w.add_document(source="a.txt", title="Flood over", outlet=None, published=None, fingerprint="fp2",
                       text=text, chunks=rows, vectors=np.vstack([unit(99 + i) for i in range(len(rows))]))
        assert w.counts() == (2, len(rows) + len(ids["c.txt"]))
    with backend.open() as store:
        assert set(store.documents()) == {"a.txt", "c.txt"}
        assert not store.lexical_search("evacuated", 5)
        assert not store.lexical_search("Ministers", 5)
        assert store.lexical_search("residents returned", 5)
        assert store.document_frequencies(["council"]) == {"council": 0}


def check_rebuild_starts_empty(backend: StoreBackend) -> None:
    fill(backend)
    with backend.writer(SETTINGS, rebuild=True) as w:
        assert w.documents() == {}
    with backend.open() as store:
        assert store.counts() == (0, 0)
        assert store.lexical_search("Wakefield", 5) == []
        assert store.dense_search(unit(1), 5) == []


def check_info_reports_backend_and_settings(backend: StoreBackend) -> None:
    fill(backend)
    with backend.open() as store:
        info = store.info()
    assert info["backend"] == store.backend and info["index"] == backend.location
    assert (info["documents"], info["embedder"], info["dimension"]) == (3, "test-embedder", DIM)
    assert [s["source"] for s in info["sources"]] == sorted(ARTICLES)


def check_searches_stay_within_the_documents_asked_for(backend: StoreBackend) -> None:
    ids = fill(backend)
    with backend.open() as store:
        docs = store.documents()
        only_b = {docs["b.txt"].id}
        hits = store.lexical_search("council", 5, within=only_b)
        assert [cid for cid, _ in hits] == [ids["b.txt"][0]]  # a.txt's council chunk is left out
        dense = store.dense_search(unit(0), 5, within=only_b)  # unit(0) is a.txt's first chunk
        assert {cid for cid, _ in dense} == set(ids["b.txt"])  # every b.txt chunk still comes back
        assert store.lexical_search("council", 5, within=set()) == []
        assert store.hybrid_search("council", unit(0), 5, within=only_b).order[0] in ids["b.txt"]


def check_metadata_signatures_and_groups_round_trip(backend: StoreBackend) -> None:
    with backend.writer(SETTINGS) as w:
        for name, sig in (("x.txt", b"\x01" * 16), ("y.txt", b"\x02" * 16), ("z.txt", None)):
            rows = rows_for("One sentence here. Another one there.")
            w.add_document(source=name, title=name, outlet=None, published=None, fingerprint=name,
                           text="One sentence here. Another one there.", chunks=rows,
                           vectors=np.vstack([unit(i) for i in range(len(rows))]),
                           authors=("Jane Smith", "John Doe"), url=f"https://example.org/{name}", signature=sig)
        ids = {d.source: d.id for d in w.documents().values()}
        assert w.signatures() == {ids["x.txt"]: b"\x01" * 16, ids["y.txt"]: b"\x02" * 16}
        w.set_groups({ids["x.txt"]: ids["x.txt"], ids["y.txt"]: ids["x.txt"], ids["z.txt"]: None})
    with backend.open() as store:
        docs = store.documents()
        assert docs["x.txt"].authors == ("Jane Smith", "John Doe") and docs["x.txt"].url == "https://example.org/x.txt"
        assert docs["x.txt"].group == docs["y.txt"].group == docs["x.txt"].id and docs["z.txt"].group is None
        assert store.info()["syndicated"] == [["x.txt", "y.txt"]]
    with backend.writer(SETTINGS) as w:  # regrouping documents written earlier
        ids = {d.source: d.id for d in w.documents().values()}
        w.set_groups({ids["x.txt"]: None, ids["y.txt"]: None, ids["z.txt"]: None})
    with backend.open() as store:
        assert all(d.group is None for d in store.documents().values())


def check_sentence_vectors_round_trip_and_reuse(backend: StoreBackend) -> None:
    """Sentence vectors written with a chunk come back with it (to float16 precision), chunks
    written without them are left out, and a writer can read them back to reuse."""
    text = "Wakefield flooded on Monday. About 1,400 homes were evacuated. The council met."
    rows = [ChunkRow(0, 0, 62, text[:62], "h-s0"), ChunkRow(1, 63, len(text), text[63:], "h-s1")]
    first = ChunkSentences(((0, 28), (29, 62)), np.vstack([unit(1), unit(2)]))
    with backend.writer(SETTINGS) as w:
        ids = w.add_document(source="s.txt", title="Flood", outlet=None, published=None, fingerprint="fp-s",
                             text=text, chunks=rows, vectors=np.vstack([unit(3), unit(4)]), sentences=[first, None])
        plain = w.add_document(source="p.txt", title="Plain", outlet=None, published=None, fingerprint="fp-p",
                               text="No sentences here.", chunks=[ChunkRow(0, 0, 18, "No sentences here.", "h-p")],
                               vectors=unit(5)[None, :])
    with backend.open() as store:
        found = store.sentence_vectors(ids + plain)
        assert set(found) == {ids[0]}
        got = found[ids[0]]
        assert got.spans == first.spans
        assert got.vectors.shape == (2, DIM) and got.vectors.dtype == np.float32
        assert np.allclose(got.vectors, first.vectors, atol=2e-3)
        assert store.sentence_vectors([]) == {}
    with backend.writer(SETTINGS) as w:
        doc = w.documents()["s.txt"]
        kept = w.sentences_for(list(w.chunk_hashes(doc.id).values()))
        assert set(kept) == {ids[0]} and kept[ids[0]].spans == first.spans
        w.delete_document(doc.id)
    with backend.open() as store:
        assert store.sentence_vectors(ids) == {}


FILTERED = {  # source: (outlet, published)
    "/news/bbc/flood.html": ("BBC News", "2016-03-03T10:00:00Z"),
    "/news/bbc/strike.txt": ("bbc news", "2016-04"),
    "/news/week/flood.txt": ("The Week", "2015-12-31"),
    "/news/straße/a.txt": ("Straße", "Tuesday 3 March 2016"),
    "/news/none/b.txt": (None, None),
}


def check_matching_documents_admit_what_the_filter_matches(backend: StoreBackend) -> None:
    """However a backend finds them (Python over every record, or its engine), the documents
    a filter admits are the ones DocumentFilter.matches admits."""
    with backend.writer(SETTINGS) as w:
        for i, (source, (outlet, published)) in enumerate(FILTERED.items()):
            w.add_document(source=source, title=source, outlet=outlet, published=published, fingerprint=source,
                           text="One sentence.", chunks=[ChunkRow(0, 0, 13, "One sentence.", f"h{i}")],
                           vectors=unit(i)[None, :])
    cases = {
        DocumentFilter(outlets=("BBC NEWS",)): {"/news/bbc/flood.html", "/news/bbc/strike.txt"},
        DocumentFilter(outlets=("strasse",)): {"/news/straße/a.txt"},
        DocumentFilter(since="2016-03", until="2016-03"): {"/news/bbc/flood.html"},
        DocumentFilter(until="2016"): {"/news/bbc/flood.html", "/news/bbc/strike.txt", "/news/week/flood.txt"},
        DocumentFilter(sources=("bbc/*",)): {"/news/bbc/flood.html", "/news/bbc/strike.txt"},
        DocumentFilter(sources=("*.txt",), since="2016"): {"/news/bbc/strike.txt"},
        DocumentFilter(sources=("/news/[!b]*",)): {"/news/week/flood.txt", "/news/straße/a.txt", "/news/none/b.txt"},
        DocumentFilter(outlets=("The Week",), since="2016"): set(),
    }
    with backend.open() as store:
        docs = store.documents()
        for where, admitted in cases.items():
            assert {d.source for d in docs.values() if where.matches(d)} == admitted, where
            assert store.matching_documents(where) == {docs[s].id for s in admitted}, where


def check_signature_keys_find_candidates_and_follow_deletions(backend: StoreBackend) -> None:
    """A backend that keeps band keys (rag.store.base.SignatureKeys) hands back who shares a
    key, with their groups, and forgets a deleted document's keys; one that keeps none says so."""
    text = "One sentence here. Another one there."
    rows = rows_for(text)
    with backend.writer(SETTINGS) as w:
        keys = w.signature_keys()
        if keys is None:
            return
        for name in ("x.txt", "y.txt", "z.txt", "plain.txt"):
            w.add_document(source=name, title=name, outlet=None, published=None, fingerprint=name, text=text,
                           chunks=rows, vectors=np.vstack([unit(i) for i in range(len(rows))]),
                           signature=None if name == "plain.txt" else name.encode() * 4)
        ids = {d.source: d.id for d in w.documents().values()}
        assert keys.unkeyed() == {ids[n]: n.encode() * 4 for n in ("x.txt", "y.txt", "z.txt")}
        keys.store_keys({ids["x.txt"]: [1, 2], ids["y.txt"]: [2, 3], ids["z.txt"]: [-(1 << 63), (1 << 63) - 1]})
        assert keys.unkeyed() == {}
        w.set_groups({ids["x.txt"]: ids["x.txt"], ids["y.txt"]: ids["x.txt"]})
        assert keys.sharing([2]) == {ids["x.txt"]: ids["x.txt"], ids["y.txt"]: ids["x.txt"]}
        assert keys.sharing([3, (1 << 63) - 1, 99]) == {ids["y.txt"]: ids["x.txt"], ids["z.txt"]: None}
        assert keys.members([ids["x.txt"]]) == {ids["x.txt"]: ids["x.txt"], ids["y.txt"]: ids["x.txt"]}
        assert keys.signatures_of([ids["x.txt"], ids["plain.txt"]]) == {ids["x.txt"]: b"x.txt" * 4}
        assert keys.broken_groups() == set()
    with backend.writer(SETTINGS) as w:
        keys = w.signature_keys()
        assert keys is not None
        ids = {d.source: d.id for d in w.documents().values()}
        w.delete_document(ids["x.txt"])
        assert keys.broken_groups() == {ids["x.txt"]}
        assert keys.sharing([1, 2]) == {ids["y.txt"]: ids["x.txt"]}
        assert keys.members([ids["x.txt"]]) == {ids["y.txt"]: ids["x.txt"]}
    with pytest.raises(RuntimeError):  # keys stored by a write that fails are gone with it
        with backend.writer(SETTINGS) as w:
            keys = w.signature_keys()
            assert keys is not None
            w.add_document(source="w.txt", title="w", outlet=None, published=None, fingerprint="w", text=text,
                           chunks=rows, vectors=np.vstack([unit(i) for i in range(len(rows))]), signature=b"w" * 8)
            keys.store_keys({next(d.id for d in w.documents().values() if d.source == "w.txt"): [7]})
            raise RuntimeError("crash mid-write")
    with backend.writer(SETTINGS) as w:
        keys = w.signature_keys()
        assert keys is not None and keys.sharing([7]) == {} and keys.unkeyed() == {}


CHECKS = [v for k, v in sorted(globals().items()) if k.startswith("check_")]
