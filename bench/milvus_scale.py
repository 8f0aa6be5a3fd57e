"""Both store backends at 10k and 100k synthetic chunks, through the store interface only.

For each size: ingest time with one writer (embedded and Milvus), then Milvus again with two
ingest worker processes writing one collection at once (each commits every 50 documents) while
a third process queries it (hybrid, every 50 ms) the whole time; then lexical (BM25), dense and hybrid query p50/p95 (top 50, 60
queries each after a warm-up) on every index built; and the rows each build lost or duplicated
(chunk rows counted on the server, and their ids checked one by one: both must be 0).

Chunks: ~500-character news-like text from bench/scale.py's generator (seed sentences refilled
from a Zipf-weighted English vocabulary), 20 to a document; vectors random, L2-normalised,
384-d (no model runs: this measures the stores). Questions: the seed evaluation set's.

The Milvus engine is milvus-lite 2.5.1 (Milvus 2.5's C++ core, FLAT vectors) on a loopback
port, OMP_NUM_THREADS=1 unless --engine-threads says otherwise; --uri milvus://HOST:PORT
points the same run at a real cluster instead.

    python bench/milvus_scale.py [--sizes 10000,100000] [--uri milvus://host:19530]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import signal
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from rag.store.base import ChunkRow, IndexSettings  # noqa: E402

DIM = 384
PER_DOC = 20
SETTINGS = IndexSettings("bench:random384", "bench-random-384", DIM, 500, 0)


def _pct(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def documents(first: int, count: int, seed: int) -> list[dict]:
    """`count` documents (PER_DOC chunks each), numbered from `first`, ready for add_document."""
    import random

    from scale import TextGen

    gen, r, rng = TextGen(seed), random.Random(seed), np.random.default_rng(seed)
    out = []
    for d in range(first, first + count):
        texts = [gen.chunk(r, gen.person(r)) for _ in range(PER_DOC)]
        rows, pos = [], 0
        for i, t in enumerate(texts):
            rows.append(ChunkRow(i, pos, pos + len(t), t, f"h{d}-{i}"))
            pos += len(t) + 1
        v = rng.normal(size=(PER_DOC, DIM)).astype(np.float32)
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        out.append({"source": f"/corpus/story-{d:07d}.txt", "title": texts[0][:80], "outlet": "Synthetic",
                    "published": "2016-05-01", "fingerprint": f"fp{d}", "text": " ".join(texts), "chunks": rows,
                    "vectors": v})
    return out


def write(location: str, docs: list[dict], per_write: int) -> None:
    from rag.store.factory import backend_for

    backend = backend_for(location)
    for i in range(0, len(docs), per_write):
        with backend.writer(SETTINGS) as w:
            for doc in docs[i : i + per_write]:
                w.add_document(**doc)


def worker(location: str, first: int, count: int, seed: int, go: "mp.Event", out: "mp.Queue") -> None:
    docs = documents(first, count, seed)
    out.put(("ready", 0.0))
    go.wait()
    started = time.perf_counter()
    write(location, docs, per_write=50)  # one commit per 1,000 chunks, as a long ingest would
    out.put(("done", time.perf_counter() - started))


def querier(location: str, stop: "mp.Event", out: "mp.Queue") -> None:
    from rag.errors import RagError
    from rag.store.factory import backend_for

    questions = _questions()
    rng = np.random.default_rng(7)
    backend = backend_for(location)
    while not backend.exists() and not stop.is_set():
        time.sleep(0.05)
    times, errors, i = [], [], 0
    store = backend.open() if backend.exists() else None
    while store is not None and not stop.is_set():
        v = rng.normal(size=DIM).astype(np.float32)
        t = time.perf_counter()
        try:
            store.hybrid_search(questions[i % len(questions)], v / np.linalg.norm(v), 50)
            times.append((time.perf_counter() - t) * 1000)
        except RagError as exc:
            errors.append(str(exc)[:200])
        i += 1
        time.sleep(0.05)
    out.put({"queries": len(times), "errors": len(errors), "first_errors": errors[:3],
             "p50_ms": _pct(times)[0] if times else None, "p95_ms": _pct(times)[1] if times else None})


def _questions() -> list[str]:
    rows = [json.loads(line) for line in (REPO / "eval" / "seed_questions.jsonl").read_text().splitlines() if line]
    return [r["question"] for r in rows if r.get("answerable")][:60]


def query_times(location: str) -> dict:
    from rag.store.factory import open_store

    questions = _questions()
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(len(questions), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    out = {}
    with open_store(location) as store:
        runs = {
            "lexical": lambda q, v: store.lexical_search(q, 50),
            "dense": lambda q, v: store.dense_search(v, 50),
            "hybrid": lambda q, v: store.hybrid_search(q, v, 50, 1.0),
        }
        for name, fn in runs.items():
            for q, v in zip(questions[:10], vectors):  # warm-up
                fn(q, v)
            samples = []
            for q, v in zip(questions, vectors):
                t = time.perf_counter()
                fn(q, v)
                samples.append((time.perf_counter() - t) * 1000)
            out[name] = _pct(samples)
    return out


def rows_check(location: str, n_docs: int) -> dict:
    from rag.store.factory import open_store

    with open_store(location) as store:
        docs, chunks = store.counts()
        out = {"documents": docs, "chunks": chunks, "lost": n_docs * PER_DOC - chunks}
        if store.backend == "milvus":
            ids = store.conn.query_all(store.chunks_name, "chunk_id", "", ["chunk_id"])
            out["duplicated"] = len(ids) - len({r["chunk_id"] for r in ids})
            out["lost"] = n_docs * PER_DOC - len({r["chunk_id"] for r in ids})
    return out


def one_writer(location: str, n_docs: int) -> dict:
    docs = documents(0, n_docs, seed=1)
    started = time.perf_counter()
    # The embedded store publishes a whole new generation per write: one write, as `rag ingest`
    # does. Milvus commits every 50 documents (1,000 chunks), as the two workers below do.
    write(location, docs, per_write=len(docs) if "://" not in location else 50)
    seconds = time.perf_counter() - started
    return {"writers": 1, "ingest_s": round(seconds, 1), **rows_check(location, n_docs)}


def two_writers(location: str, n_docs: int) -> dict:
    ctx = mp.get_context("spawn")
    go, stop, out, qout = ctx.Event(), ctx.Event(), ctx.Queue(), ctx.Queue()
    half = n_docs // 2
    workers = [ctx.Process(target=worker, args=(location, 0, half, 1, go, out)),
               ctx.Process(target=worker, args=(location, half, n_docs - half, 2, go, out))]
    for w in workers:
        w.start()
    for _ in workers:
        assert out.get(timeout=600)[0] == "ready"
    q = ctx.Process(target=querier, args=(location, stop, qout))
    q.start()
    started = time.perf_counter()
    go.set()
    times = [out.get(timeout=3600)[1] for _ in workers]
    wall = time.perf_counter() - started
    stop.set()
    during = qout.get(timeout=60)
    for p in (*workers, q):
        p.join(timeout=60)
    return {"writers": 2, "ingest_s": round(wall, 1), "worker_s": [round(t, 1) for t in times],
            "querier_during_ingest": during, **rows_check(location, n_docs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--uri", help="milvus://HOST:PORT of a running server (default: start milvus-lite)")
    parser.add_argument("--engine-threads", default="1", help="OMP_NUM_THREADS for the milvus-lite engine")
    parser.add_argument("--out", type=Path, help="write the results as JSON here too")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # so a killed run still stops its engine
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    with tempfile.TemporaryDirectory(prefix="milvus-scale-") as tmp:
        server = None
        base = args.uri
        if base is None:
            from rag.store.milvus_local import LocalMilvus

            server = LocalMilvus(Path(tmp) / "engine", threads=args.engine_threads).start()
            base = f"milvus://{server.address}"
        try:
            for n in sizes:
                n_docs = n // PER_DOC
                runs = [("embedded", str(Path(tmp) / f"embedded-{n}"), one_writer),
                        ("milvus", f"{base}/scale_{n}_one", one_writer),
                        ("milvus", f"{base}/scale_{n}_two", two_writers)]
                for backend, location, fn in runs:
                    row = {"chunks": n, "backend": backend, **fn(location, n_docs)}
                    row["query_ms"] = query_times(location)
                    results.append(row)
                    print(json.dumps(row), flush=True)
        finally:
            if server is not None:
                server.stop()
    print()
    print("| chunks | backend | writers | ingest | lost / duplicated | BM25 p50/p95 | dense p50/p95 | hybrid p50/p95 | querier during ingest |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        q = r["query_ms"]
        during = r.get("querier_during_ingest")
        dq = (f"{during['queries']} queries, {during['errors']} errors, p50/p95 {during['p50_ms']:.1f}/{during['p95_ms']:.1f} ms"
              if during and during["queries"] else ("none" if during else "-"))
        print(f"| {r['chunks']:,} | {r['backend']} | {r['writers']} | {r['ingest_s']} s | {r['lost']} / {r.get('duplicated', '-')}"
              f" | {q['lexical'][0]:.1f} / {q['lexical'][1]:.1f} ms | {q['dense'][0]:.1f} / {q['dense'][1]:.1f} ms"
              f" | {q['hybrid'][0]:.1f} / {q['hybrid'][1]:.1f} ms | {dq} |")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
