"""Make a snapshot of a small Rapport database, as SQL text, with the code checked out now.

    .venv/bin/python rapport/ops/tests/snapshots/make_snapshot.py [OUTPUT.sql]

The script always works on a new SQLite file in a temporary directory (it ignores
DATABASE_URL): it runs `migrate`, fills the database through the app's services with a
few rows of every kind, and writes `sqlite3`'s dump of it (schema, rows and the
django_migrations table) to OUTPUT.sql, by default `before_integrations.sql` next to
this file. `rapport/ops/tests/test_upgrade.py` loads the dump and migrates it with the
code of its day; see the README next to this file.

The names below (accounts, channels, visitors, thread keys) are what the upgrade test
checks after migrating: change them together.
"""

import datetime
import email.message
import email.utils
import os
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[4]
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "before_integrations.sql"

SLACK_TEAM = "T0SNAPSHOT"
ACME_CHANNEL = "C0ACMESHARED"
GLOBEX_CHANNEL = "C0GLOBEXSHRD"
TRIAGE_CHANNEL = "C0TRIAGE"


def _setup(var_dir: str) -> None:
    """Point Django at a new SQLite file in *var_dir*, whatever the environment says."""
    os.environ.pop("DATABASE_URL", None)
    os.environ["RAPPORT_VAR_DIR"] = var_dir
    os.environ.setdefault("RAPPORT_ENV", "development")
    os.environ["DJANGO_SETTINGS_MODULE"] = "rapport.settings"
    # No Slack token: nothing below may reach Slack, and outbox items stay pending.
    os.environ["SLACK_BOT_TOKEN"] = ""
    sys.path.insert(0, str(REPO))
    import django

    django.setup()


