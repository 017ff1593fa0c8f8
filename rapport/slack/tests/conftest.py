"""Slack test kit: signed Events API deliveries and a local fake of Slack's Web API."""

import copy
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response
else:
    Response = Any

PAYLOADS = Path(__file__).parent / "payloads"
SIGNING_SECRET = "4d1c0e6b9a8f7e2d5c3b1a0f9e8d7c6b"
BOT_TOKEN = "xoxb-0000000000-test-rapport"
TEAM = "T0123ABCD"
CHANNEL = "C0456ACME"
CUSTOMER = "U0789JANE"
EVENTS_URL = "/integrations/slack/events"


def payload(name: str) -> dict[str, Any]:
    """Load a captured-shape payload from tests/payloads/<name>.json (a fresh copy)."""
    return copy.deepcopy(json.loads((PAYLOADS / f"{name}.json").read_text()))


def slack_signature(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    """Sign like Slack does: v0=HMAC-SHA256(secret, "v0:{timestamp}:{body}")."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack_signature(body, ts, secret)}


def post_signed(
    client: Client, body: dict[str, Any] | bytes, headers: dict[str, str] | None = None, **sign: Any
) -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        EVENTS_URL,
        data=raw,
        content_type="application/json",
        headers={**signed_headers(raw, **sign), **(headers or {})},
    )


@dataclass
class FakeSlackApi:
    """What the fake Web API knows, what it was asked, and which methods fail."""

    url: str = ""
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    rate_limited: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)  # method -> Slack error code
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_user(
        self, user_id: str, *, email: str, real_name: str, is_bot: bool = False
    ) -> dict[str, Any]:
        answer = payload("users_info")
        user = answer["user"]
        user.update(id=user_id, real_name=real_name, is_bot=is_bot, name=real_name.lower())
        user["profile"].update(real_name=real_name, display_name=real_name.split()[0], email=email)
        self.users[user_id] = answer
        return answer

    def add_channel(self, channel_id: str, *, name: str, is_private: bool = False) -> None:
        answer = payload("conversations_info")
        answer["channel"].update(
            id=channel_id, name=name, name_normalized=name, is_private=is_private
        )
        self.channels[channel_id] = answer

    def asked(self, method: str) -> list[dict[str, str]]:
        with self.lock:
            return [params for name, params in self.calls if name == method]

    def answer(self, method: str, params: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            self.calls.append((method, params))
        if method in self.rate_limited:
            return 429, {"Retry-After": "30"}, {"ok": False, "error": "ratelimited"}
        if method in self.errors:
            return 200, {}, {"ok": False, "error": self.errors[method]}
        if method == "users.info":
            found = self.users.get(params.get("user", ""))
            return 200, {}, found or {"ok": False, "error": "user_not_found"}
        if method == "conversations.info":
            found = self.channels.get(params.get("channel", ""))
            return 200, {}, found or {"ok": False, "error": "channel_not_found"}
        return 200, {}, {"ok": False, "error": "unknown_method"}


@pytest.fixture
def fake_slack_api() -> Iterator[FakeSlackApi]:
    """Serve a fake of Slack's Web API on 127.0.0.1 for the length of a test."""
    fake = FakeSlackApi()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            params = dict(parse_qsl(parts.query))
            if self.headers.get("Content-Type", "").startswith("application/json"):
                params.update(json.loads(body or "{}"))
            else:
                params.update(parse_qsl(body))
            params["authorization"] = self.headers.get("Authorization", "")
            status, headers, answer = fake.answer(parts.path.rsplit("/", 1)[-1], params)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def slack(settings: Any, fake_slack_api: FakeSlackApi) -> FakeSlackApi:
    """Configure Slack against the fake Web API, which knows the customer and the channel."""
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    settings.SLACK_BOT_TOKEN = BOT_TOKEN
    settings.SLACK_API_URL = fake_slack_api.url
    fake_slack_api.add_user(CUSTOMER, email="jane.doe@acmecorp.example", real_name="Jane Doe")
    fake_slack_api.add_channel(CHANNEL, name="acme-support")
    return fake_slack_api


@pytest.fixture
def deliver(client: Client, django_capture_on_commit_callbacks: Any) -> Callable[..., Response]:
    """Post a signed delivery and run what it enqueued on commit, as a worker would."""

    def send(
        body: dict[str, Any] | str, headers: dict[str, str] | None = None, **sign: Any
    ) -> Response:
        data = payload(body) if isinstance(body, str) else body
        with django_capture_on_commit_callbacks(execute=True):
            return post_signed(client, data, headers, **sign)

    return send
