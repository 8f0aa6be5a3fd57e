"""The fault matrix: every command against hostile conditions, as a user would meet them.

For each condition and each command (ingest, ask, ask --questions, chat, eval, info, ui startup)
it records the exit code, the one line the command printed (its `Error:` line, else its first
line), whether a traceback appeared, and whether the index still answers afterwards
(`rag ask` finds "1,400" for the Rotherham question) with its published files intact.

Conditions: a read-only index directory and a full disk (tmpfs mounts; reported as skipped
where mounting is not permitted), an index written by a newer rag (manifest version, schema
version), two `rag ui` processes on one index while `rag ingest` runs, SIGKILL during a UI
upload, invalid UTF-8 in a question and a file name, a 50 MB HTML file of nested tags, and PDF
compression bombs (one FlateDecode stream expanding to 4 GiB; 20 pages of 70 MB each).

    .venv/bin/python bench/fault_matrix.py [--only NAME ...] [--skip-slow]

Every command runs as its own process (`python -m rag`), with the offline embedder.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
DATASET = REPO / "eval" / "seed_questions.jsonl"
QUESTION = "How many children were sexually abused in Rotherham?"
EXPECTED = "1,400"
COMMANDS = ("ingest", "ask", "ask --questions", "chat", "eval", "info", "ui startup")


@dataclass
class Row:
    condition: str
    command: str
    code: str
    line: str
    traceback: bool
    answers: str
    files: str

    @property
    def clean(self) -> bool:
        killed = self.command.endswith("(killed)") and self.code == str(-signal.SIGKILL)  # the fault itself
        exit_ok = killed or self.code == "0" or (self.line.startswith("Error:") and self.code == "1")
        return exit_ok and not self.traceback and self.answers in ("yes", "n/a") and self.files != "LOST"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(PYTHONPATH=str(REPO), RAG_EMBEDDER="offline", HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return env


def rag(args: list[str | bytes], *, cwd: Path, stdin: bytes | None = None, timeout: float = 300) -> tuple[str, str, str]:
    """Run `python -m rag ARGS`; (exit code, stdout, stderr), code 'timeout' past `timeout` seconds."""
    command: list[str | bytes] = [sys.executable, "-m", "rag", *args]
    try:
        done = subprocess.run(command, cwd=cwd, env=_env(), input=stdin if stdin is not None else b"",
                              capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        return "timeout", (exc.stdout or b"").decode(errors="replace"), (exc.stderr or b"").decode(errors="replace")
    return str(done.returncode), done.stdout.decode(errors="backslashreplace"), done.stderr.decode(errors="backslashreplace")


def printed(out: str, err: str) -> str:
    """The line a user reads: the Error: line, else the last traceback line, else the first line."""
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("Notice:")]
    errors = [line for line in lines if line.startswith("Error:")]
    if errors:
        return errors[0] + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")
    if "Traceback" in err:
        return "TRACEBACK: " + lines[-1]
    warnings = [line for line in lines if line.startswith("Warning:")]
    if warnings:
        return warnings[0] + (f" (+{len(warnings) - 1} more warnings)" if len(warnings) > 1 else "")
    first = next((line for line in out.splitlines() if line.strip()), "")
    return (lines[0] if lines else first).strip()


def answers(index: Path, cwd: Path) -> str:
    code, out, _ = rag(["--index", str(index), "ask", QUESTION, "--json"], cwd=cwd, timeout=120)
    try:
        return "yes" if code == "0" and EXPECTED in json.loads(out)["answer"] else "NO"
    except (ValueError, KeyError):
        return "NO"


def published_files(index: Path) -> set[str]:
    try:
        manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
        return {manifest["sqlite_file"], manifest["faiss_file"]}
    except (OSError, ValueError, KeyError):
        return set()


def files_state(index: Path, before: set[str]) -> str:
    """'kept' when the published generation is still there, 'new gen' when a newer one was published."""
    now = published_files(index)
    if now == before and all((index / name).is_file() for name in now):
        return "kept"
    if now and all((index / name).is_file() for name in now):
        return "new gen"
    return "LOST"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class UI:
    """A `rag ui` process: started, waited for ("Serving ..." or an error), asked, stopped."""

    def __init__(self, index: Path, cwd: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "rag", "--index", str(index), "ui", "--port", str(self.port)],
                                     cwd=cwd, env=_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, errors="backslashreplace")
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.err: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.first = self._wait()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _wait(self, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                return ""
            if line.startswith(("Serving", "Error:")):
                return line.strip()
        return "timeout"

    @property
    def serving(self) -> bool:
        return self.first.startswith("Serving")

    def ask(self, question: str = QUESTION) -> bool:
        """The app's /ask endpoint over plain HTTP (the JSON body may carry "\\udcff", which
        gradio_client cannot send), answered with the Rotherham figure."""
        import urllib.request

        base = f"http://127.0.0.1:{self.port}/gradio_api/call/ask"
        try:
            # The endpoint's parameters after the question (k, mode, filters...) at their defaults.
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/gradio_api/info", timeout=60) as response:  # noqa: S310
                parameters = json.loads(response.read())["named_endpoints"]["/ask"]["parameters"]
            rest = [p.get("parameter_default") if p.get("parameter_has_default") else "" for p in parameters[1:]]
            body = json.dumps({"data": [question, *rest]}).encode("ascii")
            request = urllib.request.Request(base, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
                event = json.loads(response.read())["event_id"]
            with urllib.request.urlopen(f"{base}/{event}", timeout=60) as response:  # noqa: S310 - loopback
                stream = response.read().decode("utf-8", errors="replace")
        except (OSError, ValueError, KeyError):
            return False
        data = [line[6:] for line in stream.splitlines() if line.startswith("data: ")]
        try:
            result = json.loads(data[-1])[0] if data else None
        except (ValueError, IndexError, KeyError, TypeError):
            return False
        return isinstance(result, dict) and EXPECTED in str(result.get("answer", ""))

    def stop(self) -> tuple[str, str]:
        if not self.serving:  # it said why it cannot serve: let it exit by itself
            with suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=60)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        time.sleep(0.2)  # the reader thread drains what is left
        return str(self.proc.returncode), "".join(self.err)


# --- building blocks -------------------------------------------------------------------------------

def build_seed_index(index: Path, cwd: Path) -> None:
    code, _, err = rag(["--index", str(index), "ingest", str(SEEDS), "-q"], cwd=cwd)
    if code != "0":
        raise SystemExit(f"cannot build the seed index: {err}")


def corpus_with(directory: Path, extra: dict[str, bytes] | None = None, n_new: int = 3) -> Path:
    """The seeds, a few new articles (so an ingest has something to write), and `extra` files."""
    directory.mkdir(parents=True, exist_ok=True)
    for path in SEEDS.iterdir():
        shutil.copyfile(path, directory / path.name)
    for i in range(n_new):
        (directory / f"new-{i}.txt").write_text(
            f"Wakefield council story {i}\n\n" + " ".join(
                f"Sentence {j} of story {i} says the Wakefield council library budget was {i * 100 + j} pounds."
                for j in range(30)), encoding="utf-8")
    for name, data in (extra or {}).items():
        (directory / os.fsdecode(name.encode("utf-8", "surrogateescape"))).write_bytes(data)
    return directory


def _pdf(streams: list[bytes]) -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(streams)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(streams)} >>".encode())
    font = 3 + 2 * len(streams)
    for i, data in enumerate(streams):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R"
                       f" /Resources << /Font << /F1 {font} 0 R >> >> >>".encode())
        objects.append(b"<< /Length " + str(len(data)).encode() + b" /Filter /FlateDecode >>\nstream\n" + data
                       + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out, offsets = b"%PDF-1.4\n", []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def _flate_bomb(n_bytes: int) -> bytes:
    """A content stream: one line of text, then `n_bytes` of spaces, zlib-compressed (~1000:1)."""
    c = zlib.compressobj(9)
    block = b" " * (1 << 20)
    parts = [c.compress(b"BT /F1 12 Tf 72 720 Td (Wakefield council approved the budget) Tj ET\n")]
    parts += [c.compress(block) for _ in range(n_bytes >> 20)]
    parts.append(c.flush())
    return b"".join(parts)


def nested_html(megabytes: int = 50) -> bytes:
    n = megabytes * 2**20 // 11
    return (b"<html><body>" + b"<div>" * n + b"Wakefield council approved the library budget on Tuesday."
            + b"</div>" * n + b"</body></html>")


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[bool]:
    """A tmpfs mounted at `path`; yields False (and mounts nothing) where mounting is not permitted."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


