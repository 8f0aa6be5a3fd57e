"""Embedding speed, and what ingest adds on top of it.

Prints texts/second for the offline embedder and for a randomly initialised model with the
shape of all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads; built locally, no hub) on the seed
chunks and on a synthetic 10,000-chunk corpus (seed sentences recombined), then the ingest
overhead: whole `ingest` time over pure embedding time for the same chunks.

    .venv/bin/python bench/embeddings_speed.py [--minilm-chunks 2000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from embeddings import create_embedder  # noqa: E402
from rag.ingest.chunking import chunk_text
from rag.text.sentences import sentence_spans  # noqa: E402
from rag.ingest.cleaning import clean_news_text  # noqa: E402
from rag.ingest.pipeline import ingest  # noqa: E402


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


def rate(spec: str, texts: list[str]) -> float:
    embedder = create_embedder(spec)
    embedder.encode_documents(texts[:32])  # warm up
    started = time.perf_counter()
    for i in range(0, len(texts), 256):
        embedder.encode_documents(texts[i : i + 256])
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minilm-chunks", type=int, default=2000, help="chunks of the 10k corpus to time MiniLM on")
    args = parser.parse_args()
    seed_chunks = [c.text for p in sorted((REPO / "seeds").iterdir())
                   for c in chunk_text(clean_news_text(p.read_text(encoding="utf-8")).text)]
    big = corpus(10_000)
    with tempfile.TemporaryDirectory() as tmp:
        model = minilm_shaped(Path(tmp))
        st = f"st:{model}"
        print("| embedder | seed chunks (texts/s) | 10,000-chunk corpus (texts/s) |")
        print("|---|---|---|")
        print(f"| offline (hash-v1, 768) | {rate('offline', seed_chunks * 20):,.0f} | {rate('offline', big):,.0f} |")
        print(f"| MiniLM-L6-shaped, random weights, CPU | {rate(st, seed_chunks * 20):,.1f} |"
              f" {rate(st, big[: args.minilm_chunks]):,.1f} (first {args.minilm_chunks:,}) |")

        print("\nIngest overhead (whole ingest time / pure embedding time, same chunks):")
        print("| embedder | chunks | ingest s | embedding s | overhead |")
        print("|---|---|---|---|---|")
        for spec, n in (("offline", 10_000), (st, args.minilm_chunks)):
            files = Path(tmp) / f"corpus-{n}-{spec[:3]}"
            files.mkdir()
            texts = big[:n]
            for i in range(0, n, 20):  # ~20 chunks per article file
                (files / f"article-{i:05d}.txt").write_text(f"Article {i}\n\n" + "\n\n".join(texts[i : i + 20]),
                                                           encoding="utf-8")
            report = ingest([files], Path(tmp) / f"index-{n}-{spec[:3]}", embedder_spec=spec, progress=False)
            print(f"| {report.embedder} | {report.chunks_total:,} | {report.seconds:.1f} | {report.embed_seconds:.1f} |"
                  f" {100 * (report.seconds - report.embed_seconds) / report.embed_seconds:.0f}% |")


if __name__ == "__main__":
    main()
