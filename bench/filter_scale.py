"""Filtered questions and one-article ingests as the archive grows (embedded backend).

    PYTHONPATH=. .venv/bin/python bench/filter_scale.py [--sizes 1000,10000,50000] [--questions 30]

For each size, a synthetic index is written straight through the store writer (faster than
`rag ingest` of that many files, and the same rows): articles of six 10-16 word sentences drawn
from wordfreq's English top 5,000 (Zipf-weighted), one or two chunks each, embedded by the
offline embedder; 40 outlets, ISO publication dates over 2014-2024 (3% unknown, 2% not ISO),
sources like /archive/<outlet>/<yyyy>/<mm>/story-<n>.txt; every tenth article a syndicated copy
of an earlier one (new headline, 2% of words changed), so syndication groups exist. Grouping
runs once at the end of the build, as an ingest's does.

Then, on one open Assistant (the CLI's `ask --questions`, the UI and chat keep it open):
  - `matching`: Store.matching_documents for each filter (the set a filtered question is
    searched within), alone;
  - `ask filtered` / `ask unfiltered`: a whole extractive question, through Assistant.ask with
    and without a filter. Questions take six words of a sentence of an article the filter
    admits. Filters cycle through: one outlet (given in lower case), a three-month date range,
    since a year, a source glob, and an outlet plus a since bound. A store that caches filter
    results per snapshot has that cache emptied before each question, so every figure is a
    first use of its filter, as in a one-question `rag ask` process.
  - `ingest +1`: the real `rag ingest` of one new article file into the index (a new article,
    a syndicated copy of a stored one, then an edit of the first: median of the three), and the
    part of it spent regrouping syndicated copies (rag.ingest.pipeline._group_syndicated).

Percentiles are nearest-rank. The machine and its load are printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from embeddings import create_embedder  # noqa: E402
from rag.answer.assistant import Assistant  # noqa: E402
from rag.ingest import pipeline  # noqa: E402
from rag.ingest.chunking import chunk_text  # noqa: E402
from rag.ingest.syndication import signature, signature_bytes  # noqa: E402
from rag.store.base import ChunkRow, IndexSettings  # noqa: E402
from rag.store.embedded import EmbeddedBackend  # noqa: E402
from rag.store.filters import DocumentFilter  # noqa: E402

OUTLETS = [f"The {a} {b}" for a in ("Alder Valley", "Westmoor", "Harbour", "Northfield", "Riverside", "Eastgate",
                                     "Kingsbridge", "Millbrook")
           for b in ("Post", "Gazette", "Courier", "Herald", "Echo")]
YEARS = range(2014, 2025)
EMBED_BATCH = 256


def vocabulary() -> tuple[list[str], list[float]]:
    from wordfreq import top_n_list, word_frequency

    words = [w for w in top_n_list("en", 5000) if w.isalpha()]
    return words, [word_frequency(w, "en") for w in words]


def sentence(rng: random.Random, vocab: tuple[list[str], list[float]]) -> str:
    words, weights = vocab
    return " ".join(rng.choices(words, weights, k=rng.randint(10, 16))).capitalize() + "."


def slug(outlet: str) -> str:
    return outlet.lower().removeprefix("the ").replace(" ", "-")


def articles(n: int, seed: int) -> Iterator[dict[str, Any]]:
    """n synthetic articles: source, title, text, outlet, published."""
    rng = random.Random(seed)
    vocab = vocabulary()
    words, weights = vocab
    bodies: list[list[str]] = []
    for i in range(n):
        if i % 10 == 9 and bodies:  # a syndicated copy of an earlier article
            body = [" ".join(rng.choices(words, weights)[0] if rng.random() < 0.02 else w for w in s.split())
                    for s in rng.choice(bodies)]
        else:
            body = [sentence(rng, vocab) for _ in range(6)]
        bodies.append(body)
        outlet = rng.choice(OUTLETS)
        year, month, day = rng.choice(YEARS), rng.randint(1, 12), rng.randint(1, 28)
        roll = rng.random()
        published = (None if roll < 0.03 else f"{day} {month} {year}" if roll < 0.05
                     else f"{year}-{month:02d}-{day:02d}T{rng.randint(0, 23):02d}:00:00Z")
        title = f"Story {i}: {' '.join(body[0].split()[:5])}"
        yield {"source": f"/archive/{slug(outlet)}/{year}/{month:02d}/story-{i}.txt", "title": title,
               "text": f"{title}\n\n" + "\n\n".join(body), "outlet": outlet, "published": published}


def build(directory: Path, n: int, seed: int) -> tuple[list[dict[str, Any]], float]:
    """Write n articles in one write, grouped as an ingest groups them; (articles, seconds)."""
    embedder = create_embedder("offline")
    settings = IndexSettings(embedder.spec, embedder.id, embedder.dimension, 500, 100)
    started = time.perf_counter()
    docs = list(articles(n, seed))
    with EmbeddedBackend(directory).writer(settings) as writer:
        for at in range(0, n, EMBED_BATCH):
            part = docs[at : at + EMBED_BATCH]
            chunked = [chunk_text(d["text"], 500, 100) for d in part]
            vectors = embedder.encode_documents([c.text for cs in chunked for c in cs])
            k = 0
            for doc, chunks in zip(part, chunked):
                rows = [ChunkRow(c.ordinal, c.start, c.end, c.text, f"h{doc['source']}:{c.ordinal}") for c in chunks]
                writer.add_document(**doc, fingerprint=f"bench:{doc['source']}", chunks=rows,
                                    vectors=vectors[k : k + len(rows)],
                                    signature=signature_bytes(signature(doc["text"])))
                k += len(rows)
        pipeline._group_syndicated(writer)
    return docs, time.perf_counter() - started


def filters() -> list[tuple[str, DocumentFilter]]:
    return [
        ("outlet", DocumentFilter(outlets=(OUTLETS[7].lower(),))),
        ("3 months", DocumentFilter(since="2019-03", until="2019-05")),
        ("since year", DocumentFilter(since="2024")),
        ("source glob", DocumentFilter(sources=(f"{slug(OUTLETS[3])}/2016/*",))),
        ("outlet+since", DocumentFilter(outlets=(OUTLETS[12].upper(),), since="2020-06")),
    ]


def _pct(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _forget(store: Any) -> None:
    """Empty a per-snapshot filter cache, if the store has one (first use of every filter)."""
    for name in ("_matching", "_within_chunks"):
        cache = getattr(store, name, None)
        if isinstance(cache, dict):
            cache.clear()


def questions(docs: list[dict[str, Any]], rng: random.Random, n: int) -> list[tuple[str, str, DocumentFilter]]:
    """(question, filter name, filter): six words of a sentence of an article the filter admits."""
    from rag.store.base import StoredDocument

    pool = filters()
    out = []
    for i in range(n):
        name, where = pool[i % len(pool)]
        admitted = [d for d in docs if where.matches(StoredDocument(0, d["source"], d["title"], d["outlet"],
                                                                    d["published"], ""))]
        doc = rng.choice(admitted)
        words = rng.choice(doc["text"].split("\n\n")[1:]).rstrip(".").split()
        at = rng.randrange(0, max(1, len(words) - 6))
        out.append((f"What about {' '.join(words[at:at + 6])}?", name, where))
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t) * 1000, out


def measure_questions(directory: Path, docs: list[dict[str, Any]], n: int, seed: int) -> dict[str, Any]:
    assistant = Assistant(directory, embedder_spec="offline")
    store = assistant.store
    asked = questions(docs, random.Random(seed), n)
    assistant.ask(asked[0][0])  # warm: embedder, the assistant's own one-off reads
    matching, filtered, plain, admitted = [], [], [], {}
    for question, name, where in asked:
        _forget(store)
        ms, ids = timed(lambda: store.matching_documents(where))
        matching.append(ms)
        admitted[name] = len(ids)
        _forget(store)
        ms, answer = timed(lambda: assistant.ask(question, where=where))
        filtered.append(ms)
        assert all(where.matches(store.document(p.document_id)) for p in answer.passages)
        ms, _ = timed(lambda: assistant.ask(question))
        plain.append(ms)
    store.close()
    return {"matching": _pct(matching), "filtered": _pct(filtered), "plain": _pct(plain), "admitted": admitted}


def measure_ingest(directory: Path, seed: int) -> dict[str, Any]:
    """Three one-file ingests (new, syndicated copy, edit): total and regrouping, medians."""
    rng = random.Random(seed)
    vocab = vocabulary()
    incoming = directory.parent / "incoming"
    incoming.mkdir(exist_ok=True)
    with EmbeddedBackend(directory).open() as store:
        docs = store.documents()
        copied = store.document_text(docs[sorted(docs)[len(docs) // 2]].id)
    body = [sentence(rng, vocab) for _ in range(6)]
    steps = [("new.txt", "Bench story: a new one\n\n" + "\n\n".join(body)),
             ("copy.txt", "Bench copy of a stored story\n\n" + copied.split("\n\n", 1)[1]),
             ("new.txt", "Bench story: a new one, edited\n\n" + "\n\n".join(body[:5] + [sentence(rng, vocab)]))]
    real = pipeline._group_syndicated
    spent: list[float] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append((time.perf_counter() - t) * 1000)

    totals, grouping = [], []
    pipeline._group_syndicated = counted  # type: ignore[assignment]
    try:
        for name, text in steps:
            (incoming / name).write_text(text, encoding="utf-8")
            spent.clear()
            ms, report = timed(lambda: pipeline.ingest([incoming / name], directory, embedder_spec="offline",
                                                       progress=False, warn=lambda m: None))
            assert report.documents_new + report.documents_updated == 1, report
            totals.append(ms)
            grouping.append(sum(spent))
    finally:
        pipeline._group_syndicated = real  # type: ignore[assignment]
    with EmbeddedBackend(directory).open() as store:
        docs = store.documents()
        copy = docs[str((incoming / "copy.txt").resolve())]
    return {"total": statistics.median(totals), "grouping": statistics.median(grouping),
            "copy_grouped": copy.group is not None}


def machine() -> str:
    load = os.getloadavg()
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load {load[0]:.2f}; python"
            f" {platform.python_version()}; commit {commit}{' + uncommitted changes' if dirty else ''}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"# bench/filter_scale.py --sizes {args.sizes} --questions {args.questions} --seed {args.seed}\n")
    print(machine() + "\n")
    print("| articles | chunks | build s | groups | matching p50/p95 ms | ask filtered p50/p95 ms"
          " | ask unfiltered p50/p95 ms | ingest +1 ms | of which regrouping ms |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    admitted_rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        root = Path(tempfile.mkdtemp(prefix="rag-filter-scale-"))
        try:
            directory = root / "index"
            docs, seconds = build(directory, n, args.seed)
            with EmbeddedBackend(directory).open() as store:
                chunks = store.counts()[1]
                groups = len({d.group for d in store.documents().values() if d.group is not None})
            q = measure_questions(directory, docs, args.questions, args.seed)
            ing = measure_ingest(directory, args.seed)
            assert ing["copy_grouped"], "the syndicated copy was not grouped"
            print(f"| {n:,} | {chunks:,} | {seconds:.0f} | {groups:,} | {q['matching'][0]:.1f} / {q['matching'][1]:.1f}"
                  f" | {q['filtered'][0]:.0f} / {q['filtered'][1]:.0f} | {q['plain'][0]:.0f} / {q['plain'][1]:.0f}"
                  f" | {ing['total']:.0f} | {ing['grouping']:.0f} |", flush=True)
            admitted_rows.append((n, q["admitted"]))
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print("\nArticles each filter admits:\n")
    names = [name for name, _ in filters()]
    print("| articles | " + " | ".join(names) + " |")
    print("|---:|" + "---:|" * len(names))
    for n, admitted in admitted_rows:
        print(f"| {n:,} | " + " | ".join(f"{admitted.get(name, 0):,}" for name in names) + " |")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
