"""A local webhook receiver: what an API client's endpoint would be sent."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the webhook receiver was sent, and what it answers next."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> list[Call]:
        with self.lock:
            return list(self.calls)


@contextmanager
def webhook_receiver(path: str = "/hooks/rapport") -> Iterator[Receiver]:
    """Serve a webhook receiver on a free local port until the block ends."""
    fake = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with fake.lock:
                fake.calls.append(Call(self.path, dict(self.headers.items()), body))
                status, headers = fake.status, dict(fake.headers)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
