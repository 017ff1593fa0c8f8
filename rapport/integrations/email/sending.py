"""Outgoing email through the configured relay (`EMAIL_*`), with one error mapping."""

import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from rapport.core.outside import OutsideRefused, OutsideUnavailable
from rapport.integrations.services import integration_call_record
from rapport.outbox.handlers import outbox_handler


class EmailRefused(OutsideRefused):
    """The relay refused the email for good (every recipient, or the message itself)."""


class EmailUnavailable(OutsideUnavailable):
    """The relay could not take the email now (down, busy, a temporary 4xx)."""


def email_relay() -> SmtpBackend | None:
    """Return the default mailer when it sends through a relay, None when it prints mail."""
    backend = mailers.default
    return backend if isinstance(backend, SmtpBackend) else None


def email_message_send(message: EmailMessage) -> None:
    """Hand *message* to the relay; raise EmailUnavailable or EmailRefused when it fails.

    The outcome of a call to a relay is recorded for the Integrations page; the relay
    refusing this email's recipients still means it answered.
    """
    relayed = email_relay() is not None
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        _record(relayed, "")
        raise EmailRefused(f"The mail server refused every recipient: {exc}") from exc
    except smtplib.SMTPResponseException as exc:
        answer = f"{exc.smtp_code} {_text(exc.smtp_error)}"
        if 500 <= exc.smtp_code < 600:
            error: EmailRefused | EmailUnavailable = EmailRefused(
                f"The mail server refused the email: {answer}"
            )
        else:
            error = EmailUnavailable(f"The mail server could not take the email now: {answer}")
        _record(relayed, str(error))
        raise error from exc
    except (smtplib.SMTPException, OSError) as exc:
        error = EmailUnavailable(f"The mail server could not take the email now: {exc}")
        _record(relayed, str(error))
        raise error from exc
    _record(relayed, "")


def _record(relayed: bool, error: str) -> None:
    """Tell the Integrations page how the relay answered; mail printed to the console doesn't."""
    if relayed:
        integration_call_record("email", error=error)


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
