"""Outgoing email through the configured relay (`EMAIL_*`), with one error mapping."""

import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage

from rapport.core.outside import OutsideRefused, OutsideUnavailable
from rapport.outbox.handlers import outbox_handler


class EmailRefused(OutsideRefused):
    """The relay refused the email for good (every recipient, or the message itself)."""


class EmailUnavailable(OutsideUnavailable):
    """The relay could not take the email now (down, busy, a temporary 4xx)."""


def email_message_send(message: EmailMessage) -> None:
    """Hand *message* to the relay; raise EmailUnavailable or EmailRefused when it fails."""
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise EmailRefused(f"The mail server refused every recipient: {exc}") from exc
    except smtplib.SMTPResponseException as exc:
        answer = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        if 500 <= exc.smtp_code < 600:
            raise EmailRefused(f"The mail server refused the email: {answer}") from exc
        raise EmailUnavailable(f"The mail server could not take the email now: {answer}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise EmailUnavailable(f"The mail server could not take the email now: {exc}") from exc


def _text(answer: bytes | str) -> str:
    """Return a relay's answer as a person reads it (relays answer in bytes)."""
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)


@outbox_handler("email.send")
def email_send(payload: dict[str, Any]) -> dict[str, Any]:
    """Send {"to": [...], "subject", "body", "headers"?, "reply_to"?} as one email."""
    to = payload.get("to") or []
    if not to or not payload.get("subject"):
        raise EmailRefused("An email needs a recipient and a subject.")
    message = EmailMessage(
        subject=payload["subject"],
        body=payload.get("body", ""),
        from_email=payload.get("from") or settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=payload.get("reply_to") or None,
        headers=payload.get("headers") or None,
    )
    email_message_send(message)
    return {"message_id": message.extra_headers.get("Message-ID", "")}
