"""int8 weights for the onnx backend: dynamic quantisation, kept only where it stays close to float.

`quantize` writes `model.int8.onnx` beside an export's float `model.onnx` with onnxruntime's
dynamic quantisation: int8 weights, one scale per output channel, activations quantised on the
fly. Which matrix products are quantised is measured, not guessed (bench/results/ingest_bbc.md):
on all-MiniLM-L6-v2 over 198 BBC chunks, quantising every weight product gave 2.2x the float
model's speed but vectors down to 0.980 cosine of the float ones, and per-tensor weight scales
0.938; the error came mostly from each layer's feed-forward down projection (1536 -> 384: its
input is the GELU output, whose outliers a per-tensor activation scale serves badly). Keeping
those products in float (a MatMul whose weight has more rows than columns) gave 1.7x the speed
with every vector within 0.9944 cosine; keeping only the first layer's in float, 2.0x but 0.989.

An int8 model is used only if its vectors stay within `TOLERANCE` cosine of the float model's
on `PROBES` (short questions and news paragraphs, batched as ingest batches them); the verdict is
kept in `int8.json` beside it, so the check runs once per export. RAG_ONNX_INT8=0 turns it off.
Importing this module costs nothing; onnx and onnxruntime.quantization load when quantising.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

INT8_MODEL = "model.int8.onnx"
VERDICT = "int8.json"
#: Bump when the recipe changes: an older verdict or model is then made again.
RECIPE_VERSION = 1
#: The largest cosine distance from the float model's vector allowed for any probe.
TOLERANCE = 1e-2

_SENTENCES = [
    "The council approved the budget on Monday after a four-hour debate.",
    "Spending on roads will rise by 4% next year, the finance director said.",
    "Shares in the airline fell 12% after it warned that fuel costs would cut profits.",
    "The striker scored twice in the second half as United came from behind to win 3-2.",
    "Scientists said the new vaccine reduced hospital admissions by almost two thirds.",
    "The film took $45m at the US box office in its opening weekend.",
    "Ministers will publish the report before parliament rises for the summer recess.",
    "Police said a 34-year-old man had been arrested on suspicion of fraud.",
    "The company plans to open 200 stores across Europe by the end of 2026.",
    "Mayor Élodie Müller said the new ferry terminal would open in March.",
    "Broadband speeds in rural areas remain far below those in cities, the regulator found.",
    "The chancellor said inflation had peaked and would fall back towards 2% within a year.",
]
_QUESTIONS = ["Who won the match?", "How much did the film take?", "When will the terminal open?",
              "What did the regulator find about broadband?", "budget vote", "Müller"]
#: Questions, sentences, and paragraphs of three to twelve sentences (chunk-sized inputs).
PROBES = [*_QUESTIONS, *_SENTENCES,
          *(" ".join(_SENTENCES[i : i + n]) for n in (3, 5, 8, 12) for i in range(0, len(_SENTENCES), 3))]


def enabled() -> bool:
    """Whether int8 may be used at all (RAG_ONNX_INT8=0/off/false/no turns it off)."""
    return os.environ.get("RAG_ONNX_INT8", "").strip().lower() not in ("0", "off", "false", "no")


def products_to_quantize(model: Any) -> list[str]:
    """The MatMul nodes whose weight is a constant matrix with no more rows than columns: every
    weight product but the feed-forward down projections (see the module docstring)."""
    shapes = {init.name: tuple(init.dims) for init in model.graph.initializer}
    chosen = []
    for node in model.graph.node:
        if node.op_type != "MatMul":
            continue
        weight = next((shapes[name] for name in node.input if name in shapes and len(shapes[name]) == 2), None)
        if weight is not None and weight[0] <= weight[1]:
            chosen.append(node.name)
    return chosen


def quantize(directory: Path) -> Path:
    """Write `directory`/model.int8.onnx from `directory`/model.onnx (atomically); its path."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = directory / INT8_MODEL
    nodes = products_to_quantize(onnx.load(str(directory / "model.onnx")))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".int8.", suffix=".onnx")
    os.close(fd)
    quieted = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing" warnings: not for the user
    try:
        quantize_dynamic(str(directory / "model.onnx"), tmp, weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"], nodes_to_quantize=nodes)
        os.replace(tmp, target)
    finally:
        logging.getLogger().setLevel(quieted)
        Path(tmp).unlink(missing_ok=True)
    return target


def read_verdict(directory: Path) -> dict[str, Any] | None:
    """The recorded check of this export's int8 model, or None when there is none (or it is stale)."""
    try:
        verdict = json.loads((directory / VERDICT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(verdict, dict) or verdict.get("recipe") != RECIPE_VERSION \
            or not isinstance(verdict.get("accepted"), bool) or verdict.get("tolerance") != TOLERANCE:
        return None
    if verdict["accepted"] and not (directory / INT8_MODEL).is_file():
        return None
    return verdict


def write_verdict(directory: Path, accepted: bool, min_cosine: float | None, reason: str = "") -> dict[str, Any]:
    verdict = {"recipe": RECIPE_VERSION, "tolerance": TOLERANCE, "accepted": accepted,
               "min_cosine": None if min_cosine is None else round(float(min_cosine), 6), "probes": len(PROBES)}
    if reason:
        verdict["reason"] = reason
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".int8.", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(verdict, handle, indent=2, sort_keys=True)
        os.replace(tmp, directory / VERDICT)
    except OSError:
        Path(tmp).unlink(missing_ok=True)  # a read-only cache only costs the check next time
    return verdict
