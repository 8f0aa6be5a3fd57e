"""Shared fixtures: every test gets its own index directory and never touches the network."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the index at a temp dir, forbid hub access, and use the offline embedder."""
    monkeypatch.setenv("RAG_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("RAG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("RAG_EMBEDDER", "offline")
    monkeypatch.delenv("RAG_LLM", raising=False)
    monkeypatch.delenv("RAG_LLM_BASE_URL", raising=False)


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    """A private copy of the seed articles that a test may edit."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index of the seed articles, built once and shared read-only."""
    from rag.ingest.pipeline import ingest

    directory = tmp_path_factory.mktemp("seed-index")
    ingest([SEEDS], directory, embedder_spec="offline", progress=False, warn=lambda m: None)
    return directory


@pytest.fixture(scope="session")
def milvus_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real Milvus engine (milvus-lite 2.5.1) on a free loopback port for the whole session,
    stopped by PID at the end. Skips, saying why, when the engine is not installed."""
    try:
        import pymilvus  # noqa: F401

        from rag.store.milvus_local import LocalMilvus, lite_binary

        lite_binary()
    except ImportError as exc:
        pytest.skip(f"Milvus tests need the engine: pip install -e '.[test]' ({exc})")
    server = LocalMilvus(tmp_path_factory.mktemp("milvus"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def milvus_index(milvus_server, request: pytest.FixtureRequest) -> str:  # type: ignore[no-untyped-def]
    """A fresh index name on the session's engine: one per test."""
    import re

    name = "t_" + re.sub(r"[^A-Za-z0-9_]", "_", request.node.name)[:60] + f"_{next(_COUNTER)}"
    return milvus_server.location(name)


_COUNTER = __import__("itertools").count()
