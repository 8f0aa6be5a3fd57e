"""How the costs grow: 10k, 100k and 1M chunks, on this machine.

Every measurement runs in a fresh subprocess, so each peak RSS belongs to one job:

  - SQLite half, built with the project's own store (store.connect, insert_document,
    insert_chunks, one store.transaction): ~500-character chunks, 20 to a document, made of
    the seed articles' sentences with about a quarter of their words (and every number)
    replaced by words drawn from wordfreq's 50,000 commonest English words (Zipf-weighted),
    plus a made-up person's name and numbers in each chunk, so the vocabulary grows with the
    corpus as real news does instead of repeating the seeds' 379 words. Documents store their
    full text, as ingest does. Then FTS5 BM25 (store.bm25_search) for the evaluation set's
    questions about the seeds (every word common here: the worst case) and the same questions
    naming a person in the corpus.
  - FAISS half through rag.store.vectors.VectorIndex: L2-normalised float32 384-dimensional vectors,
    generated (no embedding model runs). Two distributions:
      continuum: an anisotropic Gaussian (variance of the i-th of 384 random orthogonal
        directions ~ 1/i, a power-law spectrum like real sentence embeddings) plus a shared
        offset (embeddings are not centred); no clusters, so neighbourhoods run into each
        other: the harder case for IVF, and the one the settings are chosen on;
      topics: the same plus one of 1,000 topic centres per vector (a Gaussian mixture):
        neighbours cluster, as on-topic news chunks do; easier for IVF.
    Queries: 200 held-out vectors from the same distribution and 50 perturbed copies of
    indexed vectors (cosine ~0.9 to the original). The exact index (flat), then the
    approximate one maybe_make_approximate(threshold=0) makes from it at every size (the
    project itself switches only past APPROXIMATE_THRESHOLD), recall@10 against exact search,
    an nprobe sweep, bytes on disk and resident bytes per vector (RSS of a fresh process
    before and after VectorIndex.load). Past the threshold also the index as incremental
    ingest really grows it: switched to IVF just past the threshold, then added to.
  - A real `rag ingest` (offline embedder) of 200 versus 2,000 small article files: peak RSS.
  - Start-up: `rag --help` and an offline `rag ask` as whole processes (median of 5).

    .venv/bin/python bench/scale.py [--sizes 10000,100000,1000000] [--dists continuum,topics]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PY = sys.executable
RAG = REPO / ".venv" / "bin" / "rag"
DIM = 384
CHUNKS_PER_DOC = 20
BLOCK = 100_000
NPROBES = (16, 32, 64, 128, 256, 512)
STOP = frozenset("a an the of to in on and or for by with at from as is was were be been has have had that this".split())


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_bytes() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _pct(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


# ---------------------------------------------------------------- realistic text for BM25


def _seed_sentences() -> list[str]:
    from rag.text.sentences import sentence_spans
    from rag.ingest.cleaning import clean_news_text

    out = []
    for path in sorted((REPO / "seeds").iterdir()):
        text = clean_news_text(path.read_text(encoding="utf-8")).text
        out += [text[a:b].strip() for a, b in sentence_spans(text) if b - a > 40]
    return out


def _questions() -> list[str]:
    rows = [json.loads(line) for line in (REPO / "eval" / "seed_questions.jsonl").read_text().splitlines() if line]
    return [r["question"] for r in rows if r.get("answerable")][:20]


class TextGen:
    """Chunks of ~500 characters: seed sentences with slots refilled from a Zipf-weighted
    English vocabulary, a made-up person and numbers; vocabulary grows with the corpus."""

    def __init__(self, seed: int = 0) -> None:
        from wordfreq import top_n_list

        self.rng = np.random.default_rng(seed)
        self.words = top_n_list("en", 50_000)[200:]  # skip function words
        self.words = [w for w in self.words if w.isalpha()]
        ranks = np.arange(200, 200 + len(self.words), dtype=np.float64)
        self.p = (1 / ranks) / (1 / ranks).sum()
        syll = ["al", "an", "ar", "bel", "bor", "car", "dan", "del", "dor", "el", "fen", "gar", "hal", "har",
                "ith", "jor", "kel", "lan", "len", "mar", "mor", "nal", "nor", "ol", "pen", "ran", "ren", "ros",
                "sal", "sel", "tan", "ter", "tor", "val", "ven", "wen", "wick", "win", "yar", "zel"]
        self.first = [w.capitalize() for w in top_n_list("en", 8000)[3000:8000] if w.isalpha()][:2000]
        # 40^3 = 64,000 surnames: names keep appearing as the corpus grows.
        self.surnames = [(a + b + c).capitalize() for a in syll for b in syll for c in syll]
        self.templates = self._templates(_seed_sentences())
        self._buf: list[str] = []
        self._nums: list[int] = []

    def _templates(self, sentences: list[str]) -> list[tuple[str, list[bool], int]]:
        """Per sentence 8 variants: a format string, which slots are capitalised; numbers always slots."""
        out = []
        rng = random.Random(0)
        for sentence in sentences:
            words = sentence.replace("{", "(").replace("}", ")").split()
            for _ in range(8):
                parts, caps, nums = [], [], 0
                for w in words:
                    core = w.strip(".,;:'\"()?!")
                    if any(ch.isdigit() for ch in core):
                        parts.append(w.replace(core, "{n%d}" % nums, 1))
                        nums += 1
                    elif core.isalpha() and core.lower() not in STOP and len(core) > 2 and rng.random() < 0.25:
                        parts.append(w.replace(core, "{w%d}" % len(caps), 1))
                        caps.append(core[0].isupper())
                    else:
                        parts.append(w)
                out.append((" ".join(parts), caps, nums))
        return out

    def _word(self) -> str:
        if not self._buf:
            self._buf = [self.words[i] for i in self.rng.choice(len(self.words), 200_000, p=self.p).tolist()]
        return self._buf.pop()

    def _num(self) -> int:
        if not self._nums:
            self._nums = self.rng.integers(1, 10**6, 200_000).tolist()
        return self._nums.pop()

    def person(self, r: random.Random) -> str:
        return f"{r.choice(self.first)} {r.choice(self.surnames)}"

    def chunk(self, r: random.Random, person: str) -> str:
        text = f"{person} said on {r.randrange(1, 29)} May that {self._word()} {self._word()} mattered."
        while len(text) < 480:
            template, caps, nums = r.choice(self.templates)
            fills = {f"w{i}": (self._word().capitalize() if c else self._word()) for i, c in enumerate(caps)}
            fills.update({f"n{i}": f"{self._num():,}" for i in range(nums)})
            text += " " + template.format(**fills)
        return text


def sqlite_child(n: int, directory: Path) -> dict:
    from rag.store import database as store

    gen = TextGen(0)
    r = random.Random(0)
    named: list[str] = []  # people who appear in the corpus, for questions that name one
    conn = store.connect(directory / "store.sqlite3", create=True)
    started = time.perf_counter()
    with store.transaction(conn):
        for doc in range(0, n, CHUNKS_PER_DOC):
            rows, pos, texts = [], 0, []
            for i in range(min(CHUNKS_PER_DOC, n - doc)):
                person = gen.person(r)
                if r.random() < 64 / n:
                    named.append(person)
                text = gen.chunk(r, person)
                digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
                rows.append((i, pos, pos + len(text), text, digest))
                texts.append(text)
                pos += len(text) + 1
            body = " ".join(texts)
            doc_id = store.insert_document(
                conn, source=f"/corpus/story-{doc // CHUNKS_PER_DOC:07d}.txt", title=texts[0][:80], outlet="Synthetic",
                published="2016-05-01", fingerprint=hashlib.sha256(body.encode()).hexdigest(), text=body)
            store.insert_chunks(conn, doc_id, rows)
    build = time.perf_counter() - started
    build_peak = _maxrss_mb()
    size = (directory / "store.sqlite3").stat().st_size
    vocab = conn.execute("SELECT COUNT(*) FROM chunks_vocab").fetchone()[0]
    base = _questions()
    named = named or [gen.person(r)]
    questions = base + [f"What did {named[i % len(named)]} say about {q[0].lower() + q[1:]}" for i, q in enumerate(base)]
    full, pruned, hits = [], [], 0
    for q in questions:  # warm-up pass (page cache), not timed
        store.bm25_search(conn, q, 50, n)
    for rep in range(2):
        for q in questions:
            if rep == 0:
                t = time.perf_counter()
                store.bm25_search(conn, q, 50)
                full.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            got = store.bm25_search(conn, q, 50, n)
            pruned.append((time.perf_counter() - t) * 1000)
            hits += bool(got)
    conn.close()
    f50, f95 = _pct(full)
    p50, p95 = _pct(pruned)
    return {"sqlite_build_s": build, "sqlite_bytes": size, "terms": vocab, "bm25_all_p50": f50, "bm25_all_p95": f95,
            "bm25_p50": p50, "bm25_p95": p95, "bm25_queries": len(pruned), "sqlite_build_peak_mb": build_peak,
            "sqlite_peak_mb": _maxrss_mb()}


# ---------------------------------------------------------------- vectors for FAISS


class VecGen:
    """Deterministic blocks of unit vectors (see the module docstring for the two distributions)."""

    def __init__(self, dist: str, dim: int = DIM) -> None:
        r = np.random.default_rng(1)
        self.dist, self.dim = dist, dim
        self.rot = np.linalg.qr(r.standard_normal((dim, dim)))[0].astype(np.float32)
        self.sd = (np.arange(1, dim + 1) ** -0.5).astype(np.float32)
        offset = r.standard_normal(dim).astype(np.float32)
        self.offset = 0.5 * offset / np.linalg.norm(offset)
        self.topics = r.standard_normal((1000, dim)).astype(np.float32) * self.sd

    def sample(self, n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        z = rng.standard_normal((n, self.dim)).astype(np.float32) * self.sd
        if self.dist == "topics":
            z += self.topics[rng.integers(0, len(self.topics), n)]
        x = z @ self.rot.T
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        x += self.offset
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return np.ascontiguousarray(x, dtype=np.float32)

    def blocks(self, n: int):  # type: ignore[no-untyped-def]
        for lo in range(0, n, BLOCK):
            yield lo, self.sample(min(BLOCK, n - lo), seed=1000 + lo // BLOCK)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _resident(path: Path) -> dict:
    """RSS of a fresh process before and after loading the saved index and searching it."""
    code = (
        "import json,sys,numpy as np;from pathlib import Path;sys.path.insert(0,%r);import bench.scale as s;"
        "from rag.store.vectors import VectorIndex;import faiss;"
        "a=s._rss_bytes();v=VectorIndex.load(Path(sys.argv[1]),%d);b=s._rss_bytes();"
        "q=np.random.default_rng(5).standard_normal((20,%d)).astype(np.float32)\n"
        "for x in q: v.search(x/np.linalg.norm(x),10)\n"
        "print(json.dumps({'before':a,'loaded':b,'searched':s._rss_bytes(),'kind':v.kind}))" % (str(REPO), DIM, DIM)
    )
    done = subprocess.run([PY, "-c", code, str(path)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _recall_and_times(index, queries: np.ndarray, truth: np.ndarray, timed: int | None = None):  # type: ignore[no-untyped-def]
    hits, times = [], []
    for i, q in enumerate(queries):
        t = time.perf_counter()
        found = index.search(q, 10)
        if timed is None or i < timed:
            times.append((time.perf_counter() - t) * 1000)
        hits.append(len({cid for cid, _ in found} & set(truth[i].tolist())) / 10)
    return hits, times


def faiss_child(n: int, dist: str, directory: Path, grown: bool) -> dict:
    import faiss

    from rag.store import vectors as vmod
    from rag.store.vectors import VectorIndex

    gen = VecGen(dist)
    out: dict = {"dist": dist}
    rss0 = _rss_bytes()
    exact = VectorIndex.empty(DIM)
    kept_ids, kept = [], []
    build = 0.0
    for lo, block in gen.blocks(n):  # generating the vectors is not part of the build time
        t = time.perf_counter()
        exact.add(np.arange(lo + 1, lo + len(block) + 1, dtype=np.int64), block)
        build += time.perf_counter() - t
        pick = np.random.default_rng(lo).choice(len(block), max(1, 50 * len(block) // n), replace=False)
        kept_ids += (lo + 1 + pick).tolist()
        kept.append(block[pick])
    out["exact_build_s"] = build
    out["exact_rss_delta_per_chunk"] = (_rss_bytes() - rss0) / n
    out["peak_after_exact_mb"] = _maxrss_mb()
    held_out = gen.sample(200, seed=999)
    originals = np.vstack(kept)[:50]
    noise = _unit(np.random.default_rng(7).standard_normal(originals.shape).astype(np.float32))
    perturbed = _unit(originals + 0.45 * noise)
    queries = np.vstack([held_out, perturbed])
    t = time.perf_counter()
    _, truth = exact.index.search(queries, 10)  # ground truth, batched
    out["truth_s"] = time.perf_counter() - t
    out["top1_cos"] = float(np.mean(exact.index.search(held_out[:50], 1)[0]))
    # exact single-query latency (100 queries; at 1M each costs ~0.15 s)
    _, times = _recall_and_times(exact, queries[:100], truth[:100])
    out["exact_p50"], out["exact_p95"] = _pct(times)
    t = time.perf_counter()
    exact.save(directory / "exact.faiss")
    out["exact_save_s"] = time.perf_counter() - t
    out["exact_disk_per_chunk"] = (directory / "exact.faiss").stat().st_size / n
    res = _resident(directory / "exact.faiss")
    out["exact_resident_per_chunk"] = (res["loaded"] - res["before"]) / n

    # The approximate index, made the way ingest makes it (forced at every size).
    peak_before = _maxrss_mb()
    approx = VectorIndex(exact.index, DIM)
    exact = None  # type: ignore[assignment]
    t = time.perf_counter()
    switched = approx.maybe_make_approximate(threshold=0)
    out["approx_build_s"] = time.perf_counter() - t
    assert switched
    out["peak_before_convert_mb"], out["peak_after_convert_mb"] = peak_before, _maxrss_mb()
    out["approx_kind"] = approx.kind
    ivf = faiss.extract_index_ivf(approx.index)
    chosen = ivf.nprobe
    hits, times = _recall_and_times(approx, queries, truth)
    out["approx_p50"], out["approx_p95"] = _pct(times)
    out["recall_heldout"] = float(np.mean(hits[:200]))
    out["recall_perturbed"] = float(np.mean(hits[200:]))
    sweep = {}
    for nprobe in NPROBES:
        if nprobe > ivf.nlist:
            continue
        ivf.nprobe = nprobe
        h, tm = _recall_and_times(approx, queries[:200], truth[:200])
        sweep[nprobe] = (float(np.mean(h)), _pct(tm)[0])
    ivf.nprobe = chosen
    out["sweep"] = sweep
    approx.save(directory / "approx.faiss")
    out["approx_disk_per_chunk"] = (directory / "approx.faiss").stat().st_size / n
    res = _resident(directory / "approx.faiss")
    out["approx_resident_per_chunk"] = (res["loaded"] - res["before"]) / n
    out["approx_resident_after_search_per_chunk"] = (res["searched"] - res["before"]) / n
    # Incremental operations still work on the approximate index.
    some = np.asarray(kept_ids[:5], dtype=np.int64)
    vec = approx.reconstruct(int(some[0]))
    assert vec is not None and float(vec @ originals[0]) > 0.99, "reconstruct after the switch"
    assert approx.remove(some) == 5 and len(approx) == n - 5
    approx.add(some, np.vstack([approx_vec for approx_vec in originals[:5]]))
    assert len(approx) == n and approx.search(originals[0], 1)[0][0] == int(some[0])
    out["approx_ids_ok"] = bool(len(approx.ids()) == n)
    approx = None  # type: ignore[assignment]

    if grown and n > vmod.APPROXIMATE_THRESHOLD:
        # As incremental ingest grows it: exact until just past the threshold, then IVF trained
        # on those vectors, then every later vector added to it.
        t0 = time.perf_counter()
        index = VectorIndex.empty(DIM)
        spent = 0.0
        for lo, block in gen.blocks(n):
            index.add(np.arange(lo + 1, lo + len(block) + 1, dtype=np.int64), block)
            if len(index) > vmod.APPROXIMATE_THRESHOLD and "ivf" not in index.kind:
                t = time.perf_counter()
                index.maybe_make_approximate()
                spent += time.perf_counter() - t
        out["grown_total_s"] = time.perf_counter() - t0
        out["grown_switch_s"] = spent
        out["grown_kind"] = index.kind
        h, tm = _recall_and_times(index, queries, truth)
        out["grown_recall"] = float(np.mean(h[:200]))
        out["grown_recall_perturbed"] = float(np.mean(h[200:]))
        out["grown_p50"], out["grown_p95"] = _pct(tm)
    out["peak_mb"] = _maxrss_mb()
    return out


# ---------------------------------------------------------------- streaming ingest, start-up

STREAM_CHILD = """
import json, resource, sys, time
from pathlib import Path
from rag.ingest.pipeline import ingest
t = time.perf_counter()
report = ingest([Path(sys.argv[1])], Path(sys.argv[2]), embedder_spec="offline", progress=False)
from embeddings import offline
caches = sum(f.cache_info().currsize for f in (offline.rarity, offline._word_features, offline._pair_feature))
print(json.dumps({"chunks": report.chunks_total, "seconds": time.perf_counter() - t, "cache_entries": caches,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def streaming(file_counts: tuple[int, ...] = (200, 2000, 20000)) -> list[dict]:
    """Peak memory of a real ingest over many small article files: it should grow with the
    index (chunks x vector bytes), not with the number of files."""
    rng = random.Random(0)
    sentences = _seed_sentences()
    gen = TextGen(1)
    out = []
    for count in file_counts:
        with tempfile.TemporaryDirectory(prefix="rag-scale-") as tmp:
            folder = Path(tmp) / "articles"
            folder.mkdir()
            for i in range(count):
                body = " ".join(rng.choice(sentences) for _ in range(5)) + " " + gen.chunk(rng, gen.person(rng))
                (folder / f"article-{i:05d}.txt").write_text(f"Story {i}\n\n{body}", encoding="utf-8")
            done = subprocess.run([PY, "-c", STREAM_CHILD, str(folder), str(Path(tmp) / "ix")],
                                  capture_output=True, text=True, check=True, cwd=tmp)
            row = json.loads(done.stdout.strip().splitlines()[-1])
            manifest = json.loads((Path(tmp) / "ix" / "manifest.json").read_text())
            row.update(files=count, dimension=manifest["dimension"])
            out.append(row)
    return out


def startup(runs: int = 5) -> dict:
    question = "How many children were abused in Rotherham?"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    with tempfile.TemporaryDirectory(prefix="rag-scale-") as tmp:
        index = Path(tmp) / "ix"
        subprocess.run([str(RAG), "--index", str(index), "ingest", str(REPO / "seeds"), "--embedder", "offline", "-q"],
                       check=True, capture_output=True, env=env, cwd=tmp)
        env["RAG_INDEX"] = str(index)
        timings: dict[str, list[float]] = {"help": [], "ask": []}
        answer = ""
        for _ in range(runs):
            for name, argv in (("help", [str(RAG), "--help"]), ("ask", [str(RAG), "ask", question])):
                t = time.perf_counter()
                done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp)
                timings[name].append(time.perf_counter() - t)
                if done.returncode != 0:
                    raise RuntimeError(f"{argv} failed: {done.stderr[-500:]}")
                if name == "ask":
                    answer = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    return {"help_s": statistics.median(timings["help"]), "help_max_s": max(timings["help"]),
            "ask_s": statistics.median(timings["ask"]), "ask_max_s": max(timings["ask"]), "answer": answer}


# ---------------------------------------------------------------- driver


def _child(args: list[str]) -> dict:
    done = subprocess.run([PY, __file__, *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _mb(x: float) -> str:
    return f"{x / 2**20:,.0f} MB" if x < 2**30 else f"{x / 2**30:.2f} GB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--dists", default="continuum,topics")
    parser.add_argument("--skip", default="", help="comma-separated: sqlite,faiss,streaming,startup")
    parser.add_argument("--sqlite-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--faiss-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dist", default="continuum", help=argparse.SUPPRESS)
    parser.add_argument("--grown", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sqlite_child or args.faiss_child:
        with tempfile.TemporaryDirectory(prefix="rag-scale-") as tmp:
            if args.sqlite_child:
                row = sqlite_child(args.sqlite_child, Path(tmp))
            else:
                row = faiss_child(args.faiss_child, args.dist, Path(tmp), args.grown)
        print(json.dumps(row))
        return

    from rag.store import vectors as vmod

    skip = set(filter(None, args.skip.split(",")))
    sizes = [int(x) for x in args.sizes.split(",")]
    dists = args.dists.split(",")
    began = time.perf_counter()
    sq: dict[int, dict] = {}
    fa: dict[tuple[int, str], dict] = {}
    for n in sizes:
        if "sqlite" not in skip:
            t = time.perf_counter()
            sq[n] = _child(["--sqlite-child", str(n)])
            sq[n]["wall_s"] = time.perf_counter() - t
            print(f"[{time.perf_counter() - began:6.0f} s] SQLite {n:,}: {sq[n]['wall_s']:.0f} s", file=sys.stderr, flush=True)
        if "faiss" not in skip:
            for i, dist in enumerate(dists):
                t = time.perf_counter()
                fa[n, dist] = _child(["--faiss-child", str(n), "--dist", dist] + (["--grown"] if i == 0 else []))
                fa[n, dist]["wall_s"] = time.perf_counter() - t
                print(f"[{time.perf_counter() - began:6.0f} s] FAISS {n:,} {dist}: {fa[n, dist]['wall_s']:.0f} s",
                      file=sys.stderr, flush=True)
    stream = streaming() if "streaming" not in skip else []
    start = startup() if "startup" not in skip else None
    total = time.perf_counter() - began

    head = dists[0] if dists else "continuum"
    threshold = vmod.APPROXIMATE_THRESHOLD
    print(f"Machine: {os.cpu_count()} CPU cores; faiss {__import__('faiss').__version__};"
          f" exact search up to {threshold:,} vectors, approximate past it.\n")
    if sq and fa:
        print(f"### Growth (the index the project builds at each size; vectors: {head})\n")
        print("| chunks | ingest (SQLite + FAISS) | on disk (SQLite + FAISS) | peak RSS: SQLite build / FAISS build"
              " | BM25 p50 / p95 | dense p50 / p95 | FAISS index | vector RAM per chunk |")
        print("|---|---|---|---|---|---|---|---|")
        for n in sizes:
            if n not in sq or (n, head) not in fa:
                continue
            s, f = sq[n], fa[n, head]
            approx = n > threshold
            build = f["exact_build_s"] + (f["approx_build_s"] if approx else 0)
            disk = (f["approx_disk_per_chunk"] if approx else f["exact_disk_per_chunk"]) * n
            p50, p95 = (f["approx_p50"], f["approx_p95"]) if approx else (f["exact_p50"], f["exact_p95"])
            ram = f["approx_resident_per_chunk"] if approx else f["exact_resident_per_chunk"]
            peak = f["peak_after_convert_mb"] if approx else f["peak_after_exact_mb"]
            print(f"| {n:,} | {s['sqlite_build_s'] + build:,.1f} s ({s['sqlite_build_s']:,.1f} + {build:,.1f})"
                  f" | {_mb(s['sqlite_bytes'] + disk)} ({_mb(s['sqlite_bytes'])} + {_mb(disk)})"
                  f" | {s['sqlite_build_peak_mb']:,.0f} / {peak:,.0f} MB | {s['bm25_p50']:.1f} / {s['bm25_p95']:.1f} ms"
                  f" | {p50:.1f} / {p95:.1f} ms | {f['approx_kind'] if approx else 'flat (exact)'} | {ram:,.0f} B |")
        print()
    if sq:
        print("### SQLite + FTS5 half (project's store; synthetic news text)\n")
        print("| chunks | build | chunks/s | file | bytes/chunk | distinct terms | BM25, every question word, p50 / p95"
              " | BM25 as the project queries, p50 / p95 (n) | peak RSS |")
        print("|---|---|---|---|---|---|---|---|---|")
        for n in sizes:
            if n in sq:
                s = sq[n]
                print(f"| {n:,} | {s['sqlite_build_s']:,.1f} s | {n / s['sqlite_build_s']:,.0f} | {_mb(s['sqlite_bytes'])}"
                      f" | {s['sqlite_bytes'] / n:,.0f} | {s['terms']:,} | {s['bm25_all_p50']:.1f} / {s['bm25_all_p95']:.1f} ms"
                      f" | {s['bm25_p50']:.1f} / {s['bm25_p95']:.1f} ms ({s['bm25_queries']}) | {s['sqlite_peak_mb']:,.0f} MB |")
        print()
    if fa:
        print(f"### FAISS half ({DIM} dimensions; single-query latency; recall@10 against exact search)\n")
        print("| chunks | vectors | exact build | exact p50 / p95 | exact disk / RAM per chunk | approximate index"
              " | build (train + add) | p50 / p95 | recall@10 held-out / perturbed | disk / RAM per chunk"
              " | peak RSS exact / after switch |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for (n, dist), f in fa.items():
            print(f"| {n:,} | {dist} (top-1 cos {f['top1_cos']:.2f}) | {f['exact_build_s']:.1f} s"
                  f" | {f['exact_p50']:.1f} / {f['exact_p95']:.1f} ms"
                  f" | {f['exact_disk_per_chunk']:,.0f} / {f['exact_resident_per_chunk']:,.0f} B | {f['approx_kind']}"
                  f" | {f['approx_build_s']:.1f} s | {f['approx_p50']:.2f} / {f['approx_p95']:.2f} ms"
                  f" | {f['recall_heldout']:.3f} / {f['recall_perturbed']:.3f}"
                  f" | {f['approx_disk_per_chunk']:,.0f} / {f['approx_resident_per_chunk']:,.0f} B"
                  f" | {f['peak_after_exact_mb']:,.0f} / {f['peak_after_convert_mb']:,.0f} MB |")
        print()
        print("### nprobe sweep (held-out queries): recall@10 / p50 ms\n")
        print("| chunks | vectors | nlist | " + " | ".join(f"nprobe {p}" for p in NPROBES) + " |")
        print("|---|---|---|" + "---|" * len(NPROBES))
        for (n, dist), f in fa.items():
            cells = []
            for p in NPROBES:
                v = f["sweep"].get(str(p)) or f["sweep"].get(p)
                cells.append(f"{v[0]:.3f} / {v[1]:.1f}" if v else "")
            nlist = f["approx_kind"].split(",")[0][3:]
            print(f"| {n:,} | {dist} | {nlist} | " + " | ".join(cells) + " |")
        print()
        grown = [(k, f) for k, f in fa.items() if "grown_kind" in f]
        if grown:
            print(f"### Grown incrementally: exact until {threshold:,}, switched to IVF, then added to\n")
            print("| chunks | vectors | index | build incl. switch (switch alone) | p50 / p95 | recall@10 held-out / perturbed |")
            print("|---|---|---|---|---|---|")
            for (n, dist), f in grown:
                print(f"| {n:,} | {dist} | {f['grown_kind']} | {f['grown_total_s']:.1f} s ({f['grown_switch_s']:.1f} s)"
                      f" | {f['grown_p50']:.2f} / {f['grown_p95']:.2f} ms"
                      f" | {f['grown_recall']:.3f} / {f['grown_recall_perturbed']:.3f} |")
            print()
    if stream:
        print("### Streaming ingest (real `ingest`, offline embedder)\n")
        print("| article files | chunks | time | peak RSS | vectors held (chunks x dim x 4 B) | peak RSS minus vectors"
              " | offline embedder cache entries (bounded: 3 x 262,144) |")
        print("|---|---|---|---|---|---|---|")
        for r in stream:
            held = r["chunks"] * r["dimension"] * 4 / 2**20
            print(f"| {r['files']:,} | {r['chunks']:,} | {r['seconds']:.1f} s | {r['peak_mb']:,.0f} MB"
                  f" | {held:,.1f} MB | {r['peak_mb'] - held:,.0f} MB | {r['cache_entries']:,} |")
        print()
    if start:
        print("### Start-up (whole processes, median of 5; max in brackets)\n")
        print("| command | time |")
        print("|---|---|")
        print(f"| `rag --help` | {start['help_s']:.2f} s ({start['help_max_s']:.2f}) |")
        print(f"| `rag ask \"How many children were abused in Rotherham?\"` (offline index of seeds/)"
              f" | {start['ask_s']:.2f} s ({start['ask_max_s']:.2f}) |")
        print(f"\nFirst line of the answer: {start['answer']}\n")
    print(f"Total run time: {total / 60:.1f} minutes.")


if __name__ == "__main__":
    main()
