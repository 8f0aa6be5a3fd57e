"""Syndicated copies group together; follow-ups with new figures stay apart; nothing is pickled."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from rag.ingest import syndication as S
from rag.text import shingles as T
from rag.ingest.chunking import chunk_text
from rag.ingest.cleaning import clean_news_text
from rag.ingest.loading import read_document

from .news_corpus import write_news_corpus


@pytest.fixture
def cleaned(tmp_path: Path) -> tuple[dict[str, str], dict]:
    expected = write_news_corpus(tmp_path)
    texts = {}
    for name in expected:
        doc = read_document(tmp_path / name)
        texts[name] = clean_news_text(doc.text, title_hint=doc.title).text
    return texts, expected


def _true_groups(expected: dict) -> list[set[str]]:
    groups: dict[str, set[str]] = {}
    for name, info in expected.items():
        if info["group"]:
            groups.setdefault(info["group"], set()).add(name)
    return list(groups.values())


def test_the_three_copies_of_the_wire_story_are_one_group(cleaned):
    texts, expected = cleaned
    index = S.SyndicationIndex.build(texts.items())
    assert [set(g) for g in index.groups()] == _true_groups(expected)
    assert set(index.group_of("courier-floods.html")) == _true_groups(expected)[0]
    # The follow-ups tell the same story with new figures: they are not copies.
    assert index.group_of("courier-followup-2024-02-13.txt") == ["courier-followup-2024-02-13.txt"]
    assert index.group_of("courier-followup-2024-02-15.html") == ["courier-followup-2024-02-15.html"]


def test_copies_differ_in_wording_so_a_fixed_07_threshold_would_miss_one(cleaned):
    texts, _ = cleaned
    post, gazette = T.shingles(texts["alder-valley-post-floods.html"]), T.shingles(texts["westmoor-gazette-floods.html"])
    assert 0.5 <= T.jaccard(post, gazette) < 0.7
    assert texts["alder-valley-post-floods.html"] != texts["courier-floods.html"]


def test_incremental_add_remove_and_replace(cleaned):
    texts, _ = cleaned
    index = S.SyndicationIndex()
    index.add("a", texts["courier-floods.html"])
    index.add("b", texts["council-tax-relief.html"])
    assert index.groups() == []
    index.add("c", texts["westmoor-gazette-floods.html"])
    assert index.groups() == [["a", "c"]]
    assert index.similar(texts["alder-valley-post-floods.html"])[0][0] in {"a", "c"}
    index.remove("a")
    assert index.groups() == [] and "a" not in index and len(index) == 2
    index.remove("missing")  # ignored
    index.add("c", texts["rowing-club-volunteers.html"])  # replacing a key's text
    index.add("a", texts["courier-floods.html"])
    assert index.groups() == []
    with pytest.raises(KeyError):
        index.group_of("nope")


def test_serialises_without_pickle_and_round_trips(cleaned, tmp_path: Path):
    texts, _ = cleaned
    index = S.SyndicationIndex.build(texts.items())
    blob = index.to_bytes()
    assert b"pickle" not in blob and not blob.startswith(b"\x80")
    again = S.SyndicationIndex.from_bytes(blob)
    assert again.groups() == index.groups() and len(again) == len(index)
    # Per-document signatures in a BLOB column, as a store would keep them.
    db = sqlite3.connect(tmp_path / "sig.sqlite")
    db.execute("CREATE TABLE sig (key TEXT PRIMARY KEY, minhash BLOB)")
    db.executemany("INSERT INTO sig VALUES (?, ?)", [(k, S.signature_bytes(index.signature_of(k))) for k in texts])
    rebuilt = S.SyndicationIndex()
    for key, data in db.execute("SELECT key, minhash FROM sig"):
        assert len(data) == S.NUM_PERM * 8
        rebuilt.add_signature(key, data)
    db.close()
    assert [set(g) for g in rebuilt.groups()] == [set(g) for g in index.groups()]


@pytest.mark.parametrize("blob", [b"", b"\x00\x00", b"\x05\x00\x00\x00hello", b"\x02\x00\x00\x00{}"])
def test_damaged_bytes_are_refused(blob):
    with pytest.raises(ValueError):
        S.SyndicationIndex.from_bytes(blob)


def test_truncated_bytes_are_refused(cleaned):
    texts, _ = cleaned
    blob = S.SyndicationIndex.build(texts.items()).to_bytes()
    with pytest.raises(ValueError):
        S.SyndicationIndex.from_bytes(blob[:-8])


def test_signature_is_deterministic_and_estimates_jaccard(cleaned):
    texts, _ = cleaned
    a, b = texts["courier-floods.html"], texts["westmoor-gazette-floods.html"]
    sa, sb = S.signature(a), S.signature(b)
    assert sa.dtype == np.uint64 and sa.shape == (S.NUM_PERM,)
    assert np.array_equal(sa, S.signature(a))
    assert abs(S.estimated_jaccard(sa, sb) - T.jaccard(T.shingles(a), T.shingles(b))) < 0.15
    assert np.array_equal(S.signature_from_bytes(S.signature_bytes(sa)), sa)
    with pytest.raises(ValueError):
        S.signature_from_bytes(b"\x00" * 8)


def test_streamed_signatures_match_the_set_of_shingles(cleaned, monkeypatch):
    """Signing streams shingles in batches (a 50 MB article's do not fit memory as one matrix):
    the signature is exactly that of the set of shingles, batch boundaries included."""
    from datasketch import MinHash

    texts, _ = cleaned
    monkeypatch.setattr(S, "SIGNATURE_BATCH", 7)  # many batches, boundaries everywhere
    for text in [*texts.values(), "", "Flood warning.", "one two three four five"]:
        assert set(T.iter_shingles(text)) == T.shingles(text)
        whole = MinHash(num_perm=S.NUM_PERM, seed=S.SEED, hashfunc=S._hash32, scheme=S.SCHEME)
        if T.shingles(text):
            whole.update_batch(list(T.shingles(text)))
        assert np.array_equal(S.signature(text), np.asarray(whole.hashvalues, dtype=np.uint64))


def test_empty_and_short_texts():
    assert T.shingles("") == set() and T.shingles("one two") == {"one two"}
    index = S.SyndicationIndex.build([("e", ""), ("s", "Flood warning.")])
    assert len(index) == 2 and index.groups() == []
    assert T.near_duplicate_text("", "") is False


def test_passage_level_near_duplicates(cleaned):
    texts, _ = cleaned
    courier = [c.text for c in chunk_text(texts["courier-floods.html"], 500, 100)]
    gazette = [c.text for c in chunk_text(texts["westmoor-gazette-floods.html"], 500, 100)]
    followup = [c.text for c in chunk_text(texts["courier-followup-2024-02-13.txt"], 500, 100)]
    assert T.near_duplicate_text(courier[1], max(gazette, key=lambda g: T.jaccard(T.shingles(courier[1], 3), T.shingles(g, 3))))
    assert not any(T.near_duplicate_text(c, f) for c in courier for f in followup)
    assert T.near_duplicate_text("The river burst its banks on Monday night.", "The river burst its banks on Monday night!")


def test_keys_may_be_ints_but_not_other_objects():
    index = S.SyndicationIndex.build([(1, "a b c d e f g"), (2, "a b c d e f g")])
    assert index.groups() == [[1, 2]]
    assert S.SyndicationIndex.from_bytes(index.to_bytes()).groups() == [[1, 2]]
    index.add((3, 4), "x y z")
    with pytest.raises(TypeError):
        index.to_bytes()


def test_groups_are_the_components_group_of_finds_in_insertion_order():
    """groups() orders members through one position table instead of a scan per group."""
    import random

    rng = random.Random(5)
    words = [f"w{i}" for i in range(500)]
    stories = [rng.choices(words, k=60) for _ in range(30)]
    index = S.SyndicationIndex()
    for key in rng.sample(range(1000), 120):
        base = rng.choice(stories)
        index.add(key, " ".join(rng.choice(words) if rng.random() < 0.04 else w for w in base))
    expected, done = [], set()
    for key in list(index._sigs):
        if key not in done:
            group = index.group_of(key)
            done.update(group)
            expected.append(group)
    assert index.groups(singletons=True) == expected
    assert index.groups() == [g for g in expected if len(g) > 1] and len(index.groups()) > 5
