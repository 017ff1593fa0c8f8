"""Turn a raw RFC 822 message into the fields the inbox stores, whatever its state.

Customer mail is often malformed and sometimes hostile: wrong or unknown charsets,
broken MIME boundaries, missing headers, NUL bytes, thousands of nested parts. Parsing
never raises on such input; it keeps the best text it can find, and only refuses
(EmailRejected) what cannot be a customer message at all: no sender address, a message
over the size limit, or a header section no mail program writes.

Every limit below bounds the work one message can cost, so a hostile message takes
about as long as an ordinary one of the same size. Every string that leaves this module
is safe to store: no NUL, no lone surrogates, within its column's length.
"""

import email.parser
import email.policy
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from rapport.integrations.email.text import _SURROGATE as _SURROGATE
from rapport.integrations.email.text import (
    MAX_TEXT_CHARS,
    _clean_text,
    _from_surrogates,
    _single_line,
    bytes_decode,
    decode_words,
    html_to_text,
)

MAX_RAW_BYTES = 25 * 1024 * 1024
# A real header section is a few hundred lines even after many relays; more is an attack
# on the parser (its cost grows with the number of lines).
MAX_HEADER_LINES = 10_000
# One header value is cut here before it is decoded or parsed.
MAX_HEADER_CHARS = 100_000
# The body is parsed up to this many lines or boundary-like lines; the rest is ignored.
# 25 MB of base64 attachments is about 350,000 lines, so ordinary mail is never cut.
MAX_PARSE_LINES = 1_000_000
MAX_BOUNDARY_LINES = 1_000
MAX_PARTS = 500
MAX_DEPTH = 50
MAX_ATTACHMENTS = 100
MAX_REFERENCES = 50
MAX_ID_CHARS = 250


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
class EmailHeaders:
    """What the header section says: enough to identify, thread and accept a message."""

    message_id: str
    in_reply_to: str
    references: list[str]
    from_email: str
    from_name: str
    to: list[str]
    subject: str
    sent_at: datetime | None


@dataclass
class ParsedEmail(EmailHeaders):
    text: str = ""
    attachments: list[AttachmentInfo] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)


# --- headers --------------------------------------------------------------------------------

_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MSGID = re.compile(r"<([^<>\s]+)>")
_ANGLE_ADDRESS = re.compile(r"<([^<>\s@]+@[^<>\s@]+)>")
_BARE_ADDRESS = re.compile(r"[^\s<>(),;:\"@]+@[^\s<>(),;:\"@]+")
_VALID_ADDRESS = re.compile(r"[^\s<>@]+@[^\s<>@]+")


def _header_section(raw: bytes) -> bytes:
    match = _HEADER_END.search(raw)
    return raw[: match.end()] if match else raw


class _Headers:
    """The first value of each header, as the parser kept it (8-bit text as surrogates)."""

    def __init__(self, message: Message) -> None:
        self.values: dict[str, str] = {}
        for name, value in message.raw_items():
            key = str(name).strip().lower()
            if key not in self.values:
                self.values[key] = str(value)[:MAX_HEADER_CHARS]

    def raw(self, name: str) -> str:
        """Return the header unfolded, 8-bit bytes decoded, encoded words left as they are."""
        value = self.values.get(name.lower(), "")
        return _single_line(_from_surrogates(value), MAX_HEADER_CHARS)

    def text(self, name: str, limit: int) -> str:
        return _single_line(decode_words(self.raw(name)), limit)


def _read_headers(raw: bytes) -> _Headers:
    section = _header_section(raw)
    if section.count(b"\n") + section.count(b"\r") > 2 * MAX_HEADER_LINES:
        raise EmailRejected(
            f"The message header has more than {MAX_HEADER_LINES:,} lines; no mail program "
            "writes that."
        )
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    return _Headers(parser.parsebytes(section))


def _clean_id(value: str) -> str:
    """Make a message id storable: printable, and a stable digest when it is too long."""
    value = "".join(ch for ch in value if ch.isprintable() and not ch.isspace())
    value = _SURROGATE.sub("", value).strip("<>")
    if len(value) > MAX_ID_CHARS:
        digest = hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:40]
        value = f"{value[:180]}#{digest}"
    return value


def _message_ids(value: str) -> list[str]:
    found = _MSGID.findall(value) or value.split()[:1]
    ids = (_clean_id(m) for m in found)
    return [i for i in ids if i]


