"""Syndicated-copy detection: Jaccard of edited copies, threshold choice, speed on 1,000 articles.

    PYTHONPATH=. python bench/syndication.py [--articles 1000] [--seed 7]

Synthetic articles are 20 sentences of 12-25 words drawn from wordfreq's English top 5,000
(Zipf-weighted), so unrelated articles share common phrases the way real ones do. A syndicated
copy keeps the story and applies an outlet's edits: a different headline, a fraction of words
substituted, one paragraph dropped and one added. Same-story follow-ups share only quotes and
names: a new article with two sentences copied from the original.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rag.ingest import syndication as S  # noqa: E402


def vocabulary() -> tuple[list[str], list[float]]:
    from wordfreq import top_n_list, word_frequency

    words = [w for w in top_n_list("en", 5000) if w.isalpha()]
    return words, [word_frequency(w, "en") for w in words]


def sentence(rng: random.Random, vocab) -> str:
    words, weights = vocab
    n = rng.randint(12, 25)
    return " ".join(rng.choices(words, weights, k=n)).capitalize() + "."


def article(rng: random.Random, vocab, sentences: int = 20) -> list[str]:
    return [sentence(rng, vocab) for _ in range(sentences)]


def syndicate(rng: random.Random, vocab, paragraphs: list[str], substitute: float) -> list[str]:
    words, weights = vocab
    out = []
    for p in paragraphs:
        tokens = p.split()
        tokens = [rng.choices(words, weights)[0] if rng.random() < substitute else t for t in tokens]
        out.append(" ".join(tokens))
    out.pop(rng.randrange(1, len(out)))
    out.insert(rng.randrange(1, len(out)), sentence(rng, vocab))
    out[0] = sentence(rng, vocab)  # the outlet's own headline
    return out


def followup(rng: random.Random, vocab, paragraphs: list[str]) -> list[str]:
    new = article(rng, vocab, 16)
    new[3:3] = rng.sample(paragraphs[1:], 2)  # two quotes carried over
    return new


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    vocab = vocabulary()

    print("## Jaccard (exact, 5-word shingles) of a copy vs its original, 40 pairs per row")
    base = [article(rng, vocab) for _ in range(40)]
    for rate in (0.0, 0.01, 0.02, 0.03, 0.05, 0.08):
        js = [S.jaccard(S.shingles("\n".join(b)), S.shingles("\n".join(syndicate(rng, vocab, b, rate)))) for b in base]
        print(f"substitute {rate:4.0%}: min {min(js):.3f}  median {statistics.median(js):.3f}  max {max(js):.3f}")
    js = [S.jaccard(S.shingles("\n".join(b)), S.shingles("\n".join(followup(rng, vocab, b)))) for b in base]
    print(f"follow-up (2 quotes shared): min {min(js):.3f}  median {statistics.median(js):.3f}  max {max(js):.3f}")
    pairs = list(itertools.combinations(base, 2))[:400]
    js = [S.jaccard(S.shingles("\n".join(a)), S.shingles("\n".join(b))) for a, b in pairs]
    print(f"unrelated articles ({len(pairs)} pairs): max {max(js):.3f}")

    print(f"\n## {args.articles} articles: a third are originals with 2 syndicated copies each (2% words substituted)")
    docs: dict[str, str] = {}
    truth: list[set[str]] = []
    i = 0
    while len(docs) < args.articles:
        original = article(rng, vocab)
        docs[f"d{i}"] = "\n".join(original)
        if len(docs) + 2 <= args.articles and i % 3 == 0:
            group = {f"d{i}"}
            for c in range(2):
                key = f"d{i}c{c}"
                docs[key] = "\n".join(syndicate(rng, vocab, original, 0.02))
                group.add(key)
            truth.append(group)
        if len(docs) < args.articles and i % 5 == 0:
            docs[f"d{i}f"] = "\n".join(followup(rng, vocab, original))
        i += 1
    words = sum(len(t.split()) for t in docs.values())
    print(f"{len(docs)} articles, {words / len(docs):.0f} words each on average; true groups: {len(truth)}")
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
        started = time.perf_counter()
        sigs = {k: S.signature(t) for k, t in docs.items()}
        sig_s = time.perf_counter() - started
        index = S.SyndicationIndex(threshold=threshold)
        started = time.perf_counter()
        for k, sig in sigs.items():
            index.add_signature(k, sig)
        insert_s = time.perf_counter() - started
        started = time.perf_counter()
        groups = [set(g) for g in index.groups()]
        groups_s = time.perf_counter() - started
        found_pairs = {frozenset(p) for g in groups for p in itertools.combinations(sorted(g), 2)}
        true_pairs = {frozenset(p) for g in truth for p in itertools.combinations(sorted(g), 2)}
        tp = len(found_pairs & true_pairs)
        precision = tp / len(found_pairs) if found_pairs else 1.0
        recall = tp / len(true_pairs) if true_pairs else 1.0
        started = time.perf_counter()
        blob = index.to_bytes()
        again = S.SyndicationIndex.from_bytes(blob)
        io_s = time.perf_counter() - started
        assert [sorted(g) for g in again.groups()] == [sorted(g) for g in index.groups()]
        started = time.perf_counter()
        index.remove("d0")
        index.add("d0", docs["d0"])
        update_ms = (time.perf_counter() - started) * 1000
        print(f"threshold {threshold}: pair precision {precision:.3f} recall {recall:.3f} | signatures {sig_s:.2f}s"
              f" ({sig_s / len(docs) * 1000:.2f} ms/article), LSH insert {insert_s:.3f}s, groups() {groups_s:.3f}s,"
              f" to_bytes+from_bytes {io_s:.3f}s ({len(blob) / 1024:.0f} KiB), remove+add one {update_ms:.1f} ms")


if __name__ == "__main__":
    main()
