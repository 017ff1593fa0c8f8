"""Email on the Integrations page: the SMTP listener, the outgoing relay and its test."""

import contextlib
import smtplib

from django.conf import settings

from rapport.inbox.models import Source
from rapport.integrations.email.sending import email_relay
from rapport.integrations.status import (
    TEST_TIMEOUT_SECONDS,
    Activity,
    ConnectionTest,
    IntegrationStatus,
    actions_named,
    integration_status_build,
)

KEY = "email"
TITLE = "Email"


def email_status(activity: Activity) -> IntegrationStatus:
    """Tell email's state: the listener's address, and the relay team replies go out through."""
    relay = email_relay()
    setup = [
        f"SMTP listener on {settings.SMTP_HOST}:{settings.SMTP_PORT}",
        f"Outgoing relay {relay.host}:{relay.port}"
        + (" (STARTTLS)" if relay.use_tls else " (TLS)" if relay.use_ssl else "")
        if relay is not None
        else "EMAIL_HOST is not set: outgoing email is printed to the console",
        f"Replies come from {settings.SUPPORT_EMAIL}",
    ]
    return integration_status_build(
        activity,
        key=KEY,
        title=TITLE,
        configured=relay is not None,
        setup=setup,
        sources=[Source.EMAIL],
        actions=actions_named("email."),
        reply_sources=[Source.EMAIL],
        testable=True,
    )


def email_connection_test() -> ConnectionTest:
    """Connect to the relay, log in if set, and say NOOP: no email is sent."""
    relay = email_relay()
    if relay is None:
        return ConnectionTest(
            False, "EMAIL_HOST is not set: outgoing email is printed to the console.", unset=True
        )
    relay.timeout = min(relay.timeout or TEST_TIMEOUT_SECONDS, TEST_TIMEOUT_SECONDS)
    relay.fail_silently = False
    where = f"{relay.host}:{relay.port}"
    try:
        relay.open()
        assert relay.connection is not None
        code, answer = relay.connection.noop()
    except smtplib.SMTPAuthenticationError as exc:
        return ConnectionTest(False, f"The relay {where} refused the login: {_smtp_text(exc)}")
    except smtplib.SMTPResponseException as exc:
        return ConnectionTest(False, f"The relay {where} answered {_smtp_text(exc)}")
    except (smtplib.SMTPException, OSError) as exc:
        return ConnectionTest(False, f"The relay {where} could not be reached: {exc}")
    finally:
        with contextlib.suppress(Exception):  # closing a broken session is best effort
            relay.close()
    if not 200 <= code < 300:
        return ConnectionTest(False, f"The relay {where} answered NOOP with {code}.")
    return ConnectionTest(True, f"The relay {where} answered ({code} {_text(answer)}).")


def _smtp_text(exc: smtplib.SMTPResponseException) -> str:
    return f"{exc.smtp_code} {_text(exc.smtp_error)}"


def _text(answer: bytes | str) -> str:
    return answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
