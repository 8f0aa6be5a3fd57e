"""`rag info`: what the index holds and how it was built."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rag.cli.common import add_json_flag, index_path, print_json
from rag.config import display_path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("info", help="show what the index holds", description="Show what the index holds.")
    add_json_flag(p)
    p.set_defaults(handler=run)


def gather(index: Path | str) -> dict[str, Any]:
    """The index's info with source paths shown relative to the working directory."""
    from rag.store.factory import (
        open_store,  # deferred: numpy and FAISS, not needed for --help
    )

    with open_store(index) as store:
        info = store.info()
    for source in info["sources"]:
        source["source"] = display_path(source["source"])
    return info


def run(args: argparse.Namespace) -> int:
    info = gather(index_path(args))
    if args.json:
        print_json(info)
        return 0
    size = int(info["size_bytes"])  # type: ignore[arg-type]
    where = f"generation {info['generation']}, schema {info['schema_version']}" if info["backend"] == "embedded" else info["backend"]
    print(f"Index:     {info['index']} ({where})")
    print(f"Documents: {info['documents']}   Chunks: {info['chunks']}"
          f" ({info['chunk_size']} chars, {info['chunk_overlap']} overlap)")
    print(f"Embedder:  {info['embedder']} (dimension {info['dimension']})")
    print(f"Vectors:   FAISS {info['index_type']}   Size on disk: {size / 1024:.1f} KiB")
    print(f"Built:     {info['built_at']}")
    for s in info["sources"]:  # type: ignore[attr-defined]
        extra = ", ".join(x for x in (s["outlet"], s["published"]) if x)
        print(f"  - {s['title']}  [{s['source']}]" + (f" ({extra})" if extra else ""))
    for group in info.get("syndicated", []):
        print(f"Same story in {len(group)} articles: " + ", ".join(display_path(g) for g in group))
    return 0
