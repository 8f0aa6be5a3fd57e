"""The fast path: a sentence-transformers model run by onnxruntime, with no torch at query time.

`rag ask` in a fresh process would otherwise import torch, transformers and
sentence-transformers (several seconds on a small machine) to encode one question. Here a
query costs: `tokenizers` (Rust) for the tokenizer, onnxruntime for the transformer, and
numpy for the pooling and L2 normalisation, all three imported in a fraction of a second.

The ONNX file is exported locally from the model's own weights, once, by
embeddings/onnx_export.py (which does import torch), and kept in the user cache dir under a
key made of the weights' sha256 and a digest of the model's small files; nothing is
downloaded. The float model's vectors match the sentence-transformers (torch) path to within
float32 rounding (tests/test_embedding_models.py checks 1e-3 cosine and the same neighbours), so
both paths carry the same embedder id and an index built by one is searched by the other.

By default the model runs with int8 weights (embeddings/onnx_quantize.py: made once beside the
export, and used only when every probe vector stays within 1e-2 cosine of the float model's;
all-MiniLM-L6-v2: 1.7x the float speed, 0.994 cosine at worst); RAG_ONNX_INT8=0 keeps float.

Batches are formed by token count (longest first), so a batch pads little, and each is padded
only to its own longest row. `encode_documents_with_sentences` returns, from the same pass, a
vector per sentence of each text: the mean of that sentence's token embeddings, so ingest needs
no second pass over the sentences (rag/ingest/pipeline.py).
"""

from __future__ import annotations

