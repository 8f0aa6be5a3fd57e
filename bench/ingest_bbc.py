"""Ingest a real news archive: this project's `rag ingest` against the LangChain peer, in one run.

Each contender runs in a fresh subprocess, one after the other; wall time and peak memory
(the child's own max RSS, from os.wait4) are measured from outside. The load average is printed
beside every figure: timings taken while something else runs are not comparable.

  - project: `rag --index TMP ingest ARCHIVE --json` with the default embedder (all-MiniLM-L6-v2
    through onnxruntime, int8; the ONNX export is made once per machine and is not timed here).
    Its JSON report gives the chunks and the seconds by stage.
  - two-pass: the same with RAG_POOLED_SENTENCES=0 (each sentence encoded alone, a second pass).
  - before: an older checkout's `rag ingest` (--before-root), for the before/after figure.
  - peer: what a user would build instead with LangChain: RecursiveCharacterTextSplitter(1000,
    200), all-MiniLM-L6-v2 through sentence-transformers (HuggingFaceEmbeddings on the packaged
    model directory), FAISS.from_documents.
  - big: one 30 MB text file (the archive's paragraphs, numbered, repeated until 30 MB)
    through the project's `rag ingest`.

    .venv/bin/python bench/ingest_bbc.py [ARCHIVE] [--runs project,two-pass,before,peer,big] [--limit N]
                                         [--project-root DIR] [--before-root DIR] [--big-mb 30] [--out FILE.md]

ARCHIVE defaults to ../shared/corpora/bbc. --limit N ingests the first N files only (a quick
check); --project-root runs another checkout's `rag` (a before/after comparison). The peer needs
the `bench` extra (langchain-community, langchain-text-splitters).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_ARCHIVE = REPO.parent / "shared" / "corpora" / "bbc"

PEER = r"""
import json, sys, time
from pathlib import Path
started = time.perf_counter()
from langchain_community.embeddings import HuggingFaceEmbeddings
from langchain_community.vectorstores import FAISS
from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter
from embeddings.models import packaged_model_dir

files = [Path(p) for p in sys.argv[1:]]
docs = [Document(page_content=p.read_text(encoding="utf-8", errors="replace"), metadata={"source": str(p)})
        for p in files]
chunks = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
split = time.perf_counter()
embedder = HuggingFaceEmbeddings(model_name=str(packaged_model_dir()), model_kwargs={"device": "cpu"},
                                 encode_kwargs={"normalize_embeddings": True})
store = FAISS.from_documents(chunks, embedder)
print(json.dumps({"chunks": len(chunks), "documents": len(docs), "seconds": time.perf_counter() - started,
                  "split_seconds": split - started, "vectors": store.index.ntotal}))