# --- the commands ----------------------------------------------------------------------------------

def run_commands(condition: str, index: Path, cwd: Path, corpus: Path, *, question: str | bytes = QUESTION,
                 questions_file: bytes | None = None, chat_input: bytes | None = None,
                 ui_question: str = QUESTION, check: Callable[[], str] | None = None,
                 only: tuple[str, ...] = COMMANDS) -> list[Row]:
    """Each command once against `index`, then whether the index still answers."""
    rows = []
    qfile = cwd / "questions.txt"
    qfile.write_bytes(questions_file if questions_file is not None else (QUESTION + "\n").encode())
    ix = str(index)
    plans: dict[str, tuple[list[str | bytes], bytes | None]] = {
        "ingest": (["--index", ix, "ingest", str(corpus)], None),
        "ask": (["--index", ix, "ask", question], None),
        "ask --questions": (["--index", ix, "ask", "--questions", str(qfile), "--json"], None),
        "chat": (["--index", ix, "chat"], chat_input if chat_input is not None else (QUESTION + "\n\n").encode()),
        "eval": (["--index", ix, "eval", "--use-index", "--limit", "3", "--dataset", str(DATASET)], None),
        "info": (["--index", ix, "info"], None),
    }
    for command in only:
        before = published_files(index)
        if command == "ui startup":
            ui = UI(index, cwd)
            asked = ui.ask(ui_question) if ui.serving else False
            code, err = ui.stop()
            line = ui.first if ui.first and ui.first != "timeout" else printed("", err) or ui.first
            tb = "Traceback" in err
            code = "0" if ui.serving and code in ("0", "130") else code
            answer_note = ("yes" if asked else "NO") if ui.serving else (check or (lambda: answers(index, cwd)))()
            rows.append(Row(condition, command, code, line, tb, answer_note, files_state(index, before)))
            continue
        args, stdin = plans[command]
        code, out, err = rag(args, cwd=cwd, stdin=stdin)
        rows.append(Row(condition, command, code, printed(out, err), "Traceback" in err,
                        (check or (lambda: answers(index, cwd)))(), files_state(index, before)))
    return rows


