"""The reader: an extractive question-answering model that finds the answer span in a passage
and says how likely the passage answers at all.

The shipped reader (rag/answer/reader_model/) is all-MiniLM-L6-v2 fine-tuned here on SQuAD by
bench/train_reader.py (a start/end head whose [CLS] position means "no answer", and an
answerability logit on [CLS]), exported to ONNX and quantised to int8 by bench/export_reader.py.
It runs with onnxruntime and `tokenizers`: no torch at query time. Its model.onnx sha256 is
recorded in reader.json and checked at load (hashed once, then trusted by a stamp, as the
embedder's weights are); a mismatch is a one-line error.

`--reader PATH_OR_NAME` loads another extractive QA model instead (a transformers
AutoModelForQuestionAnswering directory or, with a model hub, a name such as
deepset/minilm-uncased-squad2); it runs through torch and decides by the SQuAD 2.0 null score.
`--reader off` (or RAG_READER=off) leaves answering to the hand-written rules.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.cache import trusted_sha256
from embeddings.models import hf_cached_model
from rag.errors import RagError

SHIPPED_DIR = Path(__file__).with_name("reader_model")
SHIPPED_NAME = "rag-reader-minilm-l6"
#: sha256 of the shipped model.onnx (bench/export_reader.py prints it); checked at every load.
SHIPPED_SHA256 = "a43a144be9bdbed08819c89f02da6e3b63d0cfebec856b04bc6deb9f72369564"
CONFIG = "reader.json"
MAX_ANSWER_TOKENS = 30
OFF = ("off", "none", "rules")


@dataclass(frozen=True)
class Reading:
    """The best span one window offers, as character offsets into the text it was read from."""

    text_index: int
    start: int
    end: int
    span_score: float
    null_score: float
    answerable_logit: float | None

    @property
    def margin(self) -> float:
        """How far the best span beats "no answer" (SQuAD 2.0's decision, > 0 answers)."""
        return self.span_score - self.null_score


class SpanReader:
    """Reads (question, passage) pairs; one Reading per window, best first."""

    name: str
    sha256: str | None
    #: "has" (the answerability logit), "margin" (span score minus null score), or "sum" (both).
    signal: str
    threshold: float

    def confidence(self, reading: Reading) -> float:
        """One number per reading; the reader answers when it reaches `threshold`."""
        if self.signal == "has" and reading.answerable_logit is not None:
            return reading.answerable_logit
        if self.signal == "sum" and reading.answerable_logit is not None:
            return reading.margin / 4 + reading.answerable_logit
        return reading.margin

    def read(self, question: str, texts: Sequence[str]) -> list[Reading]:
        raise NotImplementedError

    def describe(self) -> dict[str, object]:
        return {"name": self.name, "sha256": self.sha256, "signal": self.signal, "threshold": self.threshold}


def _best_span(start: np.ndarray, end: np.ndarray, context: np.ndarray) -> tuple[float, int, int]:
    """The highest start+end logit over context tokens with start <= end < start + MAX_ANSWER_TOKENS."""
    s = np.where(context, start, -1e9)
    e = np.where(context, end, -1e9)
    scores = s[:, None] + e[None, :]
    n = len(s)
    band = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(np.ones((n, n), dtype=bool), MAX_ANSWER_TOKENS)
    scores = np.where(band, scores, -1e9)
    i, j = divmod(int(scores.argmax()), n)
    return float(scores[i, j]), i, j


class _WindowedReader(SpanReader):
    """Shared windowing: the question with the passage, split into overlapping windows of
    `max_length` tokens when it is longer; offsets map tokens back to the passage's characters."""

    max_length: int = 192
    stride: int = 64

    def _windows(self, tokenizer: Any, question: str, texts: Sequence[str]) -> list[tuple[int, Any]]:
        out = []
        for index, text in enumerate(texts):
            encoding = tokenizer.encode(question, text)
            for window in [encoding, *encoding.overflowing]:
                out.append((index, window))
        return out

    def _readings(self, windows: list[tuple[int, Any]], start: np.ndarray, end: np.ndarray,
                  answerable: np.ndarray | None) -> list[Reading]:
        readings = []
        for row, (index, window) in enumerate(windows):
            seq = np.array([s == 1 for s in window.sequence_ids] + [False] * (start.shape[1] - len(window.ids)))
            if not seq.any():
                continue
            score, a, b = _best_span(start[row], end[row], seq)
            offsets = window.offsets
            readings.append(Reading(index, int(offsets[a][0]), int(offsets[b][1]), score,
                                    float(start[row, 0] + end[row, 0]),
                                    None if answerable is None else float(answerable[row])))
        return sorted(readings, key=self.confidence, reverse=True)


class OnnxSpanReader(_WindowedReader):
    """The shipped reader (or another export in the same layout): model.onnx + tokenizer.json + reader.json."""

    def __init__(self, directory: Path, *, expected_sha256: str | None = None, threads: int | None = None) -> None:
        try:
            config = json.loads((directory / CONFIG).read_text(encoding="utf-8"))
            assert isinstance(config, dict) and config.get("schema") == 1
            self.name = str(config["name"])
            self.signal = str(config["signal"])
            assert self.signal in ("has", "margin", "sum")
            self.threshold = float(config["threshold"])
            self.max_length = int(config["max_length"])
            self.stride = int(config["stride"])
            recorded = str(config["model_sha256"])
        except FileNotFoundError:
            raise RagError(f"no reader at {directory} (missing {CONFIG}); use --reader off or reinstall") from None
        except (AssertionError, KeyError, TypeError, ValueError, json.JSONDecodeError):
            raise RagError(f"the reader's {directory / CONFIG} is malformed; reinstall, or use --reader off") from None
        model = directory / "model.onnx"
        if not model.is_file():
            raise RagError(f"the reader at {directory} has no model.onnx; reinstall, or use --reader off")
        got = trusted_sha256(model)
        expected = expected_sha256 or recorded
        if got != expected:
            raise RagError(f"the reader's model.onnx at {directory} fails its sha256 check (expected {expected[:16]}…,"
                           f" got {got[:16]}…); reinstall, or use --reader off")
        self.sha256 = got
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or _threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_length, stride=self.stride, strategy="only_second")
        self.tokenizer.no_padding()

    def read(self, question: str, texts: Sequence[str]) -> list[Reading]:
        windows = self._windows(self.tokenizer, question, texts)
        if not windows:
            return []
        n = max(len(w.ids) for _, w in windows)
        feeds = {name: np.zeros((len(windows), n), dtype=np.int64) for name in self.inputs}
        for row, (_, w) in enumerate(windows):
            feeds["input_ids"][row, :len(w.ids)] = w.ids
            feeds["attention_mask"][row, :len(w.ids)] = 1
            if "token_type_ids" in feeds:
                feeds["token_type_ids"][row, :len(w.ids)] = w.type_ids
        start, end, answerable = self.session.run(None, feeds)
        mask = feeds["attention_mask"] == 0
        return self._readings(windows, np.where(mask, -1e9, start), np.where(mask, -1e9, end), answerable)


