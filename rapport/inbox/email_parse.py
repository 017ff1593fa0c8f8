"""Turn a raw RFC 822 message into the fields the inbox stores, whatever its state.

Customer mail is often malformed: wrong or unknown charsets, broken MIME boundaries,
missing headers, deeply nested multiparts. Parsing never raises on such input; it
keeps the best text it can find, and only refuses (EmailRejected) what cannot be a
customer message at all: no sender address, or a message over the size limit.
"""

import email
import email.policy
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

MAX_RAW_BYTES = 25 * 1024 * 1024
MAX_TEXT_CHARS = 200_000
MAX_PARTS = 200
MAX_DEPTH = 20


class EmailRejected(Exception):
    """The message cannot be ingested; `reason` says why, for the sender and the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class AttachmentInfo:
    filename: str
    content_type: str
    size: int


@dataclass
class ParsedEmail:
    message_id: str
    in_reply_to: str
    references: list[str]
    from_email: str
    from_name: str
    to: list[str]
    subject: str
    text: str
    sent_at: datetime | None
    attachments: list[AttachmentInfo] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


_MSGID = re.compile(r"<([^<>\s]+)>")
_TAG = re.compile(r"<[^>]+>")
_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BLOCK = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>", re.IGNORECASE)


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a broken header must not stop ingestion
        return ""
    if value is None:
        return ""
    try:
        text = str(value)
    except Exception:  # noqa: BLE001
        text = value.encode("ascii", "replace").decode() if isinstance(value, str) else ""
    return " ".join(text.split())


def _message_ids(value: str) -> list[str]:
    found = _MSGID.findall(value)
    if not found and value.strip():
        found = [value.strip().strip("<>")]
    return [m[:255] for m in found]


def _decode_payload(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        payload = None
    if payload is None:
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    if not isinstance(payload, bytes):
        return str(payload)
    charset = part.get_content_charset() or "utf-8"
    for candidate in (charset, "utf-8", "cp1252"):
        try:
            return payload.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", "replace")


def _html_to_text(markup: str) -> str:
    markup = _STYLE.sub("", markup)
    markup = _BLOCK.sub("\n", markup)
    return html.unescape(_TAG.sub("", markup))


def _walk(message: Message, depth: int = 0, counter: list[int] | None = None) -> list[Message]:
    counter = counter if counter is not None else [0]
    if depth > MAX_DEPTH or counter[0] >= MAX_PARTS:
        return []
    counter[0] += 1
    if message.is_multipart():
        payload = message.get_payload()
        parts: list[Message] = []
        for child in payload if isinstance(payload, list) else []:
            if isinstance(child, Message):
                parts.extend(_walk(child, depth + 1, counter))
        return parts
    return [message]


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text[:MAX_TEXT_CHARS]


def email_parse(raw: bytes) -> ParsedEmail:
    """Parse *raw* into a ParsedEmail; raise EmailRejected with a reason when it cannot be one."""
    if not raw or not raw.strip():
        raise EmailRejected("The message is empty.")
    if len(raw) > MAX_RAW_BYTES:
        raise EmailRejected(
            f"The message is {len(raw) // (1024 * 1024)} MB; the limit is "
            f"{MAX_RAW_BYTES // (1024 * 1024)} MB."
        )
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as exc:  # noqa: BLE001 - the parser itself should not fail, but may
        raise EmailRejected(f"The message could not be parsed: {exc}.") from None

    from_header = _header(message, "From") or _header(message, "Sender")
    from_name, from_email = parseaddr(from_header)
    from_email = from_email.strip().lower()
    if not from_email or "@" not in from_email or " " in from_email:
        raise EmailRejected("The message has no valid sender address (From header).")
    from_name = _decode_words(from_name)

    message_ids = _message_ids(_header(message, "Message-ID"))
    # Without a Message-ID, the content itself identifies the message, so a retried
    # delivery of the same bytes is still recognised as the same message.
    message_id = (
        message_ids[0] if message_ids else f"sha256-{hashlib.sha256(raw).hexdigest()}@rapport"
    )

    plain: list[str] = []
    markup: list[str] = []
    attachments: list[AttachmentInfo] = []
    for part in _walk(message):
        content_type = (part.get_content_type() or "text/plain").lower()
        disposition = (_header(part, "Content-Disposition").split(";")[0]).lower()
        filename = part.get_filename() if not disposition.startswith("inline") else None
        if disposition == "attachment" or (filename and not content_type.startswith("text/")):
            try:
                body = part.get_payload(decode=True) or b""
            except Exception:  # noqa: BLE001
                body = b""
            attachments.append(
                AttachmentInfo(
                    filename=_decode_words(filename or "attachment")[:255],
                    content_type=content_type[:100],
                    size=len(body) if isinstance(body, bytes) else 0,
                )
            )
            continue
        if content_type == "text/plain":
            plain.append(_decode_payload(part))
        elif content_type == "text/html":
            markup.append(_decode_payload(part))
    text = "\n\n".join(p for p in plain if p.strip())
    if not text.strip() and markup:
        text = "\n\n".join(_html_to_text(m) for m in markup)

    sent_at = None
    date_header = _header(message, "Date")
    if date_header:
        try:
            sent_at = parsedate_to_datetime(date_header)
            if sent_at.tzinfo is None:
                sent_at = None
        except (TypeError, ValueError, IndexError):
            sent_at = None

    return ParsedEmail(
        message_id=message_id,
        in_reply_to=(_message_ids(_header(message, "In-Reply-To")) or [""])[0],
        references=_message_ids(_header(message, "References"))[-50:],
        from_email=from_email[:254],
        from_name=from_name[:200],
        to=[addr.lower()[:254] for _, addr in getaddresses([_header(message, "To")]) if addr][:50],
        subject=_decode_words(_header(message, "Subject"))[:500],
        text=_clean_text(text),
        sent_at=sent_at,
        attachments=attachments,
        defects=[type(d).__name__ for d in getattr(message, "defects", [])][:20],
    )


def _decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, tolerating unknown charsets."""
    if "=?" not in value:
        return value.strip()
    try:
        return str(make_header(decode_header(value))).strip()
    except Exception:  # noqa: BLE001
        return value.strip()
