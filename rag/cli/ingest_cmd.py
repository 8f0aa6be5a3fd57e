"""`rag ingest`: build or update the index."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from rag.cli.common import (
    add_embedder_flag,
    add_json_flag,
    embedder_spec,
    index_path,
    print_json,
)
from rag.config import DEFAULT_SEEDS_DIR
from rag.errors import RagError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "ingest",
        help="add or update articles in the index",
        description=(
            "Load .txt, .md, .html and .pdf files, clean them, chunk them, and index them. "
            "Unchanged files are skipped; changed files replace their chunks; files that were "
            "indexed from a given folder and are gone from it are removed (--prune removes every "
            "document whose file is gone)."
        ),
        epilog="examples:\n  rag ingest\n  rag ingest ~/articles/ extra.html\n  rag ingest --rebuild --embedder offline",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="*", type=Path, help=f"files or folders (default: {DEFAULT_SEEDS_DIR}/)")
    add_embedder_flag(p)
    p.add_argument("--chunk-size", type=int, default=None, help="characters per chunk (default 500)")
    p.add_argument("--chunk-overlap", type=int, default=None, help="overlap between chunks (default 100)")
    p.add_argument("--rebuild", action="store_true", help="start a new index instead of updating")
    p.add_argument("--prune", action="store_true", help="also remove documents whose files are gone")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar or warnings")
    add_json_flag(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from rag.ingest.pipeline import ingest  # deferred: heavy, not needed for --help

    paths = args.paths or [DEFAULT_SEEDS_DIR]
    if not any(p.exists() for p in paths):
        raise RagError(f"nothing to ingest: no such file or directory: {', '.join(str(p) for p in paths)}")
    report = ingest(
        paths,
        index_path(args),
        embedder_spec=embedder_spec(args),
        chunk_size=args.chunk_size,
        chunk_overlap=args.chunk_overlap,
        rebuild=args.rebuild,
        prune=args.prune,
        progress=not (args.quiet or args.json),
        warn=(lambda msg: None) if args.quiet else (lambda msg: print(f"Warning: {msg}", file=sys.stderr)),
    )
    if args.json:
        print_json(dataclasses.asdict(report))
    else:
        print(summary(report))
    return 0


def summary(r: "object") -> str:
    from rag.ingest.pipeline import (
        IngestReport,  # deferred: heavy, not needed for --help
    )

    assert isinstance(r, IngestReport)
    return (
        f"Indexed {r.files} file(s) into {r.index_dir}"
        + (f" ({len(r.skipped)} skipped)" if r.skipped else "")
        + f"\n  documents: {r.documents_new} new, {r.documents_updated} updated, {r.documents_removed} removed,"
        f" {r.documents_unchanged} unchanged ({r.documents_total} in index)"
        f"\n  chunks:    {r.chunks_new} new, {r.chunks_removed} removed, {r.chunks_unchanged} unchanged"
        f" ({r.chunks_total} in index; {r.chunks_embedded} embedded, {r.chunks_reused} reused)"
        f"\n  embedder:  {r.embedder}"
        f"\n  time:      {r.seconds:.2f} s ({r.embed_seconds:.2f} s embedding)"
    )
