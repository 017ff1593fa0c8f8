"""The SMTP listener: the real aiosmtpd server on a free local port, fed with smtplib.

The listener stores messages from its own thread, so these tests commit for real
(transactional) and the thread reaches the test database through its own connection.
"""

import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django.test import Client
from django_tasks_db.models import DBTaskResult
from pytest_django import Settings

from rapport.inbox.models import Conversation, InboundEvent, InboundEventStatus, Message
from rapport.integrations.email import receive as email_channel
from rapport.integrations.email.parse import MAX_RAW_BYTES
from rapport.integrations.email.smtp import EmailSMTPListener
from rapport.integrations.email.tests.email_corpus import (
    CORPUS,
    corpus_accounts,
    corpus_check,
    corpus_message,
)

pytestmark = pytest.mark.django_db(transaction=True)

ENVELOPE_FROM = "relay@mail.example"
RCPT = ["support@rapport.example"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def listener() -> Iterator[EmailSMTPListener]:
    running = EmailSMTPListener("127.0.0.1", free_port())
    running.start()
    try:
        yield running
    finally:
        running.stop(grace=5)


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """Put back the signal handlers that the task worker installs."""
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def send(listener: EmailSMTPListener, raw: bytes, rcpt: list[str] = RCPT) -> None:
    with smtplib.SMTP(listener.host, listener.port, timeout=60) as client:
        client.sendmail(ENVELOPE_FROM, rcpt, raw)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_the_listener_ingests_each_corpus_message_or_refuses_it_with_a_reason(
    listener: EmailSMTPListener, name: str
) -> None:
    corpus_accounts()
    expected = CORPUS[name]
    if expected.rejected:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send(listener, corpus_message(name))
        assert refused.value.smtp_code == 550
        assert expected.rejected in str(refused.value.smtp_error)
    else:
        send(listener, corpus_message(name))
    corpus_check(name, expected)
    event = InboundEvent.objects.get()
    assert event.payload == {
        "via": "smtp",
        "peer": "127.0.0.1",
        "helo": event.payload["helo"],
        "mail_from": ENVELOPE_FROM,
        "rcpt_to": RCPT,
    }


def test_the_same_message_sent_three_times_creates_one_message(
    listener: EmailSMTPListener, admin_api: Client
) -> None:
    corpus_accounts()
    for _ in range(3):
        send(listener, corpus_message("plain.eml"))
    assert (InboundEvent.objects.count(), Message.objects.count()) == (1, 1)
    # The API face knows it too.
    response = admin_api.generic(
        "POST", "/api/v1/inbound/email", corpus_message("plain.eml"), content_type="message/rfc822"
    )
    assert response.json()["conversation_id"] == Conversation.objects.get().pk


def test_a_reply_sent_over_smtp_threads_into_its_conversation(listener: EmailSMTPListener) -> None:
    corpus_accounts()
    send(listener, corpus_message("plain.eml"))
    send(listener, corpus_message("reply-in-reply-to.eml"))
    send(listener, corpus_message("reply-references-chain.eml"))
    conversation = Conversation.objects.get()
    assert conversation.message_count == 3
    assert str(conversation.account) == "Acme"


def test_mail_for_any_recipient_is_accepted(listener: EmailSMTPListener) -> None:
    recipients = ["a@rapport.example", "anyone@elsewhere.test", "jürgen@bücher.example"]
    with smtplib.SMTP(listener.host, listener.port, timeout=60) as client:
        client.sendmail(
            "relay@mail.example",
            recipients,
            corpus_message("plain.eml"),
            mail_options=["SMTPUTF8"],
        )
    assert InboundEvent.objects.get().payload["rcpt_to"] == recipients


def test_the_size_limit_is_advertised(listener: EmailSMTPListener) -> None:
    with smtplib.SMTP(listener.host, listener.port, timeout=10) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == str(MAX_RAW_BYTES)


def oversized_message() -> bytes:
    line = b"x" * 76 + b"\r\n"
    return b"From: ana@acme.example\r\nSubject: Too big\r\n\r\n" + line * (
        MAX_RAW_BYTES // len(line) + 1
    )


def test_a_message_announced_over_the_limit_is_refused_before_it_is_sent(
    listener: EmailSMTPListener,
) -> None:
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        send(listener, oversized_message())
    assert refused.value.smtp_code == 552
    assert not InboundEvent.objects.exists()


def test_a_message_over_the_limit_without_announcing_its_size_gets_552(
    listener: EmailSMTPListener,
) -> None:
    with smtplib.SMTP(listener.host, listener.port, timeout=60) as client:
        client.ehlo()
        client.mail(ENVELOPE_FROM)  # no SIZE parameter
        client.rcpt(RCPT[0])
        code, _ = client.data(oversized_message())
    assert code == 552
    assert not InboundEvent.objects.exists()


def test_an_unavailable_database_answers_451_and_the_retry_is_stored(
    listener: EmailSMTPListener, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus_accounts()
    store = email_channel.inbound_event_store

    def unavailable(**kwargs: Any) -> Any:
        raise OperationalError("database is locked")

    monkeypatch.setattr(email_channel, "inbound_event_store", unavailable)
    with pytest.raises(smtplib.SMTPDataError) as deferred:
        send(listener, corpus_message("plain.eml"))
    assert deferred.value.smtp_code == 451
    assert not InboundEvent.objects.exists()

    monkeypatch.setattr(email_channel, "inbound_event_store", store)
    send(listener, corpus_message("plain.eml"))  # the sending server retries
    assert Message.objects.get().external_id == "plain-1@mail.acme.example"


def test_the_listener_answers_once_the_message_is_stored_and_the_worker_processes_it(
    listener: EmailSMTPListener, settings: Settings, restore_signals: None
) -> None:
    corpus_accounts()
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }

    send(listener, corpus_message("plain.eml"))

    # 250 came after the commit: the event is stored and queued, not yet processed.
    event = InboundEvent.objects.get()
    assert event.status == InboundEventStatus.PENDING
    assert DBTaskResult.objects.count() == 1
    assert not Message.objects.exists()
    call_command(
        "db_worker",
        "--batch",
        "--max-tasks",
        "1",
        "--no-startup-delay",
        "--interval",
        "0",
        "--no-reload",
        verbosity=0,
    )
    event.refresh_from_db()
    assert event.status == InboundEventStatus.DONE
    assert str(Conversation.objects.get().account) == "Acme"


def test_stopping_lets_a_message_being_stored_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    running = EmailSMTPListener("127.0.0.1", free_port())
    running.start()
    receive = email_channel.email_receive

    def slow_receive(raw: bytes, **kwargs: Any) -> Any:
        time.sleep(0.5)
        return receive(raw, **kwargs)

    monkeypatch.setattr("rapport.integrations.email.smtp.email_receive", slow_receive)
    answers: list[str] = []

    def deliver() -> None:
        try:
            send(running, corpus_message("plain.eml"))
            answers.append("250")
        except smtplib.SMTPException as exc:  # pragma: no cover - shown if it fails
            answers.append(repr(exc))

    sender = threading.Thread(target=deliver)
    sender.start()
    deadline = time.monotonic() + 10
    while not running.handler.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert running.handler.in_flight == 1
    running.stop(grace=5)
    sender.join(10)

    assert answers == ["250"]
    assert InboundEvent.objects.count() == 1
    with pytest.raises(OSError):  # nothing listens any more
        socket.create_connection((running.host, running.port), timeout=1).close()


# --- the management command -----------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_command_listens_on_the_given_port_and_stops_cleanly_on_a_signal(
    tmp_path: Path, signum: int
) -> None:
    port = free_port()
    env = {**os.environ, "RAPPORT_VAR_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage = Path(__file__).resolve().parents[4] / "manage.py"
    process = subprocess.Popen(
        [sys.executable, str(manage), "smtp_listener", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline().decode()
        assert first_line.strip() == f"Receiving email on 127.0.0.1:{port}"
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            code, banner = client.ehlo()
            assert code == 250
            assert client.esmtp_features["size"] == str(MAX_RAW_BYTES)
        process.send_signal(signum)
        output, errors = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, errors
    assert output.decode().strip() == "SMTP listener stopped."
    assert "Traceback" not in errors.decode()
