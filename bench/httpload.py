"""A small HTTP/1.1 load client on asyncio: many keep-alive connections, little CPU.

The load generator shares the machine with the server it measures, so it must cost little:
one event loop, raw requests over keep-alive connections, no third-party client. A
connection that breaks (reset, closed mid-answer) counts as dropped, and is opened again.
"""

import asyncio
import math
import time
from dataclasses import dataclass, field

IDLE_REOPEN = 1.5


class Dropped(Exception):
    """The connection broke before a whole answer arrived."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


@dataclass
class Tally:
    """What one kind of request met: latencies of answers, statuses, dropped connections."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    dropped: int = 0

    def add(self, answer: Answer) -> None:
        self.latencies.append(answer.seconds)
        self.statuses[answer.status] = self.statuses.get(answer.status, 0) + 1

    def count(self, *statuses: int) -> int:
        return sum(n for status, n in self.statuses.items() if status in statuses)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 and status != 503)

    def percentile(self, share: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Connection:
    """One keep-alive connection to host:port; reopened after a drop."""

    def __init__(self, host: str, port: int, timeout: float = 60.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_used = 0.0

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """Send one request and read its answer; raise Dropped if the connection broke.

        A connection idle for longer than the server keeps one open (gunicorn: 2 s) is
        opened afresh first, as HTTP client libraries do before reusing one.
        """
        if self.writer is not None and time.perf_counter() - self.last_used > IDLE_REOPEN:
            self.close()
        if self.writer is None:
            try:
                await self._open()
            except OSError as exc:
                raise Dropped(f"connect: {exc}") from exc
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        start = time.perf_counter()
        try:
            self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            answer = await asyncio.wait_for(self._read(), self.timeout)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
            self.close()
            raise Dropped(f"{type(exc).__name__}: {exc}") from exc
        answer.seconds = time.perf_counter() - start
        self.last_used = time.perf_counter()
        if answer.headers.get("connection", "").lower() == "close":
            self.close()
        return answer

    async def _read(self) -> Answer:
        assert self.reader is not None
        status_line = await self.reader.readuntil(b"\r\n")
        if not status_line:
            raise asyncio.IncompleteReadError(b"", None)
        status = int(status_line.split(b" ", 2)[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._read_chunked()
        else:
            body = await self.reader.read()
            self.close()
        return Answer(status, headers, body, 0.0)

    async def _read_chunked(self) -> bytes:
        assert self.reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)


async def post_retrying(
    connection: Connection,
    path: str,
    body: bytes,
    headers: dict[str, str],
    tally: Tally,
    *,
    retry_until: float = math.inf,
) -> Answer | None:
    """POST *body*; on 503 wait its Retry-After and post it again, as a well-behaved
    client does, until *retry_until*. Return the last answer, None when the connection
    dropped (counted in *tally*); a 503 without Retry-After counts as an error
    (`tally.statuses[-503]`)."""
    while True:
        try:
            answer = await connection.request("POST", path, body=body, headers=headers)
        except Dropped:
            tally.dropped += 1
            return None
        tally.add(answer)
        if answer.status != 503 or time.perf_counter() >= retry_until:
            return answer
        if "retry-after" not in answer.headers:
            tally.statuses[-503] = tally.statuses.get(-503, 0) + 1
        await asyncio.sleep(float(answer.headers.get("retry-after", "1")))