# --- the conditions --------------------------------------------------------------------------------

def baseline(work: Path, only: tuple[str, ...]) -> list[Row]:
    index = work / "ix"
    build_seed_index(index, work)
    return run_commands("baseline (for reference)", index, work, corpus_with(work / "corpus"), only=only)


def read_only(work: Path, only: tuple[str, ...]) -> list[Row]:
    mount = work / "ro"
    with tmpfs(mount, "8m") as mounted:
        if not mounted:
            return [Row("read-only index dir", c, "-", "skipped: mounting a tmpfs is not permitted here", False, "n/a",
                        "n/a") for c in only]
        build_seed_index(mount / "ix", work)
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        return run_commands("read-only index dir", mount / "ix", work, corpus_with(work / "corpus"), only=only)


def full_disk(work: Path, only: tuple[str, ...]) -> list[Row]:
    mount = work / "full"
    with tmpfs(mount, "2m") as mounted:
        if not mounted:
            return [Row("full disk", c, "-", "skipped: mounting a tmpfs is not permitted here", False, "n/a", "n/a")
                    for c in only]
        build_seed_index(mount / "ix", work)
        with suppress(OSError), open(mount / "filler", "wb") as fh:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        return run_commands("full disk (2 MB tmpfs)", mount / "ix", work, corpus_with(work / "corpus", n_new=30),
                            only=only)


