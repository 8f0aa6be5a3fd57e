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

    from rag.answer.span_reader import reader_summary  # deferred: numpy, not needed for --help

    with open_store(index) as store:
        info = store.info()
    info["reader"] = reader_summary()
    for source in info["sources"]:
        source["source"] = display_path(source["source"])
    return info


def run(args: argparse.Namespace) -> int:
    info = gather(index_path(args))
    if args.json:
        print_json(info)
        return 0
    if info["backend"] == "milvus":
        print(f"Index:     {info['index']} (milvus, schema {info.get('schema_version')},"
              f" generation {info.get('generation')})")
        print(f"Server:    {info.get('uri')}   Collection: {info.get('collection')}"
              f"   consistency {info.get('consistency')}")
    else:
        print(f"Index:     {info['index']} (generation {info.get('generation')}, schema {info.get('schema_version')})")
    print(f"Documents: {info['documents']}   Chunks: {info['chunks']}"
          f" ({info['chunk_size']} chars, {info['chunk_overlap']} overlap)")
    sha = f", model sha256 {info['model_sha256']}" if info.get("model_sha256") else ""
    print(f"Embedder:  {info['embedder']} (dimension {info['dimension']}{sha})")
    reader = info["reader"]
    print(f"Reader:    {reader['name']}" + (f" (model sha256 {reader['sha256']})" if reader.get("sha256") else ""))
    if info["backend"] == "milvus":
        print(f"Vectors:   Milvus {info.get('index_type')}   BM25: Milvus (english analyzer)")
    else:
        size = int(info.get("size_bytes") or 0)
        print(f"Vectors:   FAISS {info.get('index_type')}   Size on disk: {size / 1024:.1f} KiB")
    print(f"Built:     {info.get('built_at')}")
    for s in info["sources"]:  # type: ignore[attr-defined]
        extra = ", ".join(x for x in (s["outlet"], s["published"]) if x)
        print(f"  - {s['title']}  [{s['source']}]" + (f" ({extra})" if extra else ""))
    for group in info.get("syndicated", []):
        print(f"Same story in {len(group)} articles: " + ", ".join(display_path(g) for g in group))
    return 0
