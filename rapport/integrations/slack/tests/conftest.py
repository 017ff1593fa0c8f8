"""Slack test kit: signed deliveries (events, clicks, commands) and a fake Web API."""

import copy
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.test import Client

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account
from rapport.inbox.models import Channel, Message
from rapport.inbox.services import channel_create, channel_set_accounts
from rapport.requests.services import request_settings_update
from rapport.users.models import User

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
ACTIONS_URL = "/integrations/slack/actions"
COMMANDS_URL = "/integrations/slack/commands"


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


def post_form_signed(
    client: Client, url: str, fields: dict[str, str], headers: dict[str, str] | None = None
) -> Response:
    """Post form fields as Slack does for clicks (`payload=<json>`) and slash commands."""
    raw = urlencode(fields).encode()
    return client.post(
        url,
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={**signed_headers(raw), **(headers or {})},
    )


@dataclass
class FakeSlackApi:
    """What the fake Web API knows, what it was asked, and which methods fail."""

    url: str = ""
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    rate_limited: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)  # method -> Slack error code
    retry_after: str = "30"
    # Messages the app posted, by (channel, ts), as they read now (updates applied).
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    reactions: set[tuple[str, str, str]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: int = 0

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

    def asked(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [params for name, params in self.calls if name == method]

    def asked_any(self, *methods: str) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return [(name, params) for name, params in self.calls if name in methods]

    def in_channel(self, channel: str) -> list[dict[str, Any]]:
        """The app's messages in *channel*, oldest first, as they read now."""
        with self.lock:
            return [m for (c, _), m in sorted(self.messages.items()) if c == channel]

    def _next_ts(self) -> str:
        self._ts += 1
        return f"1767300000.{self._ts:06d}"

    def _write(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        """Answer the methods that post or change something, like Slack does."""
        channel = str(params.get("channel", ""))
        if method == "chat.postMessage":
            if not channel:
                return {"ok": False, "error": "channel_not_found"}
            ts = self._next_ts()
            message = {
                "type": "message",
                "subtype": "bot_message",
                "bot_id": "B0RAPPORT1",
                "user": "U0BOTRAPP",
                "text": params.get("text", ""),
                "blocks": params.get("blocks") or [],
                "thread_ts": params.get("thread_ts"),
                "ts": ts,
            }
            self.messages[(channel, ts)] = message
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "chat.update":
            ts = str(params.get("ts", ""))
            known = self.messages.get((channel, ts))
            if known is None:
                return {"ok": False, "error": "message_not_found"}
            known.update(text=params.get("text", ""), blocks=params.get("blocks") or [])
            return {"ok": True, "channel": channel, "ts": ts, "text": known["text"]}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method == "reactions.add":
            key = (channel, str(params.get("timestamp", "")), str(params.get("name", "")))
            if key in self.reactions:
                return {"ok": False, "error": "already_reacted"}
            self.reactions.add(key)
            return {"ok": True}
        if method == "conversations.open":
            users = str(params.get("users", ""))
            return {"ok": True, "channel": {"id": "D" + users.removeprefix("U")}}
        if method in ("views.open", "views.publish"):
            view = dict(params.get("view") or {})
            view.update(id=f"V{self._next_ts().replace('.', '')}", team_id="T0123ABCD")
            return {"ok": True, "view": view}
        return None

    def answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        with self.lock:
            self.calls.append((method, params))
        if method in self.rate_limited:
            return 429, {"Retry-After": self.retry_after}, {"ok": False, "error": "ratelimited"}
        if method in self.errors:
            return 200, {}, {"ok": False, "error": self.errors[method]}
        with self.lock:
            written = self._write(method, params)
        if written is not None:
            return 200, {}, written
        if method == "users.info":
            found = self.users.get(params.get("user", ""))
            return 200, {}, found or {"ok": False, "error": "user_not_found"}
        if method == "conversations.info":
            found = self.channels.get(params.get("channel", ""))
            return 200, {}, found or {"ok": False, "error": "channel_not_found"}
        if method == "auth.test":
            return 200, {}, payload("auth_test")
        return 200, {}, {"ok": False, "error": "unknown_method"}


@contextmanager
def fake_slack_api_served() -> Iterator[FakeSlackApi]:
    """Serve a fake of Slack's Web API on 127.0.0.1 until the block ends."""
    fake = FakeSlackApi()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            params: dict[str, Any] = dict(parse_qsl(parts.query))
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
def fake_slack_api() -> Iterator[FakeSlackApi]:
    """Serve a fake of Slack's Web API on 127.0.0.1 for the length of a test."""
    with fake_slack_api_served() as fake:
        yield fake


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


# --- request management: members, a customer channel, requests, clicks and commands ----------

ADMIN_SLACK = "U0222ADA"
MEMBER_SLACK = "U0111MAX"
TRIAGE = "C0TRIAGE1"


@dataclass
class Workspace:
    """Acme's shared channel, an admin and a member linked to Slack, a triage channel."""

    admin: User
    member: User
    account: Account
    channel: Channel


def member_link(user: User, slack_user_id: str) -> User:
    User.objects.filter(pk=user.pk).update(slack_user_id=slack_user_id)
    user.refresh_from_db()
    return user


@pytest.fixture
def workspace(slack: FakeSlackApi, make_user: Callable[..., User]) -> Workspace:
    """Request management set up with a triage channel and detection off.

    Detection is off so that delivered messages become requests only when a test says
    so (through the request services), whatever the detector would think of them.
    """
    admin = member_link(
        make_user("ada@rapport.example", role="admin", name="Ada Admin"), ADMIN_SLACK
    )
    member = member_link(make_user("max@rapport.example", name="Max Member"), MEMBER_SLACK)
    account = make_account("Acme Corp", domain="acme.example")
    channel = channel_create(slack_team_id=TEAM, slack_channel_id=CHANNEL, name="acme-support")
    channel_set_accounts(actor=None, channel=channel, accounts=[account])
    request_settings_update(
        actor=admin, values={"detection_enabled": False, "triage_channel_id": TRIAGE}
    )
    return Workspace(admin=admin, member=member, account=account, channel=channel)


@pytest.fixture
def customer_message(deliver: Callable[..., Response]) -> Callable[..., Message]:
    """Deliver a customer's channel message through the Events API; return it stored."""
    count = itertools.count(1)

    def send(text: str = "", *, ts: str | None = None) -> Message:
        n = next(count)
        body = payload("message")
        # Twenty minutes apart: past the grouping window, so each starts its own thread.
        ts = ts or f"{1767225600 + (n - 1) * 1200}.000100"
        body["event_id"] = f"Ev0A1MSG{n:04d}"
        body["event"].update(ts=ts, event_ts=ts, text=text or f"Question {n}: can you help?")
        assert deliver(body).status_code == 200
        return Message.objects.get(external_id=f"{TEAM}:{CHANNEL}:{ts}")

    return send


@pytest.fixture
def interact(client: Client, django_capture_on_commit_callbacks: Any) -> Callable[..., Response]:
    """Post a signed interactivity payload, then run what it queued as a worker would."""

    def send(body: dict[str, Any]) -> Response:
        with django_capture_on_commit_callbacks(execute=True):
            return post_form_signed(client, ACTIONS_URL, {"payload": json.dumps(body)})

    return send


@pytest.fixture
def slash(client: Client, django_capture_on_commit_callbacks: Any) -> Callable[..., Response]:
    """Type `/rapport <text>` as a Slack user, in a channel (the customer one by default)."""

    def send(text: str, *, user: str, channel: str = CHANNEL) -> Response:
        fields = payload("slash_command")
        fields.update(text=text, user_id=user, channel_id=channel)
        with django_capture_on_commit_callbacks(execute=True):
            return post_form_signed(client, COMMANDS_URL, fields)

    return send


def block_action(
    name: str,
    *,
    user: str,
    action_id: str,
    block_id: str,
    value: str | None = None,
    selected_user: str | None = None,
    channel: str | None = None,
    message_ts: str | None = None,
) -> dict[str, Any]:
    """A block_actions payload (a fixture) for one click on a button or a user picker."""
    body = payload(name)
    body["user"]["id"] = user
    action = body["actions"][0]
    action.update(action_id=action_id, block_id=block_id)
    if selected_user is not None:
        action.clear()
        action.update(
            type="users_select",
            action_id=action_id,
            block_id=block_id,
            selected_user=selected_user,
            action_ts="1767300100.123456",
        )
    elif value is not None:
        action["value"] = value
    if channel is not None:
        body["container"]["channel_id"] = channel
        body["channel"]["id"] = channel
    if message_ts is not None:
        body["container"]["message_ts"] = message_ts
        body["message"]["ts"] = message_ts
    return body


def all_text(blocks: Any) -> str:
    """Every piece of text in some Block Kit, joined: what a reader could see."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(found)


def action_ids(blocks: Any) -> list[str]:
    """The action ids of every interactive element in some Block Kit, in order."""
    return [
        element["action_id"]
        for block in blocks
        if block.get("type") == "actions"
        for element in block["elements"]
    ]
