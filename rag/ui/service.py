"""The UI's view of one index: assistants shared by every browser session, behind one lock.

An `Assistant` holds one SQLite connection and one FAISS index, which are not meant to be
used by several threads at once, and Gradio runs handlers on a thread pool; so questions are
answered one at a time (an extractive answer takes milliseconds). Uploads are ingested
outside that lock, since ingest writes a new generation beside the one being read; when it is
published the assistants are closed and re-opened on their next question.

Before each question the published manifest is read again (a few hundred bytes): when it
changed, or went away, since the assistants were opened, they are re-opened, so an index that
broke while the UI serves gives each question the CLI's one-line error instead of answers from
files it no longer names, and an ingest from the command line is picked up.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from rag.answer.assistant import Assistant, Conversation
from rag.answer.llm import display_spec
from rag.answer.types import Answer
from rag.errors import RagError
from rag.retrieve.hybrid import MODES
from rag.store.factory import backend_for, is_remote, open_store
from rag.store.manifest import MANIFEST_NAME
from rag.store.filters import DocumentFilter, iso_prefix
from rag.ui.leftovers import pending_uploads, upload_name
from rag.ui.uploads import UploadResult, add_files, uploads_dir

EXTRACTIVE = "extractive"
MAX_K = 20
_DONE = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Service:
    """Answers questions and adds files for the UI and its API; safe to share between threads."""

    def __init__(
        self,
        index_dir: Path,
        *,
        k: int = 5,
        mode: str = "hybrid",
        llm: str | None = None,
        embedder_spec: str | None = None,
        reranker: str | None = None,
        where: DocumentFilter | None = None,
    ) -> None:
        if not backend_for(index_dir).exists():
            raise RagError(f"no index at {index_dir}; build one with `rag ingest PATH`")
        self.index_dir = index_dir
        self.k = check_k(k)
        self.mode = check_mode(mode)
        self.llm = llm or None
        self.embedder_spec = embedder_spec
        self.reranker = reranker
        self.where = where
        self._lock = threading.Lock()  # not RLock: Gradio may resume a handler on another thread
        self._ingest_lock = threading.Lock()
        self._assistants: dict[tuple[str, str | None], "Assistant"] = {}
        self._published: bytes | None = self._manifest_now()

    @property
    def generators(self) -> list[str]:
        """The answer generators on offer: extractive, plus the configured LLM if any, named
        without its base URL (which can carry credentials, and is nobody's business in a browser)."""
        return [EXTRACTIVE] + ([display_spec(self.llm)] if self.llm else [])

    def _manifest_now(self) -> bytes | None:
        """The published manifest's bytes (b"" when it is gone); None for a remote index."""
        if is_remote(self.index_dir):
            return None
        try:
            return (Path(self.index_dir) / MANIFEST_NAME).read_bytes()
        except OSError:
            return b""

    def _assistant(self, mode: str, generator: str | None) -> "Assistant":
        """The assistant for (mode, generator), opened on first use, and again when the published
        manifest changed since; call with the lock held."""
        published = self._manifest_now()
        if published != self._published:
            for assistant in self._assistants.values():
                assistant.close()
            self._assistants, self._published = {}, published
        llm = None if generator in (None, "", EXTRACTIVE) else generator
        if llm is not None and self.llm and llm == display_spec(self.llm):
            llm = self.llm  # the model as listed, without its base URL
        if llm is not None and llm != self.llm:
            raise RagError(f"unknown generator {generator!r}; choose one of {', '.join(self.generators)}")
        key = (mode, llm)
        if key not in self._assistants:
            self._assistants[key] = Assistant(self.index_dir, mode=mode, k=self.k, embedder_spec=self.embedder_spec,
                                              llm=llm, reranker=self.reranker)
        return self._assistants[key]

    def ask_stream(
        self,
        question: str,
        conversation: "Conversation | None" = None,
        *,
        k: int | None = None,
        mode: str | None = None,
        generator: str | None = None,
        where: DocumentFilter | None = None,
    ) -> Iterator["str | Answer"]:
        """Like `Assistant.ask_stream`: text pieces, then the final Answer.

        `generator` is "extractive" or the configured LLM spec; None means the LLM when one is set.
        `where` limits the articles (None: the filter `rag ui` was started with, if any).
        """
        where = self.where if where is None else where
        k = check_k(self.k if k is None else k)
        mode = check_mode(mode or self.mode)
        if generator is None:  # as `rag ask` does: the configured LLM if any
            generator = self.generators[-1]
        if generator in ("", EXTRACTIVE):
            # One piece of text then the Answer, computed in milliseconds: collect them under the
            # lock, and never hold it while the caller is suspended between pieces.
            with self._lock:
                items = list(self._assistant(mode, generator).ask_stream(question, conversation, k, where))
            yield from items
            return
        # An LLM streams for seconds: a producer thread holds the lock and always runs to the end,
        # so a browser that goes away mid-answer cannot leave the lock held.
        pieces: queue.Queue[object] = queue.Queue()

        def produce() -> None:
            try:
                with self._lock:
                    for item in self._assistant(mode, generator).ask_stream(question, conversation, k, where):
                        pieces.put(item)
            except BaseException as exc:  # noqa: BLE001 - handed to the consumer
                pieces.put(_Failed(exc))
            finally:
                pieces.put(_DONE)

        threading.Thread(target=produce, name="rag-ui-answer", daemon=True).start()
        while True:
            item = pieces.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item  # type: ignore[misc]

    def ask(self, question: str, conversation: "Conversation | None" = None, **options: Any) -> "Answer":
        result = None
        for item in self.ask_stream(question, conversation, **options):
            result = item
        assert isinstance(result, Answer)
        return result

    def info(self) -> dict[str, Any]:
        """`Store.info()`, each source as `display` shows it."""
        with open_store(self.index_dir) as store:
            info = store.info()
        for source in info["sources"]:
            source["source"] = self.display(source["source"])
        return info

    def display(self, source: str) -> str:
        """A document's file as the UI shows it, never as an absolute path on this server:
        uploads as `uploads/NAME`, files under the index or the working directory relative
        to it, any other file as its folder and name."""
        path = Path(source)
        if not path.is_absolute():
            return source
        for base, prefix in ((uploads_dir(self.index_dir), "uploads"), (self._local_index(), ""),
                             (Path.cwd(), "")):
            if base is not None and path.is_relative_to(base.resolve()):
                return str(Path(prefix, path.relative_to(base.resolve())))
        return str(Path(*path.parts[1:][-2:]))

    def _local_index(self) -> Path | None:
        return None if is_remote(self.index_dir) else Path(self.index_dir)

    def add_files(
        self, files: Sequence[tuple[Path, str]], progress: Callable[[float, str], None] = lambda f, m: None
    ) -> "UploadResult":
        """Check, copy and ingest uploads; then re-open the index for the next question."""
        if not self._ingest_lock.acquire(blocking=False):
            return UploadResult(error="another upload is being indexed; try again when it has finished")
        try:
            result = add_files(files, self.index_dir, progress=progress)
        finally:
            self._ingest_lock.release()
        if result.added or result.recovered:
            self.reload()
        return result

    def pending_uploads(self) -> list[str]:
        """Names of files in the uploads folder that the index does not hold (`rag.ui.leftovers`);
        none while this service is adding files (those in the folder may be that upload's)."""
        if self._ingest_lock.locked():
            return []
        with open_store(self.index_dir) as store:
            documents = store.documents()
        folder = uploads_dir(self.index_dir)
        return [upload_name(path, folder) for path in pending_uploads(folder, documents)]

    def reload(self) -> None:
        """Close the open assistants; the next question opens the newly published generation."""
        with self._lock:
            assistants, self._assistants = self._assistants, {}
        for assistant in assistants.values():
            assistant.close()

    def close(self) -> None:
        self.reload()


def check_k(k: object) -> int:
    try:
        value = int(k)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise RagError(f"number of passages must be a whole number, not {k!r}") from None
    if not 1 <= value <= MAX_K:
        raise RagError(f"number of passages must be between 1 and {MAX_K}")
    return value


def check_mode(mode: object) -> str:
    if mode not in MODES:
        raise RagError(f"retrieval mode must be one of {', '.join(MODES)}, not {mode!r}")
    return str(mode)


def filter_from(
    since: str | None = None, until: str | None = None, outlets: Sequence[str] | str | None = None,
    sources: str | None = None,
) -> DocumentFilter | None:
    """A filter from the UI's or the API's fields (outlets a list or comma-separated; sources
    comma-separated globs); empty fields filter nothing; a bad date is a RagError."""
    if isinstance(outlets, str):
        outlets = outlets.split(",")
    where = DocumentFilter(
        since=iso_prefix(since, "since") if since and since.strip() else None,
        until=iso_prefix(until, "until") if until and until.strip() else None,
        outlets=tuple(o.strip() for o in outlets or () if o and o.strip()),
        sources=tuple(g.strip() for g in (sources or "").split(",") if g.strip()),
    )
    return where or None
