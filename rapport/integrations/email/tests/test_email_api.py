"""POST /api/v1/inbound/email: raw RFC 822 in, 202 with the conversation or 4xx with why."""

import base64
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client

from rapport.inbox.models import Conversation, InboundEvent, InboundEventStatus, Message
from rapport.integrations.email.parse import MAX_RAW_BYTES
from rapport.integrations.email.tests.email_corpus import (
    CORPUS,
    corpus_accounts,
    corpus_check,
    corpus_files,
    corpus_message,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/inbound/email"


def post(api: Client, raw: bytes, content_type: str = "message/rfc822") -> Any:
    return api.generic("POST", URL, raw, content_type=content_type)


def test_every_corpus_file_has_an_expectation() -> None:
    assert corpus_files() == sorted(CORPUS)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_the_api_ingests_each_corpus_message_or_refuses_it_with_a_reason(
    admin_api: Client, name: str
) -> None:
    corpus_accounts()
    expected = CORPUS[name]

    response = post(admin_api, corpus_message(name))

    if expected.rejected:
        assert response.status_code == 400, response.content
        assert expected.rejected in response.json()["error"]
    else:
        assert response.status_code == 202, response.content
        assert response.json()["status"] == "done"
    conversation = corpus_check(name, expected)
    if conversation is not None:
        assert response.json()["conversation_id"] == conversation.pk


def test_a_message_delivered_three_times_is_stored_once(admin_api: Client) -> None:
    corpus_accounts()
    raw = corpus_message("plain.eml")
    answers = [post(admin_api, raw) for _ in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert len({a.json()["conversation_id"] for a in answers}) == 1
    assert (InboundEvent.objects.count(), Message.objects.count()) == (1, 1)
    assert Conversation.objects.get().message_count == 1


def test_a_message_without_message_id_is_recognised_by_its_content(admin_api: Client) -> None:
    raw = corpus_message("missing-message-id.eml")
    first = post(admin_api, raw).json()["conversation_id"]
    # The same message relayed with other line endings is the same message.
    again = post(admin_api, raw.replace(b"\r\n", b"\n")).json()["conversation_id"]
    assert first == again
    assert Message.objects.count() == 1


def test_a_rejected_message_is_recorded_once_and_refused_again(admin_api: Client) -> None:
    raw = corpus_message("missing-from.eml")
    reasons = [post(admin_api, raw).json()["error"] for _ in range(2)]
    assert reasons[0] == reasons[1] == "The message has no valid sender address (From header)."
    event = InboundEvent.objects.get()
    assert (event.status, event.error) == (InboundEventStatus.REJECTED, reasons[0])


def test_a_large_attachment_under_the_limit_is_ingested(admin_api: Client) -> None:
    corpus_accounts()
    blob = base64.encodebytes(bytes(range(256)) * (40 * 1024))  # 10 MB before encoding
    raw = (
        b"From: Ana Lima <ana@acme.example>\r\nSubject: Logs\r\n"
        b"Message-ID: <large-attachment@mail.acme.example>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe logs are attached.\r\n"
        b"--b\r\nContent-Type: application/gzip\r\n"
        b'Content-Disposition: attachment; filename="logs.tar.gz"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + blob.replace(b"\n", b"\r\n") + b"--b--\r\n"
    )
    assert len(raw) < MAX_RAW_BYTES

    response = post(admin_api, raw)

    assert response.status_code == 202, response.content
    message = Message.objects.get()
    assert message.text == "The logs are attached."
    assert message.attachments == [
        {"filename": "logs.tar.gz", "content_type": "application/gzip", "size": 10 * 2**20}
    ]
    assert str(message.conversation.account) == "Acme"


def oversized_message() -> bytes:
    line = b"x" * 76 + b"\r\n"
    body = line * (MAX_RAW_BYTES // len(line) + 1)
    return b"From: ana@acme.example\r\nSubject: Too big\r\n\r\n" + body


def test_a_message_over_the_size_limit_is_refused_and_nothing_is_stored(
    admin_api: Client,
) -> None:
    response = post(admin_api, oversized_message())
    assert response.status_code == 413
    assert response.json() == {
        "error": "The request body is over the limit of 25 MB for this address."
    }
    assert not InboundEvent.objects.exists()


def test_only_message_rfc822_bodies_are_accepted(admin_api: Client) -> None:
    response = post(admin_api, corpus_message("plain.eml"), content_type="text/plain")
    assert response.status_code == 415
    assert "message/rfc822" in response.json()["error"]
    assert not InboundEvent.objects.exists()


def test_the_content_type_is_matched_without_regard_to_case(admin_api: Client) -> None:
    response = post(admin_api, corpus_message("plain.eml"), content_type="Message/RFC822")
    assert response.status_code == 202


def test_an_empty_body_is_refused(admin_api: Client) -> None:
    response = post(admin_api, b"  \r\n")
    assert response.status_code == 400
    assert response.json() == {"error": "The request body is empty; send a raw RFC 822 email."}


def test_the_endpoint_needs_an_api_token(client: Client) -> None:
    response = post(client, corpus_message("plain.eml"))
    assert response.status_code == 401
    assert not InboundEvent.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        b"\x00" * 100,
        bytes(range(256)) * 10,
        b"From: \xff\xfe@\x00\r\n\r\n",
        b"not an email at all",
        b"From: a@acme.example\r\n" + b"X: y\r\n" * 20_001 + b"\r\nbody",
        b"From: a@acme.example\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n"
        + b"--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n" * 3000,
    ],
    ids=["nul-only", "all-bytes", "binary-from", "prose", "header-flood", "self-nesting"],
)
def test_garbage_gets_an_answer_never_a_server_error(admin_api: Client, raw: bytes) -> None:
    response = post(admin_api, raw)
    assert response.status_code in (202, 400), response.content
    assert "error" in response.json() or response.json()["status"] == "done"


def test_an_unavailable_database_answers_503_and_stores_nothing(
    admin_api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(**kwargs: Any) -> Any:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr("rapport.integrations.email.receive.inbound_event_store", unavailable)
    response = post(admin_api, corpus_message("plain.eml"))
    assert response.status_code == 503
    assert response.json() == {"error": "The database is unavailable; send the email again later."}
