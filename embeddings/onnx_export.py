"""Export a sentence-transformers model to ONNX, once, for the onnxruntime backend.

The model is loaded through sentence-transformers itself (the reference path), so everything
the fast path needs is read off the loaded object rather than re-parsed from config files:
the tokenizer (saved as one tokenizer.json), the maximum sequence length, the pooling modes,
whether a Normalize module follows, and the query/document prompts. The transformer is
exported with torch.onnx (TorchScript exporter, opset 17, dynamic batch and sequence axes);
its output is the token embeddings, and pooling + L2 normalisation run in numpy at query time.

An export is one folder in the user cache dir, `onnx/<key>/` (model.onnx, tokenizer.json,
pipeline.json), keyed by the weights' sha256 and a digest of the model's small files. It is
built in a temp folder beside it and renamed into place, so a crash never leaves half of one.
This module imports torch; the backend imports it only when an export is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from embeddings.errors import EmbedderError
from embeddings.sentence_transformers_backend import _quiet_transformers

EXPORT_VERSION = 1
OPSET = 17
PIPELINE = "pipeline.json"
SUPPORTED_POOLING = ("cls", "max", "mean", "mean_sqrt_len_tokens")


def _module_kind(module: Any) -> str:
    return type(module).__name__


def describe(model: Any) -> dict[str, Any]:
    """The settings of a loaded SentenceTransformer that the numpy pipeline must reproduce."""
    modules = list(model)
    kinds = [_module_kind(m) for m in modules]
    if len(kinds) < 2 or kinds[0] != "Transformer" or kinds[1] != "Pooling" or set(kinds[2:]) - {"Normalize"}:
        raise EmbedderError(
            f"the onnx backend handles Transformer + Pooling (+ Normalize) models, not {' + '.join(kinds)};"
            " use --embedder st:MODEL"
        )
    transformer, pooling = modules[0], modules[1]
    modes = pooling.pooling_mode
    modes = [modes] if isinstance(modes, str) else list(modes)
    if any(m not in SUPPORTED_POOLING for m in modes):
        raise EmbedderError(f"the onnx backend cannot pool with {modes}; use --embedder st:MODEL")
    prompts = {k: v for k, v in (getattr(model, "prompts", None) or {}).items() if v}
    if prompts and not getattr(pooling, "include_prompt", True):
        raise EmbedderError("the onnx backend cannot leave prompts out of pooling; use --embedder st:MODEL")
    tokenizer = transformer.tokenizer
    if getattr(tokenizer, "backend_tokenizer", None) is None:
        raise EmbedderError("the onnx backend needs a fast (tokenizers) tokenizer; use --embedder st:MODEL")
    get_dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return {
        "version": EXPORT_VERSION,
        "dimension": int(get_dimension()),
        "max_seq_length": int(transformer.max_seq_length),
        "lowercase": bool(getattr(transformer, "do_lower_case", False)),
        "pooling": modes,
        "normalize": "Normalize" in kinds,
        "prompts": prompts,
        "default_prompt_name": getattr(model, "default_prompt_name", None),
        "pad_id": int(tokenizer.pad_token_id or 0),
        "pad_token": str(tokenizer.pad_token or "[PAD]"),
    }


def export_model(model_dir: Path, target: Path, *, model_sha256: str) -> Path:
    """Build `target` (model.onnx, tokenizer.json, pipeline.json) from the model in `model_dir`."""
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise EmbedderError("exporting a model to ONNX needs torch and sentence-transformers installed") from None

    _quiet_transformers()
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    model.eval()
    pipeline = describe(model)
    transformer = list(model)[0]
    hf_model = transformer.auto_model
    try:  # the eager attention exports to plain ONNX ops everywhere
        hf_model.set_attn_implementation("eager")
    except (AttributeError, ValueError, ImportError):
        pass
    tokenizer = transformer.tokenizer
    sample = tokenizer(["an example", "a longer example sentence"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = hf_model

        def forward(self, *tensors: Any) -> Any:
            return self.inner(**dict(zip(names, tensors))).last_hidden_state

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "token_embeddings"]}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                TokenEmbeddings().eval(),
                tuple(sample[n] for n in names),
                str(tmp / "model.onnx"),
                input_names=names,
                output_names=["token_embeddings"],
                dynamic_axes=axes,
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )
        tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
        versions = {"torch": torch.__version__}
        for lib in ("transformers", "sentence_transformers"):
            versions[lib] = __import__(lib).__version__
        pipeline.update(inputs=names, model_sha256=model_sha256, exported_with=versions)
        (tmp / PIPELINE).write_text(json.dumps(pipeline, indent=2, sort_keys=True), encoding="utf-8")
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / PIPELINE).is_file():  # not another process's finished export
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
