"""Replies leave through their channel, on the real stack (`manage.py runstack`).

The web server, the task worker, the scheduler and the SMTP listener run as `make run`
runs them, on their own SQLite install; Slack's Web API, the mail relay and the API
client's webhook receiver are local fakes at their HTTP or SMTP edge, started here.

- Email: a customer's email comes in through the SMTP listener; the team's reply arrives
  at the relay threaded under it, and the customer's answer threads back in.
- Slack: a signed customer message comes in; the reply is posted in its thread.
- API: a ticket comes in; the reply is readable through the API and POSTed, signed, to
  the webhook an admin set on the webhook page.
"""

import email
import email.policy
import hashlib
import hmac
import http.cookiejar
import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from rapport.integrations.slack.tests.conftest import (  # noqa: F401 - a fixture
    CHANNEL,
    CUSTOMER,
    SIGNING_SECRET,
    TEAM,
    FakeSlackApi,
    fake_slack_api,
    signed_headers,
)
from rapport.ops.tests.stack_kit import ROOT, free_port, manage, until

SUPPORT = "support@rapport.test"
AGENT_SLACK_ID = "U0AGENT01"

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="the stack runs its own SQLite install; once per suite run is enough",
)


class _Sink:
    """A mail relay that keeps what it is handed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)
        return "250 OK"


@dataclass
class _Receiver:
    """An API client's webhook endpoint: keeps each call's headers and raw body."""

    url: str = ""
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@dataclass
class Stack:
    url: str
    token: str
    smtp_port: int
    slack: FakeSlackApi
    sink: _Sink
    receiver: _Receiver

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 - a local test server
            self.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")

    def conversation(self, source: str) -> dict[str, Any] | None:
        items = self.api("GET", f"/api/v1/conversations?source={source}")[1]["items"]
        return items[0] if items else None

    def messages(self, conversation_id: int) -> list[dict[str, Any]]:
        return self.api("GET", f"/api/v1/conversations/{conversation_id}/messages")[1]["items"]

    def reply(self, conversation_id: int, text: str) -> dict[str, Any]:
        status, answer = self.api(
            "POST", f"/api/v1/conversations/{conversation_id}/replies", {"text": text}
        )
        assert status == 201, answer
        return dict(answer)

    def reply_sent(self, conversation_id: int, reply_id: int) -> dict[str, Any] | None:
        found = [m for m in self.messages(conversation_id) if m["id"] == reply_id]
        assert found and found[0]["status"] != "failed", found
        return found[0] if found[0]["status"] == "sent" else None


@pytest.fixture
def stack(tmp_path: Path, fake_slack_api: FakeSlackApi) -> Iterator[Stack]:  # noqa: F811
    sink = _Sink()
    relay = Controller(sink, hostname="127.0.0.1", port=free_port())
    relay.start()
    receiver = _Receiver()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.calls.append((dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    hook_server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook_server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{hook_server.server_port}/rapport/replies"

    fake_slack_api.add_user(CUSTOMER, email="jane.doe@acmecorp.example", real_name="Jane Doe")
    agent = fake_slack_api.add_user(AGENT_SLACK_ID, email="ada@rapport.test", real_name="Ada Agent")
    agent["user"]["profile"]["image_72"] = "https://avatars.example/ada-72.png"
    fake_slack_api.add_channel(CHANNEL, name="acme-support")

    port, smtp_port = free_port(), free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "PYTEST_XDIST_WORKER")
    } | {
        "RAPPORT_ENV": "development",
        "RAPPORT_VAR_DIR": str(tmp_path),
        "SITE_URL": f"http://127.0.0.1:{port}",
        "SUPPORT_EMAIL": SUPPORT,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(relay.port),
        "EMAIL_USE_TLS": "0",
        "SLACK_API_URL": fake_slack_api.url,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": "xoxb-stack-test",
        "PYTHONUNBUFFERED": "1",
    }
    manage(env, "migrate", "--no-input")
    manage(
        env,
        "shell",
        "-c",
        "from rapport.users.services import user_create, user_slack_link_by_email; "
        "user_create(email='ada@rapport.test', password='stack-test-pw', name='Ada Agent', "
        "role='admin'); "
        f"user_slack_link_by_email(email='ada@rapport.test', slack_user_id='{AGENT_SLACK_ID}')",
    )
    token = manage(env, "create_api_token", "ada@rapport.test").strip().split()[-1]
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "runstack", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def listening() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", smtp_port), timeout=1):
                return True
        except OSError:
            return False

    try:
        until(healthy, "the web server")
        until(listening, "the SMTP listener")
        yield Stack(url, token, smtp_port, fake_slack_api, sink, receiver)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        hook_server.shutdown()
        hook_server.server_close()
        relay.stop()


def _email_reply_threads_both_ways(stack: Stack) -> None:
    customer = EmailMessage()
    customer["From"] = "Jane Doe <jane@acme.example>"
    customer["To"] = SUPPORT
    customer["Subject"] = "Exports fail"
    customer["Message-ID"] = "<exports-1@acme.example>"
    customer.set_content("Our CSV exports fail since this morning. Can you help?")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as smtp:
        smtp.send_message(customer)
    conversation = until(lambda: stack.conversation("email"), "the email conversation")

    reply = stack.reply(conversation["id"], "We are on it, Jane.")
    assert reply["status"] == "queued"
    sent = until(lambda: stack.sink.messages, "the reply at the relay")
    assert len(sent) == 1
    out = sent[0]
    assert out["In-Reply-To"] == "<exports-1@acme.example>"
    assert "<exports-1@acme.example>" in out["References"]
    assert out["Subject"] == "Re: Exports fail"
    assert out["From"].addresses[0].addr_spec == SUPPORT
    assert out["To"].addresses[0].addr_spec == "jane@acme.example"
    assert out.get_content().strip() == "We are on it, Jane."
    until(lambda: stack.reply_sent(conversation["id"], reply["id"]), "the email reply sent")

    answer = EmailMessage()
    answer["From"] = "Jane Doe <jane@acme.example>"
    answer["To"] = SUPPORT
    answer["Subject"] = "Re: Exports fail"
    answer["Message-ID"] = "<exports-2@acme.example>"
    answer["In-Reply-To"] = out["Message-ID"]
    answer["References"] = f"<exports-1@acme.example> {out['Message-ID']}"
    answer.set_content("Thanks, it works again.")
    with smtplib.SMTP("127.0.0.1", stack.smtp_port, timeout=10) as smtp:
        smtp.send_message(answer)
    texts = until(
        lambda: [m["text"] for m in stack.messages(conversation["id"])][2:],
        "the customer's answer in the same conversation",
    )
    assert texts[0].strip() == "Thanks, it works again."
    emails = stack.api("GET", "/api/v1/conversations?source=email")[1]
    assert emails["count"] == 1


def _slack_reply_in_thread(stack: Stack) -> None:
    ts = "1767225600.000100"
    envelope = {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A0RAPPORT",
        "type": "event_callback",
        "event_id": "Ev0STACK1",
        "event_time": 1767225600,
        "event": {
            "type": "message",
            "channel": CHANNEL,
            "channel_type": "channel",
            "user": CUSTOMER,
            "text": "Hi team, our dashboard is empty today.",
            "ts": ts,
            "event_ts": ts,
        },
    }
    raw = json.dumps(envelope).encode()
    request = urllib.request.Request(  # noqa: S310 - a local test server
        stack.url + "/integrations/slack/events",
        data=raw,
        method="POST",
        headers={"Content-Type": "application/json", **signed_headers(raw)},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200
    conversation = until(lambda: stack.conversation("slack"), "the Slack conversation")
    reply = stack.reply(conversation["id"], "Looking into it now.")
    posts = until(
        lambda: [p for p in stack.slack.asked("chat.postMessage") if p.get("thread_ts")],
        "the reply in the Slack thread",
    )
    assert posts[0]["channel"] == CHANNEL
    assert posts[0]["thread_ts"] == ts
    assert posts[0]["text"] == "Looking into it now."
    assert posts[0]["username"] == "Ada Agent"
    assert posts[0]["icon_url"] == "https://avatars.example/ada-72.png"
    until(lambda: stack.reply_sent(conversation["id"], reply["id"]), "the Slack reply sent")


def _login(stack: Stack) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(stack.url + "/login/", timeout=10).read()
    token = next(c.value for c in jar if c.name == "csrftoken")
    form = urllib.parse.urlencode(
        {"username": "ada@rapport.test", "password": "stack-test-pw", "csrfmiddlewaretoken": token}
    ).encode()
    opener.open(stack.url + "/login/", data=form, timeout=10).read()
    return opener


def _api_reply_by_webhook(stack: Stack) -> None:
    browser = _login(stack)
    page = browser.open(stack.url + "/integrations/api/webhook/", timeout=10).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf is not None
    form = urllib.parse.urlencode(
        {"url": stack.receiver.url, "csrfmiddlewaretoken": csrf.group(1)}
    ).encode()
    page = browser.open(stack.url + "/integrations/api/webhook/", data=form, timeout=10).read()
    secret_found = re.search(rb'value="(whsec_[0-9a-f]+)"', page)
    assert secret_found is not None, "the page shows the signing secret"
    secret = secret_found.group(1).decode()

    status, ticket = stack.api(
        "POST",
        "/api/v1/tickets",
        {"requester_email": "lee@globex.example", "subject": "Invoice", "body": "Where is it?"},
    )
    assert status == 201
    reply = stack.reply(ticket["id"], "Attached to your account page now.")
    calls = until(lambda: stack.receiver.calls, "the webhook call")
    headers, body = calls[0]
    timestamp = headers["X-Rapport-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    assert hmac.compare_digest(headers["X-Rapport-Signature"], expected.hexdigest())
    assert abs(time.time() - int(timestamp)) < 300
    event = json.loads(body)
    assert event["type"] == "conversation.reply"
    assert event["conversation_id"] == ticket["id"]
    assert event["message"]["text"] == "Attached to your account page now."
    sent = until(lambda: stack.reply_sent(ticket["id"], reply["id"]), "the API reply sent")
    assert sent["text"] == "Attached to your account page now."


def test_replies_leave_through_each_channel_of_the_running_stack(stack: Stack) -> None:
    _email_reply_threads_both_ways(stack)
    _slack_reply_in_thread(stack)
    _api_reply_by_webhook(stack)
