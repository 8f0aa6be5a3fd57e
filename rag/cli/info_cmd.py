"""`rag info`: what the index holds and how it was built."""

from __future__ import annotations

import argparse

from rag.cli.common import add_json_flag, index_path, print_json
from rag.config import display_path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("info", help="show what the index holds", description="Show what the index holds.")
    add_json_flag(p)
    p.set_defaults(handler=run)


def gather(index_dir: "object") -> dict[str, object]:
    from pathlib import Path

    from rag.store import database as store
    from rag.store.embedded import Index

    assert isinstance(index_dir, Path)
    with Index.open(index_dir) as index:
        m = index.manifest
        docs = store.documents(index.conn)
        files = [index_dir / m.sqlite_file, index_dir / m.faiss_file, index_dir / "manifest.json"]
        return {
            "index": str(index_dir),
            "documents": m.documents,
            "chunks": m.chunks,
            "embedder": m.embedder_id,
            "embedder_spec": m.embedder_spec,
            "dimension": m.dimension,
            "index_type": m.index_type,
            "chunk_size": m.chunk_size,
            "chunk_overlap": m.chunk_overlap,
            "size_bytes": sum(f.stat().st_size for f in files if f.exists()),
            "schema_version": m.schema_version,
            "built_at": m.built_at,
            "generation": m.generation,
            "versions": m.versions,
            "sources": [
                {"source": display_path(d.source), "title": d.title, "outlet": d.outlet, "published": d.published}
                for d in sorted(docs.values(), key=lambda d: d.source)
            ],
        }


def run(args: argparse.Namespace) -> int:
    info = gather(index_path(args))
    if args.json:
        print_json(info)
        return 0
    size = int(info["size_bytes"])  # type: ignore[arg-type]
    print(f"Index:     {info['index']} (generation {info['generation']}, schema {info['schema_version']})")
    print(f"Documents: {info['documents']}   Chunks: {info['chunks']}"
          f" ({info['chunk_size']} chars, {info['chunk_overlap']} overlap)")
    print(f"Embedder:  {info['embedder']} (dimension {info['dimension']})")
    print(f"Vectors:   FAISS {info['index_type']}   Size on disk: {size / 1024:.1f} KiB")
    print(f"Built:     {info['built_at']}")
    for s in info["sources"]:  # type: ignore[attr-defined]
        extra = ", ".join(x for x in (s["outlet"], s["published"]) if x)
        print(f"  - {s['title']}  [{s['source']}]" + (f" ({extra})" if extra else ""))
    return 0