def newer_manifest(work: Path, only: tuple[str, ...]) -> list[Row]:
    index = work / "ix"
    build_seed_index(index, work)
    manifest = json.loads((index / "manifest.json").read_text())
    manifest["manifest_version"] = 99
    (index / "manifest.json").write_text(json.dumps(manifest))
    return run_commands("newer rag: manifest v99", index, work, corpus_with(work / "corpus"),
                        check=lambda: "n/a", only=only)


def newer_schema(work: Path, only: tuple[str, ...]) -> list[Row]:
    index = work / "ix"
    build_seed_index(index, work)
    db = index / json.loads((index / "manifest.json").read_text())["sqlite_file"]
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_migrations(version, applied_at) VALUES (99, 'future')")
    conn.commit()
    conn.close()
    before = db.read_bytes()

    def unchanged() -> str:
        return "n/a" if db.exists() and db.read_bytes() == before else "CHANGED"

    return run_commands("newer rag: schema v99", index, work, corpus_with(work / "corpus"), check=unchanged, only=only)


def invalid_utf8(work: Path, only: tuple[str, ...]) -> list[Row]:
    index = work / "ix"
    build_seed_index(index, work)
    bad = "caf\udce9-story.txt"  # the file name has the byte 0xE9: not UTF-8
    corpus = corpus_with(work / "corpus", {bad: b"Caf\xe9 story\n\nThe caf\xe9 council met on Monday in Leeds."})
    return run_commands(
        "invalid UTF-8 (question, file name)", index, work, corpus,
        question=b"How many children were sexually abused in Rotherham \xff\xfe?",
        questions_file=b"How many children were sexually abused in Rotherham \xff?\n\xc3\x28 broken \xed\xa0\x80\n",
        chat_input=b"How many children were sexually abused in Rotherham \xff?\n\n",
        ui_question="How many children were sexually abused in Rotherham \udcff?", only=only)


def html_bomb(work: Path, only: tuple[str, ...]) -> list[Row]:
    index = work / "ix"
    build_seed_index(index, work)
    corpus = corpus_with(work / "corpus", {"nested.html": nested_html(50)})
    return run_commands("HTML: 50 MB of nested tags", index, work, corpus, only=only)


def pdf_bomb(work: Path, only: tuple[str, ...]) -> list[Row]:
    index = work / "ix"
    build_seed_index(index, work)
    corpus = corpus_with(work / "corpus", {"bomb-4gib.pdf": _pdf([_flate_bomb(4 << 30)]),
                                           "bomb-20x70mb.pdf": _pdf([_flate_bomb(70 << 20) for _ in range(20)])})
    return run_commands("PDF zip bombs (4 GiB stream; 20x70 MB)", index, work, corpus, only=only)


KILL_UPLOAD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import rag.ingest.pipeline as pipeline
    from rag.ui.service import Service

    def flush(self):
        os.kill(os.getpid(), signal.SIGKILL)  # the UI process dies mid-upload, vectors half made

    pipeline._Batcher.flush = flush
    service = Service(Path(sys.argv[1]))
    service.add_files([(Path(sys.argv[2]), "upload.txt")])
