"""Where the seconds of a cold `rag ask` go: each row is timed in fresh Python processes.

Stages are timed inside a child process (each row adds to the ones above it in the same
child), and whole processes are timed from outside, wall clock, start to exit, with their
CPU seconds. Figures are medians of --repeat runs; "best" is the least wall time, the one
other load on a shared machine skews least. "Cold" means a new interpreter; the files are in the page
cache (run it twice if the disk itself is cold). The ONNX export is built first if missing
(in the user cache dir, or --cache-dir), and is not part of any timing.

    .venv/bin/python bench/cold_start.py [--repeat 5] [--cache-dir DIR] [--no-rag]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUESTION = "How many children were sexually abused in Rotherham?"

TORCH_STAGES = r"""
import json, sys, time
t = [time.perf_counter()]
import torch; t.append(time.perf_counter())
import transformers; t.append(time.perf_counter())
import sentence_transformers; t.append(time.perf_counter())
from embeddings.sentence_transformers_backend import SentenceTransformerEmbedder
e = SentenceTransformerEmbedder(); t.append(time.perf_counter())
e.encode_query(sys.argv[1]); t.append(time.perf_counter())
print(json.dumps([b - a for a, b in zip(t, t[1:])]))
"""
TORCH_ROWS = ["import torch", "import transformers", "import sentence_transformers",
              "load the model (packaged, sha256 stamp)", "first query encode"]

ONNX_STAGES = r"""
import json, sys, time
t = [time.perf_counter()]
import numpy; t.append(time.perf_counter())
import tokenizers; t.append(time.perf_counter())
import onnxruntime; t.append(time.perf_counter())
import embeddings
from embeddings.models import locate_default_model
location = locate_default_model(); t.append(time.perf_counter())
from embeddings.onnx_backend import OnnxEmbedder
e = OnnxEmbedder(location); t.append(time.perf_counter())
e.encode_query(sys.argv[1]); t.append(time.perf_counter())
print(json.dumps([b - a for a, b in zip(t, t[1:])]))
"""
ONNX_ROWS = ["import numpy", "import tokenizers", "import onnxruntime",
             "import embeddings + locate model (sha256 stamp)", "OnnxEmbedder (digest, tokenizer, session)",
             "first query encode"]

FAST_PROCESS = ("import embeddings, sys; e = embeddings.create_embedder('auto');"
                " e.encode_query(sys.argv[1]); assert 'torch' not in sys.modules")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args: list[str], env: dict[str, str], cpu: list[float] | None = None) -> tuple[float, str]:
    """Wall seconds and stdout of one process; its CPU seconds (user + sys) appended to `cpu`."""
    cpu_before, started = _children_cpu(), time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=REPO)
    elapsed = time.perf_counter() - started
    if cpu is not None:
        cpu.append(_children_cpu() - cpu_before)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:3])} failed:\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def median_stages(code: str, env: dict[str, str], repeat: int) -> tuple[list[float], float]:
    runs, walls = [], []
    for _ in range(repeat):
        wall, out = run([sys.executable, "-c", code, QUESTION], env)
        runs.append(json.loads(out.strip().splitlines()[-1]))
        walls.append(wall)
    return [statistics.median(col) for col in zip(*runs)], statistics.median(walls)


def median_wall(args: list[str], env: dict[str, str], repeat: int) -> tuple[float, float, float]:
    """Median wall seconds, median CPU seconds and the best (least) wall seconds of `repeat` runs."""
    cpu: list[float] = []
    walls = [run(args, env, cpu)[0] for _ in range(repeat)]
    return statistics.median(walls), statistics.median(cpu), min(walls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cache-dir", help="RAG_CACHE_DIR for the run (default: the user cache dir)")
    parser.add_argument("--no-rag", action="store_true", help="skip the whole `rag ask` process")
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    env.pop("RAG_EMBEDDER", None)
    if args.cache_dir:
        env["RAG_CACHE_DIR"] = args.cache_dir
    # Build the ONNX export (and the sha256 stamp) once, outside the timings.
    run([sys.executable, "-c", "import embeddings; print(embeddings.create_embedder('auto'))"], env)

    print(f"(load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; other processes on the machine skew every figure)\n")
    print(f"Cold start, median of {args.repeat} fresh processes ({os.cpu_count()} CPUs, python {sys.version.split()[0]})\n")
    print("| path | stage | seconds |")
    print("|---|---|---|")
    torch_stages, torch_wall = median_stages(TORCH_STAGES, env, args.repeat)
    for name, s in zip(TORCH_ROWS, torch_stages):
        print(f"| torch (st:) | {name} | {s:.3f} |")
    print(f"| torch (st:) | **whole process** | **{torch_wall:.3f}** |")
    onnx_stages, onnx_wall = median_stages(ONNX_STAGES, env, args.repeat)
    for name, s in zip(ONNX_ROWS, onnx_stages):
        print(f"| onnx (auto) | {name} | {s:.3f} |")
    print(f"| onnx (auto) | **whole process** | **{onnx_wall:.3f}** |")

    print("\n| whole process | wall s | best wall s | CPU s (user+sys) |")
    print("|---|---|---|---|")
    rows = [("`python -c pass`", [sys.executable, "-c", "pass"]),
            ("`python -c 'import sentence_transformers'`", [sys.executable, "-c", "import sentence_transformers"]),
            ("create_embedder('auto') + one encode_query (no torch)", [sys.executable, "-c", FAST_PROCESS, QUESTION])]
    figures = {}
    for name, command in rows:
        figures[name] = median_wall(command, env, args.repeat)
        print(f"| {name} | {figures[name][0]:.3f} | {figures[name][2]:.3f} | {figures[name][1]:.3f} |")
    if not args.no_rag:
        with tempfile.TemporaryDirectory() as tmp:
            index = str(Path(tmp) / "index")
            run([sys.executable, "-m", "rag", "--index", index, "ingest", str(REPO / "seeds"), "-q"], env)
            wall, cpu, best = median_wall([sys.executable, "-m", "rag", "--index", index, "ask", QUESTION], env, args.repeat)
            spec = json.loads((Path(index) / "manifest.json").read_text(encoding="utf-8"))["embedder_spec"]
        print(f"| `rag ask` (seed index, embedder spec {spec}) | {wall:.3f} | {best:.3f} | {cpu:.3f} |")
    fast, st_import = figures[rows[2][0]], figures[rows[1][0]]
    print(f"\nfast embedder process / import sentence_transformers: wall {fast[0] / st_import[0]:.2f}, CPU {fast[1] / st_import[1]:.2f}")
    print(f"(load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())})")

if __name__ == "__main__":
    main()