"""


@dataclass
class Result:
    name: str
    wall: float
    peak_mb: float
    chunks: int | None
    load_before: float
    load_after: float
    detail: dict[str, object] = field(default_factory=dict)
    ok: bool = True


def load() -> float:
    return os.getloadavg()[0]


def measure(name: str, argv: list[str], env: dict[str, str], cwd: Path = REPO) -> tuple[Result, str]:
    """Run argv in a fresh process; its wall time and its own peak RSS (os.wait4)."""
    before = load()
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    result = Result(name, wall, usage.ru_maxrss / 1024, None, before, load(), ok=proc.returncode == 0)
    if not result.ok:
        print(f"{name} failed (exit {proc.returncode}):\n{stderr[-2000:]}", file=sys.stderr)
    return result, stdout


def project(name: str, paths: list[Path], root: Path, env: dict[str, str], work: Path) -> Result:
    index = work / f"index-{name}"
    shutil.rmtree(index, ignore_errors=True)
    child_env = {**env, "PYTHONPATH": str(root)}
    argv = [sys.executable, "-m", "rag", "--index", str(index), "ingest", *map(str, paths), "--json"]
    result, stdout = measure(name, argv, child_env, cwd=root)  # `-m` puts the working directory first
    if result.ok:
        report = json.loads(stdout)
        result.chunks = report["chunks_total"]
        result.detail = {k: report.get(k) for k in ("documents_total", "chunks_total", "sentences_embedded",
                                                     "seconds", "embed_seconds", "timings", "embedder")}
    shutil.rmtree(index, ignore_errors=True)
    return result


def peer(files: list[Path], env: dict[str, str]) -> Result:
    result, stdout = measure("peer (LangChain)", [sys.executable, "-c", PEER, *map(str, files)],
                             {**env, "PYTHONPATH": str(REPO)})
    if result.ok:
        report = json.loads(stdout.strip().splitlines()[-1])
        result.chunks = report["chunks"]
        result.detail = report
    return result


def big_file(archive_files: list[Path], megabytes: int, folder: Path) -> Path:
    """One text file of `megabytes` MB: the archive's paragraphs one after another, each with a
    running number in front (the cleaner drops a paragraph it has seen before, so plain repeats
    of a 5 MB archive would not make a 30 MB article)."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"archive-{megabytes}mb.txt"
    paragraphs = [line.strip() for p in archive_files
                  for line in p.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    written, i = 0, 0
    with open(target, "w", encoding="utf-8") as out:
        while written < megabytes * 2**20:
            piece = f"{i}. {paragraphs[i % len(paragraphs)]}\n\n"
            out.write(piece)
            written += len(piece.encode("utf-8"))
            i += 1
    return target


def archive_files(archive: Path, limit: int | None) -> list[Path]:
    files = sorted(p for p in archive.rglob("*.txt") if p.name != "README.TXT" and p.parent != archive)
    return files[:limit] if limit else files


def table(results: list[Result]) -> str:
    rows = ["| run | wall s | peak MB | chunks | load before / after |", "|---|---|---|---|---|"]
    for r in results:
        chunks = f"{r.chunks:,}" if r.chunks is not None else "-"
        status = "" if r.ok else " (failed)"
        rows.append(f"| {r.name}{status} | {r.wall:.1f} | {r.peak_mb:,.0f} | {chunks} |"
                    f" {r.load_before:.2f} / {r.load_after:.2f} |")
    return "\n".join(rows)


def stages(result: Result) -> str:
    timings = result.detail.get("timings") or {}
    if not isinstance(timings, dict) or not timings:
        return ""
    parts = ", ".join(f"{k} {v:.1f}" for k, v in sorted(timings.items(), key=lambda kv: -kv[1]))
    return f"{result.name} seconds by stage: {parts}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("archive", nargs="?", type=Path, default=DEFAULT_ARCHIVE)
    parser.add_argument("--runs", default="project,peer,big", help="any of project, two-pass, before, peer, big (comma-separated)")
    parser.add_argument("--limit", type=int, default=None, help="only the first N files of the archive")
    parser.add_argument("--project-root", type=Path, default=REPO, help="the checkout whose `rag` runs")
    parser.add_argument("--before-root", type=Path, default=None,
                        help="an older checkout, run as `before` (side by side with today's)")
    parser.add_argument("--big-mb", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None, help="also write the table here (markdown)")
    args = parser.parse_args()
    if not args.archive.is_dir():
        raise SystemExit(f"no archive at {args.archive}")
    runs = [r.strip() for r in args.runs.split(",") if r.strip()]
    files = archive_files(args.archive, args.limit)
    env = {**os.environ, "RAG_READER": "off", "TOKENIZERS_PARALLELISM": "false"}
    env.pop("RAG_INDEX", None)
    print(f"{len(files):,} files from {args.archive}; {os.cpu_count()} CPUs; load {load():.2f}", flush=True)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        work = Path(tmp)
        source = args.archive
        if args.limit:
            source = work / "archive"
            for path in files:
                target = source / path.relative_to(args.archive)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
        for run in runs:
            if run == "project":
                results.append(project("project (rag ingest)", [source], args.project_root, env, work))
            elif run == "two-pass":  # each sentence encoded alone in a second pass (no pooling)
                results.append(project("project, RAG_POOLED_SENTENCES=0", [source], args.project_root,
                                       {**env, "RAG_POOLED_SENTENCES": "0"}, work))
            elif run == "before":
                if args.before_root is None:
                    raise SystemExit("--runs before needs --before-root (an older checkout)")
                results.append(project("project before (--before-root)", [source], args.before_root, env, work))
            elif run == "peer":
                results.append(peer(files, env))
            elif run == "big":
                big = big_file(files, args.big_mb, work / "big")
                results.append(project(f"project, one {args.big_mb} MB file", [big], args.project_root, env, work))
            else:
                raise SystemExit(f"unknown run '{run}' (project, two-pass, before, peer, big)")
            print(table(results[-1:]).splitlines()[-1], flush=True)
    text = table(results)
    notes = [line for line in (stages(r) for r in results) if line]
    print()
    print(text)
    for line in notes:
        print(line)
    if args.out:
        args.out.write_text(text + "\n\n" + "\n".join(notes) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
