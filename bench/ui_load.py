"""Load on the web UI's API: concurrent gradio_client users asking the seed questions.

Builds an index of seeds/ in a temp dir (offline embedder unless --embedder), serves the app
on a free loopback port in a separate process (so the clients do not share its interpreter),
and has --users clients (threads, one gradio_client.Client each) ask --questions questions
each, round-robin over the seed questions. Prints the error count and the latency percentiles
of one request as a client sees it (queueing included), after a one-user baseline.

    .venv/bin/python bench/ui_load.py [--users 20] [--questions 10] [--embedder offline]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "How many children were sexually abused in Rotherham?",
    "Who is the chief inspector of schools?",
    "What did the LGA call for?",
    "How many children were abused in Oxford?",
    "Who wrote to Sir Tom Winsor?",
    "What did Sir Michael Wilshaw say about police forces?",
    "What did the MPs' report conclude about the local authority?",
    "Which watchdog inspects schools and children's services?",
    "When was the Rotherham report published?",
    "What is the capital of Peru?",  # unanswerable: exercises abstention
]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))  # nearest rank
    return ordered[rank]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def serve(index: Path, port: int, embedder: str) -> None:
    """The server process: the app on 127.0.0.1:port until killed."""
    from rag.ui.app import build_app, launch_app

    launch_app(build_app(index, embedder_spec=embedder), port=port, quiet=True)


def wait_until_up(url: str, server: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url + "config", timeout=2):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server did not answer on {url} within {timeout:.0f} s")


def run_users(url: str, users: int, questions: int) -> tuple[list[float], list[str], int, float]:
    """`users` concurrent clients, `questions` each; (latencies ms, errors, abstentions, wall s)."""
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    abstained = 0
    lock = threading.Lock()
    clients = [Client(url, verbose=False) for _ in range(users)]
    start_line = threading.Barrier(users)

    def user(number: int) -> None:
        nonlocal abstained
        start_line.wait()
        for i in range(questions):
            question = QUESTIONS[(number + i) % len(QUESTIONS)]
            t = time.perf_counter()
            try:
                result = clients[number].predict(question, api_name="/ask")
                ok = isinstance(result, dict) and result.get("question") == question
            except Exception as exc:  # noqa: BLE001 - counted, not fatal
                ok, result = False, exc
            elapsed = (time.perf_counter() - t) * 1000
            with lock:
                if ok:
                    latencies.append(elapsed)
                    abstained += bool(result["abstained"])  # type: ignore[index]
                else:
                    errors.append(f"{question}: {result}")

    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, abstained, time.perf_counter() - started


def report(label: str, users: int, questions: int, result: tuple[list[float], list[str], int, float]) -> None:
    latencies, errors, abstained, wall = result
    print(f"{label}: {users} user(s) x {questions} questions = {users * questions} requests in {wall:.1f} s"
          f" ({len(latencies) / wall:.1f} answers/s)")
    print(f"  errors: {len(errors)}")
    for line in errors[:5]:
        print(f"    {line}")
    if latencies:
        print(f"  latency ms: p50 {percentile(latencies, 50):.0f}  p95 {percentile(latencies, 95):.0f}"
              f"  max {max(latencies):.0f}  mean {statistics.fmean(latencies):.0f}"
              f"  (abstained {abstained} of {len(latencies)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--questions", type=int, default=10, help="questions per user")
    parser.add_argument("--embedder", default="offline")
    parser.add_argument("--serve", nargs=2, metavar=("INDEX", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]), args.embedder)
        return 0

    from rag.ingest.pipeline import ingest

    with tempfile.TemporaryDirectory(prefix="rag-ui-load-") as tmp:
        index = Path(tmp) / "index"
        ingest([REPO / "seeds"], index, embedder_spec=args.embedder, progress=False, warn=lambda m: None)
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        server = subprocess.Popen([sys.executable, __file__, "--embedder", args.embedder,
                                   "--serve", str(index), str(port)], cwd=REPO)
        try:
            wait_until_up(url, server)
            report("warm-up", 1, len(QUESTIONS), run_users(url, 1, len(QUESTIONS)))
            print(f"server: {url} (separate process), embedder {args.embedder}")
            cpu_before = process_cpu_seconds(server.pid)
            result = run_users(url, args.users, args.questions)
            cpu = process_cpu_seconds(server.pid) - cpu_before
            report("load", args.users, args.questions, result)
            if cpu == cpu:  # not NaN
                print(f"  server CPU: {cpu:.1f} s in all, {cpu * 1000 / max(1, len(result[0])):.0f} ms per answer;"
                      f" this machine has {os.cpu_count()} CPU(s), shared with the clients")
        finally:
            server.terminate()
            server.wait(timeout=30)
    return 1 if result[1] else 0


if __name__ == "__main__":
    sys.exit(main())
