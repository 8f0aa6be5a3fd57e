"""Find article files and read each into text, whatever its format or encoding.

A file that cannot be read (binary, empty, undecodable, too large, a symlink loop) is
reported as a `Skipped` with a one-line reason; ingest warns and carries on.
"""

from __future__ import annotations

import codecs
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


def _note(message: str) -> None:
    """Add one note of ours (plain words, no library name) to the file being read."""
    notes = getattr(_capture, "notes", None)
    if notes is not None and message not in notes:
        notes.append(message)


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
        decoded = decode(data)
        if decoded is None:
            return Skipped(path, "binary or undecodable content")
        text = decoded.text
        if decoded.note:
            _note(decoded.note)
        if suffix in (".html", ".htm"):
            return _read_html(path, text, digest)
        if suffix in (".md", ".markdown"):
            return _read_markdown(path, text, digest)
        return RawDocument(path, text, digest)
    except Exception as exc:  # a parser library failing on a malformed file
        detail = " ".join(str(exc).split())[:80]
        return Skipped(path, f"could not parse ({exc.__class__.__name__}: {detail})")


@dataclass(frozen=True)
class Decoded:
    """A file's text, with one line for the user when the bytes needed repair."""

    text: str
    note: str | None = None


#: A text may hold a stray control character or two (a NUL pasted in); more than this many, or
#: than 1 in 100 of its first 10,000 characters, mean it was not text at all.
MAX_STRAY_CONTROLS = 2


def decode_text(data: bytes) -> str | None:
    """The text of `data` (see `decode`), or None for binary or undecodable content."""
    decoded = decode(data)
    return decoded.text if decoded is not None else None