import hashlib
import json
import os
from bisect import bisect_left
from collections.abc import Callable, Sequence
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
from embeddings import onnx_export, onnx_quantize

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
#: Tokens in one batch (rows x its longest row). Small batches run faster than large ones on the
#: 2-core target machine (the activations stay in cache). BBC chunks (~130 tokens) and their
#: sentences (~30), int8, chunks/s and sentences/s: 512 tokens 146-159 / 549-563, 1,024 tokens
#: 150-155 / 539-553, 4,096 tokens 126-127 / 476-481; the old 32 rows a batch 126 / 482-490, 256
#: rows 69-76 / 223-228. Float: 94 / 332-339 at 1,024 tokens against 76 / 266-286 at 32 rows.
BATCH_TOKENS = 1024


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
        batch_size: int = 64,
        batch_tokens: int = BATCH_TOKENS,
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
        self.batch_tokens = batch_tokens
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
        tokenizer.no_padding()  # each batch is padded to its own longest row (_run)
        tokenizer.enable_truncation(max_length=pipeline["max_seq_length"])
        self._tokenizer = tokenizer
        self._uses_types = "token_type_ids" in self._inputs

        self.threads = threads or default_threads()
        #: "int8" when the quantised model passed its check against the float one (onnx_quantize), else "float32".
        self.precision = "float32"
        session = self._int8_session(ort, directory) if onnx_quantize.enabled() else None
        if session is not None:
            self.precision = "int8"
        else:
            try:
                session = self._open(ort, directory / "model.onnx")
            except Exception as exc:  # onnxruntime raises its own exception types
                raise EmbedderError(
                    f"ONNX export at {directory} does not load ({' '.join(str(exc).split())[:160]}); delete that folder to rebuild it"
                ) from None
        self._session = session

    def for_bulk(self) -> None:
        """Re-open the session with threads that spin between runs: through a long run of
        batches (ingest) they are faster (400 BBC articles: 14.5-14.9 s against 15.7 s), while at a
        question they would take the cores from the reader (see `_open`)."""
        import onnxruntime as ort

        model = onnx_quantize.INT8_MODEL if self.precision == "int8" else "model.onnx"
        self._session = self._open(ort, self.export_dir / model, spinning=True)

    def _open(self, ort: Any, path: Path, *, spinning: bool = False) -> Any:
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        # Its threads sleep when a run ends instead of spinning for the next: at a question the
        # reader's session runs right after this one, and spinning threads took the cores from it
        # (seed questions, 2 cores, warm p50 61 ms -> 34 ms). Ingest asks for spinning (for_bulk).
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def _int8_session(self, ort: Any, directory: Path) -> Any:
        """The int8 model's session if it passes (or once passed) its check against the float
        model; None to use the float one. Quantising and checking happen once per export."""
        verdict = onnx_quantize.read_verdict(directory)
        if verdict is not None:
            if not verdict["accepted"]:
                return None
            try:
                return self._open(ort, directory / onnx_quantize.INT8_MODEL)
            except Exception:  # a damaged file: check again from scratch
                pass
        try:
            candidate = self._open(ort, onnx_quantize.quantize(directory))
            reference = self._open(ort, directory / "model.onnx")
        except Exception as exc:  # no quantisation support here: the float model serves
            reason = " ".join(str(exc).split())[:160] or type(exc).__name__
            onnx_quantize.write_verdict(directory, False, None, reason=f"quantisation failed: {reason}")
            (directory / onnx_quantize.INT8_MODEL).unlink(missing_ok=True)
            return None
        probes = onnx_quantize.PROBES
        self._session = reference
        expected = self._encode(probes, self._document_prompt)
        self._session = candidate
        got = self._encode(probes, self._document_prompt)
        closest = float(np.sum(expected * got, axis=1).min())
        accepted = closest >= 1 - onnx_quantize.TOLERANCE
        onnx_quantize.write_verdict(directory, accepted, closest)
        if not accepted:
            (directory / onnx_quantize.INT8_MODEL).unlink(missing_ok=True)
            return None
        return candidate

    def describe(self) -> dict[str, object]:
        return {**super().describe(), "precision": self.precision}

    def _tokenize(self, texts: list[str]) -> list[Any]:
        """Encodings without padding (each batch is padded to its own longest row)."""
        return self._tokenizer.encode_batch(texts)  # type: ignore[no-any-return]

    def _run(self, encodings: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Token embeddings (batch, longest, dim) and the attention mask (batch, longest) of
        `encodings`, padded here to the longest of them only."""
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self._pipeline["pad_id"], dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros((len(encodings), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n] = e.ids
            mask[row, :n] = 1
            if self._uses_types:
                types[row, :n] = e.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        tokens = self._session.run(None, {k: feeds[k] for k in self._inputs})[0]
        return tokens.astype(np.float32, copy=False), mask

    def _pool(self, tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
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

    def _prepare(self, texts: Sequence[str], prompt: str) -> list[str]:
        prepared = [prompt + t for t in texts] if prompt else list(texts)
        return [t.lower() for t in prepared] if self._pipeline["lowercase"] else prepared

    def _batches(self, encodings: Sequence[Any]) -> list[list[int]]:
        """Rows grouped into batches of similar token length (longest first), so a batch pads
        little; each holds at most `batch_size` rows and, past its first row, at most
        `batch_tokens` tokens (rows x longest)."""
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        batches: list[list[int]] = []
        for i in order:
            if batches and len(batches[-1]) < self.batch_size \
                    and (len(batches[-1]) + 1) * len(encodings[batches[-1][0]].ids) <= self.batch_tokens:
                batches[-1].append(i)
            else:
                batches.append([i])
        return batches

    def _encode(self, texts: Sequence[str], prompt: str, progress: Callable[[int], None] | None = None) -> np.ndarray:
        encodings = self._tokenize(self._prepare(texts, prompt))
        out = np.empty((len(encodings), self.dimension), dtype=np.float32)
        for rows in self._batches(encodings):
            out[rows] = self._pool(*self._run([encodings[i] for i in rows]))
            if progress is not None:
                progress(len(rows))
        return l2_normalise(out)

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(texts, self._document_prompt)

    def encode_query(self, text: str) -> np.ndarray:
        return self._encode([text], self._query_prompt)[0]

    def encode_documents_with_sentences(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Document vectors of `texts` and, from the same transformer pass, a vector for each
        [start, end) of `spans[i]` (character offsets into `texts[i]`): the mean of the
        token embeddings of that stretch of text, L2-normalised.

        A sentence is one more thing the model already read in context, so it costs no second
        pass. Where pooling over part of a text means nothing (a model not mean-pooled) or
        the text was cut at the model's maximum length before the sentence ended, that
        sentence is encoded on its own instead.
        """
        if len(spans) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        empty = np.zeros((0, self.dimension), dtype=np.float32)
        sentences: list[np.ndarray] = [np.empty((len(s), self.dimension), np.float32) if s else empty for s in spans]
        if not texts:
            return empty, sentences
        prompt = self._document_prompt
        prepared = self._prepare(texts, prompt)
        poolable = self._pooling == ["mean"]
        encodings = self._tokenize(prepared)
        out = np.empty((len(encodings), self.dimension), dtype=np.float32)
        alone: list[tuple[int, int]] = []  # (text, sentence) pairs encoded on their own
        for rows in self._batches(encodings):
            tokens, mask = self._run([encodings[i] for i in rows])
            out[rows] = self._pool(tokens, mask)
            for r, i in enumerate(rows):
                if not spans[i]:
                    continue
                # The offsets of lower-cased text are the original's only when lowering kept its length.
                aligned = poolable and len(prepared[i]) == len(prompt) + len(texts[i])
                found = _token_ranges(encodings[i], spans[i], len(prompt)) if aligned else [None] * len(spans[i])
                for k, where in enumerate(found):
                    if where is None:
                        alone.append((i, k))
                    else:
                        sentences[i][k] = tokens[r, where[0] : where[1]].mean(axis=0)
            if progress is not None:
                progress(len(rows))
        for i, rows_ in enumerate(sentences):
            if len(rows_):
                sentences[i] = l2_normalise(rows_)
        if alone:
            vectors = self._encode([texts[i][slice(*spans[i][k])] for i, k in alone], prompt)
            for (i, k), vector in zip(alone, vectors):
                sentences[i][k] = vector
        return l2_normalise(out), sentences


def _token_ranges(encoding: Any, spans: Sequence[tuple[int, int]], shift: int) -> list[tuple[int, int] | None]:
    """For each character span (shifted by `shift`), the [first, last + 1) token positions of
    the encoding that lie in it; None where no token does or the encoding was cut before its end."""
    content = [t for t, special in enumerate(encoding.special_tokens_mask) if not special]
    offsets = encoding.offsets
    starts = [offsets[t][0] for t in content]
    last_end = offsets[content[-1]][1] if content else -1
    found: list[tuple[int, int] | None] = []
    for a, b in spans:
        lo, hi = bisect_left(starts, a + shift), bisect_left(starts, b + shift)
        whole = hi < len(content) or last_end >= b + shift
        found.append((content[lo], content[hi - 1] + 1) if hi > lo and whole else None)
    return found
