"""The SMTP face of the email channel: accept mail for any recipient and store it.

Each message is stored (`channels.email.email_receive`) before the listener answers
250, so a crash after the answer loses nothing; processing happens in the worker. The
answers:

- 250: stored (or already stored: a redelivery is a no-op);
- 451: the database is unavailable; the sending server keeps the message and retries;
- 550: the message can never be ingested (no sender address); the reason is recorded;
- 552: the message is over the size limit (SIZE is advertised, so most senders learn
  it before they send the body).

aiosmtpd runs the SMTP sessions on an asyncio loop in its own thread; the ORM work runs
in asgiref's one thread-sensitive worker thread, so it never blocks the loop and uses
one database connection.
"""

import asyncio
import logging
import re
import socket
import time
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections, connections

from rapport.core.errors import InvalidInput
from rapport.integrations.email.parse import MAX_RAW_BYTES
from rapport.integrations.email.receive import email_receive

logger = logging.getLogger(__name__)

# RFC 5321 allows 1,000 octets a line, but customer mail breaks that (one-line HTML,
# unfolded headers); longer lines are accepted up to this bound on one line's memory.
MAX_LINE_BYTES = 1024 * 1024
SHUTDOWN_GRACE_SECONDS = 10.0
_NOT_REPLY_TEXT = re.compile(r"[^\x20-\x7e]+")
_NOT_STORABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]+")


def _reply_text(text: str) -> str:
    """Make *text* fit an SMTP reply line: printable ASCII, one line, bounded."""
    return _NOT_REPLY_TEXT.sub(" ", text).strip()[:400]


def _envelope_record(session: Session, envelope: Envelope) -> dict[str, Any]:
    def text(value: Any) -> str:
        return _NOT_STORABLE.sub("", str(value or ""))[:254]

    return {
        "via": "smtp",
        "peer": text(session.peer[0] if isinstance(session.peer, tuple) else session.peer),
        "helo": text(session.host_name),
        "mail_from": text(envelope.mail_from),
        "rcpt_to": [text(r) for r in envelope.rcpt_tos[:50]],
    }


def smtp_message_store(raw: bytes, envelope: dict[str, Any]) -> str:
    """Store one message received over SMTP; return the SMTP reply.

    Runs in a worker thread, so it manages its own database connection the way a
    request does: stale connections are closed before and after.
    """
    close_old_connections()
    try:
        receipt = email_receive(raw, envelope=envelope)
    except InvalidInput as exc:
        return f"552 {_reply_text(exc.message)}"
    except DatabaseError as exc:
        logger.warning("Email not stored, database unavailable (answered 451): %s", exc)
        return "451 Requested action aborted: the database is unavailable; try again later"
    except Exception:
        # The sender keeps the message and retries; a bug must not turn into lost mail.
        logger.exception("Email not stored (answered 451)")
        return "451 Requested action aborted: local error in processing"
    finally:
        close_old_connections()
    event = receipt.event
    if receipt.rejected:
        logger.info(
            "Email from %s rejected (event %s): %s",
            envelope.get("peer"),
            event.pk,
            receipt.rejected,
        )
        return f"550 {_reply_text(receipt.rejected)}"
    logger.info(
        "Email from %s stored (event %s%s)",
        envelope.get("peer"),
        event.pk,
        "" if receipt.created else ", a redelivery",
    )
    return "250 OK"


class EmailSMTPHandler:
    """aiosmtpd handler: every recipient is accepted; DATA stores the message."""

    def __init__(self) -> None:
        self.in_flight = 0
        self._store = sync_to_async(smtp_message_store, thread_sensitive=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):  # only when decode_data is on, which this server never sets
            raw = raw.encode("utf-8", "surrogateescape")
        self.in_flight += 1
        try:
            return await self._store(bytes(raw), _envelope_record(session, envelope))
        finally:
            self.in_flight -= 1


class EmailSMTP(SMTP):
    """The SMTP protocol with a line limit that fits real customer mail."""

    line_length_limit = MAX_LINE_BYTES


class EmailSMTPController(Controller):
    """aiosmtpd's threaded controller, serving `EmailSMTP` sessions."""

    def factory(self) -> SMTP:
        return EmailSMTP(self.handler, **self.SMTP_kwargs)


class EmailSMTPListener:
    """Run the SMTP listener in a background thread; `stop` lets stores in flight finish."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.handler = EmailSMTPHandler()
        self.controller = EmailSMTPController(
            self.handler,
            hostname=host,
            port=port,
            data_size_limit=MAX_RAW_BYTES,
            # Accept UTF-8 addresses (international sender domains) as Controller does.
            enable_SMTPUTF8=True,
            # Name the server without a reverse DNS lookup, which can hang at start.
            server_hostname=socket.gethostname(),
            ident="Rapport ESMTP",
        )

    def start(self) -> None:
        self.controller.start()

    def stop(self, grace: float = SHUTDOWN_GRACE_SECONDS) -> None:
        """Stop accepting connections, wait for stores in flight, then stop the loop."""
        controller = self.controller
        server = controller.server
        if server is not None:
            controller.loop.call_soon_threadsafe(server.close)
        deadline = time.monotonic() + grace
        while self.handler.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)
        if self.handler.in_flight:
            logger.warning("Stopping with %s email(s) being stored", self.handler.in_flight)
        self._close_database_connections()
        controller.stop()

    def _close_database_connections(self) -> None:
        # The ORM thread belongs to asgiref, not to this listener: close the connection
        # it opened, through the loop, so the call lands on that same thread.
        close_all = sync_to_async(connections.close_all, thread_sensitive=True)
        future = asyncio.run_coroutine_threadsafe(close_all(), self.controller.loop)
        try:
            future.result(timeout=5)
        except Exception:  # noqa: BLE001 - closing is best effort at shutdown
            logger.debug("Closing the listener's database connection failed", exc_info=True)