class TransformersSpanReader(_WindowedReader):
    """Any transformers extractive QA model (start/end logits), by local directory or hub name;
    it abstains by the SQuAD 2.0 null score (margin below `threshold`, default 0)."""

    signal = "margin"

    def __init__(self, name_or_path: str, threshold: float = 0.0) -> None:
        path = Path(name_or_path).expanduser()
        local = path.is_dir()
        if not local:
            cached = hf_cached_model(name_or_path) if "/" in name_or_path else None
            if cached is None:
                from embeddings.sentence_transformers_backend import ensure_loadable  # deferred: rarely needed

                try:
                    ensure_loadable(name_or_path)
                except Exception as exc:  # ModelUnavailable: the hub is out of reach
                    raise RagError(f"reader {name_or_path!r} is neither a local directory nor cached, and {exc}") from None
        try:
            import torch
            from transformers import AutoModelForQuestionAnswering, AutoTokenizer
        except ImportError:
            raise RagError("--reader MODEL needs torch and transformers installed") from None
        try:
            self.model = AutoModelForQuestionAnswering.from_pretrained(str(path) if local else name_or_path).eval()
            hf_tokenizer = AutoTokenizer.from_pretrained(str(path) if local else name_or_path)
        except (OSError, ValueError) as exc:
            raise RagError(f"reader {name_or_path!r} could not be loaded as an extractive QA model: "
                           f"{str(exc).splitlines()[0]}") from None
        if getattr(hf_tokenizer, "backend_tokenizer", None) is None:
            raise RagError(f"reader {name_or_path!r} needs a fast tokenizer (tokenizer.json)")
        self.tokenizer = hf_tokenizer.backend_tokenizer
        self.max_length = min(384, int(getattr(hf_tokenizer, "model_max_length", 384) or 384))
        self.tokenizer.enable_truncation(self.max_length, stride=min(self.stride, self.max_length // 4),
                                         strategy="only_second")
        self.tokenizer.no_padding()
        self.pad_id = int(hf_tokenizer.pad_token_id or 0)
        self.torch = torch
        self.name = str(path.resolve()) if local else name_or_path
        self.sha256 = None
        self.threshold = threshold

    def read(self, question: str, texts: Sequence[str]) -> list[Reading]:
        windows = self._windows(self.tokenizer, question, texts)
        if not windows:
            return []
        torch = self.torch
        n = max(len(w.ids) for _, w in windows)
        ids = torch.full((len(windows), n), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(windows), n), dtype=torch.long)
        types = torch.zeros((len(windows), n), dtype=torch.long)
        for row, (_, w) in enumerate(windows):
            ids[row, :len(w.ids)] = torch.tensor(w.ids)
            mask[row, :len(w.ids)] = 1
            types[row, :len(w.ids)] = torch.tensor(w.type_ids)
        kwargs = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.model.forward.__code__.co_varnames:
            kwargs["token_type_ids"] = types
        with torch.no_grad():
            out = self.model(**kwargs)
        pad = (mask == 0).numpy()
        start = np.where(pad, -1e9, out.start_logits.float().numpy())
        end = np.where(pad, -1e9, out.end_logits.float().numpy())
        return self._readings(windows, start, end, None)


