"""Find article files and read each into text, whatever its format or encoding.

A file that cannot be read (binary, empty, undecodable, too large, a symlink loop) is
reported as a `Skipped` with a one-line reason; ingest warns and carries on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.config import MAX_FILE_BYTES, SUPPORTED_SUFFIXES
from rag.ingest.metadata import ArticleMeta, from_html


@dataclass(frozen=True)
class RawDocument:
    """A file's text before cleaning, with what its format told us about it."""

    path: Path
    text: str
    digest: str
    title: str | None = None
    outlet: str | None = None
    published: str | None = None
    #: What the parser library said while reading it (pypdf's "EOF marker not found"...), for one
    #: warning line per file; never printed by the library itself.
    notes: tuple[str, ...] = ()
    #: What the page's markup says about the article (HTML only; see rag.ingest.metadata).
    meta: ArticleMeta | None = None


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


#: Libraries that log warnings while parsing a malformed file. Their records are collected per
#: reading thread and become the file's `notes` (or part of its skip reason), so the user sees one
#: `Warning:` line per file instead of the libraries' bare lines on stderr.
_CHATTY_LOGGERS = ("pypdf", "trafilatura", "htmldate", "courlan", "justext")
_capture = threading.local()


class _LibraryLog(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        notes = getattr(_capture, "notes", None)
        if notes is None:
            return  # outside read_document: dropped here, still passed to the root's handlers if any
        try:
            message = " ".join(record.getMessage().split())
        except Exception:  # noqa: BLE001 - a malformed log call must not break reading
            message = str(record.msg)
        library = record.name.split(".", 1)[0]
        note = f"{library}: {message[:80]}" + ("..." if len(message) > 80 else "")
        if message and note not in notes and len(notes) < 3:
            notes.append(note)


_HANDLER = _LibraryLog(level=logging.WARNING)
for _name in _CHATTY_LOGGERS:
    # Having a handler on the library's logger keeps logging's last-resort printer off it.
    logging.getLogger(_name).addHandler(_HANDLER)


@contextmanager
def _library_notes() -> Iterator[list[str]]:
    """Collect what the parser libraries log in this thread while the block runs."""
    outer = getattr(_capture, "notes", None)
    notes: list[str] = []
    _capture.notes = notes
    try:
        yield notes
    finally:
        _capture.notes = outer


def discover(paths: Iterable[Path]) -> Iterator[Path | Skipped]:
    """Supported files under `paths`, each real file once, in a stable order."""
    seen: set[Path] = set()
    for root in paths:
        try:
            real_root = root.resolve(strict=True)
        except FileNotFoundError:
            yield Skipped(root, "no such file or directory")
            continue
        except (RuntimeError, OSError) as exc:  # symlink loop, permission
            yield Skipped(root, f"cannot resolve path ({exc.__class__.__name__})")
            continue
        if real_root.is_file():
            candidates: Iterable[Path] = [root]
        else:
            candidates = _walk(root)
        for path in candidates:
            try:
                real = path.resolve(strict=True)
            except (RuntimeError, OSError):
                yield Skipped(path, "broken symlink or symlink loop")
                continue
            if real in seen:
                continue
            seen.add(real)
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                if real_root.is_file():
                    yield Skipped(path, f"unsupported file type '{path.suffix or '(none)'}' (supported: {', '.join(SUPPORTED_SUFFIXES)})")
                continue
            if not _utf8_name(real):
                # The index stores sources as text: a name with undecodable bytes cannot be one.
                yield Skipped(path, "its name is not valid UTF-8; rename the file to index it")
                continue
            yield real


def _utf8_name(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as lone surrogates
        return False
    return True


def _walk(root: Path) -> Iterator[Path]:
    # followlinks=False: a symlinked directory loop cannot make the walk endless.
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def file_digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_document(path: Path) -> RawDocument | Skipped:
    """Read one file into text; never raises for a bad file."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return Skipped(path, f"unreadable ({exc.strerror or exc.__class__.__name__})")
    if size == 0:
        return Skipped(path, "empty file")
    if size > MAX_FILE_BYTES:
        return Skipped(path, f"too large ({size / 2**20:.0f} MiB; limit {MAX_FILE_BYTES // 2**20} MiB)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Skipped(path, f"unreadable ({exc.strerror or exc.__class__.__name__})")
    digest = hashlib.blake2b(data, digest_size=16).hexdigest()
    with _library_notes() as notes:
        result = _read(path, data, digest)
    if not notes:
        return result
    if isinstance(result, Skipped):
        said = [n for n in notes if n.split(": ", 1)[-1] not in result.reason]
        return Skipped(result.path, "; ".join([result.reason, *said]))
    return dataclasses.replace(result, notes=tuple(notes))


def _read(path: Path, data: bytes, digest: str) -> RawDocument | Skipped:
    suffix = path.suffix.lower()
    try:
        if suffix == ".pdf":
            return _read_pdf(path, data, digest)
        text = decode_text(data)
        if text is None:
            return Skipped(path, "binary or undecodable content")
        if suffix in (".html", ".htm"):
            return _read_html(path, text, digest)
        if suffix in (".md", ".markdown"):
            return _read_markdown(path, text, digest)
        return RawDocument(path, text, digest)
    except Exception as exc:  # a parser library failing on a malformed file
        detail = " ".join(str(exc).split())[:80]
        return Skipped(path, f"could not parse ({exc.__class__.__name__}: {detail})")


def decode_text(data: bytes) -> str | None:
    """UTF-8 (with or without BOM) when it is; otherwise the detected encoding; None for binary."""
    head = data[:8192]
    if b"\x00" in head and not (head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff")):
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        return None
    text = str(best)
    # Control characters other than whitespace mean this was not text after all.
    controls = sum(1 for ch in text[:10000] if ord(ch) < 32 and ch not in "\n\r\t\f")
    return None if controls > 10 else text


def _read_html(path: Path, html: str, digest: str) -> RawDocument | Skipped:
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=False, favor_precision=True)
    if not text or not text.strip():
        return Skipped(path, "no article text found in the HTML")
    meta = from_html(html)
    return RawDocument(path, text, digest, title=meta.headline, outlet=meta.outlet, published=meta.published, meta=meta)


def _read_markdown(path: Path, text: str, digest: str) -> RawDocument:
    m = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
    # Drop heading marks and emphasis markers; the words are what we search and quote.
    plain = re.sub(r"^#{1,6}\s+", "", text, flags=re.MULTILINE)
    return RawDocument(path, plain, digest, title=m.group(1).strip() if m else None)


#: A PDF's page content may decompress to at most this much per stream and per document, and it
#: may have at most this many pages: a news article's pages are tens of kilobytes each, while a
#: compression bomb (a FlateDecode stream of a few MB that expands to GBs) would otherwise hold
#: the ingest for minutes and gigabytes (20 pages x 70 MB: 4 minutes, 1.5 GB before this limit).
PDF_MAX_STREAM_BYTES = 8_000_000
PDF_MAX_CONTENT_BYTES = 32_000_000
PDF_MAX_PAGES = 2_000


def _read_pdf(path: Path, data: bytes, digest: str) -> RawDocument | Skipped:
    import contextlib
    import io

    import pypdf
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    limits = getattr(pypdf, "apply_configuration", None)  # pypdf >= 6: per-context limits
    limited = (limits(zlib_maximum_output_length=PDF_MAX_STREAM_BYTES, lzw_maximum_output_length=PDF_MAX_STREAM_BYTES,
                      run_length_maximum_output_length=PDF_MAX_STREAM_BYTES)
               if limits is not None else contextlib.nullcontext())
    try:
        with limited:
            reader = PdfReader(io.BytesIO(data))
            if len(reader.pages) > PDF_MAX_PAGES:
                return Skipped(path, f"the PDF has {len(reader.pages):,} pages (limit {PDF_MAX_PAGES:,})")
            pages = []
            expanded = 0
            for page in reader.pages:
                contents = page.get_contents()
                expanded += len(contents.get_data()) if contents is not None else 0
                if expanded > PDF_MAX_CONTENT_BYTES:
                    return Skipped(path, f"the PDF's pages expand to over {PDF_MAX_CONTENT_BYTES // 10**6} MB"
                                         " (a compression bomb?)")
                pages.append(page.extract_text() or "")
    except Exception as exc:  # noqa: BLE001 - sorted below; anything else is "could not parse"
        if exc.__class__.__name__ == "LimitReachedError":  # pypdf's own decompression limit
            return Skipped(path, f"a stream in the PDF expands to over {PDF_MAX_STREAM_BYTES // 10**6} MB"
                                 " (a compression bomb?)")
        if not isinstance(exc, (PdfReadError, ValueError, KeyError)):
            raise
        detail = " ".join(str(exc).split())[:80]
        return Skipped(path, f"unreadable PDF ({exc.__class__.__name__}{': ' + detail if detail else ''})")
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text:
        return Skipped(path, "the PDF has no extractable text (scanned?)")
    title = None
    if reader.metadata and reader.metadata.title:
        title = str(reader.metadata.title)
    return RawDocument(path, text, digest, title=title)