def _sender(headers: _Headers) -> tuple[str, str]:
    """Return (name, address) of the sender: From, else Sender; first address of several."""
    for name in ("from", "sender"):
        value = headers.raw(name)[:4000]
        if not value:
            continue
        try:
            candidates = [parseaddr(value), *getaddresses([value])]
        except Exception:  # noqa: BLE001 - the address parser has raised on odd input before
            candidates = []
        for display, address in candidates:
            address = address.strip().lower()
            if _VALID_ADDRESS.fullmatch(address):
                return display, address
        # Not parseable as RFC 5322; take what looks like an address.
        match = _ANGLE_ADDRESS.search(value) or _BARE_ADDRESS.search(value)
        if match:
            address = match.group(match.lastindex or 0).lower()
            display = value[: match.start()].strip().strip('"')
            return display, address
    return "", ""


def _date(value: str) -> datetime | None:
    if not value:
        return None
    try:
        sent_at = parsedate_to_datetime(value[:200])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if sent_at.tzinfo is None:
        sent_at = sent_at.replace(tzinfo=UTC)  # "-0000": the zone is unknown
    try:
        sent_at = sent_at.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    # A date far in the past or the future is a broken clock or a trick to stay on top
    # of the inbox; the time of arrival is then the better answer.
    now = datetime.now(UTC)
    if not datetime(1990, 1, 1, tzinfo=UTC) <= sent_at <= now + timedelta(days=1):
        return None
    return sent_at


def email_fingerprint(raw: bytes) -> str:
    """Return a stable id for a message without a Message-ID.

    It covers the headers a sender writes and the body, not the ones relays add
    (Received, Return-Path, DKIM), so the same message delivered by another route, or
    with other line endings, gets the same id.
    """
    digest = hashlib.sha256()
    section = _header_section(raw)
    try:
        headers = _read_headers(raw)
    except EmailRejected:
        section = b""
    else:
        for name in ("from", "sender", "to", "cc", "subject", "date", "in-reply-to", "references"):
            digest.update(headers.raw(name).encode("utf-8", "replace") + b"\n")
    digest.update(raw[len(section) :].replace(b"\r\n", b"\n").replace(b"\r", b"\n").strip())
    return f"sha256-{digest.hexdigest()}@rapport"


def email_headers_parse(raw: bytes) -> EmailHeaders:
    """Read the header section of *raw*; raise EmailRejected when it cannot be a message.

    Only the header section is parsed, so this stays fast on a 25 MB message: the SMTP
    listener calls it before it answers.
    """
    if not raw or not raw.strip():
        raise EmailRejected("The message is empty.")
    if len(raw) > MAX_RAW_BYTES:
        raise EmailRejected(
            f"The message is {len(raw) / 2**20:.1f} MB; the limit is {MAX_RAW_BYTES // 2**20} MB."
        )
    headers = _read_headers(raw)
    from_name, from_email = _sender(headers)
    if not from_email or len(from_email) > 254:
        raise EmailRejected("The message has no valid sender address (From header).")
    message_ids = _message_ids(headers.raw("message-id"))
    references = _message_ids(headers.raw("references"))
    if len(references) > MAX_REFERENCES:
        # The first is the root of the thread, the last ones the nearest parents.
        references = [references[0], *references[-(MAX_REFERENCES - 1) :]]
    to = [
        _single_line(address, 254).lower()
        for _, address in getaddresses([headers.raw("to")[:10_000]])
        if "@" in address
    ]
    return EmailHeaders(
        message_id=message_ids[0] if message_ids else email_fingerprint(raw),
        in_reply_to=(_message_ids(headers.raw("in-reply-to")) or [""])[0],
        references=references,
        from_email=_single_line(from_email, 254),
        from_name=_single_line(decode_words(from_name).strip().strip('"'), 200),
        to=to[:50],
        subject=headers.text("subject", 500),
        sent_at=_date(headers.raw("date")),
    )


# --- body -----------------------------------------------------------------------------------

_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_BOUNDARY_LINE = re.compile(rb"(?:\r\n|\r|\n)--")