def _threads() -> int:
    raw = os.environ.get("RAG_ONNX_THREADS", "")
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, min(4, os.cpu_count() or 1))


def reader_setting(explicit: str | None = None) -> str:
    """`--reader`, else RAG_READER, else the shipped reader."""
    return (explicit or os.environ.get("RAG_READER") or "default").strip()


def reader_summary(setting: str | None = None) -> dict[str, object]:
    """What `rag info` shows of the reader a setting names, without loading the model."""
    value = reader_setting(setting)
    if value.lower() in OFF:
        return {"name": "off", "sha256": None}
    directory = SHIPPED_DIR if value.lower() in ("default", "shipped", SHIPPED_NAME) else Path(value).expanduser()
    config = directory / CONFIG
    if config.is_file():
        try:
            data = json.loads(config.read_text(encoding="utf-8"))
            return {"name": str(data.get("name")), "sha256": str(data.get("model_sha256")),
                    "threshold": data.get("threshold"), "signal": data.get("signal")}
        except (OSError, ValueError):
            return {"name": str(directory), "sha256": None, "error": "reader.json is malformed"}
    return {"name": value, "sha256": None}


def load_reader(setting: str | None = None) -> SpanReader | None:
    """The reader a setting names: None for 'off'; the shipped reader for 'default'; an ONNX
    export directory (with reader.json) or a transformers QA model otherwise."""
    value = reader_setting(setting)
    if value.lower() in OFF:
        return None
    if value.lower() in ("default", "shipped", SHIPPED_NAME):
        return _cached_onnx(SHIPPED_DIR, SHIPPED_SHA256)
    path = Path(value).expanduser()
    if path.is_dir() and (path / CONFIG).is_file():
        return _cached_onnx(path, None)
    return TransformersSpanReader(value)


_LOADED: dict[tuple[str, str | None, int, int, int], OnnxSpanReader] = {}


def _cached_onnx(directory: Path, expected: str | None) -> OnnxSpanReader:
    """One onnxruntime session per reader file and process (the UI opens an assistant per setting).
    A changed file (size, mtime, or reader.json) loads, and is hash-checked, anew."""
    try:
        model, config = (directory / "model.onnx").stat(), (directory / CONFIG).stat()
        key = (str(directory.resolve()), expected, model.st_size, model.st_mtime_ns, config.st_mtime_ns)
    except OSError:
        return OnnxSpanReader(directory, expected_sha256=expected)  # raises the one-line error
    if key not in _LOADED:
        _LOADED[key] = OnnxSpanReader(directory, expected_sha256=expected)
    return _LOADED[key]
