"""Regrouping only what a write changed gives exactly the groups of regrouping everything."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from rag.ingest import grouping
from rag.ingest.grouping import full_groups, regroup
from rag.ingest.pipeline import ingest
from rag.ingest.syndication import signature, signature_bytes
from rag.store.base import ChunkRow, StoreWriter
from rag.store.embedded import EmbeddedBackend, EmbeddedWriter

from .news_corpus import write_news_corpus
from .store_contract import SETTINGS, unit

VOCABULARY = [f"w{i}" for i in range(3000)]


def story(rng: random.Random) -> list[str]:
    return rng.choices(VOCABULARY, k=rng.randint(40, 70))


def edited(rng: random.Random, words: list[str]) -> list[str]:
    """A copy with a few words changed: near what it copies most of the time, near another copy
    of the same story less often, so copies chain into groups that a removal can split and an
    addition can join."""
    rate = rng.choice([0.02, 0.04, 0.05, 0.06, 0.07])
    return [rng.choice(VOCABULARY) if rng.random() < rate else w for w in words]


def add(writer: StoreWriter, source: str, words: list[str]) -> None:
    text = " ".join(words)
    writer.add_document(source=source, title=source, outlet=None, published=None, fingerprint=text[:40],
                        text=text, chunks=[ChunkRow(0, 0, len(text), text, source)], vectors=unit(len(text))[None, :],
                        signature=signature_bytes(signature(text)))


def sig(words: list[str]) -> bytes:
    return signature_bytes(signature(" ".join(words)))


def stored_groups(writer: StoreWriter) -> dict[int, int | None]:
    return {d.id: d.group for d in writer.documents().values()}


def changes(before: dict[int, int | None], after: dict[int, int | None]) -> tuple[int, int]:
    """(pairs of articles kept by a write that it separated, pairs that it put together)."""
    kept = sorted(set(before) & set(after))
    pairs = [(a, b) for i, a in enumerate(kept) for b in kept[i + 1:]]
    together = [(before[a] is not None and before[a] == before[b], after[a] is not None and after[a] == after[b])
                for a, b in pairs]
    return sum(was and not now for was, now in together), sum(now and not was for was, now in together)


def forget_keys(writer: EmbeddedWriter) -> None:
    """As an index just upgraded by migration 6 stands: no keys stored, every document unkeyed."""
    writer.conn.execute("DELETE FROM signature_keys")
    writer.conn.execute("UPDATE documents SET signature_keyed = 0")


def test_random_adds_updates_and_removals_group_as_a_full_regroup(tmp_path: Path) -> None:
    """Random sequences of writes; after each, the stored groups are a full regroup's."""
    splits = merges = 0
    for seed in range(4):
        split, merged = _random_writes(tmp_path / f"index-{seed}", random.Random(seed))
        splits, merges = splits + split, merges + merged
    assert splits and merges, (splits, merges)  # groups kept by a write were split by it, and joined


def _random_writes(directory: Path, rng: random.Random) -> tuple[int, int]:
    backend = EmbeddedBackend(directory)
    texts: dict[str, list[str]] = {}
    originals: list[list[str]] = []
    counter = 0
    splits = merges = 0
    for step in range(20):
        with backend.writer(SETTINGS) as writer:
            before = stored_groups(writer)
            if step == 10:
                assert isinstance(writer, EmbeddedWriter)
                forget_keys(writer)
            for _ in range(rng.randint(2, 6)):
                roll, docs, pick = rng.random(), writer.documents(), rng.random()
                if texts and pick < 0.3:  # a copy of an indexed article
                    base = edited(rng, texts[rng.choice(sorted(texts))])
                elif originals and pick < 0.7:  # another outlet's copy of a wire story, which
                    base = edited(rng, rng.choice(originals))  # may not be near any other copy
                elif originals and pick < 0.8:  # the wire story itself: it joins all its copies
                    base = list(rng.choice(originals))
                else:  # a new wire story, known from its copies
                    originals.append(story(rng))
                    base = edited(rng, originals[-1])
                if roll < 0.6 or not texts:
                    counter += 1
                    source = f"s{counter}.txt"
                elif roll < 0.8:  # an update: the old version goes, the new one comes
                    source = rng.choice(sorted(texts))
                    writer.delete_document(docs[source].id)
                else:
                    source = rng.choice(sorted(texts))
                    writer.delete_document(docs[source].id)
                    del texts[source]
                    continue
                texts[source] = base
                add(writer, source, base)
            regroup(writer)
            after = stored_groups(writer)
            assert after == full_groups(writer.signatures())
            split, merged = changes(before, after)
            splits, merges = splits + split, merges + merged
    with backend.open() as store:
        assert {d.id: d.group for d in store.documents().values()} == after
    return splits, merges


