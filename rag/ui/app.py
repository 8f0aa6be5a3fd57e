"""The Gradio app: chat with cited sources, settings, an index panel with uploads, and an API.

`build_app(index_dir)` returns the Blocks; `launch_app(app, ...)` serves it (loopback by
default). Tests launch it with `prevent_thread_lock=True` on a free port and close it.

Security: chat messages are rendered with markdown off and HTML sanitising on, and every
piece of text in them (questions, answers, quotes, titles) is escaped by `rag.ui.render`
first, so it shows as text; the sources and index panels are HTML built by `rag.ui.render`
from escaped text; topic buttons show a headline as a button's text. Nothing a document or a
question contains can add elements to the page (the one script, DISMISS_REFUSED_UPLOAD, is fixed
code).

(No `from __future__ import annotations` here: Gradio reads the API function's type hints.)
"""

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from rag.answer.assistant import Conversation
from rag.answer.questions import without_surrogates
from rag.errors import RagError
from rag.retrieve.hybrid import MODES
from rag.store.filters import DocumentFilter
from rag.ui import render
from rag.ui.errors import failure_message, user_message
from rag.ui.leftovers import pending_message
from rag.ui.service import EXTRACTIVE, MAX_K, Service, filter_from
from rag.ui.uploads import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES

TITLE = "Ask the news articles"
#: Topics shown under the question box: headlines of the served index's articles, in full, each
#: standing for a question about its article that the index answers (checked with the extractive
#: answerer when the app is built, and again after an upload adds articles, the new ones first).
MAX_EXAMPLES = 3
#: What the question box shows while empty (a constant: a topic in it would read as typed text).
PLACEHOLDER = "Ask a question about the articles"
NO_FILES = ("No files to add: choose .txt, .md, .html or .pdf files first (files of other types, or over "
            f"{MAX_UPLOAD_BYTES // 2**20} MB, are refused as they are uploaded).")
_EXAMPLE_TRIES = 12
#: Page styles (Gradio 6 takes them at launch). The chat's own clear button floats over its top
#: message (the "New conversation" button below the chat does the same); topic buttons show
#: their headline whole, wrapped.
APP_CSS = """
#rag-chat .top-panel { display: none !important; }
#rag-examples .rag-topic { flex: 0 1 auto !important; min-width: 0 !important; width: auto; height: auto;
  white-space: normal; text-align: left; border-radius: 999px; padding: 4px 12px; }
#rag-examples-label { opacity: 0.75; font-size: 0.9em; }
"""
DATE_HINT = "YYYY, YYYY-MM or YYYY-MM-DD; empty: no limit"
#: (Gradio drops every "*" from an info line, so the hint cannot show a glob.)
GLOB_HINT = "comma-separated file name patterns (a star matches anything); empty: all files"
#: Gradio refuses a file of the wrong type or size in the browser: a toast says why, and the
#: upload box is covered by a red "Error" until its x is clicked. This clicks it, keeping the
#: toast and the files already chosen. Fixed code of ours; nothing from a document is in it.
DISMISS_REFUSED_UPLOAD = """
const box = document.getElementById('rag-upload');
const dismiss = () => {
  const status = box && box.querySelector('[data-testid="status-tracker"]');
  const clear = status && status.querySelector('.error') && status.querySelector('.clear-status button');
  if (clear) clear.click();
};
if (box) new MutationObserver(dismiss).observe(box, {childList: true, subtree: true});
"""
_MAX_HEADLINE = 100


@dataclass(frozen=True)
class Topic:
    """An example shown under the question box: a headline, and the question a click puts in the box."""

    headline: str
    question: str


def topic_question(headline: str) -> str:
    """The question a topic asks: about its article, the headline quoted whole."""
    return f"What is \u201c{headline}\u201d about?"


def example_topics(service: Service, limit: int = MAX_EXAMPLES, prefer: Sequence[str] = ()) -> list[Topic]:
    """Topics from the served index's own articles whose question it answers; [] when none does.
    Articles whose file name is in `prefer` (those an upload just added) are tried first."""
    try:
        sources = service.info()["sources"]
    except Exception:  # noqa: BLE001 - examples are optional; the index panel reports the failure
        return []
    names = {Path(name).name for name in prefer}
    sources = sorted(sources, key=lambda s: Path(str(s.get("source") or "")).name not in names)
    out: list[Topic] = []
    for source in sources[:_EXAMPLE_TRIES]:
        headline = " ".join(str(source.get("title") or "").split()).rstrip(".?!:;, ")
        if not headline or len(headline) > _MAX_HEADLINE or any(t.headline == headline for t in out):
            continue
        topic = Topic(headline, topic_question(headline))
        try:
            answer = service.ask(topic.question, generator=EXTRACTIVE)
        except Exception:  # noqa: BLE001 - an example that cannot be answered is not shown
            continue
        if not answer.abstained and answer.citations:
            out.append(topic)
        if len(out) >= limit:
            break
    return out


