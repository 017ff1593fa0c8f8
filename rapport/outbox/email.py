"""The outbox handler that sends email through Django's configured backend."""

import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage

from rapport.outbox.handlers import OutboxFailed, OutboxRetry, outbox_handler


@outbox_handler("email.send")
def email_send(payload: dict[str, Any]) -> dict[str, Any]:
    """Send {"to": [...], "subject", "body", "headers"?, "reply_to"?} as one email."""
    to = payload.get("to") or []
    if not to or not payload.get("subject"):
        raise OutboxFailed("An email needs a recipient and a subject.")
    message = EmailMessage(
        subject=payload["subject"],
        body=payload.get("body", ""),
        from_email=payload.get("from") or settings.DEFAULT_FROM_EMAIL,
        to=list(to),
        reply_to=payload.get("reply_to") or None,
        headers=payload.get("headers") or None,
    )
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise OutboxFailed(f"The mail server refused every recipient: {exc}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise OutboxRetry(f"The mail server could not take the email now: {exc}") from exc
    return {"message_id": message.extra_headers.get("Message-ID", "")}