def _slack_envelope(
    event_id: str, *, channel: str, user: str, ts: str, text: str, thread_ts: str = ""
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message",
        "user": user,
        "ts": ts,
        "text": text,
        "team": SLACK_TEAM,
        "channel": channel,
        "event_ts": ts,
        "channel_type": "channel",
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return {"team_id": SLACK_TEAM, "type": "event_callback", "event_id": event_id, "event": event}


def _email(*, sender: str, name: str, subject: str, body: str, message_id: str) -> bytes:
    msg = email.message.EmailMessage()
    msg["From"] = email.utils.formataddr((name, sender))
    msg["To"] = "support@rapport.example"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = email.utils.format_datetime(
        datetime.datetime(2026, 1, 5, 9, 30, tzinfo=datetime.UTC)
    )
    msg.set_content(body)
    return bytes(msg)


def fill() -> None:
    """Create a few rows of every kind through the services, as a workspace would."""
    from django.db import transaction

    from rapport.accounts.models import ContactKind
    from rapport.accounts.services import account_create
    from rapport.accounts.services_contacts import contact_add_to_account
    from rapport.accounts.services_fields import account_set_field_values, field_definition_create
    from rapport.directory.services import directory_columns_save
    from rapport.inbox.ingest import inbound_events_process
    from rapport.inbox.models import Conversation, InboundEvent, InboundEventStatus, Source
    from rapport.inbox.services import (
        channel_create,
        channel_set_accounts,
        channel_set_csm,
        conversation_reply,
        inbound_event_store,
        ticket_store,
    )
    from rapport.integrations.email.receive import email_receive
    from rapport.integrations.slack.services import slack_user_store
    from rapport.integrations.webchat.services import (
        chat_message_receive,
        chat_site_create,
        chat_visitor_link_conversation,
        chat_visitor_start,
    )
    from rapport.mapping.models import MappingDecision, MappingOutcome
    from rapport.mapping.services import (
        mapping_conflict_resolve,
        mapping_override,
        mapping_settings_update,
    )
    from rapport.metrics.services import metrics_refresh_all, sla_policy_create
    from rapport.requests.models import Request
    from rapport.requests.services import (
        channel_request_settings_update,
        request_assign,
        request_close,
        request_csat_record,
        request_hold,
        request_settings_update,
    )
    from rapport.requests.triage import triage_pending
    from rapport.users.models import Role
    from rapport.users.services import api_token_create, api_token_revoke, team_create, user_create

    password = "snapshot-password-1"  # noqa: S105 (a throwaway database)
    admin = user_create(
        email="ada@rapport.example", password=password, name="Ada Admin", role=Role.ADMIN
    )
    max_ = user_create(email="max@rapport.example", password=password, name="Max Member")
    sam = user_create(email="sam@rapport.example", password=password, name="Sam Slack")
    sam.slack_user_id = "U0SAMTEAM"
    sam.save(update_fields=["slack_user_id"])
    team_create(name="Support pod", members=[max_, sam])
    api_token_create(user=admin, name="CRM sync")
    old, _ = api_token_create(user=max_, name="Old laptop")
    api_token_revoke(token=old)

    tier = field_definition_create(
        actor=admin, key="plan", label="Plan", type="choice", choices=["Pro", "Enterprise"]
    )
    field_definition_create(actor=None, key="hs_lifecycle", label="Lifecycle", source="crm")
    acme = account_create(
        actor=admin,
        name="Acme Corp",
        primary_domain="acme.example",
        secondary_domains=["acme-labs.example", "acmecorp.example"],
        owner=max_,
        industry="Manufacturing",
        employee_count=420,
        arr="125000.00",
        tier="enterprise",
    )
    globex = account_create(
        actor=admin,
        name="Globex",
        primary_domain="globex.example",
        owner=sam,
        status="onboarding",  # the status of that day; the upgrade moves it to "active"
    )
    initech = account_create(
        actor=admin,
        name="Initech",
        primary_domain="initech.example",
        secondary_domains=["ini.example"],
    )
    account_set_field_values(actor=admin, account=acme, values={tier.key: "Enterprise"})
    account_set_field_values(actor=admin, account=globex, values={tier.key: "Pro"})
    contact_add_to_account(
        account=acme, email="jane@acme.example", name="Jane Doe", title="CTO", actor=admin
    )
    contact_add_to_account(account=acme, email="bob@acme.example", name="Bob Stone", actor=admin)
    contact_add_to_account(
        account=globex,
        email="hank@globex.example",
        name="Hank Scorpio",
        kind=ContactKind.CRM_CONTACT,
        actor=admin,
    )
    contact_add_to_account(account=initech, email="peter@initech.example", name="Peter Gibbons")
    directory_columns_save(user=max_, columns=["name", "owner", "requests_total", "field.plan"])

    sla_policy_create(actor=admin, name="Standard", tier="", first_response_minutes=240)
    sla_policy_create(
        actor=admin,
        name="Enterprise 24/7",
        tier="enterprise",
        first_response_minutes=60,
        resolution_minutes=1440,
        always_on=True,
    )
    request_settings_update(
        actor=admin,
        values={"triage_channel_id": TRIAGE_CHANNEL, "ticket_address": "tickets@helpdesk.example"},
    )
    mapping_settings_update(
        actor=admin, auto_create_accounts=True, public_domains_added=["mail.example"]
    )

    acme_channel = channel_create(
        slack_team_id=SLACK_TEAM, slack_channel_id=ACME_CHANNEL, name="ext-acme"
    )
    channel_set_accounts(actor=admin, channel=acme_channel, accounts=[acme])
    channel_set_csm(actor=admin, channel=acme_channel, csm=max_)
    shared = channel_create(
        slack_team_id=SLACK_TEAM, slack_channel_id=GLOBEX_CHANNEL, name="ext-globex-initech"
    )
    channel_set_accounts(actor=admin, channel=shared, accounts=[globex, initech])
    channel_request_settings_update(
        actor=admin, channel=shared, values={"grouping_window_seconds": 300, "csat_enabled": False}
    )
    # The profiles users.info would have returned: the cache spares the Slack calls.
    slack_user_store(
        team_id=SLACK_TEAM,
        user_id="U0JANE",
        profile={"real_name": "Jane Doe", "profile": {"email": "jane@acme.example"}},
    )
    slack_user_store(
        team_id=SLACK_TEAM,
        user_id="U0GUEST",
        profile={"real_name": "Guest Person", "profile": {"email": "guest@gmail.com"}},
    )

    events = [
        inbound_event_store(
            source=Source.SLACK,
            external_id="Ev0SNAP01",
            payload=_slack_envelope(
                "Ev0SNAP01",
                channel=ACME_CHANNEL,
                user="U0JANE",
                ts="1767607200.000100",
                text="Hi team, our weekly export fails since this morning. Can you help?",
            ),
        )[0],
        inbound_event_store(
            source=Source.SLACK,
            external_id="Ev0SNAP02",
            payload=_slack_envelope(
                "Ev0SNAP02",
                channel=ACME_CHANNEL,
                user="U0JANE",
                ts="1767607260.000200",
                thread_ts="1767607200.000100",
                text="It is the weekly export, the daily one works.",
            ),
        )[0],
        inbound_event_store(
            source=Source.SLACK,
            external_id="Ev0SNAP03",
            payload=_slack_envelope(
                "Ev0SNAP03",
                channel=GLOBEX_CHANNEL,
                user="U0GUEST",
                ts="1767607300.000300",
                text="Could someone reset my password please? I am locked out.",
            ),
        )[0],
    ]
    for n, (sender, name, subject) in enumerate(
        (
            ("bob@acme.example", "Bob Stone", "Invoice shows the wrong number of seats"),
            ("lena@newco.example", "Lena New", "How do we add a second workspace?"),
        )
    ):
        raw = _email(
            sender=sender,
            name=name,
            subject=subject,
            body=f"Hello, {subject.lower()}? Could you help us with this?\n\n{name}",
            message_id=f"<snapshot-{n}@mail.example>",
        )
        events.append(email_receive(raw).event)
    site = chat_site_create(
        actor=admin, name="Acme shop", allowed_origins=["https://shop.acme.example"]
    )
    visitor, _ = chat_visitor_start(
        site=site, email="walk.in@acme.example", name="Walk In", ip="203.0.113.7"
    )
    chat_visitor_start(site=site, email="silent@example.org", name="Silent Visitor")
    events.append(
        chat_message_receive(
            site=site,
            visitor=visitor,
            client_message_id="m1",
            text="Hello, is there a discount for annual plans?",
        )[0]
    )
    events.append(
        ticket_store(
            body={
                "requester_email": "hank@globex.example",
                "requester_name": "Hank Scorpio",
                "subject": "Webhook deliveries failing",
                "body": "Our webhook endpoint gets no deliveries since yesterday.",
                "customer_ref": "",
                "account_id": None,
                "slack_channel": "",
            },
            idempotency_key="snapshot-ticket-1",
        )[0]
    )
    inbound_event_store(source=Source.API, external_id="snapshot-pending", payload={})
    inbound_events_process([e.pk for e in events])
    chat_visitor_link_conversation(visitor)
    triage_pending()

    slack_thread = Conversation.objects.get(
        source=Source.SLACK, thread_key=f"{SLACK_TEAM}:{ACME_CHANNEL}:1767607200.000100"
    )
    conversation_reply(
        actor=max_, conversation=slack_thread, text="Looking into the weekly export now."
    )
    triage_pending()
    with transaction.atomic():
        conflict = MappingDecision.objects.filter(outcome=MappingOutcome.CONFLICT).first()
        if conflict is not None:
            mapping_conflict_resolve(actor=max_, decision=conflict, account=globex)
        lena = Conversation.objects.get(source=Source.EMAIL, requester_email="lena@newco.example")
        mapping_override(actor=max_, conversation=lena, account=initech)
    ticket = Request.objects.get(conversation__source=Source.API)
    request_assign(request=ticket, assignee=sam, actor=admin)
    request_hold(request=ticket, actor=sam)
    chat = Request.objects.get(conversation__source=Source.WEB_CHAT)
    conversation_reply(actor=admin, conversation=chat.conversation, text="Yes: two months free.")
    triage_pending()
    chat.refresh_from_db()
    request_close(request=chat, actor=admin)
    chat.refresh_from_db()
    request_csat_record(request=chat, score=5, comment="Quick answer", via="email")
    metrics_refresh_all()

    failed = InboundEvent.objects.filter(status=InboundEventStatus.PENDING).exclude(
        external_id="snapshot-pending"
    )
    if failed.exists():
        raise RuntimeError(f"Events were left unprocessed: {list(failed.values('pk', 'error'))}")


def dump(database: Path, output: Path) -> int:
    """Write the SQL text of *database* to *output*; return its size in bytes."""
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        text = "\n".join(connection.iterdump()) + "\n"
    finally:
        connection.close()
    output.write_text(text, encoding="utf-8")
    return len(text.encode())


def main(argv: list[str]) -> None:
    output = Path(argv[1]).resolve() if len(argv) > 1 else DEFAULT_OUTPUT
    with tempfile.TemporaryDirectory(prefix="rapport-snapshot-") as var_dir:
        _setup(var_dir)
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", interactive=False, verbosity=0)
        fill()
        connection.close()
        size = dump(Path(var_dir) / "rapport.sqlite3", output)
    print(f"Wrote {output} ({size} bytes)")


if __name__ == "__main__":
    main(sys.argv)
