"""`rag ui`: the web UI (Gradio), on 127.0.0.1 unless told otherwise.

Gradio is imported only when the command runs, so `rag --help` stays fast.
"""

from __future__ import annotations

import argparse
import os
import ipaddress
import sys
import time

from rag.cli.ask_cmd import add_answer_options
from rag.cli.common import document_filter, embedder_spec, index_named, index_path, llm_spec
from rag.errors import RagError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "ui",
        help="open the web UI (chat with cited sources, uploads)",
        description="Serve a web UI: a chat whose answers cite the articles, a sources panel, settings, "
        "and uploads of .txt, .md, .html and .pdf files into the index. Listens on 127.0.0.1 only, "
        "unless --host says otherwise; never shared publicly unless --share. Set RAG_UI_USER and "
        "RAG_UI_PASSWORD to require a login. If there is no index yet, one is built from seeds/ first. "
        "The app also serves an API endpoint /ask (gradio_client) returning the JSON of `rag ask --json`.",
        epilog="examples:\n  rag ui                       # http://127.0.0.1:7860\n"
        "  rag ui --port 8080\n"
        "  RAG_UI_USER=me RAG_UI_PASSWORD=secret rag ui --host 0.0.0.0",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--share", action="store_true", help="also create a public gradio.live link (off by default)")
    add_answer_options(p)
    p.set_defaults(handler=run)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_port(host: str, port: int) -> None:
    """Refuse a port that cannot be listened on, in one line of our own: Gradio's error names
    its GRADIO_SERVER_PORT and `launch()`, which mean nothing to a `rag ui` user."""
    import socket  # stdlib, only when serving

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError):
        raise RagError(f"cannot serve on {host}: not a known address; give --host one such as 127.0.0.1") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(address)
        except OSError as exc:
            raise RagError(_port_refusal(host, port, exc)) from None


def _port_refusal(host: str, port: int, exc: OSError) -> str:
    """Why the port cannot be used, and what to do instead."""
    import errno  # stdlib, only on the error path

    if exc.errno == errno.EADDRINUSE:
        return f"port {port} on {host} is in use; choose another with --port"
    if exc.errno == errno.EACCES:
        return f"port {port} needs privileges on this machine; choose one above 1023 with --port"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine; give --host one that is (default 127.0.0.1)"
    return f"cannot serve on {host}:{port} ({exc.strerror or exc}); choose another --port"


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise RagError("--port must be between 1 and 65535")
    from rag.ui.service import MAX_K  # deferred: heavy, not needed for --help

    if not 1 <= args.k <= MAX_K:
        raise RagError(f"--k must be between 1 and {MAX_K}")
    from rag.ingest.pipeline import (
        ensure_index,  # deferred: heavy, not needed for --help
    )
    from rag.ui.app import (  # deferred: heavy, not needed for --help
        auth_from_env,
        build_app,
        launch_app,
    )
    from rag.ui.leftovers import (
        pending_message,  # deferred: imports the ingest pipeline
    )

    auth = auth_from_env()
    directory = index_path(args)
    spec = embedder_spec(args)
    ensure_index(directory, spec, named=index_named(args))
    from rag.store.factory import open_store  # deferred: numpy and FAISS, not needed for --help

    with open_store(directory) as store:  # a damaged or newer index: one line now, not a server that fails
        store.embedder(spec)
    llm = llm_spec(args)
    if getattr(args, "reader", None):  # the UI's assistants read RAG_READER
        os.environ["RAG_READER"] = args.reader
    check_port(args.host, args.port)  # before the app is built: a busy port is one line, at once
    if auth is None and (args.share or not _is_loopback(args.host)):
        print("Warning: serving beyond this machine without a login; set RAG_UI_USER and RAG_UI_PASSWORD"
              " to require one.", file=sys.stderr)
    app = build_app(directory, k=args.k, mode=args.mode, llm=llm, embedder_spec=spec, reranker=args.rerank,
                    where=document_filter(args))
    try:
        pending = app.rag_service.pending_uploads()  # type: ignore[attr-defined]
        if pending:  # said once here; the index panel keeps saying it until they are added
            print(f"Warning: {pending_message(pending)}", file=sys.stderr)
        try:
            # quiet: Gradio's own banner ends with "set `share=True` in `launch()`"; here it is --share.
            url = launch_app(app, host=args.host, port=args.port, share=args.share, auth=auth,
                             prevent_thread_lock=True, quiet=True)
        except OSError:  # taken since check_port, or refused: our line, not Gradio's hints
            check_port(args.host, args.port)
            raise RagError(f"cannot serve on {args.host}:{args.port}; choose another with --port") from None
        try:
            print(f"Serving {directory} on {url}" + (f" and {app.share_url}" if getattr(app, "share_url", None) else "")
                  + " (Ctrl-C to stop" + ("" if args.share else "; --share for a public link") + ")", file=sys.stderr)
            while app.is_running:
                time.sleep(0.2)
        except KeyboardInterrupt:
            print("Stopped.", file=sys.stderr)
        finally:
            app.close(verbose=False)
    finally:
        app.rag_service.close()  # type: ignore[attr-defined]
    return 0
