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
    if not args.paths:
        _say_default_path(quiet=args.quiet)
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
        print(summary(report, warned=not args.quiet))
    return 0


def _say_default_path(*, quiet: bool) -> None:
    """With no path, ingest reads the sample articles: say so (one line), so no one indexes them
    unawares; with no seeds/ here, that is the error."""
    if not DEFAULT_SEEDS_DIR.is_dir():
        raise RagError(f"nothing to ingest: no path given and no {DEFAULT_SEEDS_DIR}/ folder here;"
                       " name the files or folders to ingest: rag ingest PATH ...")
    if not quiet:
        print(f"No path given: ingesting {DEFAULT_SEEDS_DIR}/ (the sample articles; name files or folders"
              " to ingest your own)", file=sys.stderr)


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def summary(r: "object", *, warned: bool = True) -> str:
    """What an ingest did, in words: files found and read, documents and chunks changed, totals.

    `warned`: whether the skipped files were reported as warnings (not under --quiet).
    """
    from rag.ingest.pipeline import (
        IngestReport,  # deferred: heavy, not needed for --help
    )

    assert isinstance(r, IngestReport)
    read = r.documents_new + r.documents_updated + r.documents_unchanged
    found = read + len(r.skipped)
    changed = r.documents_new + r.documents_updated + r.documents_removed
    docs = [part for count, label in ((r.documents_new, "added"), (r.documents_updated, "updated"),
                                      (r.documents_removed, "removed (file gone)"),
                                      (r.documents_unchanged, "unchanged"))
            if count for part in [f"{_n(count, 'document')} {label}"]]
    built = r.documents_new > 0 and r.documents_new == r.documents_total and not r.documents_updated
    if not found and not changed:
        head = f"No article files found; the index at {r.index_dir} is unchanged"
    elif not changed:
        head = f"The index at {r.index_dir} is up to date: " + ", ".join(docs or ["no documents"])
        if not r.published:
            head += "; nothing was written"
    else:
        head = f"{'Built' if built else 'Updated'} the index at {r.index_dir}: " + ", ".join(docs)
    files = ""
    if found:
        files = f"\n  files:     {found:,} found, {read:,} read"
        if r.skipped:
            files += f", {len(r.skipped):,} skipped" + (" (see the warnings above)" if warned else "")
    if r.documents_updated and not r.documents_new and not r.documents_removed:
        chunks = (f"the updated {'document' if r.documents_updated == 1 else 'documents'}'"
                  f" {_n(r.chunks_removed, 'chunk')} replaced by {r.chunks_new:,}")
    else:
        parts = []
        if r.chunks_new:
            parts.append(f"{r.chunks_new:,} added")
        if r.chunks_removed:
            why = [w for flag, w in ((r.documents_updated, "old versions of updated documents"),
                                     (r.documents_removed, "documents whose file is gone")) if flag]
            parts.append(f"{r.chunks_removed:,} removed" + (f" ({' and '.join(why)})" if why else ""))
        chunks = ", ".join(parts) or "none changed"
    if r.chunks_new:
        chunks += f" ({r.chunks_embedded:,} embedded"
        chunks += f", {r.chunks_reused:,} with unchanged text kept their vectors)" if r.chunks_reused else ")"
    return (
        head
        + files
        + f"\n  chunks:    {chunks}; the index holds {_n(r.chunks_total, 'chunk')}"
        f" of {_n(r.documents_total, 'document')}"
        f"\n  embedder:  {r.embedder}"
        f"\n  time:      {r.seconds:.2f} s ({r.embed_seconds:.2f} s embedding)"
    )
