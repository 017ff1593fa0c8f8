"""The email channel: raw RFC 822 messages in, team replies out through the relay.

- verify: the inbound email API takes an API token; the SMTP listener takes mail for the
  team as any mail exchanger does (its size limit and parsing refuse the rest);
- store: `receive.email_receive`, unique on the Message-ID (else a digest of the text);
- enrich: parse the message and find the member behind the sender, if the team wrote it;
- normalize: `EmailChannel.normalize`, pure;
- deliver: an email from the support address (`SUPPORT_EMAIL`) to the customer, with a
  Message-ID, `In-Reply-To` and `References`, so the customer's mail client threads it
  and their answer threads back into the same conversation.
"""

from dataclasses import dataclass
from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone

from rapport.inbox.adapters import ConversationChannel, Delivery, EventRejected, IncomingMessage
from rapport.inbox.models import InboundEvent, Message, Source
from rapport.inbox.selectors import conversation_reply_context
from rapport.integrations.email.parse import EmailRejected, ParsedEmail, email_parse
from rapport.integrations.email.sending import EmailRefused, email_message_send
from rapport.users.models import User

# References carry the root and the latest ids of a thread; mail clients need no more.
MAX_REFERENCES = 20


@dataclass(frozen=True)
class ParsedWithAuthor:
    """A parsed email and the member who sent it, when the team did."""

    parsed: ParsedEmail
    member_id: int | None


class EmailChannel(ConversationChannel):
    source = Source.EMAIL
    label = "Email"
    subject_tells_request = True

    def enrich(self, event: InboundEvent) -> ParsedWithAuthor:
        return email_enrich(bytes(event.raw))

    def normalize(self, event: InboundEvent, extra: ParsedWithAuthor) -> IncomingMessage:
        """Turn a parsed email into a message of its thread."""
        parsed = extra.parsed
        own = parsed.message_id
        parents = [
            p for p in dict.fromkeys([*parsed.references, parsed.in_reply_to]) if p and p != own
        ]
        root = parsed.references[0] if parsed.references else parsed.in_reply_to
        return IncomingMessage(
            source=Source.EMAIL,
            external_id=own,
            thread_key=(root or own)[:300],
            parent_ids=parents,
            text=parsed.text or ("(attachments only)" if parsed.attachments else "(no text)"),
            subject=parsed.subject,
            sent_at=parsed.sent_at or event.received_at or timezone.now(),
            author_email=parsed.from_email,
            author_name=parsed.from_name,
            author_user_id=extra.member_id,
            attachments=[
                {"filename": a.filename, "content_type": a.content_type, "size": a.size}
                for a in parsed.attachments
            ],
        )

    def deliver(self, message: Message) -> Delivery:
        """Email the reply to the customer, threaded under the message it answers."""
        context = conversation_reply_context(message)
        if not context.customer_email:
            raise EmailRefused("The conversation has no customer address to answer to.")
        message_id = email_reply_id(message)
        references = [context.thread_key, *context.earlier_ids]
        references = list(dict.fromkeys(r for r in references if r and r != message_id))
        if len(references) > MAX_REFERENCES:
            references = [references[0], *references[-(MAX_REFERENCES - 1) :]]
        headers = {"Message-ID": f"<{message_id}>"}
        if references:
            headers["In-Reply-To"] = f"<{context.answered_id or references[-1]}>"
            headers["References"] = " ".join(f"<{r}>" for r in references)
        subject = context.subject or "Your request"
        if not subject.lower().startswith("re:"):
            subject = f"Re: {subject}"
        author = message.author_name or "Support"
        email = EmailMessage(
            subject=subject,
            body=message.text,
            from_email=formataddr((author, settings.SUPPORT_EMAIL)),
            to=[formataddr((context.customer_name, context.customer_email))],
            reply_to=[settings.SUPPORT_EMAIL],
            headers=headers,
        )
        email_message_send(email)
        return Delivery(external_id=message_id, detail={"to": context.customer_email})


def email_enrich(raw: bytes) -> ParsedWithAuthor:
    """Parse *raw* and find the member who sent it, if the team did (the enrich step)."""
    try:
        parsed = email_parse(raw)
    except EmailRejected as exc:
        raise EventRejected(exc.reason) from None
    member = (
        User.objects.filter(email=parsed.from_email, is_active=True)
        .order_by()
        .values_list("pk", flat=True)
        .first()
    )
    return ParsedWithAuthor(parsed, member)


def email_reply_id(message: Message) -> str:
    """Return the Message-ID of a team reply (without angle brackets).

    Made from the reply's own id, so every try to send it carries the same one and a
    customer's mail client never sees two different messages.
    """
    if "@" in message.external_id:
        return message.external_id
    domain = settings.SUPPORT_EMAIL.rpartition("@")[2] or "rapport.invalid"
    return f"{message.external_id}@{domain}"
