"""The store interface's contract (tests/store_contract.py), run on every backend."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rag.store.base import StoreBackend
from rag.store.embedded import EmbeddedBackend

from . import store_contract


def embedded(tmp_path: Path) -> StoreBackend:
    return EmbeddedBackend(tmp_path / "index")


def milvus(request: pytest.FixtureRequest) -> StoreBackend:
    """A fresh collection name on the session's real Milvus engine (skips when not installed)."""
    from rag.store.milvus import MilvusBackend

    return MilvusBackend(request.getfixturevalue("milvus_index"))


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], StoreBackend]] = {
    "embedded": lambda request, tmp_path: embedded(tmp_path),
    "milvus": lambda request, tmp_path: milvus(request),
}


@pytest.fixture(params=[pytest.param(name, marks=[pytest.mark.milvus] if name == "milvus" else []) for name in sorted(BACKENDS)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> StoreBackend:
    return BACKENDS[request.param](request, tmp_path)


@pytest.mark.parametrize("check", store_contract.CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_contract(backend: StoreBackend, check: Callable[[StoreBackend], None]) -> None:
    if check is not store_contract.check_empty_location_has_no_index:
        store_contract.check_empty_location_has_no_index(backend)
    check(backend)
