"""HTML for the web UI, built by hand so that nothing from a document or a question can inject.

Every piece of text that comes from a document, a file name or a question goes through
`html.escape` (quotes included, so it is also safe inside attributes). The only markup in the
output is the fixed markup written here; the highlight of a quote is a `<mark>` put around the
escaped span computed from the citation's character offsets, never found by searching the HTML.
Nothing here imports Gradio.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rag.config import display_path

if TYPE_CHECKING:
    from rag.answer.types import Answer, AnswerSpan, Citation
    from rag.retrieve.passage import Passage

DisplayPath = Callable[[str], str]

#: How a chat answer and an abstention look; inline so they do not depend on page CSS.
_ANSWER_STYLE = "line-height:1.55"
_ABSTAIN_STYLE = (
    "border-left:4px solid #d97706;background:rgba(245,158,11,0.12);padding:6px 10px;border-radius:4px"
)
_ERROR_STYLE = "border-left:4px solid #dc2626;background:rgba(220,38,38,0.10);padding:6px 10px;border-radius:4px"
_META_STYLE = "opacity:0.65;font-size:0.85em;margin-top:6px"
_REF_STYLE = "font-weight:600;color:#2563eb"
_MARKER = re.compile(r"\[(\d{1,3})\]")

#: Scoped styles for the sources and index panels (passed to gr.HTML's css_template).
PANEL_CSS = """
.rag-panel { font-size: 0.95em; line-height: 1.5; overflow-wrap: anywhere; word-break: break-word; }
.rag-panel .rag-banner { padding: 8px 12px; border-radius: 6px; margin-bottom: 10px; }
.rag-panel .rag-banner.answered { background: rgba(37, 99, 235, 0.08); border-left: 4px solid #2563eb; }
.rag-panel .rag-banner.abstained { background: rgba(245, 158, 11, 0.14); border-left: 4px solid #d97706; }
.rag-panel .rag-source { border: 1px solid rgba(128, 128, 128, 0.35); border-radius: 8px;
  padding: 10px 12px; margin-bottom: 10px; }
.rag-panel .rag-n { font-weight: 700; color: #2563eb; margin-right: 4px; }
.rag-panel .rag-title { font-weight: 600; }
.rag-panel .rag-provenance { font-size: 0.85em; font-style: italic; }
.rag-panel .rag-file { font-family: ui-monospace, monospace; font-size: 0.85em; opacity: 0.75;
  overflow-wrap: anywhere; }
.rag-panel .rag-quote { margin: 8px 0; padding: 4px 10px; border-left: 3px solid #2563eb;
  font-style: italic; white-space: pre-wrap; }
.rag-panel .rag-text { white-space: pre-wrap; margin: 6px 0 0 0; }
.rag-panel mark { background: #fde047; color: #111; padding: 0 1px; border-radius: 2px; }
.rag-panel mark.rag-span { background: #86efac; font-weight: 700; font-style: normal; }
.rag-panel .rag-short { margin-bottom: 8px; }
.rag-panel details > summary { cursor: pointer; color: #2563eb; margin-top: 4px; }
.rag-panel .rag-muted { opacity: 0.7; }
.rag-panel dl.rag-facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 4px 14px;
  margin: 0 0 10px 0; }
.rag-panel dl.rag-facts dt { font-weight: 600; white-space: nowrap; overflow-wrap: normal; word-break: normal; }
.rag-panel dl.rag-facts dd { margin: 0; min-width: 0; overflow-wrap: break-word; word-break: normal; }
.rag-panel .rag-doclist ul { margin: 6px 0 0 0; padding-left: 18px; }
.rag-panel .rag-doclist li { margin-bottom: 4px; }
"""


def esc(text: object) -> str:
    """Text as HTML: every <, >, &, ' and " escaped."""
    return html.escape(str(text), quote=True)


def _lines(text: str) -> str:
    """Escaped text with its line breaks kept (chat messages collapse whitespace)."""
    return "<br>".join(esc(line) for line in text.splitlines() or [""])


def _with_markers(text: str) -> str:
    """Escaped answer text with its [n] markers set off; the markers are found in the plain text."""
    parts: list[str] = []
    last = 0
    for m in _MARKER.finditer(text):
        parts.append(_lines(text[last:m.start()]))
        parts.append(f'<span class="rag-ref" style="{_REF_STYLE}">[{int(m.group(1))}]</span>')
        last = m.end()
    parts.append(_lines(text[last:]))
    return "".join(parts)


# --- chat messages -------------------------------------------------------------------------------

def user_message(question: str) -> str:
    return _lines(question)


def pending_message() -> str:
    return '<span style="opacity:0.6">Searching the articles…</span>'


def streaming_message(text: str) -> str:
    return f'<div style="{_ANSWER_STYLE}">{_with_markers(text)}</div>'


def error_message(message: str) -> str:
    return f'<div style="{_ERROR_STYLE}"><strong>Error:</strong> {_lines(message)}</div>'


def answer_message(answer: "Answer", understood_as: str | None = None) -> str:
    """The chat bubble for a final answer: answered and abstained look different."""
    meta = (f"{esc(answer.generator)} · {esc(answer.retrieval_mode)} retrieval · "
            f"{answer.timings_ms.get('total', 0.0):.0f} ms")
    note = ""
    if understood_as and understood_as.strip() != answer.question.strip():
        note = f'<div style="{_META_STYLE}">Understood as: {_lines(understood_as)}</div>'
    # As `rag ask` says them: why nothing was found, and why the model's reply was not shown.
    if answer.notice:
        note += f'<div class="rag-notice" style="{_META_STYLE}">Note: {_lines(answer.notice)}</div>'
    if answer.model_reply_note:
        kind = "rag-fallback" if answer.fallback_reason else "rag-dropped"
        note += f'<div class="{kind}" style="{_META_STYLE}">{_lines(answer.model_reply_note)}</div>'
    if answer.abstained:
        return (
            f'<div class="rag-abstained" style="{_ABSTAIN_STYLE}">'
            f"<strong>⚠ No supported answer.</strong> {_lines(answer.answer)}"
            f"<br>The closest passages are listed under Sources.</div>"
            f'{note}<div style="{_META_STYLE}">{meta}</div>'
        )
    cited = ", ".join(f"[{c.n}] {c.title or _basename(c.source)}" for c in answer.citations)
    body = _with_markers(answer.answer)
    span = answer.answer_span
    if span is not None and answer.answer.startswith(span.text):
        body = f'<strong class="rag-answer-span">{esc(span.text)}</strong>{_with_markers(answer.answer[len(span.text):])}'
    return (
        f'<div class="rag-answered" style="{_ANSWER_STYLE}">{body}</div>'
        f'{note}<div style="{_META_STYLE}">Sources: {esc(cited)} · {meta}</div>'
    )


# --- sources panel -------------------------------------------------------------------------------

def highlight(text: str, start: int, end: int) -> str:
    """`text` escaped, with text[start:end] inside <mark> (offsets are into the plain text)."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    if start == end:
        return esc(text)
    return f"{esc(text[:start])}<mark>{esc(text[start:end])}</mark>{esc(text[end:])}"


def _basename(source: str) -> str:
    return source.replace("\\", "/").rsplit("/", 1)[-1]


def _passage_for(citation: "Citation", passages: Sequence["Passage"]) -> "Passage | None":
    """The retrieved passage a citation quotes, checked by its offsets."""
    for p in passages:
        if p.chunk_id == citation.chunk_id and p.start <= citation.start and citation.end <= p.end:
            if p.text[citation.start - p.start:citation.end - p.start] == citation.quote:
                return p
    for p in passages:  # the same span inside another retrieved chunk of the same document
        if p.source == citation.source and p.start <= citation.start and citation.end <= p.end:
            if p.text[citation.start - p.start:citation.end - p.start] == citation.quote:
                return p
    return None


def _heading(n: int | None, title: str, source: str, start: int, end: int, display: DisplayPath) -> str:
    label = f'<span class="rag-n">[{n}]</span>' if n is not None else ""
    return (
        f'<div class="rag-head">{label}<span class="rag-title">{esc(title or _basename(source))}</span></div>'
        f'<div class="rag-file">{esc(display(source))} · characters {start}–{end}</div>'
    )


def _citation_card(citation: "Citation", passages: Sequence["Passage"], display: DisplayPath,
                   span: "AnswerSpan | None" = None) -> str:
    passage = _passage_for(citation, passages)
    quote = esc(citation.quote)
    if span is not None and span.citation == citation.n and citation.start <= span.start < span.end <= citation.end \
            and citation.quote[span.start - citation.start:span.end - citation.start] == span.text:
        # The short answer inside its quote: a <mark> from the span's offsets, text escaped.
        quote = highlight(citation.quote, span.start - citation.start, span.end - citation.start)
        quote = quote.replace("<mark>", '<mark class="rag-span">', 1)
    if passage is not None:
        body = highlight(passage.text, citation.start - passage.start, citation.end - passage.start)
    else:
        body = f"<mark>{esc(citation.quote)}</mark>"
    return (
        f'<div class="rag-source rag-cited" id="rag-source-{citation.n}" data-n="{citation.n}">'
        + _heading(citation.n, citation.title, citation.source, citation.start, citation.end, display)
        + (f'<div class="rag-provenance">{esc(citation.provenance)}</div>' if citation.provenance else "")
        + (f'<div class="rag-provenance">Also carried by {esc(", ".join(citation.also_published_by))}</div>'
           if citation.also_published_by else "")
        + f'<blockquote class="rag-quote">{quote}</blockquote>'
        + '<details class="rag-passage"><summary>Show the passage this quote is from</summary>'
        + f'<div class="rag-text">{body}</div></details></div>'
    )


def _passage_card(passage: "Passage", display: DisplayPath, *, open_text: bool) -> str:
    """A retrieved passage: its article and place, then its text (behind a summary unless
    `open_text`). Ranks and fusion scores are left out: the order already ranks them, and a
    fused score means nothing to a reader."""
    head = _heading(None, passage.title, passage.source, passage.start, passage.end, display)
    text = f'<div class="rag-text">{esc(passage.text)}</div>'
    if not open_text:
        text = f'<details class="rag-passage"><summary>Show the passage</summary>{text}</details>'
    return f'<div class="rag-source rag-retrieved">{head}{text}</div>'


def sources_html(answer: "Answer", display: DisplayPath | None = None) -> str:
    """The sources panel for one answer: its citations, or the closest passages if it abstained."""
    display = display or display_path
    parts = ['<div class="rag-panel rag-sources">']
    if answer.abstained:
        parts.append(
            '<div class="rag-banner abstained"><strong>No supported answer.</strong> '
            "The articles do not clearly answer this question; these are the closest passages.</div>"
        )
        if not answer.passages:
            parts.append('<p class="rag-muted">No passage matched the question at all.</p>')
        parts.extend(_passage_card(p, display, open_text=False) for p in answer.passages)
    else:
        count = len(answer.citations)
        parts.append(
            f'<div class="rag-banner answered"><strong>Answered</strong> from {count} '
            f'cited passage{"s" if count != 1 else ""}; each quote is highlighted in its passage.</div>'
        )
        if answer.answer_span is not None:
            parts.append(f'<div class="rag-short"><span class="rag-muted">Short answer:</span> '
                         f'<mark class="rag-span">{esc(answer.answer_span.text)}</mark></div>')
        parts.extend(_citation_card(c, answer.passages, display, answer.answer_span) for c in answer.citations)
        cited = {c.chunk_id for c in answer.citations}
        others = [p for p in answer.passages if p.chunk_id not in cited]
        if others:
            parts.append(f'<details class="rag-others"><summary>Other retrieved passages ({len(others)})</summary>')
            parts.extend(_passage_card(p, display, open_text=True) for p in others)
            parts.append("</details>")
    parts.append("</div>")
    return "".join(parts)


def empty_sources_html() -> str:
    return ('<div class="rag-panel rag-sources"><p class="rag-muted">Ask a question: the passages each answer '
            "cites appear here, with the quoted words highlighted.</p></div>")


# --- index panel ---------------------------------------------------------------------------------

def built_at(value: object) -> str:
    """An ISO time stamp as a reader writes it ("2026-12-07 13:43 UTC"); other values as they are."""
    try:
        stamp = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if stamp.utcoffset() == timedelta(0):
        return stamp.strftime("%Y-%m-%d %H:%M UTC")
    return stamp.strftime("%Y-%m-%d %H:%M %z" if stamp.tzinfo else "%Y-%m-%d %H:%M")


def index_html(info: Mapping[str, Any]) -> str:
    """Documents, chunks and embedder of the index (from `Store.info`), then its documents."""
    rows = [
        ("Documents", info.get("documents")),
        ("Chunks", info.get("chunks")),
        ("Embedder", f"{info.get('embedder')} (dimension {info.get('dimension')})"),
        ("Vectors", f"FAISS {info.get('index_type')}"),
        ("Built", f"{built_at(info.get('built_at'))} (generation {info.get('generation')})"),
    ]
    facts = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows)
    sources = info.get("sources") or []
    items = "".join(
        f'<li>{esc(s.get("title") or _basename(str(s.get("source"))))} '
        f'<span class="rag-file">{esc(s.get("source"))}</span></li>'
        for s in sources
    )
    listing = (f'<details class="rag-doclist"><summary>{len(sources)} document(s)</summary><ul>{items}</ul></details>'
               if sources else "")
    return f'<div class="rag-panel rag-index"><dl class="rag-facts">{facts}</dl>{listing}</div>'


def messages_text(messages: Sequence[str]) -> str:
    """Upload results etc.: one escaped line each."""
    return '<div class="rag-panel">' + "".join(f"<div>{_lines(m)}</div>" for m in messages) + "</div>"
