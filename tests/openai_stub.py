"""A scripted OpenAI-compatible chat server on loopback (standard library only), for the faults a
real server shows: streamed replies (SSE) that finish, run out of tokens, stop mid-answer, come
slowly, arrive empty; an HTML 502 from a proxy; a prompt longer than the model's context.

    with ScriptedServer(Reply("In Rotherham ... [1].")) as server:
        ... --llm openai:stub --llm-base-url server.url ...
        server.requests  # the JSON bodies received

Each request takes the next reply of the script (the last one repeats). Delays are bounded
sleeps in the server's thread, so a test waits at most the sum it scripted.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer to a chat completion request."""

    text: str = ""
    #: The finish_reason of the last chunk; None: the stream ends without one (a server killed mid-answer).
    finish: str | None = "stop"
    #: Characters per streamed chunk, and seconds to wait before each chunk.
    piece: int = 8
    delay: float = 0.0
    #: HTTP status other than 200: sent with `body` (HTML for a proxy's 502).
    status: int = 200
    body: str = ""
    content_type: str = "application/json"
    #: Reject prompts over this many tokens (estimated at 4 characters each), as llama.cpp does.
    context: int | None = None


class ScriptedServer:
    """Serves the scripted replies in order on 127.0.0.1:<free port>."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies) or [Reply()]
        self.requests: list[dict[str, Any]] = []
        self._served = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # the stream ends when the connection closes

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                server.requests.append(body)
                reply = server.replies[min(server._served, len(server.replies) - 1)]
                server._served += 1
                server.respond(self, body, reply)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> "ScriptedServer":
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @staticmethod
    def respond(handler: BaseHTTPRequestHandler, body: dict[str, Any], reply: Reply) -> None:
        prompt = json.dumps(body.get("messages", []))
        if reply.context is not None and len(prompt) // 4 > reply.context:
            error = {"error": {"code": 400, "type": "exceed_context_size_error", "n_ctx": reply.context,
                               "message": "the request exceeds the available context size, try increasing it"}}
            ScriptedServer._send(handler, 400, json.dumps(error), "application/json")
            return
        if reply.status != 200:
            ScriptedServer._send(handler, reply.status, reply.body, reply.content_type)
            return
        model = body.get("model", "stub")
        if not body.get("stream"):
            data = {"id": "x", "object": "chat.completion", "created": 0, "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text},
                                 "finish_reason": reply.finish or "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
            ScriptedServer._send(handler, 200, json.dumps(data), "application/json")
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        pieces = [reply.text[i:i + reply.piece] for i in range(0, len(reply.text), reply.piece)]
        try:
            for piece in pieces:
                if reply.delay:
                    time.sleep(reply.delay)
                ScriptedServer._event(handler, model, {"content": piece}, None)
            if reply.finish is None:
                return  # the server went away: no finish_reason, no [DONE]
            ScriptedServer._event(handler, model, {}, reply.finish)
            handler.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            return  # the client stopped reading (a time limit): fine

    @staticmethod
    def _event(handler: BaseHTTPRequestHandler, model: str, delta: dict[str, str], finish: str | None) -> None:
        chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        handler.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        handler.wfile.flush()

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, text: str, content_type: str) -> None:
        payload = text.encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
