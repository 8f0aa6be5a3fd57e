"""`rag index recover`: publish an index's last complete generation again when manifest.json is lost.

An index directory keeps its generation files (`store-N.sqlite3`, `vectors-N.faiss`) beside
manifest.json, which only names the current one. When manifest.json is deleted or damaged,
every command refuses the directory (nothing is overwritten); this command checks the newest
complete generation (SQLite schema and integrity, chunk count equal to the FAISS vector count,
the same chunk ids on both sides) and writes manifest.json for it again. The embedder and the
chunk settings come from the generation's own copy of its manifest, or, for an index built
before those copies were kept, from the documents and from re-embedding a few stored chunks
with each candidate embedder until one reproduces their vectors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rag.cli.common import add_embedder_flag, add_json_flag, embedder_spec, index_path, print_json
from rag.config import DEFAULT_CHUNK_OVERLAP, DEFAULT_CHUNK_SIZE
from rag.errors import RagError

if TYPE_CHECKING:
    from rag.store.recovery import CheckedGeneration

#: Cosine similarity a re-embedded chunk must reach with its stored vector to name the embedder.
SAME_VECTOR = 0.999


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "index",
        help="look after the index directory (recover a lost manifest)",
        description="Look after the index directory.",
        epilog="examples:\n  rag index recover\n  rag --index ~/news-index index recover --embedder st:all-MiniLM-L6-v2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=lambda args: _help(p))
    commands = p.add_subparsers(dest="index_command", metavar="COMMAND")
    r = commands.add_parser(
        "recover",
        help="write manifest.json again for the newest complete generation, after checking it",
        description=__doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
    )
    add_embedder_flag(r)
    add_json_flag(r)
    r.set_defaults(handler=run_recover)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def identify_embedder(checked: "CheckedGeneration", requested: str | None) -> tuple[str, str, str | None]:
    """(spec, id, model sha256) of the embedder that reproduces the generation's stored vectors."""
    import numpy as np  # deferred: heavy, only for a recovery

    from embeddings import create_embedder  # deferred: may import torch
    from embeddings.errors import EmbedderError  # deferred with the embedders
    from rag.ingest.pipeline import embedding_input  # deferred: heavy, not needed for --help

    if requested and requested != "auto":
        candidates = [requested]
    else:
        candidates = [f"offline:hash-v1:{checked.dimension}", "auto"]
    tried: list[str] = []
    for spec in candidates:
        try:
            embedder = create_embedder(spec)
        except (EmbedderError, RagError) as exc:
            tried.append(f"{spec} ({exc})")
            continue
        if embedder.dimension != checked.dimension:
            tried.append(f"{embedder.id} (dimension {embedder.dimension}, the vectors have {checked.dimension})")
            continue
        if checked.samples:
            fresh = np.asarray(embedder.encode_documents([embedding_input(t, x) for t, x, _ in checked.samples]))
            stored = np.vstack([v for _, _, v in checked.samples])
            if float(np.min(np.sum(fresh * stored, axis=1))) < SAME_VECTOR:
                tried.append(f"{embedder.id} (makes other vectors)")
                continue
        elif requested is None:
            tried.append(f"{embedder.id} (an empty index cannot show which embedder made it)")
            continue
        return embedder.spec, embedder.id, getattr(embedder, "model_sha256", None)
    raise RagError(
        f"no embedder tried reproduces the vectors of generation {checked.generation}: {'; '.join(tried)};"
        " name the one it was built with: `rag index recover --embedder SPEC`"
    )


def run_recover(args: argparse.Namespace) -> int:
    from rag.store.recovery import recover_index  # deferred: numpy and FAISS, not needed for --help

    location = index_path(args)
    if not isinstance(location, Path):
        raise RagError(f"{location} is not an index directory; only a local index can be recovered")
    requested = embedder_spec(args)
    result = recover_index(location, lambda checked: identify_embedder(checked, requested),
                           default_chunking=(DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_OVERLAP))
    m = result.manifest
    if args.json:
        print_json({"index": str(location), "generation": m.generation, "documents": m.documents, "chunks": m.chunks,
                    "embedder": m.embedder_id, "chunk_size": m.chunk_size, "chunk_overlap": m.chunk_overlap,
                    "settings_from": result.settings_from,
                    "moved_aside": str(result.moved_aside) if result.moved_aside else None,
                    "passed_over": result.problems})
        return 0
    for problem in result.problems:
        print(f"Warning: passed over {problem}", file=sys.stderr)
    print(f"Recovered {location}: generation {m.generation}, {m.documents} document(s), {m.chunks} chunk(s),"
          f" embedder {m.embedder_id} (settings from {result.settings_from})"
          + (f"; the unreadable manifest was kept as {result.moved_aside.name}" if result.moved_aside else ""))
    return 0