""")


def killed_upload(work: Path, only: tuple[str, ...]) -> list[Row]:
    index = work / "ix"
    build_seed_index(index, work)
    upload = work / "upload.txt"
    upload.write_text("Uploaded story about Wakefield\n\n" + "The Wakefield council met on Monday. " * 40,
                      encoding="utf-8")
    before = published_files(index)
    done = subprocess.run([sys.executable, "-c", KILL_UPLOAD, str(index), str(upload)], cwd=work, env=_env(),
                          capture_output=True, timeout=300)
    err = done.stderr.decode(errors="replace")
    rows = [Row("SIGKILL during a UI upload", "upload (killed)", str(done.returncode), printed("", err) or "(killed)",
                "Traceback" in err, answers(index, work), files_state(index, before))]
    return rows + run_commands("SIGKILL during a UI upload: after", index, work, corpus_with(work / "corpus"), only=only)


def concurrent(work: Path, only: tuple[str, ...]) -> list[Row]:
    """Two `rag ui` on one index, asked again and again while `rag ingest` writes 300 new articles."""
    index = work / "ix"
    build_seed_index(index, work)
    corpus = corpus_with(work / "corpus", n_new=300)
    condition = "2 x rag ui + rag ingest at once"
    uis = [UI(index, work), UI(index, work)]
    rows: list[Row] = []
    try:
        before = published_files(index)
        proc = subprocess.Popen([sys.executable, "-m", "rag", "--index", str(index), "ingest", str(corpus), "-q"],
                                cwd=work, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        asked = {0: [0, 0], 1: [0, 0]}
        side: list[tuple[str, tuple[str, str, str]]] = []
        while proc.poll() is None:
            for i, ui in enumerate(uis):
                asked[i][0] += 1
                asked[i][1] += ui.ask()
            if not side:  # once, while the ingest holds the writer lock
                side.append(("ask (during ingest)", rag(["--index", str(index), "ask", QUESTION], cwd=work)))
                side.append(("info (during ingest)", rag(["--index", str(index), "info"], cwd=work)))
                side.append(("2nd ingest (during ingest)",
                             rag(["--index", str(index), "ingest", str(corpus), "-q"], cwd=work)))
        out, err = (b.decode(errors="replace") for b in proc.communicate())
        rows.append(Row(condition, "ingest (300 files)", str(proc.returncode), printed(out, err), "Traceback" in err,
                        answers(index, work), files_state(index, before)))
        for name, (code, o, e) in side:
            rows.append(Row(condition, name, code, printed(o, e), "Traceback" in e, "n/a", "kept"))
        for i, ui in enumerate(uis):
            after = ui.ask()
            total, good = asked[i]
            code, err = ui.stop()
            rows.append(Row(condition, f"ui #{i + 1}: {good}/{total} answered during ingest", "0" if after else code,
                            ui.first, "Traceback" in err, "yes" if after and good == total else "NO", "kept"))
    finally:
        for ui in uis:
            ui.stop()
    return rows


CONDITIONS: dict[str, tuple[Callable[[Path, tuple[str, ...]], list[Row]], bool]] = {
    "baseline": (baseline, False),
    "read-only": (read_only, False),
    "full-disk": (full_disk, False),
    "newer-manifest": (newer_manifest, False),
    "newer-schema": (newer_schema, False),
    "concurrent": (concurrent, True),
    "killed-upload": (killed_upload, False),
    "invalid-utf8": (invalid_utf8, False),
    "html-bomb": (html_bomb, True),
    "pdf-bomb": (pdf_bomb, True),
}


def table(rows: list[Row]) -> str:
    out = ["| condition | command | exit | printed | traceback | answers after | files | clean |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        line = r.line.replace("|", "\\|")
        line = line if len(line) <= 150 else line[:147] + "..."
        out.append(f"| {r.condition} | {r.command} | {r.code} | {line} | {'YES' if r.traceback else 'no'} |"
                   f" {r.answers} | {r.files} | {'ok' if r.clean else 'FAIL'} |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", choices=list(CONDITIONS), help="run these conditions only")
    parser.add_argument("--commands", nargs="*", choices=list(COMMANDS), default=list(COMMANDS))
    parser.add_argument("--skip-slow", action="store_true", help="leave out concurrency and the file bombs")
    args = parser.parse_args()
    rows: list[Row] = []
    for name, (condition, slow) in CONDITIONS.items():
        if (args.only and name not in args.only) or (slow and args.skip_slow and not args.only):
            continue
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"rag-fault-{name}-") as tmp:
            rows += condition(Path(tmp), tuple(args.commands))
        print(f"{name}: {time.monotonic() - started:.0f} s", file=sys.stderr)
    print(table(rows))
    failed = [r for r in rows if not r.clean]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} rows clean")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
