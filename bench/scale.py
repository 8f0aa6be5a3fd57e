"""How the costs grow: 10k, 100k and 1M chunks.

For each size, in a fresh subprocess (so peak memory is per size):
  - the SQLite half, built with the project's own store: realistic ~500-character chunks
    (the seed articles' sentences recombined, with random names and numbers mixed in so BM25
    sees a growing vocabulary), 20 chunks a document, one transaction; then FTS5 BM25 query
    latency for questions about the seeds;
  - the FAISS half through rag.vectors.VectorIndex: 384-dimensional L2-normalised vectors drawn
    from a mixture of 1,000 Gaussian clusters (real embeddings cluster; uniform noise would
    flatter neither index), the exact index and the IVF index the project switches to, with
    recall@10 of IVF against exact search.
Prints one markdown table per half.

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

QUESTIONS = [
    "How many children were sexually abused in Rotherham?", "Who is the chief inspector of schools?",
    "What did the LGA call for?", "Which watchdog does Sir Tom Winsor lead?",
    "What did the report say about information sharing?", "Who told the BBC that councils would reflect?",
    "When were the children in Oxford abused?", "What is the National Police Chiefs' Council lead for?",
]


def _sentences() -> list[str]:
    from rag.chunking import sentence_spans
    from rag.cleaning import clean_news_text

    out = []
    for path in sorted((REPO / "seeds").iterdir()):
        text = clean_news_text(path.read_text(encoding="utf-8")).text
        out += [text[a:b] for a, b in sentence_spans(text) if b - a > 40]
    return out


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[int(len(ordered) * 0.95)]


def sqlite_half(n: int, directory: Path) -> dict[str, float]:
    from rag import store

    rng = random.Random(0)
    sentences = _sentences()
    conn = store.connect(directory / "store.sqlite3", create=True)
    started = time.perf_counter()
    with store.transaction(conn):
        for doc in range(0, n, 20):
            rows = []
            for i in range(min(20, n - doc)):
                text = ""
                while len(text) < 450:
                    text += rng.choice(sentences) + f" Name{rng.randrange(n)} said {rng.randrange(10**6)}. "
                rows.append((i, 0, len(text), text.strip(), ""))
            doc_id = store.insert_document(conn, source=f"doc-{doc}", title=f"Story {doc}", outlet=None,
                                           published=None, fingerprint="", text="")
            store.insert_chunks(conn, doc_id, rows)
    build = time.perf_counter() - started
    conn.execute("PRAGMA optimize")
    # Side by side: every question word queried, and the project's query, which leaves out
    # words found in more than 5% of chunks on a large index (store.searchable_tokens).
    # Half the questions are about the seeds only (every word common in this corpus: the worst
    # case); half also name someone in it, as real questions name what they are about.
    questions = QUESTIONS + [f"What did Name{rng.randrange(n)} say about {q[0].lower() + q[1:]}" for q in QUESTIONS]
    full, pruned = [], []
    for _ in range(3):
        for q in questions:
            t = time.perf_counter()
            store.bm25_search(conn, q, 50)
            full.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            store.bm25_search(conn, q, 50, n)
            pruned.append((time.perf_counter() - t) * 1000)
    conn.close()
    f50, f95 = _percentiles(full)
    p50, p95 = _percentiles(pruned)
    return {"sqlite_build_s": build, "sqlite_mb": (directory / "store.sqlite3").stat().st_size / 2**20,
            "bm25_all_p50_ms": f50, "bm25_all_p95_ms": f95, "bm25_p50_ms": p50, "bm25_p95_ms": p95}


def faiss_half(n: int, directory: Path, dim: int = 384) -> dict[str, float]:
    from rag.vectors import VectorIndex

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((1000, dim)).astype(np.float32)
    ids = np.arange(1, n + 1, dtype=np.int64)
    exact = VectorIndex.empty(dim)
    started = time.perf_counter()
    for lo in range(0, n, 100_000):
        hi = min(n, lo + 100_000)
        block = centres[rng.integers(0, 1000, hi - lo)] + 0.6 * rng.standard_normal((hi - lo, dim)).astype(np.float32)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        exact.add(ids[lo:hi], block)
    exact_build = time.perf_counter() - started
    queries = centres[rng.integers(0, 1000, 200)] + 0.6 * rng.standard_normal((200, dim)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact.save(directory / "exact.faiss")
    exact_times, truth = [], []
    for q in queries:
        t = time.perf_counter()
        truth.append({i for i, _ in exact.search(q, 10)})
        exact_times.append((time.perf_counter() - t) * 1000)
    rss_before_ivf = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    approx = VectorIndex(exact.index, dim)
    approx.maybe_make_approximate(threshold=0)
    ivf_build = time.perf_counter() - started
    del exact
    approx.save(directory / "ivf.faiss")
    ivf_times, hits = [], 0
    for q, expected in zip(queries, truth):
        t = time.perf_counter()
        found = {i for i, _ in approx.search(q, 10)}
        ivf_times.append((time.perf_counter() - t) * 1000)
        hits += len(found & expected)
    e50, e95 = _percentiles(exact_times)
    i50, i95 = _percentiles(ivf_times)
    return {
        "faiss_exact_build_s": exact_build, "exact_p50_ms": e50, "exact_p95_ms": e95,
        "exact_bytes_per_chunk": (directory / "exact.faiss").stat().st_size / n,
        "ivf_build_s": ivf_build, "ivf_kind": approx.kind, "ivf_p50_ms": i50, "ivf_p95_ms": i95,
        "ivf_recall_at_10": hits / (10 * len(queries)),
        "ivf_bytes_per_chunk": (directory / "ivf.faiss").stat().st_size / n,
        "rss_before_ivf_mb": rss_before_ivf / 1024,
    }


def one_size(n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out: dict[str, float] = {"chunks": n}
        out.update(sqlite_half(n, Path(tmp)))
        out.update(faiss_half(n, Path(tmp)))
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return out


STREAM_CHILD = """
import resource, sys
from pathlib import Path
from rag.ingest import ingest
report = ingest([Path(sys.argv[1])], Path(sys.argv[2]), embedder_spec="offline", progress=False)
print(report.chunks_total, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def streaming(file_counts: tuple[int, ...] = (200, 2000)) -> list[tuple[int, int, int]]:
    """Peak memory of a real `ingest` over many small article files: it should not grow with
    the number of files beyond what the index itself holds."""
    rng = random.Random(0)
    sentences = _sentences()
    out = []
    for count in file_counts:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "articles"
            folder.mkdir()
            for i in range(count):
                body = " ".join(rng.choice(sentences) for _ in range(6))
                (folder / f"article-{i:05d}.txt").write_text(f"Story {i}\n\n{body}", encoding="utf-8")
            done = subprocess.run([sys.executable, "-c", STREAM_CHILD, str(folder), str(Path(tmp) / "ix")],
                                  capture_output=True, text=True, check=True, cwd=REPO)
            chunks, peak = (int(x) for x in done.stdout.split())
            out.append((count, chunks, peak))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(one_size(args.child)))
        return
    rows = []
    for n in (int(x) for x in args.sizes.split(",")):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--child", str(n)], capture_output=True, text=True, check=True)
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["wall_s"] = time.perf_counter() - started
        rows.append(row)
        print(f"done {n:,} in {row['wall_s']:.0f} s", file=sys.stderr, flush=True)
    print("| chunks | SQLite+FTS5 build s | SQLite MB | BM25 all words p50 / p95 ms | BM25 common words left out"
          " p50 / p95 ms | peak RSS MB (process) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['chunks']:,} | {r['sqlite_build_s']:.1f} | {r['sqlite_mb']:.0f} |"
              f" {r['bm25_all_p50_ms']:.1f} / {r['bm25_all_p95_ms']:.1f} | {r['bm25_p50_ms']:.1f} / {r['bm25_p95_ms']:.1f} |"
              f" {r['peak_rss_mb']:.0f} |")
    print()
    print("| chunks | exact build s | exact p50 / p95 ms | exact bytes/chunk | IVF | IVF build s | IVF p50 / p95 ms"
          " | IVF recall@10 | IVF bytes/chunk |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['chunks']:,} | {r['faiss_exact_build_s']:.1f} | {r['exact_p50_ms']:.1f} / {r['exact_p95_ms']:.1f} |"
              f" {r['exact_bytes_per_chunk']:.0f} | {r['ivf_kind']} | {r['ivf_build_s']:.1f} |"
              f" {r['ivf_p50_ms']:.1f} / {r['ivf_p95_ms']:.1f} | {r['ivf_recall_at_10']:.3f} | {r['ivf_bytes_per_chunk']:.0f} |")
    print()
    print("| article files ingested (offline embedder) | chunks | peak RSS MB |")
    print("|---|---|---|")
    for count, chunks, peak in streaming():
        print(f"| {count:,} | {chunks:,} | {peak} |")


if __name__ == "__main__":
    main()
