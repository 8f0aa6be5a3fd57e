"""Uploaded files: checked before anything touches the index, then copied and ingested.

A file is accepted only if its extension is on the allow-list, it is at most
`MAX_UPLOAD_BYTES`, and the loader reads article text out of it (so binary, empty, undecodable
or text-less files are refused with the loader's own reason). Accepted files are copied into
`<index>/uploads/` under a cleaned-up name (each written beside the folder first and renamed
in, so the folder never holds half a file) and that folder is ingested; the ingest publishes a
new index generation atomically, so a failure leaves the previous index as it was. An upload
never replaces another: a file whose bytes the index already holds is reported as already
indexed and not copied, and a different file under a name already taken is added under the next
free name (`story-2.txt`), which the status names. An index that is missing or unreadable refuses the upload before
anything is copied. Files an interrupted upload left in the folder are added with the next one
and reported (`rag.ui.leftovers`). A remote index (milvus://...) has no directory here: its uploads
go to $RAG_UPLOADS_DIR, else ~/.cache/rag-news/uploads/<NAME> on the machine running the UI
(the index keeps each upload's text, so only this machine needs the files).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rag.ingest.cleaning import clean_news_text
from rag.ingest.loading import Skipped, file_digest, read_document
from rag.ingest.pipeline import ingest
from rag.store.factory import is_remote, open_store
from rag.ui.errors import user_message
from rag.ui.leftovers import pending_uploads, upload_name

if TYPE_CHECKING:
    from rag.ingest.pipeline import IngestProgress
    from rag.store.base import StoredDocument

#: What the UI accepts (the loader reads all of these).
ALLOWED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
#: Per-file limit for uploads (a news article is a few KB).
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
UPLOADS_DIRNAME = "uploads"


@dataclass
class UploadResult:
    added: list[str] = field(default_factory=list)
    #: Files an earlier, interrupted upload had left in the folder, added by this one.
    recovered: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    #: (name given, name in the index) of files whose very bytes the index already holds.
    already: list[tuple[str, str]] = field(default_factory=list)
    #: Name in the uploads folder -> name given, for files added under another name than theirs.
    renamed: dict[str, str] = field(default_factory=dict)
    documents_before: int | None = None
    documents_after: int | None = None
    error: str | None = None

    def messages(self) -> list[str]:
        out = [self._added(name) for name in self.added]
        out += [f"Already in the index: {given}" + (f" (the same file as {held})" if held != given else "")
                + "; nothing changed" for given, held in self.already]
        out += [f"Added {name} (left in the uploads folder by an upload that did not finish)" for name in self.recovered]
        out += [f"Rejected {name}: {reason}" for name, reason in self.rejected]
        if self.error:
            out.append(f"Error: {self.error}")
        if self.documents_after is not None:
            out.append(f"The index now holds {self.documents_after} document(s).")
        return out or ["No files given."]

    def _added(self, name: str) -> str:
        given = self.renamed.get(name)
        if given is None:
            return f"Added {name}"
        return f"Added {given} as {name} (a different file named {given} is already in the index)"


def uploads_dir(index: Path | str) -> Path:
    """Where uploaded files are kept for the index at `index`."""
    if not is_remote(index):
        return Path(index) / UPLOADS_DIRNAME
    if os.environ.get("RAG_UPLOADS_DIR"):
        return Path(os.environ["RAG_UPLOADS_DIR"])
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(index).rstrip("/").rsplit("/", 1)[-1]) or "index"
    return Path.home() / ".cache" / "rag-news" / UPLOADS_DIRNAME / name


def safe_name(name: str) -> str:
    """A plain file name for the uploads folder: no directories, no odd characters."""
    base = Path(name.replace("\\", "/")).name
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._-")[:80] or "upload"
    suffix = re.sub(r"[^A-Za-z0-9]+", "", suffix).lower()[:10]
    return f"{stem}.{suffix}" if suffix else stem


def check_file(path: Path, name: str | None = None) -> str | None:
    """Why `path` cannot be added (None if it can): type, size, then what the loader makes of it."""
    label = name or path.name
    suffix = Path(label).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        return f"file type '{suffix or '(none)'}' is not accepted (accepted: {', '.join(ALLOWED_SUFFIXES)})"
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"cannot read the upload ({exc.strerror or exc.__class__.__name__})"
    if size == 0:
        return "the file is empty"
    if size > MAX_UPLOAD_BYTES:
        return f"too large ({size / 2**20:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 2**20} MB)"
    if suffix == ".pdf":
        with open(path, "rb") as fh:
            if not fh.read(1024).lstrip().startswith(b"%PDF-"):
                return "not a PDF file"
    # Read it the way ingest will, under the name it will have (the loader goes by suffix).
    with tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
        probe = Path(tmp) / f"probe{suffix}"
        try:
            probe.symlink_to(path.resolve())
        except OSError:
            shutil.copyfile(path, probe)
        raw = read_document(probe)
        if isinstance(raw, Skipped):
            return raw.reason
        if not clean_news_text(raw.text, title_hint=raw.title).text.strip():
            return "no article text in the file"
    return None


def add_files(
    files: Sequence[tuple[Path, str]],
    index_dir: Path | str,
    *,
    progress: Callable[[float, str], None] = lambda fraction, message: None,
) -> UploadResult:
    """Check each (path, original name), copy the good ones into <index>/uploads/, ingest them,
    together with any file an interrupted upload left there.

    The caller serialises calls (one writer per index); another process holding the index's
    writer lock makes this fail with a message and changes nothing. A failure the user can act
    on (an unreadable index, a full disk) is `result.error`, one line; a bug raises.
    """
    result = UploadResult()
    try:
        with open_store(index_dir) as store:  # missing or unreadable: refused, never created here
            result.documents_before = store.counts()[0]
            documents = store.documents()
    except Exception as exc:
        if (message := user_message(exc)) is None:
            raise
        result.error = message
        result.rejected = [(name, "not added") for _, name in files]
        return result
    uploads = uploads_dir(index_dir)
    accepted = _targets(_checked(files, result, progress), uploads, documents, result)
    names = {target for _, target in accepted}
    leftovers = [p for p in pending_uploads(uploads, documents) if upload_name(p, uploads) not in names]
    result.documents_after = result.documents_before
    if not accepted and not leftovers:
        return result
    try:
        skipped, result.documents_after = _place_and_ingest(accepted, uploads, index_dir, progress)
    except Exception as exc:
        if (message := user_message(exc)) is None:
            raise
        result.error = message
        result.rejected.extend((result.renamed.get(target, target), "not added") for _, target in accepted)
        return result
    for _, target in accepted:
        reason = skipped.get(str((uploads / target).resolve()))
        if reason is None:
            result.added.append(target)
        else:
            result.rejected.append((target, reason))
    for path in leftovers:
        reason = skipped.get(str(path))
        if reason is None:
            result.recovered.append(upload_name(path, uploads))
        else:  # kept: it is not a copy this call made, and the panel keeps showing it
            result.rejected.append((upload_name(path, uploads), f"{reason} (left in the uploads folder)"))
    progress(1.0, "Done")
    return result


def _checked(files: Sequence[tuple[Path, str]], result: UploadResult,
             progress: Callable[[float, str], None]) -> list[tuple[Path, str]]:
    """The (path, name given) of files that pass `check_file`; the others go to `result.rejected`."""
    accepted: list[tuple[Path, str]] = []
    for i, (path, name) in enumerate(files):
        progress(0.3 * i / max(1, len(files)), f"Checking {name}")
        try:
            reason = check_file(Path(path), name)
        except Exception as exc:  # e.g. no room in the temp directory for the probe
            if (reason := user_message(exc)) is None:
                raise
        if reason is not None:
            result.rejected.append((name, reason))
            continue
        accepted.append((Path(path), name))
    return accepted


def _held_digests(documents: Mapping[str, StoredDocument], uploads: Path) -> dict[str, str]:
    """File digest -> how the user knows the stored document that was read from those bytes."""
    held: dict[str, str] = {}
    for source, document in documents.items():
        path = Path(source)
        name = upload_name(path, uploads) if path.is_relative_to(uploads.resolve()) else path.name
        held.setdefault(document.fingerprint.split(":", 1)[0], name)
    return held


def _free_name(target: str, uploads: Path, taken: set[str]) -> str:
    """`target`, or `stem-2.suffix`, `stem-3.suffix`, ...: the first name neither in the folder nor taken."""
    stem, dot, suffix = target.rpartition(".")
    if not dot:
        stem, suffix = target, ""
    candidate, n = target, 1
    while candidate in taken or (uploads / candidate).exists():
        n += 1
        candidate = f"{stem}-{n}{dot}{suffix}"
    return candidate


def _targets(accepted: Sequence[tuple[Path, str]], uploads: Path, documents: Mapping[str, StoredDocument],
             result: UploadResult) -> list[tuple[Path, str]]:
    """The (path, name in the uploads folder) of each checked file the index does not hold yet.

    A file whose bytes the index holds goes to `result.already`; one named like a different
    file in the folder (or earlier in this upload) gets the next free name, noted in
    `result.renamed`; the same bytes twice in one upload are added once.
    """
    held = _held_digests(documents, uploads)
    placed: list[tuple[Path, str]] = []
    taken: dict[str, str] = {}  # name in the folder -> digest, for this upload's files
    for path, name in accepted:
        digest = file_digest(path)
        if digest in held:
            result.already.append((name, held[digest]))
            continue
        if digest in taken.values():
            result.rejected.append((name, "the same file was given twice"))
            continue
        target = safe_name(name)
        dest = uploads / target
        same = dest.is_file() and target not in taken and file_digest(dest) == digest  # left by an upload cut short
        if not same:
            target = _free_name(target, uploads, set(taken))
            if target != safe_name(name):
                result.renamed[target] = name
        taken[target] = digest
        placed.append((path, target))
    return placed


def _place_and_ingest(
    accepted: Sequence[tuple[Path, str]], uploads: Path, index_dir: Path | str,
    progress: Callable[[float, str], None],
) -> tuple[dict[str, str], int]:
    """Copy the accepted files in and ingest the folder: (skip reason by resolved path, documents).

    A file is copied beside the folder and renamed in, so the folder holds either the old or
    the new version, whole; the old one is kept until the ingest is done. Any failure puts the
    folder back as it was and raises; a file the ingest skipped is taken out (its earlier
    version put back: the index kept that one).
    """
    uploads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rag-upload-", dir=uploads.parent) as work:
        staging, backup = Path(work) / "new", Path(work) / "old"
        staging.mkdir()
        backup.mkdir()
        backups: dict[Path, Path] = {}
        placed: list[Path] = []
        try:
            for path, target in accepted:
                dest = uploads / target
                shutil.copyfile(path, staging / target)
                if dest.exists():  # the same bytes, left by an upload cut short: kept until the ingest is done
                    backups[dest] = backup / target
                    shutil.copyfile(dest, backups[dest])
                os.replace(staging / target, dest)
                placed.append(dest)
            progress(0.4, f"Indexing {len(accepted)} file(s)")
            report = ingest([uploads], index_dir, progress=False, warn=lambda message: None,
                            on_progress=ingest_progress(progress))
        except BaseException:
            _restore(placed, backups)
            raise
        skipped = {str(Path(source).resolve()): reason for source, reason in report.skipped}
        for dest in placed:
            if str(dest.resolve()) in skipped:
                _restore([dest], backups)
    return skipped, report.documents_total


def ingest_progress(progress: Callable[[float, str], None]) -> Callable[[IngestProgress], None]:
    """`ingest`'s progress as the upload's: from 0.4 to 0.95, a tenth for reading files and the
    rest for embedding chunks (where the time goes), with both counts in the description (as
    `rag ingest` shows them). The fraction never goes back (chunks found by a later file add to
    what is left to embed)."""
    shown = [0.4]

    def tell(p: IngestProgress) -> None:
        read = p.files_done / p.files_total if p.files_total else 1.0
        embedded = p.chunks_embedded / p.chunks_queued if p.chunks_queued else read
        shown[0] = max(shown[0], 0.4 + 0.55 * (0.1 * read + 0.9 * embedded))
        progress(shown[0], f"Indexing: {p.files_done}/{p.files_total} files read, "
                           f"{p.chunks_embedded}/{p.chunks_queued} chunks embedded")

    return tell


def _restore(placed: list[Path], backups: dict[Path, Path]) -> None:
    """Put the uploads folder back: new files out, replaced ones back in."""
    for dest in placed:
        if dest in backups:
            os.replace(backups[dest], dest)
        else:
            dest.unlink(missing_ok=True)