def _parse_limit(raw: bytes) -> int | None:
    """Return where to cut *raw* before parsing it in full, or None to parse it all."""
    cut = None
    if raw.count(b"\n") + raw.count(b"\r") > MAX_PARSE_LINES:
        for number, match in enumerate(_LINE_BREAK.finditer(raw), 1):
            if number >= MAX_PARSE_LINES:
                cut = match.end()
                break
    if raw.count(b"\n--") + raw.count(b"\r--") > MAX_BOUNDARY_LINES:
        for number, match in enumerate(_BOUNDARY_LINE.finditer(raw), 1):
            if number > MAX_BOUNDARY_LINES:
                cut = min(cut or len(raw), match.start())
                break
    return cut


def _leaves(message: Message, defects: list[str]) -> Iterator[Message]:
    """Yield the leaf parts depth first, within MAX_PARTS and MAX_DEPTH."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            defects.append("TooManyParts")
            return
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            if depth >= MAX_DEPTH:
                defects.append("TooDeeplyNested")
                continue
            children = [c for c in payload if isinstance(c, Message)]
            stack.extend((child, depth + 1) for child in reversed(children))
        else:
            yield part


_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/=\s]*")


def _part_text(part: Message) -> str:
    raw = part.get_payload()
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding == "base64" and isinstance(raw, str) and not _BASE64_TEXT.fullmatch(raw):
        # Not base64 at all: decoding would turn the sender's text into noise.
        return _from_surrogates(raw)
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a broken transfer encoding leaves the raw text
        payload = None
    if isinstance(payload, bytes):
        try:
            charset = part.get_content_charset()
        except Exception:  # noqa: BLE001
            charset = None
        return bytes_decode(payload, charset)
    return _from_surrogates(raw) if isinstance(raw, str) else ""


def _attachment(part: Message, content_type: str, number: int) -> AttachmentInfo:
    try:
        filename = part.get_filename() or ""
    except Exception:  # noqa: BLE001 - RFC 2231 parameters can be broken in many ways
        filename = ""
    filename = _single_line(decode_words(_from_surrogates(str(filename))), 255)
    try:
        body = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        body = None
    subtype = content_type.partition("/")[2] or "bin"
    return AttachmentInfo(
        filename=filename or f"attachment-{number}.{subtype[:20]}",
        content_type=_single_line(content_type, 100),
        size=len(body) if isinstance(body, bytes) else 0,
    )


def _content_type(part: Message) -> str:
    try:
        return (part.get_content_type() or "text/plain").lower()
    except Exception:  # noqa: BLE001
        return "text/plain"


def _disposition(part: Message) -> str:
    value = part.get("Content-Disposition")
    return str(value).split(";", 1)[0].strip().lower() if value is not None else ""


def _body(raw: bytes, defects: list[str]) -> tuple[str, list[AttachmentInfo]]:
    cut = _parse_limit(raw)
    if cut is not None:
        defects.append("Truncated")
        raw = raw[:cut]
    try:
        message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
    except Exception:  # noqa: BLE001 - RecursionError on absurd nesting, for one
        defects.append("Unparseable")
        body = raw[len(_header_section(raw)) :]
        return _clean_text(bytes_decode(body[: MAX_TEXT_CHARS * 4])), []
    defects.extend(type(d).__name__ for d in message.defects)
    plain: list[str] = []
    markup: list[str] = []
    attachments: list[AttachmentInfo] = []
    for number, part in enumerate(_leaves(message, defects), 1):
        content_type = _content_type(part)
        disposition = _disposition(part)
        if disposition == "attachment" or not (
            content_type in ("text/plain", "text/html") or content_type.startswith("multipart/")
        ):
            if len(attachments) < MAX_ATTACHMENTS:
                attachments.append(_attachment(part, content_type, number))
            continue
        if content_type == "text/html":
            markup.append(_part_text(part))
        else:
            # text/plain, or a multipart whose boundary never appears: its raw text is
            # the best there is.
            plain.append(_part_text(part))
    text = "\n\n".join(p for p in plain if p.strip())
    if not text.strip() and markup:
        text = "\n\n".join(html_to_text(m) for m in markup)
    return _clean_text(text), attachments


def email_parse(raw: bytes) -> ParsedEmail:
    """Parse *raw* into a ParsedEmail; raise EmailRejected with a reason when it cannot be one."""
    headers = email_headers_parse(raw)
    defects: list[str] = []
    text, attachments = _body(raw, defects)
    return ParsedEmail(
        **vars(headers),
        text=text,
        attachments=attachments,
        defects=list(dict.fromkeys(defects))[:20],
    )
