"""Small helpers the command modules share."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from rag.config import DEFAULT_INDEX_DIR, index_dir


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_embedder_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--embedder",
        metavar="SPEC",
        default=None,
        help="auto (default; $RAG_EMBEDDER), offline, or st:MODEL_OR_PATH for sentence-transformers",
    )


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
