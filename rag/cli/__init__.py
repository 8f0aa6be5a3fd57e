"""The `rag` command: one module per command group, each registering its own subcommand.

Only argparse is imported at start-up; each command imports what it needs when it runs, so
`rag --help` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rag import __version__
from rag.cli import ask_cmd, eval_cmd, index_cmd, info_cmd, ingest_cmd, ui_cmd
from rag.errors import RagError, system_error_message

EPILOG = """\
examples:
  rag ingest seeds/                      build or update the index from a folder
  rag ask "How many children were abused in Rotherham?"
  rag ask "Who wrote to Sir Tom Winsor?" --json
  rag ask --questions questions.txt --json > answers.jsonl
  rag chat                               ask follow-up questions
  rag eval --out report/                 score the assistant on eval/seed_questions.jsonl
  rag ui                                 open the web UI on http://127.0.0.1:7860
  rag info                               what the index holds
  rag index recover                      manifest.json lost or damaged: publish the last complete generation

The index lives in ./.rag-index unless --index or RAG_INDEX names another directory, or a
Milvus collection: --index milvus://HOST:PORT/NAME (install '.[milvus]').
"""

COMMANDS = ("ingest", "ask", "chat", "eval", "ui", "info", "index")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rag",
        description="Ask questions about a folder of news articles; answers cite verbatim passages.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rag {__version__}")
    add_global_options(parser, default=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (ingest_cmd, ask_cmd, eval_cmd, ui_cmd, info_cmd, index_cmd):
        module.register(sub)
    commands = list(sub.choices.values())
    while commands:
        # Global options are accepted after the subcommand too (`rag ask "q" --index DIR`), and each
        # command's --help lists them. SUPPRESS: a value given before the subcommand is kept.
        command = commands.pop()
        add_global_options(command.add_argument_group("global options"), default=argparse.SUPPRESS)
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):  # `rag index recover`
                commands.extend(action.choices.values())
    return parser


def add_global_options(parser: "argparse.ArgumentParser | argparse._ArgumentGroup", *, default: object) -> None:
    parser.add_argument("--index", metavar="DIR|URI", default=default,
                        help="index directory or milvus://HOST:PORT/NAME (default: $RAG_INDEX or ./.rag-index)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: user mistakes print one `Error: ...` line and exit 1, never a traceback."""
    for stream in (sys.stdout, sys.stderr):
        # A file name with undecodable bytes is printed escaped, never as a UnicodeEncodeError.
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except RagError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted; the index is unchanged.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:
        message = system_error_message(exc)
        if message is not None:  # a full disk, a read-only directory: the machine, not a bug
            print(f"Error: {message}", file=sys.stderr)
            return 1
        from embeddings.errors import (
            EmbedderError,  # deferred: `embeddings` imports numpy and LangChain
        )

        if isinstance(exc, EmbedderError):
            print(f"Error: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