def decode(data: bytes) -> Decoded | None:
    """UTF-8 (with or without BOM) when it is, or nearly is; otherwise the detected encoding
    (UTF-16 with or without a BOM, a legacy code page); None for binary. Stray NULs are dropped."""
    decoded = None if _nul_heavy(data) else _utf8(data)
    if decoded is None:
        text = _detected(data)
        decoded = Decoded(text) if text is not None else None
    sample = decoded.text[:10000] if decoded is not None else ""
    if decoded is None or _controls(sample) > max(MAX_STRAY_CONTROLS, len(sample) // 100):
        return None
    return dataclasses.replace(decoded, text=decoded.text.replace("\x00", ""))


def _nul_heavy(data: bytes) -> bool:
    """More NULs than a stray one or two: UTF-16/32 text (BOM or not) or binary, never UTF-8 text."""
    head = data[:8192]
    return head.count(0) > max(MAX_STRAY_CONTROLS, len(head) // 100) or head.startswith(
        (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


#: Invalid bytes, as `surrogateescape` keeps them: one run is one bad sequence.
_BAD_RUN = re.compile("[\udc80-\udcff]+")


def _utf8(data: bytes) -> Decoded | None:
    """UTF-8, also when a few sequences are invalid among many valid non-ASCII characters.

    One bad byte (a lone surrogate, a stray 0xFF) in an article of accented names must not
    send the whole file to a legacy code page ("Élodie" -> "Ă‰lodie"). Without valid non-ASCII
    characters to vouch for UTF-8 (ASCII plus one 0xA3 pound sign), it is a legacy encoding.
    """
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return Decoded(data[bom:].decode("utf-8"))
    except UnicodeDecodeError as exc:
        first = exc.start + bom
    loose = data[bom:].decode("utf-8", "surrogateescape")
    runs = _BAD_RUN.findall(loose)
    escaped = sum(map(len, runs))
    valid = len(loose) - len(loose.encode("ascii", "ignore")) - escaped  # non-ASCII characters read
    if valid < 2 * len(runs):
        return None
    more = f" and {len(runs) - 1:,} more {'place' if len(runs) == 2 else 'places'}" if len(runs) > 1 else ""
    note = f"invalid UTF-8 at byte {first:,}{more}; read as UTF-8 with the bad bytes shown as \ufffd"
    return Decoded(_BAD_RUN.sub("\ufffd", loose), note)


#: At most this share of bytes above ASCII, and the text is English with a few symbols in a
#: Western code page ("a \xa315.8m signing": "£"), not a multi-byte Asian encoding, whatever the
#: detector guesses from so few bytes (it read that line as Shift-JIS: "｣15.8m").
SPARSE_HIGH_BYTES = 0.02
_ASCII_BYTES = bytes(range(0x80))


def _detected(data: bytes) -> str | None:
    """The encoding charset-normalizer finds (it knows UTF-16 and UTF-32 without a BOM); text
    that is ASCII but for a few bytes is read as Windows-1252 when it decodes so."""
    high = len(data.translate(None, _ASCII_BYTES))
    if high <= SPARSE_HIGH_BYTES * len(data) and not _nul_heavy(data):
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass  # a byte cp1252 leaves undefined: let the detector choose
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return None if best is None else str(best)


def _controls(text: str) -> int:
    """Control characters other than whitespace: a few are noise, many mean binary."""
    return sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")


def _read_html(path: Path, html: str, digest: str) -> RawDocument | Skipped:
    text, why_not = _html_article(html)
    if not text:
        return Skipped(path, why_not)
    meta = from_html(html)
    return RawDocument(path, text, digest, title=meta.headline, outlet=meta.outlet, published=meta.published, meta=meta)


#: libxml2 (under lxml and trafilatura) builds no element deeper than PARSER_DEPTH levels, and
#: with `huge_tree` none deeper than HUGE_DEPTH; whatever a page nests deeper is missing from the tree.
PARSER_DEPTH = 255
HUGE_DEPTH = 2048
#: A page nested deeper than that is read as plain text only up to this size: its thousands of
#: tags cost time (50 MB of nested tags: over a minute), and a news page is well under 1 MB.
MAX_PAGE_TEXT_CHARS = 5_000_000


def _html_article(html: str) -> tuple[str | None, str]:
    """The article's text (found by trafilatura), or None and why not.

    A page nested deeper than the HTML parser goes (broken markup: thousands of unclosed tags)
    is parsed again without the usual limit, and past HUGE_DEPTH read as the page's plain text.
    """
    none_found = "no article text found in the HTML"
    if _parse(html, huge=False)[1]:
        return _extract(html), none_found
    tree, whole = _parse(html, huge=True)
    text = _extract(tree) if tree is not None and whole else None
    if text:
        return text, ""
    too_deep = f"the page's markup nests over {PARSER_DEPTH} levels deep, too deep to find the article in it"
    if len(html) > MAX_PAGE_TEXT_CHARS:
        return None, (f"{too_deep}, and at {len(html) / 1e6:.0f} MB too large to read as plain text"
                      f" (limit {MAX_PAGE_TEXT_CHARS // 10**6} MB)")
    text = page_text(html)
    if text:
        _note(f"{too_deep}; indexed all of the page's text")
    return text or None, none_found


def _extract(html: "str | object") -> str | None:
    """trafilatura's article text. What it logs on success stays a note; when it finds nothing,
    its internal words ("discarding data: None") are dropped: the caller says why in plain words."""
    import trafilatura

    with _library_notes() as said:
        text = trafilatura.extract(html, include_comments=False, include_tables=False, favor_precision=True)
    if not text or not text.strip():
        return None
    for message in said:
        _note(message)
    return text


def _parse(html: str, *, huge: bool) -> tuple[object | None, bool]:
    """lxml's tree of the page, and whether it holds the whole page: past its depth limit
    libxml2 stops building the tree (the rest of the page is lost) and logs a resource limit."""
    import lxml.html
    from lxml import etree

    parser = lxml.html.HTMLParser(recover=True, no_network=True, collect_ids=False, remove_comments=True,
                                  remove_pis=True, huge_tree=huge, encoding="utf-8")
    try:
        tree = lxml.html.document_fromstring(html.encode("utf-8", "surrogatepass"), parser=parser)
    except (etree.ParserError, ValueError):
        return None, True  # nothing to parse: no depth problem; trafilatura says what it finds
    return tree, not any(error.type_name == "ERR_RESOURCE_LIMIT" for error in parser.error_log)


def page_text(html: str) -> str:
    """The text a browser shows for `html`, one block per line, without scripts, styles or the
    head. lxml's parser feeding a target builds no tree, and so has no nesting depth limit."""
    from lxml import etree

    target = _PageText()
    parser = etree.HTMLParser(target=target, recover=True, no_network=True, remove_comments=True,
                              remove_pis=True, encoding="utf-8")
    try:
        parser.feed(html.encode("utf-8", "surrogatepass"))
        return parser.close()
    except etree.LxmlError:
        return target.close()


class _PageText:
    """An lxml parser target that keeps the shown text: escaped markup (`&lt;script&gt;`) is text
    and stays; the content of elements never shown (script, style, template, head...) does not."""

    HIDDEN = frozenset({"script", "style", "noscript", "template", "head", "title", "svg", "iframe", "object"})
    BLOCKS = frozenset({"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "td",
                        "table", "section", "article", "header", "footer", "main", "aside", "nav", "blockquote",
                        "pre", "dd", "dt", "dl", "figcaption", "hr", "body"})

    def __init__(self) -> None:
        self._hidden = 0
        self._parts: list[str] = []

    def start(self, tag: str, attrib: object) -> None:
        self._hidden += tag in self.HIDDEN
        if tag in self.BLOCKS:
            self._parts.append("\n")

    def end(self, tag: str) -> None:
        self._hidden = max(0, self._hidden - (tag in self.HIDDEN))
        if tag in self.BLOCKS:
            self._parts.append("\n")

    def data(self, data: str) -> None:
        if not self._hidden:
            self._parts.append(data)

    def close(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self._parts).split("\n"))
        return "\n".join(line for line in lines if line)


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
