"""Turn a stored web chat event into a message of the visitor's conversation."""

from django.utils import timezone

from rapport.inbox.ingest import EventRejected, IncomingMessage, normalizer
from rapport.inbox.models import InboundEvent, Source
from rapport.webchat.models import ChatVisitor

SUBJECT_MAX_CHARS = 120


def _subject(text: str) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    if len(first_line) <= SUBJECT_MAX_CHARS:
        return first_line
    return first_line[: SUBJECT_MAX_CHARS - 1].rstrip() + "…"


@normalizer(Source.WEB_CHAT)
def chat_event_normalize(event: InboundEvent) -> IncomingMessage:
    """Make the visitor's message: one conversation per visitor, authored by their email."""
    payload = event.payload
    visitor = ChatVisitor.objects.filter(pk=payload.get("visitor_id")).first()
    if visitor is None:
        raise EventRejected("The chat visitor of this message no longer exists.")
    text = payload.get("text") or ""
    return IncomingMessage(
        source=Source.WEB_CHAT,
        external_id=event.external_id,
        thread_key=visitor.thread_key,
        text=text,
        subject=_subject(text),
        sent_at=event.received_at or timezone.now(),
        author_email=visitor.email,
        author_name=visitor.name,
    )
