"""The fast path: a sentence-transformers model run by onnxruntime, with no torch at query time.

`rag ask` in a fresh process would otherwise import torch, transformers and
sentence-transformers (several seconds on a small machine) to encode one question. Here a
query costs: `tokenizers` (Rust) for the tokenizer, onnxruntime for the transformer, and
numpy for the pooling and L2 normalisation, all three imported in a fraction of a second.

The ONNX file is exported locally from the model's own weights, once, by
embeddings/onnx_export.py (which does import torch), and kept in the user cache dir under a
key made of the weights' sha256 and a digest of the model's small files; nothing is
downloaded. The vectors match the sentence-transformers (torch) path to within float32
rounding (tests/test_onnx_backend.py checks 1e-3 cosine and the same neighbours), so both
paths carry the same embedder id and an index built by one is searched by the other.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import Embedder, l2_normalise
from embeddings.cache import cache_dir
from embeddings.errors import EmbedderError, ModelUnavailable
from embeddings.models import (
    DEFAULT_MODEL,
    WEIGHT_FILES,
    ModelLocation,
    locate_model,
    weights_sha256,
)
from embeddings import onnx_export

#: Small files that decide what the model does (configs, vocab, tokenizer); weights are hashed apart.
_SMALL_FILE_LIMIT = 4 << 20
_SKIP_DIRS = {"onnx", "openvino", ".git"}
#: intra-op threads when neither `threads=` nor RAG_ONNX_THREADS says otherwise: one per CPU, up
#: to this many. On the idle 2-core target machine 2 threads embedded 33.5-35.4 SQuAD paragraphs/s
#: against 17.1-18.7 for 1 thread, and one query in 4.3-5.3 ms against 6.3-6.7 ms (same run).
#: (An earlier measurement favoured 1 thread, 11 against 7 texts/s, but it was taken with the two
#: cores oversubscribed by other jobs; set RAG_ONNX_THREADS=1 on a machine that busy.) Beyond 2
#: CPUs nothing was measured; 4 is a cautious cap.
MAX_DEFAULT_THREADS = 4


def onnxruntime_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("onnxruntime") is not None


def files_digest(directory: Path) -> str:
    """A short digest of a model folder's small files (names and bytes), weights excluded."""
    digest = hashlib.blake2b(digest_size=6)
    for root, dirs, files in os.walk(directory, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            path = Path(root) / name
            if name in WEIGHT_FILES or name.endswith(".md"):
                continue
            try:
                if path.stat().st_size > _SMALL_FILE_LIMIT:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            digest.update(str(path.relative_to(directory)).encode("utf-8") + b"\0" + data + b"\0")
    return digest.hexdigest()


def export_dir(location: ModelLocation, model_sha256: str) -> Path:
    """Where the ONNX export of this model lives in the cache (it may not exist yet)."""
    return cache_dir() / "onnx" / f"{model_sha256[:16]}-{files_digest(location.path)}-v{onnx_export.EXPORT_VERSION}"


def default_threads() -> int:
    env = os.environ.get("RAG_ONNX_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_THREADS))


def _read_pipeline(directory: Path) -> dict[str, Any]:

    try:
        data = json.loads((directory / onnx_export.PIPELINE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise EmbedderError(f"ONNX export at {directory} is unreadable; delete that folder to rebuild it") from None
    expected = {"version": int, "dimension": int, "max_seq_length": int, "lowercase": bool, "pooling": list,
                "normalize": bool, "prompts": dict, "pad_id": int, "pad_token": str, "inputs": list}
    if not isinstance(data, dict) or any(not isinstance(data.get(k), t) for k, t in expected.items()) \
            or data["version"] != onnx_export.EXPORT_VERSION:
        raise EmbedderError(f"ONNX export at {directory} is not one this version made; delete that folder to rebuild it")
    return data


class OnnxEmbedder(Embedder):
    """A sentence-transformers model (Transformer + Pooling + Normalize) through onnxruntime."""
    backend = "onnxruntime"

    def __init__(
        self,
        name_or_path: str | ModelLocation = DEFAULT_MODEL,
        *,
        threads: int | None = None,
        batch_size: int = 32,
    ) -> None:
        location = name_or_path if isinstance(name_or_path, ModelLocation) else locate_model(name_or_path)
        if location is None:
            raise ModelUnavailable(
                f"model '{name_or_path}' is not on this machine and the onnx backend never downloads;"
                f" load it once with --embedder st:{name_or_path}, or use --embedder offline"
            )
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError:
            raise EmbedderError("the onnx backend needs `pip install onnxruntime tokenizers`") from None
        sha = location.sha256 or weights_sha256(location.path)
        if sha is None:
            raise EmbedderError(f"model at {location.path} has no model.safetensors or pytorch_model.bin")
        directory = export_dir(location, sha)
        if not (directory / "pipeline.json").is_file():
            try:
                onnx_export.export_model(location.path, directory, model_sha256=sha)
            except EmbedderError:
                raise
            except Exception as exc:  # torch.onnx raises many kinds; the user needs one line
                reason = " ".join(str(exc).split())[:200] or type(exc).__name__
                raise EmbedderError(
                    f"exporting {location.spec_target} to ONNX failed ({reason}); use --embedder st:{location.spec_target}"
                ) from None
        pipeline = _read_pipeline(directory)

        self.location = location
        self.model_sha256 = sha
        self.export_dir = directory
        self.batch_size = batch_size
        self.dimension = pipeline["dimension"]
        self.spec = f"onnx:{location.spec_target}"
        self.id = f"sentence-transformers:{location.embedder_name}"
        self._pipeline = pipeline
        self._inputs: list[str] = pipeline["inputs"]
        self._pooling: list[str] = pipeline["pooling"]
        prompts: dict[str, str] = pipeline["prompts"]
        default = prompts.get(pipeline.get("default_prompt_name") or "", "")
        self._query_prompt = prompts.get("query", default)
        self._document_prompt = next((prompts[k] for k in ("document", "passage", "corpus") if k in prompts), default)

        tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=pipeline["max_seq_length"])
        tokenizer.enable_padding(pad_id=pipeline["pad_id"], pad_token=pipeline["pad_token"])
        self._tokenizer = tokenizer

        options = ort.SessionOptions()
        self.threads = threads or default_threads()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise EmbedderError(
                f"ONNX export at {directory} does not load ({' '.join(str(exc).split())[:160]}); delete that folder to rebuild it"
            ) from None

    def _batch(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.array([e.type_ids for e in encodings], dtype=np.int64)
        tokens = self._session.run(None, {k: feeds[k] for k in self._inputs})[0].astype(np.float32, copy=False)
        weights = mask[:, :, None].astype(np.float32)
        counts = np.clip(weights.sum(axis=1), 1e-9, None)
        parts = []
        for mode in self._pooling:
            if mode == "cls":
                parts.append(tokens[:, 0])
            elif mode == "max":
                parts.append(np.where(weights > 0, tokens, np.float32(-1e9)).max(axis=1))
            elif mode == "mean":
                parts.append((tokens * weights).sum(axis=1) / counts)
            else:  # mean_sqrt_len_tokens
                parts.append((tokens * weights).sum(axis=1) / np.sqrt(counts))
        return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        prepared = [prompt + t for t in texts] if prompt else list(texts)
        if self._pipeline["lowercase"]:
            prepared = [t.lower() for t in prepared]
        # Longest first, so each batch pads to a similar length; then back in the caller's order.
        order = sorted(range(len(prepared)), key=lambda i: -len(prepared[i]))
        out = np.empty((len(prepared), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start : start + self.batch_size]
            out[chunk] = self._batch([prepared[i] for i in chunk])
        return l2_normalise(out)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(texts, self._document_prompt)

    def encode_query(self, text: str) -> np.ndarray:
        return self._encode([text], self._query_prompt)[0]
