"""Export a bench/train_reader.py checkpoint as the shipped reader: ONNX, int8, hash recorded.

    python bench/export_reader.py --out out/reader --target rag/answer/reader_model

Writes model.onnx (dynamic int8 quantisation of the TorchScript export, opset 17), tokenizer.json
and reader.json (name, windowing, the abstention signal and threshold, the model's sha256, the
training figures). Before it writes, it scores the float and the int8 model on the held-out training
articles side by side (paragraph given) and prints both, so a quantisation loss is seen, not assumed.
The threshold is set afterwards from the open-corpus pipeline by bench/reader_open_corpus.py --calibrate.

    python bench/export_reader.py --out out/reader --average 4 --dry-run

--average N exports the mean of the weights saved at the last N checkpoints (weights-STEP.pt)
instead of one checkpoint: averaging the end of a run smooths the checkpoint-to-checkpoint swings
of the no-answer decision. --dry-run scores the candidate on the held-out articles and writes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_reader as tr  # noqa: E402



def onnx_figures(path: Path, tokenizer, examples, args) -> dict[str, float]:
    """The held-out figures of an ONNX file, computed as train_reader.evaluate does for torch."""
    import numpy as np
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    class Wrapped:
        def eval(self):
            return self

        def train(self):
            return self

        def __call__(self, ids, mask, types):
            import torch

            start, end, has = session.run(None, {"input_ids": ids.numpy(), "attention_mask": mask.numpy(),
                                                 "token_type_ids": types.numpy()})
            pad = mask.numpy() == 0
            return (torch.from_numpy(np.where(pad, -1e9, start)), torch.from_numpy(np.where(pad, -1e9, end)),
                    torch.from_numpy(has))

    t = time.time()
    figures = tr.evaluate(Wrapped(), tokenizer, examples, args.max_len, args.stride, tokenizer.pad_token_id or 0)
    figures["seconds"] = time.time() - t
    return figures


def averaged_weights(out: Path, n: int, steps: list[int]) -> dict:
    """The element-wise mean of the weights saved at the last `n` checkpoints of a run (their
    steps appended to `steps`)."""
    import torch

    found = sorted(out.glob("weights-*.pt"), key=lambda p: int(p.stem.split("-")[1]))[-n:]
    if len(found) < n:
        raise SystemExit(f"--average {n}: only {len(found)} weights-STEP.pt files in {out}")
    total: dict = {}
    for path in found:
        state = torch.load(path, map_location="cpu", weights_only=True)
        for key, value in state.items():
            # buffers such as position ids are integers: every checkpoint holds the same ones
            total[key] = total.get(key, 0) + value.double() if value.is_floating_point() else value
        steps.append(int(path.stem.split("-")[1]))
    return {key: (value / n).to(torch.float32) if value.is_floating_point() else value
            for key, value in total.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(tr.ROOT / "out" / "reader"), help="the training run's folder")
    parser.add_argument("--checkpoint", default=None, help="default: the best by the held-out figures")
    parser.add_argument("--target", default=str(tr.ROOT / "rag" / "answer" / "reader_model"))
    parser.add_argument("--signal", default=None, choices=("has", "margin", "sum"),
                        help="the abstention signal (default: the best held-out AUC)")
    parser.add_argument("--holdout-limit", type=int, default=600)
    parser.add_argument("--average", type=int, default=0, help="average the weights of the last N checkpoints")
    parser.add_argument("--dry-run", action="store_true", help="score the candidate, write nothing")
    args = parser.parse_args(argv)

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoTokenizer

    out = Path(args.out)
    if args.checkpoint:
        checkpoint = Path(args.checkpoint)
    else:
        history = torch.load(tr.newest_checkpoint(out), map_location="cpu", weights_only=False)["history"]
        checkpoint = out / f"checkpoint-{tr.best_step(history)}.pt"
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    train_args = argparse.Namespace(**state["args"])
    args.max_len, args.stride = train_args.max_len, train_args.stride
    tokenizer = AutoTokenizer.from_pretrained(train_args.model, local_files_only=True)
    model = tr.build_model(Path(train_args.model))
    model.load_state_dict(state["model"])
    averaged: list[int] = []
    if args.average:
        model.load_state_dict(averaged_weights(out, args.average, averaged))
    model.eval()
    try:
        model.encoder.set_attn_implementation("eager")
    except (AttributeError, ValueError, ImportError):
        pass
    examples = [e for e in tr.load_examples([Path(p) for p in train_args.train]) if e.article in set(train_args.holdout)]
    examples = random.Random(train_args.seed).sample(examples, min(args.holdout_limit, len(examples)))
    if averaged:
        figures = tr.evaluate(model, tokenizer, examples, train_args.max_len, train_args.stride,
                              tokenizer.pad_token_id or 0)
        figures.update(averaged_steps=averaged)
        model.eval()
    else:
        figures = state["history"][-1] if state["history"][-1]["step"] == state["step"] else \
            next(h for h in state["history"] if h["step"] == state["step"])
    signal = args.signal or max(("has", "margin", "sum"), key=lambda s: figures.get(f"auc_{s}", 0.0))
    source = f"mean of steps {averaged}" if averaged else checkpoint.name
    print(f"{source}: {json.dumps({k: v if isinstance(v, list) else round(v, 4) for k, v in figures.items()})}; "
          f"signal {signal}")
    if args.dry_run:
        return

    tmp = Path(tempfile.mkdtemp(prefix="reader-export-"))
    sample = tokenizer(["a question"], ["a passage of text"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "sequence"} for n in names}
    axes.update(start_logits={0: "batch", 1: "sequence"}, end_logits={0: "batch", 1: "sequence"},
                answerable={0: "batch"})
    with torch.no_grad():
        torch.onnx.export(model, tuple(sample[n] for n in names), str(tmp / "float.onnx"), input_names=names,
                          output_names=["start_logits", "end_logits", "answerable"], dynamic_axes=axes,
                          opset_version=17, do_constant_folding=True, dynamo=False)
    # Dynamic int8 variants, each scored on the held-out articles beside the float model; the one
    # closest to it (answerable F1 and the signal's AUC) ships: differences in abstention at a
    # fixed rate are noise on a few hundred questions, a drop in F1 or AUC is the loss to avoid.
    variants = {"int8 per-tensor": {}, "int8 per-channel": {"per_channel": True},
                "int8 per-channel, reduced range": {"per_channel": True, "reduce_range": True}}
    scored = {}
    reference = onnx_figures(tmp / "float.onnx", tokenizer, examples, args)
    print(f"float: {(tmp / 'float.onnx').stat().st_size / 1e6:.1f} MB " + json.dumps({k: round(v, 4) for k, v in reference.items()}))
    for i, (label, options) in enumerate(variants.items()):
        path = tmp / f"int8-{i}.onnx"
        quantize_dynamic(str(tmp / "float.onnx"), str(path), weight_type=QuantType.QInt8, **options)
        f = onnx_figures(path, tokenizer, examples, args)
        loss = abs(f["f1_answerable_given"] - reference["f1_answerable_given"]) + abs(
            f[f"auc_{signal}"] - reference[f"auc_{signal}"])
        scored[label] = (-loss, path, f)
        print(f"{label}: {path.stat().st_size / 1e6:.1f} MB " + json.dumps({k: round(v, 4) for k, v in f.items()}))
    chosen = max(scored, key=lambda k: scored[k][0])
    shutil.copyfile(scored[chosen][1], tmp / "model.onnx")
    print(f"shipping: {chosen}")

    target = Path(args.target)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tmp / "model.onnx", target / "model.onnx")
    backend = tokenizer.backend_tokenizer
    backend.no_truncation()
    backend.no_padding()
    backend.save(str(target / "tokenizer.json"))
    sha = hashlib.sha256((target / "model.onnx").read_bytes()).hexdigest()
    previous = {}
    if (target / "reader.json").is_file():
        previous = json.loads((target / "reader.json").read_text())
    config = {
        "schema": 1, "name": "rag-reader-minilm-l6", "base": "sentence-transformers/all-MiniLM-L6-v2",
        "signal": signal, "threshold": previous.get("threshold", 0.0) if previous.get("signal") == signal else 0.0,
        "max_length": args.max_len, "stride": args.stride, "model_sha256": sha, "quantisation": f"dynamic {chosen}",
        "quantised_held_out": scored[chosen][2], "float_held_out": reference,
        "trained": {"checkpoint": source, "held_out": figures, "args": {
            k: v for k, v in state["args"].items() if k not in ("train", "model", "out")}},
    }
    (target / "reader.json").write_text(json.dumps(config, indent=2) + "\n")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"wrote {target} (model.onnx sha256 {sha})")


if __name__ == "__main__":
    main()
