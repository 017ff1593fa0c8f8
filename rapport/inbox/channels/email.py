"""Email: raw RFC 822 messages from the SMTP listener or the inbound email API."""

from django.utils import timezone

from rapport.inbox.email_parse import EmailRejected, email_parse
from rapport.inbox.ingest import EventRejected, IncomingMessage, normalizer
from rapport.inbox.models import InboundEvent, Source
from rapport.users.models import User


def email_event_id(raw: bytes) -> str:
    """Return the id that makes a redelivered email a no-op: its Message-ID."""
    try:
        return email_parse(raw).message_id
    except EmailRejected:
        import hashlib

        return f"sha256-{hashlib.sha256(raw).hexdigest()}@rapport"


@normalizer(Source.EMAIL)
def email_normalize(event: InboundEvent) -> IncomingMessage:
    """Turn a stored raw email into a message of its thread."""
    try:
        parsed = email_parse(bytes(event.raw))
    except EmailRejected as exc:
        raise EventRejected(exc.reason) from None
    parents = [*parsed.references, *([parsed.in_reply_to] if parsed.in_reply_to else [])]
    # The root of the thread names the conversation; a reply whose root Rapport never
    # saw is matched through its other parents in `ingest._find_conversation`.
    thread_key = parsed.references[0] if parsed.references else (parsed.in_reply_to or "")
    member = User.objects.filter(email=parsed.from_email, is_active=True).only("pk").first()
    return IncomingMessage(
        source=Source.EMAIL,
        external_id=parsed.message_id,
        thread_key=(thread_key or parsed.message_id)[:300],
        parent_ids=[p for p in parents if p != parsed.message_id],
        text=parsed.text or "(no text)",
        subject=parsed.subject,
        sent_at=parsed.sent_at or event.received_at or timezone.now(),
        author_email=parsed.from_email,
        author_name=parsed.from_name,
        author_user_id=member.pk if member else None,
        attachments=[
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in parsed.attachments
        ],
    )
