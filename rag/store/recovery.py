"""Index files without a usable manifest: found, checked, and never overwritten unchecked.

An index directory's generations are `store-<n>.sqlite3` + `vectors-<n>.faiss` (+ the
generation's own copy of its manifest, `store-<n>.manifest.json`, written before it is
published). manifest.json only names the current one, so losing it loses nothing else: the
newest complete generation can be checked (SQLite schema and integrity, chunk counts equal to
the FAISS vector count, the same ids on both sides) and published again by `rag index recover`.

Until then a directory holding generation files without a readable manifest is refused by every
command, and `rag ingest --rebuild` over it proceeds only when no generation there checks out.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from rag.errors import IndexError_
from rag.store import database
from rag.store.hints import rag_command, rebuild_hint
from rag.store.locking import writer_lock
from rag.store.manifest import (
    MANIFEST_NAME,
    Manifest,
    parse_manifest_file,
    read_manifest,
    write_manifest,
)
from rag.store.vectors import VectorIndex

_GENERATION_FILE = re.compile(r"^(store|vectors)-(\d+)\.(sqlite3|faiss|manifest\.json)$")
_FINGERPRINT_SETTINGS = re.compile(r":s(\d+):o(\d+)$")


def sqlite_name(generation: int) -> str:
    return f"store-{generation}.sqlite3"


def faiss_name(generation: int) -> str:
    return f"vectors-{generation}.faiss"


def copy_name(generation: int) -> str:
    """The generation's own copy of the manifest that published it."""
    return f"store-{generation}.manifest.json"


def generation_numbers(directory: Path) -> list[int]:
    """Every generation with at least one file here, newest first."""
    found: set[int] = set()
    try:
        names = [p.name for p in directory.iterdir()]
    except (FileNotFoundError, NotADirectoryError):
        return []
    for name in names:
        m = _GENERATION_FILE.match(name)
        if m and m.group(3) != "manifest.json":
            found.add(int(m.group(2)))
    return sorted(found, reverse=True)


def has_index_files(directory: Path) -> bool:
    return bool(generation_numbers(directory))


def never_published(directory: Path) -> bool:
    """Whether the generation files here are only what a first ingest left when it was killed
    before publishing: no manifest.json (nor one moved aside), no generation's copy of its
    manifest, and no complete generation. That is not an index to protect: the next ingest
    takes the directory over. (An index built before generations kept their copy always has a
    complete generation, so it stays protected.)"""
    if any((directory / name).exists() for name in (MANIFEST_NAME, MANIFEST_NAME + ".broken")):
        return False
    try:
        copies = any(m and m.group(3) == "manifest.json" for m in map(_GENERATION_FILE.match, os.listdir(directory)))
    except OSError:
        return False
    return not copies and not complete_generations(directory)


def complete_generations(directory: Path) -> list[int]:
    """Generations whose SQLite and FAISS files are both here, newest first."""
    return [n for n in generation_numbers(directory)
            if (directory / sqlite_name(n)).is_file() and (directory / faiss_name(n)).is_file()]


@dataclass
class CheckedGeneration:
    """A generation whose files agree with each other, and what they say about the index."""

    generation: int
    documents: int
    chunks: int
    dimension: int
    schema_version: int
    index_type: str
    #: chunk size and overlap, read from the documents' fingerprints (None when there are none).
    chunk_settings: tuple[int, int] | None
    #: the generation's copy of its manifest, when it has one that agrees with the files.
    copy: Manifest | None
    #: (title, chunk text, stored vector) of a few chunks, to tell which embedder made them.
    samples: list[tuple[str, str, np.ndarray]] = field(default_factory=list)