def test_a_story_joins_copies_that_drifted_apart_and_its_removal_splits_them(tmp_path: Path) -> None:
    """Two outlets' copies edit different ends of a wire story: each is a copy of the story,
    not of each other, so they are one group only while the story itself is indexed."""
    rng = random.Random(11)
    wire = rng.choices(VOCABULARY, k=100)
    first, last = list(wire), list(wire)
    for at in (5, 15, 25, 35):
        first[at] = "x" + first[at]
    for at in (60, 70, 80, 90):
        last[at] = "y" + last[at]
    assert full_groups({1: sig(first), 2: sig(last)}) == {1: None, 2: None}
    backend = EmbeddedBackend(tmp_path / "index")
    steps: list[tuple[list[str], list[tuple[str, list[str]]], list[set[str]]]] = [
        ([], [("first.txt", first), ("last.txt", last)], []),
        ([], [("wire.txt", wire)], [{"first.txt", "last.txt", "wire.txt"}]),  # joined
        (["wire.txt"], [], []),  # split
        ([], [("wire.txt", wire)], [{"first.txt", "last.txt", "wire.txt"}]),
        (["first.txt"], [("first.txt", first)], [{"first.txt", "last.txt", "wire.txt"}]),  # the smallest id changes
        (["wire.txt", "last.txt"], [("last.txt", last)], []),
    ]
    for gone, added, expected in steps:
        with backend.writer(SETTINGS) as writer:
            for source in gone:
                writer.delete_document(writer.documents()[source].id)
            for source, words in added:
                add(writer, source, words)
            regroup(writer)
            assert stored_groups(writer) == full_groups(writer.signatures())
            by_group: dict[int, set[str]] = {}
            for doc in writer.documents().values():
                if doc.group is not None:
                    by_group.setdefault(doc.group, set()).add(doc.source)
            assert sorted(by_group.values(), key=sorted) == expected
            assert all(g == min(writer.documents()[s].id for s in members) for g, members in by_group.items())


def test_adding_one_article_regroups_only_its_candidates(tmp_path: Path) -> None:
    rng = random.Random(3)
    backend = EmbeddedBackend(tmp_path / "index")
    stories = [story(rng) for _ in range(300)]
    with backend.writer(SETTINGS) as writer:
        for i, words in enumerate(stories):
            add(writer, f"s{i}.txt", words)
        add(writer, "copy-a.txt", edited(random.Random(1), stories[5]))
        assert regroup(writer) == 301
    with backend.writer(SETTINGS) as writer:
        add(writer, "copy-b.txt", stories[5])
        looked_at = regroup(writer)
        groups = stored_groups(writer)
        assert groups == full_groups(writer.signatures())
    docs = {d.source: d for d in backend.open().documents().values()}
    assert docs["copy-b.txt"].group == docs["s5.txt"].group == docs["s5.txt"].id
    assert looked_at == 3  # the new copy and the group it joins, not the 302 articles


def test_a_backend_without_band_keys_regroups_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(EmbeddedWriter, "signature_keys", lambda self: None)
    rng = random.Random(4)
    words = story(rng)
    with EmbeddedBackend(tmp_path / "index").writer(SETTINGS) as writer:
        for i in range(5):
            add(writer, f"s{i}.txt", story(rng))
        add(writer, "a.txt", words)
        add(writer, "b.txt", words)
        assert regroup(writer) == 7
        assert stored_groups(writer) == full_groups(writer.signatures())


