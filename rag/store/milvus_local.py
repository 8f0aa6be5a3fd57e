"""A real Milvus engine on a loopback port, from the `milvus-lite==2.5.1` wheel (the test extra).

milvus-lite 2.5.1 ships Milvus 2.5's C++ core as a `milvus` binary; the tests and the benchmarks
start it here on a free 127.0.0.1 port, talk to it over gRPC exactly as to a cluster
(`milvus://127.0.0.1:PORT/NAME`), and stop it by its PID. It needs `setuptools<81`: the wheel
imports pkg_resources. Lite indexes every vector field FLAT (exact); a cluster does not.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

#: Threads the engine's vector search may use (OpenMP); 1 on a small shared machine.
DEFAULT_THREADS = "1"


def lite_binary() -> Path:
    """The engine binary inside the milvus-lite wheel; ImportError when it is not installed."""
    import importlib.util

    spec = importlib.util.find_spec("milvus_lite")
    if spec is None or not spec.origin:
        raise ImportError("milvus-lite is not installed (pip install 'milvus-lite==2.5.1' 'setuptools<81')")
    binary = Path(spec.origin).parent / "lib" / "milvus"
    if not binary.exists():
        raise ImportError(f"milvus-lite has no engine binary at {binary}")
    return binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalMilvus:
    """`with LocalMilvus(directory) as server:` ... `server.location("name")` ... (stopped at exit)."""

    def __init__(self, directory: Path, *, port: int | None = None, threads: str = DEFAULT_THREADS) -> None:
        self.directory = Path(directory)
        self.port = port or free_port()
        self.threads = threads
        self.process: subprocess.Popen[bytes] | None = None
        self.log = self.directory / "milvus.log"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def location(self, name: str) -> str:
        return f"milvus://{self.address}/{name}"

    def start(self, timeout: float = 60.0) -> "LocalMilvus":
        binary = lite_binary()
        self.directory.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = f"{binary.parent}:{env.get('LD_LIBRARY_PATH', '')}"
        env.setdefault("OMP_NUM_THREADS", self.threads)
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(binary), str(self.directory / "milvus.db"), self.address, "ERROR"],
                cwd=self.directory, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        """Poll until a client can list collections (the gRPC service is up), or fail."""
        from pymilvus import MilvusClient, MilvusException

        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"milvus-lite exited with {self.process.returncode}; see {self.log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                client = MilvusClient(uri=f"http://{self.address}", timeout=5, alias=f"rag-local-{self.port}")
                client.list_collections()
                client.close()
                return
            except (OSError, MilvusException):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"milvus-lite did not answer on {self.address} within {timeout:.0f} s") from None
                time.sleep(0.05)  # poll interval while the server starts

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def __enter__(self) -> "LocalMilvus":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
