"""Small helpers the command modules share."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from rag.config import DEFAULT_INDEX_DIR, index_dir
from rag.errors import RagError
from rag.store.filters import DocumentFilter, iso_prefix


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_embedder_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--embedder",
        metavar="SPEC",
        default=None,
        help="auto (default; $RAG_EMBEDDER: the packaged all-MiniLM-L6-v2 through onnxruntime), offline,"
        " st:MODEL_OR_PATH (sentence-transformers on torch) or onnx:MODEL_OR_PATH",
    )


def add_reader_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reader",
        metavar="PATH_OR_NAME",
        default=None,
        help="the model that finds the answer and decides to abstain: default (the reader trained here,"
        " $RAG_READER), off (the hand-written rules), an ONNX reader folder, or a transformers extractive QA"
        " model (directory or hub name, e.g. deepset/minilm-uncased-squad2)",
    )


def reader_spec(args: argparse.Namespace) -> str | None:
    """--reader, else None (then RAG_READER or the shipped reader)."""
    return getattr(args, "reader", None) or None


def embedder_spec(args: argparse.Namespace) -> str | None:
    return getattr(args, "embedder", None) or os.environ.get("RAG_EMBEDDER") or None


def index_path(args: argparse.Namespace) -> Path | str:
    return index_dir(args.index)


def index_named(args: argparse.Namespace) -> bool:
    """Did the user name the index location (--index, RAG_INDEX) rather than take the default?"""
    return bool(getattr(args, "index", None) or os.environ.get("RAG_INDEX")) and index_path(args) != DEFAULT_INDEX_DIR


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def llm_spec(args: argparse.Namespace) -> str | None:
    """--llm (or RAG_LLM), with --llm-base-url (or RAG_LLM_BASE_URL) appended as @URL."""
    llm = getattr(args, "llm", None) or os.environ.get("RAG_LLM") or None
    base_url = getattr(args, "llm_base_url", None) or os.environ.get("RAG_LLM_BASE_URL")
    return f"{llm}@{base_url}" if llm and base_url else llm


def add_filter_flags(parser: argparse.ArgumentParser) -> None:
    """--since/--until/--outlet/--source: which articles a question may draw on."""
    group = parser.add_argument_group("filters (applied inside retrieval)")
    group.add_argument("--since", metavar="DATE", help="only articles published on or after DATE (2016, 2016-03, 2016-03-03)")
    group.add_argument("--until", metavar="DATE", help="only articles published on or before DATE")
    group.add_argument("--outlet", metavar="NAME", action="append", default=[], help="only articles from this outlet (repeatable)")
    group.add_argument("--source", metavar="GLOB", action="append", default=[],
                       help="only articles whose file matches this glob, e.g. 'bbc/*' (repeatable)")


def document_filter(args: argparse.Namespace) -> DocumentFilter | None:
    """The filter the flags ask for, or None when no flag is given; bad dates are one-line errors."""
    where = DocumentFilter(
        since=iso_prefix(args.since, "--since") if getattr(args, "since", None) else None,
        until=iso_prefix(args.until, "--until") if getattr(args, "until", None) else None,
        outlets=tuple(o.strip() for o in getattr(args, "outlet", None) or () if o.strip()),
        sources=tuple(g.strip() for g in getattr(args, "source", None) or () if g.strip()),
    )
    if where.since and where.until and where.since[: len(where.until)] > where.until:
        raise RagError(f"--since {where.since} is after --until {where.until}")
    return where or None
