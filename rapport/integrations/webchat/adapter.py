"""The web chat channel: the embeddable widget's messages in, team replies shown in it.

- verify: the site's public key, its allowed origins, the visitor's token, rate limits
  (`views`); when the chat starts, the `user_hash` the site's backend signed the email
  with (`services.chat_visitor_start`);
- store: `services.chat_message_receive`, unique on site, visitor and the widget's own id;
- enrich: the visitor behind the message;
- normalize: `WebChatChannel.normalize`, pure;
- deliver: nothing leaves Rapport: the widget reads replies from the database on its
  next poll, so a reply is sent once stored (`delivered_when_stored`).
"""

from django.utils import timezone

from rapport.inbox.adapters import ConversationChannel, Delivery, EventRejected, IncomingMessage
from rapport.inbox.models import InboundEvent, Message, RequesterIdentity, Source
from rapport.integrations.webchat.models import ChatVisitor

SUBJECT_MAX_CHARS = 120


def _subject(text: str) -> str:
    first_line = text.strip().splitlines()[0] if text.strip() else ""
    if len(first_line) <= SUBJECT_MAX_CHARS:
        return first_line
    return first_line[: SUBJECT_MAX_CHARS - 1].rstrip() + "…"


class WebChatChannel(ConversationChannel):
    source = Source.WEB_CHAT
    label = "Web chat"
    delivered_when_stored = True

    def enrich(self, event: InboundEvent) -> ChatVisitor:
        visitor = ChatVisitor.objects.filter(pk=event.payload.get("visitor_id")).first()
        if visitor is None:
            raise EventRejected("The chat visitor of this message no longer exists.")
        return visitor

    def normalize(self, event: InboundEvent, extra: ChatVisitor) -> IncomingMessage:
        """Make the visitor's message: one conversation per visitor, authored by their email.

        An email the site did not sign is marked unverified, so the shared ingest links
        no contact and creates no account for it.
        """
        text = event.payload.get("text") or ""
        return IncomingMessage(
            source=Source.WEB_CHAT,
            external_id=event.external_id,
            thread_key=extra.thread_key,
            text=text,
            subject=_subject(text),
            sent_at=event.received_at or timezone.now(),
            author_email=extra.email,
            author_name=extra.name,
            author_identity=(
                RequesterIdentity.VERIFIED if extra.verified else RequesterIdentity.UNVERIFIED
            ),
        )

    def deliver(self, message: Message) -> Delivery:
        """Show the reply in the widget: it reads it from the database on its next poll."""
        return Delivery(detail={"shown_in": "widget"})