def check_generation(directory: Path, generation: int, *, samples: int = 3) -> CheckedGeneration:
    """Check one generation's files without changing them; IndexError_ says what is wrong."""
    import faiss  # deferred: heavy, and only needed when a generation is checked

    db_path, faiss_path = directory / sqlite_name(generation), directory / faiss_name(generation)
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise IndexError_(f"{db_path.name} cannot be opened ({exc})") from None
    try:
        try:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise IndexError_(f"{db_path.name} is damaged (SQLite quick_check failed)")
            version = database.schema_version(conn)
            if version > database.SCHEMA_VERSION:
                raise IndexError_(f"{db_path.name} was written by a newer rag (schema {version}); upgrade rag")
            if version < 1:
                raise IndexError_(f"{db_path.name} has no rag schema")
            # An older schema is fine: opening the index applies the newer, additive migrations.
            docs, chunks = database.counts(conn)
            ids = np.asarray(database.chunk_ids(conn), dtype=np.int64)
            fingerprints = [r[0] for r in conn.execute("SELECT fingerprint FROM documents")]
            rows = conn.execute(
                "SELECT c.id, d.title, c.text FROM chunks c JOIN documents d ON d.id = c.document_id"
                " ORDER BY c.id LIMIT ?", (samples,)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise IndexError_(f"{db_path.name} is not a readable rag store ({exc})") from None
    finally:
        conn.close()
    try:
        vectors = VectorIndex(faiss.read_index(str(faiss_path)), 0)
    except RuntimeError:
        raise IndexError_(f"{faiss_path.name} is corrupt") from None
    vectors.dimension = int(vectors.index.d)
    if len(vectors) != chunks:
        raise IndexError_(f"{faiss_path.name} holds {len(vectors)} vectors but {db_path.name} {chunks} chunks")
    if not np.array_equal(np.sort(vectors.ids()), ids):
        raise IndexError_(f"the chunk ids in {db_path.name} and {faiss_path.name} differ")
    settings = Counter(m.groups() for m in map(_FINGERPRINT_SETTINGS.search, fingerprints) if m)
    chunk_settings = None
    if settings:
        size, overlap = settings.most_common(1)[0][0]
        chunk_settings = (int(size), int(overlap))
    checked = CheckedGeneration(generation, docs, chunks, vectors.dimension, version, vectors.kind, chunk_settings,
                                None)
    for chunk_id, title, text in rows:
        vector = vectors.reconstruct(chunk_id)
        if vector is not None:
            checked.samples.append((title, text, vector))
    copy_path = directory / copy_name(generation)
    if copy_path.is_file():
        try:
            copy = parse_manifest_file(copy_path)
        except IndexError_:
            copy = None
        if copy is not None and (copy.generation, copy.sqlite_file, copy.faiss_file, copy.documents, copy.chunks,
                                 copy.dimension) == (
                generation, db_path.name, faiss_path.name, docs, chunks, vectors.dimension) \
                and copy.schema_version <= version:  # a reader may have migrated the store since
            checked.copy = copy
    return checked


def newest_intact(directory: Path) -> tuple[CheckedGeneration | None, list[str]]:
    """The newest complete generation whose files check out, and why each newer one did not."""
    problems = []
    for generation in complete_generations(directory):
        try:
            return check_generation(directory, generation), problems
        except IndexError_ as exc:
            problems.append(f"generation {generation}: {exc}")
    return None, problems


def manifest_state(directory: Path) -> tuple[Manifest | None, str | None]:
    """(manifest, None) when manifest.json is usable; (None, why) when it is missing or unreadable."""
    if not (directory / MANIFEST_NAME).exists():
        return None, "no manifest.json"
    try:
        return read_manifest(directory), None
    except IndexError_ as exc:
        if "newer rag" in str(exc):
            raise
        return None, str(exc).split(";", 1)[0]


@dataclass
class Recovery:
    """What `recover_index` did."""

    manifest: Manifest
    #: where an unreadable manifest.json was moved aside to (None when it was missing).
    moved_aside: Path | None
    #: why newer generations were passed over.
    problems: list[str]
    #: where the embedder and chunk settings came from: "the generation's copy of its manifest"
    #: or "the stored vectors and the documents".
    settings_from: str


def recover_index(
    directory: Path,
    identify: Callable[[CheckedGeneration], tuple[str, str, str | None]],
    *,
    default_chunking: tuple[int, int],
) -> Recovery:
    """Publish the newest complete generation that checks out again, under the writer lock.

    `identify(checked)` names the embedder that made the generation's vectors (spec, id, model
    sha256) when the generation has no copy of its manifest. A manifest.json that is usable is
    never replaced; an unreadable one is moved aside (manifest.json.broken), not deleted.
    """
    if not directory.is_dir():
        what = "a file, not an index directory" if directory.exists() else "not there"
        raise IndexError_(f"{directory} is {what}; nothing to recover")
    with writer_lock(directory):
        manifest, why = manifest_state(directory)
        if manifest is not None:
            try:
                check_generation(directory, manifest.generation)
            except IndexError_ as exc:
                raise IndexError_(
                    f"manifest.json in {directory} is readable and names generation {manifest.generation},"
                    f" whose files do not check out ({exc}); {rebuild_hint(directory)}"
                ) from None
            raise IndexError_(f"the index at {directory} is whole (generation {manifest.generation}); nothing to recover")
        if never_published(directory):
            raise IndexError_(f"{directory} never held a whole index (an ingest stopped before publishing one);"
                              f" nothing to recover: build it with {rag_command(directory, 'ingest PATH')}")
        intact, problems = newest_intact(directory)
        if intact is None:
            detail = "; ".join(problems) if problems else "no complete generation (store-N.sqlite3 + vectors-N.faiss)"
            raise IndexError_(f"nothing in {directory} can be recovered ({detail}); {rebuild_hint(directory)}")
        if intact.copy is not None:
            recovered, source = intact.copy, "the generation's copy of its manifest"
        else:
            spec, embedder_id, sha = identify(intact)
            size, overlap = intact.chunk_settings or default_chunking
            recovered = Manifest(
                generation=intact.generation,
                sqlite_file=sqlite_name(intact.generation),
                faiss_file=faiss_name(intact.generation),
                schema_version=intact.schema_version,
                embedder_spec=spec,
                embedder_id=embedder_id,
                dimension=intact.dimension,
                chunk_size=size,
                chunk_overlap=overlap,
                documents=intact.documents,
                chunks=intact.chunks,
                index_type=intact.index_type,
                built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                versions={"recovered": "rag index recover"},
                model_sha256=sha,
            )
            source = "the stored vectors and the documents"
        moved = None
        current = directory / MANIFEST_NAME
        if current.exists():
            moved = current.with_name(MANIFEST_NAME + ".broken")
            current.replace(moved)
        if intact.copy is None:
            write_manifest(directory, recovered, name=copy_name(intact.generation))
        write_manifest(directory, recovered)
    return Recovery(recovered, moved, problems, source)