def _history_with(history: list[dict[str, Any]] | None, user: str, bot: str) -> list[dict[str, Any]]:
    return list(history or []) + [
        {"role": "user", "content": user},
        {"role": "assistant", "content": bot},
    ]


def build_app(
    index_dir: Path,
    *,
    k: int = 5,
    mode: str = "hybrid",
    llm: str | None = None,
    embedder_spec: str | None = None,
    reranker: str | None = None,
    where: DocumentFilter | None = None,
    service: Service | None = None,
) -> gr.Blocks:
    """The UI over the index at `index_dir` (which must exist: see `rag.ingest.ensure_index`).

    The returned Blocks carries its `Service` as `app.rag_service` (close it after `app.close()`).
    """
    service = service or Service(index_dir, k=k, mode=mode, llm=llm, embedder_spec=embedder_spec, reranker=reranker,
                                 where=where)
    try:
        outlets = sorted({s["outlet"] for s in service.info()["sources"] if s.get("outlet")})
    except Exception as exc:  # the index panel shows why
        if user_message(exc) is None:
            raise
        outlets = []
    start = service.where or DocumentFilter()
    #: The topics every page shows: a page loaded after an upload gets the refreshed ones.
    current = {"topics": example_topics(service)}

    # --- handlers --------------------------------------------------------------------------------

    def respond(
        message: str, history: list[dict[str, Any]], conversation: Conversation, k_value: float,
        mode_value: str, generator: str, since: str, until: str, outlet_values: list[str] | None, source_globs: str,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer into the chat, then show its sources."""
        if not message or not message.strip():
            yield gr.skip(), conversation, gr.skip(), gr.skip()
            return
        message = without_surrogates(message)  # "\udcff" in the request JSON: not encodable back
        if conversation is None:
            conversation = Conversation()
        history = _history_with(history, render.user_message(message), render.pending_message())
        yield history, conversation, gr.skip(), ""
        text = ""
        try:
            answer = None
            where = filter_from(since, until, outlet_values, source_globs) or DocumentFilter()
            for item in service.ask_stream(message, conversation, k=int(k_value), mode=mode_value,
                                           generator=generator, where=where):
                if isinstance(item, str):
                    text += item
                    if service.llm and generator != EXTRACTIVE:  # tokens: show them as they come
                        history[-1] = {"role": "assistant", "content": render.streaming_message(text)}
                        yield history, conversation, gr.skip(), ""
                else:
                    answer = item
            assert answer is not None
        except Exception as exc:  # noqa: BLE001 - shown in the chat instead of a silent failure
            history[-1] = {"role": "assistant", "content": render.error_message(failure_message(exc))}
            yield history, conversation, gr.skip(), ""
            return
        history[-1] = {"role": "assistant", "content": render.answer_message(answer, conversation.previous)}
        yield history, conversation, render.sources_html(answer, service.display), ""

    def new_conversation() -> tuple[Any, ...]:
        return [], Conversation(), render.empty_sources_html(), ""

    def refresh_index() -> str:
        """The index panel: what the index holds, and any files an interrupted upload left."""
        try:
            info, pending = service.info(), service.pending_uploads()
        except Exception as exc:  # noqa: BLE001 - one line in the panel, as `rag info` would print
            return render.messages_text([f"Error: {failure_message(exc)}"])
        return render.index_html(info) + (render.messages_text([pending_message(pending)]) if pending else "")

    def examples_update() -> tuple[Any, ...]:
        """The topics box (shown when there are topics) and one button per topic slot."""
        topics = current["topics"]
        buttons = [gr.update(value=topics[i].headline, visible=True) if i < len(topics)
                   else gr.update(value="", visible=False) for i in range(MAX_EXAMPLES)]
        return gr.update(visible=bool(topics)), *buttons

    def pick_example(headline: str | None) -> Any:
        """The question a topic button puts in the question box."""
        return topic_question(headline) if headline else gr.skip()

    def page_load() -> tuple[Any, ...]:
        return refresh_index(), *examples_update()

    def add_uploads(files: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        """Check and index uploaded files (and any an interrupted upload left); bad ones are
        refused, and a failure leaves the index and the uploads folder as they were."""
        paths = [Path(f) for f in (files if isinstance(files, list) else [files])] if files else []
        try:
            if not paths and not service.pending_uploads():
                return render.messages_text([NO_FILES]), *[gr.skip()] * (3 + MAX_EXAMPLES)
            result = service.add_files([(p, p.name) for p in paths],
                                       progress=lambda fraction, desc: progress(fraction, desc=desc))
        except Exception as exc:  # noqa: BLE001 - one line in the panel, never a traceback in Gradio
            return (render.messages_text([f"Error: {failure_message(exc)}"]), refresh_index(),
                    *[gr.skip()] * (2 + MAX_EXAMPLES))
        examples_out: tuple[Any, ...] = (gr.skip(),) * (1 + MAX_EXAMPLES)
        if result.added or result.recovered:
            current["topics"] = example_topics(service, prefer=result.added + result.recovered)
            examples_out = examples_update()
        kept = gr.skip() if result.error else None  # nothing was added: the files stay chosen, to try again
        return render.messages_text(result.messages()), refresh_index(), kept, *examples_out

    def ask(
        question: str, k: int = service.k, mode: str = service.mode, since: str = "", until: str = "",
        outlet: str = "", source: str = "",
    ) -> dict[str, Any]:
        """Answer a question from the indexed articles; returns the JSON object of `rag ask --json`.
        since/until: dates (2016, 2016-03, 2016-03-03); outlet: names, comma-separated; source: globs."""
        try:
            where = filter_from(since, until, outlet, source)
            return service.ask(question, k=k, mode=mode, where=where).to_json(service.display)
        except Exception as exc:
            message = user_message(exc)
            if message is None:
                raise
            raise gr.Error(message) from None

    # --- layout ----------------------------------------------------------------------------------

    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        conversation = gr.State(Conversation())
        gr.Markdown(f"## {TITLE}\nAnswers quote the articles verbatim; each [n] is a source on the right. "
                    "When the articles do not support an answer, the assistant says so and shows the closest "
                    "passages instead.")
        with gr.Row():
            with gr.Column(scale=3):
                gr.Markdown("### Conversation")  # a heading, not the chat's label: that floats over messages
                chatbot = gr.Chatbot(
                    label="Conversation",
                    show_label=False,
                    elem_id="rag-chat",
                    height=460,
                    render_markdown=False,  # text is escaped HTML from rag.ui.render, never markdown
                    sanitize_html=True,
                    allow_tags=False,
                    feedback_options=None,
                    buttons=[],  # "copy" would copy the message's HTML, "share" posts to Hugging Face
                    autoscroll=True,
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder=PLACEHOLDER,
                        show_label=False, lines=1, max_lines=4, scale=5, elem_id="rag-question", autofocus=True,
                    )
                    ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="rag-ask")
                # Buttons rather than gr.Examples or a gr.Dataset: those cut a sample at 60 characters,
                # and their samples are the text put in the box; a button shows its headline whole.
                with gr.Column(visible=bool(current["topics"]), elem_id="rag-examples") as examples:
                    gr.Markdown("Topics in the index: click one to ask about it", elem_id="rag-examples-label")
                    with gr.Row():
                        topic_buttons = [
                            gr.Button(current["topics"][i].headline if i < len(current["topics"]) else "",
                                      visible=i < len(current["topics"]), size="sm", elem_classes="rag-topic")
                            for i in range(MAX_EXAMPLES)
                        ]
                clear = gr.Button("New conversation", size="sm", elem_id="rag-clear")
            with gr.Column(scale=2, elem_id="rag-sources-column"):
                gr.Markdown("### Sources")
                sources = gr.HTML(render.empty_sources_html(), css_template=render.PANEL_CSS, js_on_load=None,
                                  elem_id="rag-sources")
        with gr.Accordion("Settings", open=False, elem_id="rag-settings"):
            with gr.Row():
                k_slider = gr.Slider(1, MAX_K, value=service.k, step=1, label="Passages to retrieve",
                                     elem_id="rag-k")
                mode_radio = gr.Radio(list(MODES), value=service.mode, label="Retrieval mode", elem_id="rag-mode",
                                      info="hybrid: keywords and meaning; lexical: keywords (BM25); dense: meaning")
                generator = gr.Dropdown(
                    service.generators, value=service.generators[-1], label="Answer generator",
                    interactive=len(service.generators) > 1, elem_id="rag-generator",
                    info="quotes from the passages" if not service.llm
                    else "extractive quotes, or the language model set by RAG_LLM",
                )
            with gr.Row():
                # Formats as hints under the labels: a placeholder like "2016-03" reads as a filter set.
                since_box = gr.Textbox(start.since or "", label="Published since", info=DATE_HINT,
                                       max_lines=1, elem_id="rag-since")
                until_box = gr.Textbox(start.until or "", label="Published until", info=DATE_HINT,
                                       max_lines=1, elem_id="rag-until")
                outlet_pick = gr.Dropdown(outlets, value=[o for o in start.outlets if o in outlets], multiselect=True,
                                          label="Outlets", elem_id="rag-outlets", interactive=bool(outlets),
                                          info="all outlets when none is chosen")
                source_box = gr.Textbox(", ".join(start.sources), label="Files (globs)", info=GLOB_HINT,
                                        max_lines=1, elem_id="rag-source")
        with gr.Accordion("Index", open=False, elem_id="rag-index-accordion"):
            index_panel = gr.HTML(refresh_index(), css_template=render.PANEL_CSS, js_on_load=None, elem_id="rag-index")
            uploads = gr.File(
                label=f"Add articles ({' '.join(ALLOWED_SUFFIXES)}; up to {MAX_UPLOAD_BYTES // 2**20} MB each)",
                file_count="multiple", file_types=list(ALLOWED_SUFFIXES), type="filepath", elem_id="rag-upload",
            )
            add_button = gr.Button("Add to the index", elem_id="rag-add")
            upload_status = gr.HTML("", js_on_load=DISMISS_REFUSED_UPLOAD, elem_id="rag-upload-status")

        inputs = [question, chatbot, conversation, k_slider, mode_radio, generator, since_box, until_box, outlet_pick,
                  source_box]
        outputs = [chatbot, conversation, sources, question]
        for trigger in (question.submit, ask_button.click):
            trigger(respond, inputs, outputs, api_visibility="private", concurrency_id="rag-answer",
                    concurrency_limit=4, show_progress="minimal")
        clear.click(new_conversation, None, outputs, api_visibility="private", queue=False)
        for button in topic_buttons:
            button.click(pick_example, button, question, api_visibility="private", queue=False,
                         show_progress="hidden")
        add_button.click(add_uploads, uploads, [upload_status, index_panel, uploads, examples, *topic_buttons],
                         api_visibility="private", concurrency_limit=1, show_progress_on=[uploads])
        app.load(page_load, None, [index_panel, examples, *topic_buttons], api_visibility="private",
                 show_progress="hidden")
        gr.api(ask, api_name="ask", concurrency_id="rag-answer", concurrency_limit=4)

    app.rag_service = service  # type: ignore[attr-defined]
    return app


def auth_from_env() -> tuple[str, str] | None:
    """(user, password) from RAG_UI_USER and RAG_UI_PASSWORD, or None when neither is set."""
    user, password = os.environ.get("RAG_UI_USER"), os.environ.get("RAG_UI_PASSWORD")
    if not user and not password:
        return None
    if not user or not password:
        raise RagError("set both RAG_UI_USER and RAG_UI_PASSWORD to require a login (or neither)")
    return user, password


def launch_app(
    app: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    auth: tuple[str, str] | None = None,
    prevent_thread_lock: bool = False,
    quiet: bool = False,
) -> str:
    """Serve the app; returns its local URL. Nothing is shared publicly unless `share`."""
    _, local_url, _ = app.launch(
        server_name=host,
        server_port=port,
        share=share,
        auth=auth,
        auth_message="Log in to ask the articles." if auth else None,
        prevent_thread_lock=prevent_thread_lock,
        quiet=quiet,
        inbrowser=False,
        show_error=False,
        max_file_size=MAX_UPLOAD_BYTES,
        ssr_mode=False,
        pwa=False,
        mcp_server=False,
        enable_monitoring=False,
        footer_links=["api"],
        css=APP_CSS,
    )
    return local_url
