"""The reader's cost, on and off, side by side in one run (whole processes, as a user runs them).

- warm: `rag ask --questions FILE --json` over the seed questions; per-question `timings_ms.total`
  (p50 / p95), the first question left out (it pays for loading);
- cold: `rag ask "QUESTION"` as a whole new process, wall clock start to exit (median of --repeat).

    .venv/bin/python bench/reader_latency.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RAG = str(Path(sys.executable).with_name("rag"))
QUESTION = "How many children were sexually abused in Rotherham?"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--questions", type=Path, default=REPO / "eval" / "seed_questions.jsonl")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RAG_INDEX": str(Path(tmp) / "index")}
        subprocess.run([RAG, "ingest", str(REPO / "seeds"), "--json"], env=env, check=True, capture_output=True)
        questions = Path(tmp) / "questions.txt"
        questions.write_text("\n".join(json.loads(line)["question"]
                                       for line in args.questions.read_text().splitlines() if line.strip()) + "\n")
        print(f"load average {os.getloadavg()[0]:.2f} at start")
        print("| reader | warm p50 ms | warm p95 ms | cold `rag ask` median s | cold best s |")
        print("|---|---|---|---|---|")
        for reader in ("default", "off"):
            out = subprocess.run([RAG, "ask", "--questions", str(questions), "--json", "--reader", reader],
                                 env=env, check=True, capture_output=True, text=True).stdout
            totals = sorted(json.loads(line)["timings_ms"]["total"] for line in out.splitlines()[1:] if line.strip())
            cold = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                subprocess.run([RAG, "ask", QUESTION, "--reader", reader], env=env, check=True, capture_output=True)
                cold.append(time.perf_counter() - t)
            print(f"| {reader} | {totals[len(totals) // 2]:.1f} | {totals[int(len(totals) * 0.95)]:.1f} |"
                  f" {statistics.median(cold):.2f} | {min(cold):.2f} |", flush=True)
        print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
