"""`rag ask` and `rag chat`: answers with numbered, verbatim sources."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from rag.cli.common import (
    add_reader_flag,
    reader_spec,
    add_embedder_flag,
    add_filter_flags,
    document_filter,
    add_json_flag,
    embedder_spec,
    index_named,
    index_path,
    llm_spec,
    print_json,
)
from rag.cli.ingest_cmd import summary
from rag.config import display_path
from rag.errors import RagError

if TYPE_CHECKING:
    from rag.answer.assistant import Assistant, Conversation
    from rag.answer.types import Answer


def add_answer_options(p: argparse.ArgumentParser) -> None:
    """Options shared by everything that answers: ask, chat and ui."""
    p.add_argument("--k", type=int, default=5, help="passages to retrieve (default 5)")
    p.add_argument("--mode", choices=("hybrid", "lexical", "dense"), default="hybrid", help="retrieval mode")
    p.add_argument("--llm", metavar="SPEC", default=None,
                   help="answer with a chat model via LangChain, e.g. ollama:llama3.2, openai:gpt-4o-mini ($RAG_LLM)")
    p.add_argument("--llm-base-url", metavar="URL", default=None,
                   help="OpenAI-compatible server for --llm openai:MODEL ($RAG_LLM_BASE_URL)")
    p.add_argument("--rerank", metavar="MODEL", default=None, help="cross-encoder to rerank passages (name or path)")
    add_reader_flag(p)
    add_embedder_flag(p)
    add_filter_flags(p)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "ask",
        help="answer a question with cited passages",
        description="Answer a question from the indexed articles, citing verbatim passages. "
        "If there is no index yet, one is built from seeds/ first.",
        epilog='examples:\n  rag ask "How many children were abused in Rotherham?"\n'
        '  rag ask "Who leads the police watchdog?" --json\n'
        "  rag ask --questions questions.txt --json   # one JSON object per line",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("question", nargs="?", help="the question (quote it)")
    p.add_argument("--questions", metavar="FILE", type=Path, help="answer each line of FILE ('-' for stdin)")
    p.add_argument("--explain", action="store_true", help="show each passage's BM25 rank, dense rank and fused score")
    add_answer_options(p)
    add_json_flag(p)
    p.set_defaults(handler=run_ask)

    c = sub.add_parser(
        "chat",
        help="ask questions interactively; follow-ups keep context",
        description="An interactive session: follow-up questions such as 'And in Oxford?' keep the context. "
        "Empty line or Ctrl-D to quit.",
    )
    add_answer_options(c)
    c.set_defaults(handler=run_chat)


def open_assistant(args: argparse.Namespace, *, quiet: bool = False) -> "Assistant":
    """Open the index, building it from seeds/ first if there is none yet."""
    from rag.answer.assistant import Assistant  # deferred: heavy, not needed for --help
    from rag.ingest.pipeline import (
        ensure_index,  # deferred: heavy, not needed for --help
    )

    directory = index_path(args)
    report = ensure_index(directory, embedder_spec(args), progress=not quiet, named=index_named(args))
    if report is not None and not quiet:
        print(summary(report), file=sys.stderr)
    llm = llm_spec(args)
    if args.k <= 0 or args.k > 50:
        raise RagError("--k must be between 1 and 50")
    where = document_filter(args)
    return Assistant(directory, mode=args.mode, k=args.k, embedder_spec=embedder_spec(args), llm=llm,
                     reranker=args.rerank, where=where, span_reader=reader_spec(args))


BOLD, RESET = "\033[1m", "\033[0m"


def use_color() -> bool:
    """Bold highlights only on a terminal (and never with NO_COLOR set)."""
    import os

    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _bold(text: str, start: int, end: int, color: bool) -> str:
    """text with text[start:end] in bold on a terminal; unchanged otherwise."""
    if not color or not 0 <= start < end <= len(text):
        return text
    return f"{text[:start]}{BOLD}{text[start:end]}{RESET}{text[end:]}"


def render(answer: "Answer", *, explain: bool = False, streamed: str = "", color: bool | None = None) -> str:
    """The answer, then its numbered sources with title, place and quote.

    `streamed` is the raw text already shown token by token; the checked answer replaces it
    only when verification changed it. The short answer (`answer_span`) is in bold where it
    leads the answer and inside its quote, when `color` (default: stdout is a terminal).
    """
    width = 100
    color = use_color() if color is None else color
    span = answer.answer_span
    lines = [] if streamed.strip() == answer.answer.strip() else [textwrap.fill(answer.answer, width)]
    if lines and span is not None and answer.answer.startswith(span.text):
        lines[0] = _bold(lines[0], 0, len(span.text), color) if lines[0].startswith(span.text) else lines[0]
    if streamed and lines:
        lines.insert(0, "Checked against the passages:")
    if answer.notice:  # nothing was found: say why (an empty index, a filter no article passes)
        lines.append("")
        lines.append(textwrap.fill(f"Note: {answer.notice}", width))
    if answer.abstained and answer.passages:
        lines.append("")
        lines.append("Closest passages:")
        for p in answer.passages[:3]:
            snippet = " ".join(p.text.split())
            lines.append(f"  - {p.title} [{display_path(p.source)} {p.start}-{p.end}]")
            lines.append(textwrap.indent(textwrap.fill(textwrap.shorten(snippet, 300), width - 6), "      "))
    elif not answer.abstained:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            where = f" ({c.provenance})" if c.provenance else ""
            if c.also_published_by:
                where += f" (also carried by {', '.join(c.also_published_by)})"
            lines.append(f"  [{c.n}] {c.title}{where} — {display_path(c.source)}, chars {c.start}-{c.end}")
            quote = " ".join(c.quote.split())
            if color and span is not None and span.citation == c.n:
                # Wrap first, then mark: the span's words keep their place in the wrapped lines.
                before = " ".join(c.quote[: span.start - c.start].split())
                a = len(before) + (1 if before and c.quote[span.start - c.start - 1].isspace() else 0) + 1
                wrapped = textwrap.fill(f"“{quote}”", width - 6)
                lines.append(textwrap.indent(_bold_flat(wrapped, a, a + len(" ".join(span.text.split()))), "      "))
            else:
                lines.append(textwrap.indent(textwrap.fill(f"“{quote}”", width - 6), "      "))
    if answer.model_reply_note:
        lines.append("")
        lines.append(textwrap.fill(f"({answer.model_reply_note})", width))
    if explain:
        lines.append("")
        lines.append("Retrieved (rank: fused score, BM25 rank, dense rank):")
        for p in answer.passages:
            lines.append(
                f"  {p.rank}. {p.score:.4f}  bm25={p.bm25_rank or '-'}  dense={p.dense_rank or '-'}"
                f"  {display_path(p.source)} {p.start}-{p.end}"
            )
    lines.append("")
    reader = f"reader {answer.reader['name']}" if answer.reader else "reader off"
    lines.append(f"({answer.generator}, {reader}, {answer.retrieval_mode} retrieval, embedder {answer.embedder},"
                 f" {answer.timings_ms.get('total', 0):.0f} ms)")
    return "\n".join(lines)


def _bold_flat(wrapped: str, start: int, end: int) -> str:
    """Bold the characters [start, end) of the unwrapped text inside its wrapped form (the
    wrapping only turned single spaces into newlines)."""
    out = []
    for i, ch in enumerate(wrapped):
        if i == start:
            out.append(BOLD)
        if i == end:
            out.append(RESET)
        out.append(ch)
    if start < len(wrapped) <= end:
        out.append(RESET)
    return "".join(out)


def stream_answer(assistant: "Assistant", question: str,
                  conversation: "Conversation | None" = None) -> tuple["Answer", str]:
    """Ask, showing a model's tokens as they come when stdout is a terminal; returns the final
    Answer and the text left on screen ("" when none is). Streamed text that the check then
    drops is taken back (cleared, or marked where the terminal cannot clear), never left there
    as if it were the answer. Piped output gets only the final, checked answer."""
    live = assistant.generator is not None and sys.stdout.isatty()
    streamed = ""
    answer = None
    for item in assistant.ask_stream(question, conversation):
        if not isinstance(item, str):
            answer = item
        elif live:
            sys.stdout.write(item)
            sys.stdout.flush()
            streamed += item
    assert answer is not None
    if not streamed:
        return answer, ""
    if answer.fallback_reason is None and not answer.dropped:
        sys.stdout.write("\n\n")
        return answer, streamed
    withdraw(streamed)
    return answer, ""


def withdraw(streamed: str) -> None:
    """Take streamed text back off the terminal: clear the rows it took, or, on a terminal that
    cannot clear (TERM=dumb), say on a new line that it is withdrawn."""
    import os
    import shutil

    if os.environ.get("TERM", "") == "dumb":
        sys.stdout.write("\n[withdrawn: the text above is not supported by the passages]\n\n")
        return
    columns = max(shutil.get_terminal_size((80, 24)).columns, 1)
    rows = sum(max(1, -(-len(line) // columns)) for line in streamed.split("\n"))
    sys.stdout.write("\r" + (f"\033[{rows - 1}A" if rows > 1 else "") + "\033[J")
    sys.stdout.flush()


def run_ask(args: argparse.Namespace) -> int:
    if args.question is not None and args.questions:
        raise RagError("give a question, or --questions FILE, not both")
    if args.question is None and not args.questions:
        raise RagError('give a question (rag ask "QUESTION") or --questions FILE')
    if args.question is not None:
        from rag.answer.questions import validate  # deferred with the rest of rag.answer: not for --help

        args.question = validate(args.question)  # an empty or blank question is said to be empty
    assistant = open_assistant(args, quiet=args.json)
    try:
        if args.questions:
            return _answer_file(assistant, args)
        if args.json:
            answer = assistant.ask(args.question)
            print_json(answer.to_json(display_path))
            return 0
        answer, streamed = stream_answer(assistant, args.question)
        print(render(answer, explain=args.explain, streamed=streamed))
        return 0
    finally:
        assistant.close()


def _answer_file(assistant: "Assistant", args: argparse.Namespace) -> int:
    """One question per line in, one answer per line out (JSON with --json); errors stay per line."""
    source = sys.stdin if str(args.questions) == "-" else None
    try:
        handle = source or open(args.questions, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise RagError(f"cannot read {args.questions}: {exc.strerror}") from None
    failures = 0
    with handle:
        for line in handle:
            question = line.strip()
            if not question:
                continue
            try:
                answer = assistant.ask(question)
            except RagError as exc:
                failures += 1
                if args.json:
                    print_json({"question": question[:200], "error": str(exc)})
                else:
                    print(f"Error: {exc}", file=sys.stderr)
                continue
            if args.json:
                print_json(answer.to_json(display_path))
            else:
                print(f"Q: {question}\n{render(answer, explain=args.explain)}\n")
    return 1 if failures else 0


def run_chat(args: argparse.Namespace) -> int:
    from rag.answer.assistant import (
        Conversation,  # deferred: heavy, not needed for --help
    )

    assistant = open_assistant(args)
    conversation = Conversation()
    print(f"Asking {assistant.store.counts()[0]} article(s) with {assistant.generator_name} answers."
          " Empty line or Ctrl-D to quit.")
    try:
        while True:
            try:
                question = input("\n? ")
            except EOFError:
                print()
                break
            if not question.strip():
                break
            try:
                answer, streamed = stream_answer(assistant, question, conversation)
                if answer.question != conversation.previous:
                    print(f"(understood as: {conversation.previous})")
                print(render(answer, streamed=streamed))
            except RagError as exc:
                print(f"Error: {exc}", file=sys.stderr)
    finally:
        assistant.close()
    return 0
