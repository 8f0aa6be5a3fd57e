"""Tiny transformer models built locally (no hub): a WordPiece tokenizer trained on the seed
articles and a small random BERT, saved as a sentence-transformers model or a cross-encoder."""

from __future__ import annotations

from pathlib import Path

from .conftest import SEEDS


def _tokenizer(directory: Path):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    from transformers import BertTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=600, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    )
    tok.train_from_iterator([p.read_text(encoding="utf-8") for p in sorted(SEEDS.iterdir())], trainer)
    fast = BertTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                             sep_token="[SEP]", mask_token="[MASK]")
    fast.save_pretrained(directory)
    return fast


def _config(vocab_size: int, **extra):  # type: ignore[no-untyped-def]
    from transformers import BertConfig

    return BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                      intermediate_size=64, max_position_embeddings=256, **extra)


def build_sentence_transformer(directory: Path, *, prompts: bool = True) -> Path:
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import BertModel

    try:  # sentence-transformers >= 6 moved the modules; the old path warns there
        from sentence_transformers.sentence_transformer import modules as models
    except ImportError:
        from sentence_transformers import models  # type: ignore[no-redef]

    torch.manual_seed(0)
    raw = directory / "raw"
    tokenizer = _tokenizer(raw)
    BertModel(_config(len(tokenizer))).save_pretrained(raw)
    transformer = models.Transformer(str(raw), max_seq_length=128)
    pooling = models.Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(
        modules=[transformer, pooling],
        prompts={"query": "query: ", "document": "passage: "} if prompts else None,
    )
    out = directory / "tiny-st"
    model.save(str(out))
    return out


def build_cross_encoder(directory: Path) -> Path:
    import torch
    from transformers import BertForSequenceClassification

    torch.manual_seed(0)
    out = directory / "tiny-ce"
    tokenizer = _tokenizer(out)
    BertForSequenceClassification(_config(len(tokenizer), num_labels=1)).save_pretrained(out)
    return out


def build_question_answering(directory: Path) -> Path:
    """A tiny random extractive QA model (BertForQuestionAnswering) with a fast tokenizer: the
    loading path of `--reader PATH` without a hub or a real model."""
    import torch
    from transformers import BertForQuestionAnswering

    torch.manual_seed(0)
    tokenizer = _tokenizer(directory)
    BertForQuestionAnswering(_config(len(tokenizer))).save_pretrained(directory)
    return directory