def test_ingest_keeps_groups_right_when_a_copy_goes_and_comes_back(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    expected = write_news_corpus(corpus)
    copies = sorted(n for n, item in expected.items() if item["group"])
    index = tmp_path / "index"
    ingest([corpus], index, embedder_spec="offline", progress=False, warn=lambda m: None)

    def grouped() -> list[list[str]]:
        with EmbeddedBackend(index).open() as store:
            return [[s.rsplit("/", 1)[-1] for s in g] for g in store.info()["syndicated"]]

    assert grouped() == [copies]
    first = min(copies, key=lambda n: next(d.id for d in EmbeddedBackend(index).open().documents().values()
                                           if d.source.endswith(n)))
    shutil.move(corpus / first, tmp_path / first)  # the group's smallest id leaves: its id changes
    ingest([corpus], index, embedder_spec="offline", progress=False, warn=lambda m: None)
    assert grouped() == [[n for n in copies if n != first]]
    shutil.move(tmp_path / first, corpus / first)
    ingest([corpus], index, embedder_spec="offline", progress=False, warn=lambda m: None)
    assert grouped() == [copies]
    with EmbeddedBackend(index).open() as store:
        docs = store.documents().values()
        assert len({d.group for d in docs if d.group is not None}) == 1
        assert min(d.id for d in docs if d.group is not None) == next(d.group for d in docs if d.group is not None)


def test_band_keys_are_shared_by_candidates_only() -> None:
    from rag.ingest.syndication import SyndicationIndex

    index = SyndicationIndex()
    a = signature("the river burst its banks on monday night and about 1,400 homes were evacuated")
    keys = index.band_keys(a)
    assert len(keys) == len(set(keys)) == index._lsh.b and all(-(1 << 63) <= k < 1 << 63 for k in keys)
    assert index.band_keys(a.copy()) == keys
    b = a.copy()
    b[: index._lsh.r] += np.uint64(1)  # the first band differs, the others do not
    assert index.band_keys(b)[1:] == keys[1:] and index.band_keys(b)[0] != keys[0]
    assert grouping.full_groups({}) == {}


def test_an_index_from_schema_4_filters_and_regroups_after_its_upgrade(tmp_path: Path) -> None:
    """Migration 5 fills the filter's columns from the rows there; migration 6 leaves every
    document unkeyed, so the next ingest keys them all and regroups the whole index once."""
    import sqlite3

    from rag.store.filters import DocumentFilter
    from rag.store.manifest import read_manifest, write_manifest

    corpus = tmp_path / "corpus"
    expected = write_news_corpus(corpus)
    index = tmp_path / "index"
    ingest([corpus], index, embedder_spec="offline", progress=False, warn=lambda m: None)
    manifest = read_manifest(index)
    assert manifest is not None
    with sqlite3.connect(index / manifest.sqlite_file) as conn:
        for name in ("documents_published", "documents_outlet", "documents_unkeyed", "documents_group"):
            conn.execute(f"DROP INDEX {name}")
        conn.execute("DROP TABLE signature_keys")
        for column in ("published_key", "outlet_key", "signature_keyed"):
            conn.execute(f"ALTER TABLE documents DROP COLUMN {column}")
        conn.execute("DELETE FROM schema_migrations WHERE version >= 5")
    manifest.schema_version = 4
    write_manifest(index, manifest)
    outlet = next(item["expected"]["outlet"] for item in expected.values() if item["group"])
    with EmbeddedBackend(index).open() as store:
        for where in (DocumentFilter(outlets=(outlet.upper(),)), DocumentFilter(since="2024-02-13")):
            found = store.matching_documents(where)
            assert found and found == {d.id for d in store.documents().values() if where.matches(d)}
    copies = sorted(n for n, item in expected.items() if item["group"])
    (corpus / "another-copy.html").write_text((corpus / copies[0]).read_text().replace("Monday", "Sunday"))
    ingest([corpus], index, embedder_spec="offline", progress=False, warn=lambda m: None)
    with EmbeddedBackend(index).open() as store:
        grouped = [[s.rsplit("/", 1)[-1] for s in g] for g in store.info()["syndicated"]]
        assert grouped == [sorted([*copies, "another-copy.html"])]
        assert store.conn.execute("SELECT COUNT(*) FROM documents WHERE signature_keyed = 0").fetchone()[0] == 0
