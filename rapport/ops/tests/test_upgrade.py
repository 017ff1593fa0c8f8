"""A database made by an older Rapport migrates to this code with all its rows.

`snapshots/before_integrations.sql` is the dump of a small SQLite database that the code
before the integrations/directory renovation created and filled (see the README there).
The test loads it into a new SQLite file, runs this code's `manage.py migrate` on it in
a child process, then reads every table back through the current models in a second
child (`upgrade_report.py`): each table that had rows must still be read by a current
model with the same number of rows, and a few key values must be intact.

A model moved to another app without keeping its table (a DeleteModel/CreateModel pair
instead of SeparateDatabaseAndState) drops the table and fails here. The children always
use their own SQLite file, whatever database the suite runs on.
"""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rapport.ops.tests.upgrade_report import RENAMED_TABLES, current_table

REPO = Path(__file__).resolve().parents[3]
SNAPSHOT = Path(__file__).resolve().parent / "snapshots" / "before_integrations.sql"
# Tables of the snapshot that must have rows, so the test covers every kind of data.
SNAPSHOT_TABLES = (
    "users_user",
    "users_team_members",
    "users_apitoken",
    "audit_auditentry",
    "accounts_account",
    "accounts_accountdomain",
    "accounts_contact",
    "accounts_accountcontact",
    "accounts_fieldvalue",
    "accounts_directorypreference",
    "inbox_channel",
    "inbox_channelaccount",
    "inbox_inboundevent",
    "inbox_conversation",
    "inbox_message",
    "mapping_mappingdecision",
    "mapping_mappingsettings",
    "slack_slackuser",
    "webchat_chatsite",
    "webchat_chatvisitor",
    "requests_request",
    "requests_requestmessage",
    "requests_requestactivity",
    "requests_requestsettings",
    "requests_channelrequestsettings",
    "outbox_outboxitem",
    "metrics_slapolicy",
    "metrics_accountrequestmetrics",
    "django_migrations",
)


def _table_counts(database: Path) -> dict[str, int]:
    connection = sqlite3.connect(database)
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            name: connection.execute(f'SELECT COUNT(*) FROM "{name}"').fetchone()[0]  # noqa: S608
            for name in names
        }
    finally:
        connection.close()


def _child_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a Rapport process on the SQLite file in *var_dir*, nothing else."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="rapport.settings",
        RAPPORT_ENV="test",
        RAPPORT_VAR_DIR=str(var_dir),
        PYTHONDONTWRITEBYTECODE="1",
        **extra,
    )
    return env


def _manage(var_dir: Path, *args: str, **extra: str) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        cwd=REPO,
        env=_child_env(var_dir, **extra),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (
        f"manage.py {' '.join(args)} exited with {result.returncode}:\n"
        f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )


@pytest.fixture(scope="module")
def upgraded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Load the snapshot, migrate it with this code, and report what the models read."""
    var_dir = tmp_path_factory.mktemp("upgrade")
    database = var_dir / "rapport.sqlite3"  # the name settings.py gives RAPPORT_VAR_DIR's file
    connection = sqlite3.connect(database)
    try:
        connection.executescript(SNAPSHOT.read_text(encoding="utf-8"))
    finally:
        connection.close()
    before = _table_counts(database)

    _manage(var_dir, "migrate", "--no-input")
    report_path = var_dir / "report.json"
    _manage(
        var_dir,
        "shell",
        "-v",
        "0",
        "-c",
        "from rapport.ops.tests.upgrade_report import main; main()",
        UPGRADE_REPORT=str(report_path),
    )
    report = json.loads(report_path.read_text())
    return {
        "before": before,
        "after": _table_counts(database),
        "tables": report["tables"],
        "unapplied": report["unapplied"],
        "facts": report["facts"],
        "facts_error": report["facts_error"],
    }


def test_snapshot_is_a_database_with_data() -> None:
    text = SNAPSHOT.read_text(encoding="utf-8")
    assert len(text.encode()) < 2 * 1024 * 1024
    assert 'INSERT INTO "django_migrations"' in text
    assert 'INSERT INTO "inbox_message"' in text


def test_every_migration_is_applied(upgraded: dict[str, Any]) -> None:
    assert upgraded["unapplied"] == []


def test_current_models_read_every_checked_table(upgraded: dict[str, Any]) -> None:
    assert upgraded["facts_error"] is None


def test_every_row_is_still_read_by_a_current_model(upgraded: dict[str, Any]) -> None:
    tables, before, after = upgraded["tables"], upgraded["before"], upgraded["after"]
    lost = {}
    for table, count in sorted(before.items()):
        if count == 0:
            continue
        now = current_table(table)
        if table == "django_migrations" or not tables.get(now, {}).get(
            "app", "rapport."
        ).startswith("rapport."):
            # Django's and third-party tables: migrate may add rows (the migrations it
            # applies, content types and permissions of new models), never remove any.
            if after.get(now, 0) < count:
                lost[table] = f"{count} rows before, {after.get(now, 0)} after"
        elif now not in tables:
            lost[table] = (
                f"{count} rows before, and no current model reads a table {now!r} "
                "(dropped, or renamed: then add it to upgrade_report.RENAMED_TABLES)"
            )
        elif tables[now]["rows"] != count:
            lost[table] = (
                f"{count} rows before, {tables[now]['rows']} read by {tables[now]['model']}"
            )
    assert lost == {}


def test_snapshot_has_rows_of_every_kind(upgraded: dict[str, Any]) -> None:
    empty = [t for t in SNAPSHOT_TABLES if not upgraded["before"].get(t)]
    assert empty == []


def test_renamed_tables_are_gone_under_their_old_name(upgraded: dict[str, Any]) -> None:
    for old in RENAMED_TABLES:
        assert old not in upgraded["after"], f"{old} was copied, not renamed"


def test_accounts_keep_their_domains_contacts_and_fields(upgraded: dict[str, Any]) -> None:
    acme = upgraded["facts"]["acme"]
    assert acme["primary_domain"] == "acme.example"
    assert acme["domains"] == ["acme-labs.example", "acmecorp.example"]
    assert acme["owner"] == "max@rapport.example"
    assert (acme["tier"], acme["arr"]) == ("enterprise", "125000.00")
    # An "active" customer of that day has launched: "completed" in the onboarding lifecycle,
    # and its 420 employees make it mid-market.
    assert (acme["status"], acme["company_size"]) == ("completed", "51-500")
    assert acme["contacts"] == ["bob@acme.example", "jane@acme.example", "walk.in@acme.example"]
    assert acme["fields"] == ["Enterprise"]
    assert acme["total_requests"] == 3
    assert upgraded["facts"]["directory_columns"] == [
        ["name", "owner", "requests_total", "field.plan"]
    ]


def test_slack_channels_keep_their_links(upgraded: dict[str, Any]) -> None:
    facts = upgraded["facts"]
    assert facts["channels"]["C0ACMESHARED"] == {
        "name": "ext-acme",
        "accounts": ["Acme Corp"],
        "csm": "max@rapport.example",
        "grouping_window_seconds": None,
    }
    assert facts["channels"]["C0GLOBEXSHRD"]["accounts"] == ["Globex", "Initech"]
    assert facts["channels"]["C0GLOBEXSHRD"]["grouping_window_seconds"] == 300
    assert facts["slack_users"] == [["U0GUEST", "guest@gmail.com"], ["U0JANE", "jane@acme.example"]]
    assert facts["member_slack_ids"] == [["sam@rapport.example", "U0SAMTEAM"]]


def test_conversations_keep_their_messages_requests_and_decisions(
    upgraded: dict[str, Any],
) -> None:
    conversations = upgraded["facts"]["conversations"]
    assert {key.split()[0] for key in conversations} == {"slack", "email", "web_chat", "api"}
    thread = conversations["slack T0SNAPSHOT:C0ACMESHARED:1767607200.000100"]
    assert thread["account"] == "Acme Corp"
    assert thread["messages"] == [
        ["inbound", "Hi team, our weekly export fails since this morning. Can you help?"],
        ["inbound", "It is the weekly export, the daily one works."],
        ["outbound", "Looking into the weekly export now."],
    ]
    assert thread["requests"] == [
        {
            "status": "open",
            "assignee": "max@rapport.example",
            "origin": "detected",
            "csat_score": None,
            "activities": ["assigned", "created", "responded"],
        }
    ]
    ticket = conversations["api snapshot-ticket-1"]
    assert (ticket["requests"][0]["status"], ticket["requests"][0]["assignee"]) == (
        "pending",
        "sam@rapport.example",
    )
    chat = conversations["web_chat webchat:1"]
    assert chat["requests"][0]["status"] == "closed"
    assert chat["requests"][0]["csat_score"] == 5
    moved = conversations["email snapshot-1@mail.example"]
    assert moved["account"] == "Initech"
    assert moved["decisions"] == [["auto_create", "created"], ["manual", "linked"]]
    conflict = conversations["slack T0SNAPSHOT:C0GLOBEXSHRD:1767607300.000300"]
    assert conflict["decisions"] == [["slack_channel", "conflict"], ["manual", "linked"]]


def test_replies_written_before_replies_left_are_shown_as_not_sent(
    upgraded: dict[str, Any],
) -> None:
    """A Slack reply stored but never posted is failed, with why; web chat's was shown."""
    conversations = upgraded["facts"]["conversations"]
    thread = conversations["slack T0SNAPSHOT:C0ACMESHARED:1767607200.000100"]
    customer, follow_up, reply = thread["deliveries"]
    assert customer == follow_up == ["", ""]
    assert reply[0] == "failed"
    assert "never left" in reply[1] and "retry" in reply[1]
    chat = conversations["web_chat webchat:1"]
    assert [status for status, _ in chat["deliveries"]] == ["", "sent"]


def test_web_chat_visitors_keep_their_site_and_conversation(upgraded: dict[str, Any]) -> None:
    visitors = upgraded["facts"]["visitors"]
    assert visitors["walk.in@acme.example"] == {
        "site": "Acme shop",
        "name": "Walk In",
        "ip": "203.0.113.7",
        "verified": False,
        "conversation": "webchat:1",
    }
    assert visitors["silent@example.org"]["conversation"] is None


def test_web_chat_from_before_identity_is_unverified_and_sites_get_a_secret(
    upgraded: dict[str, Any],
) -> None:
    """No site could sign an email before: every chat so far was an unverified claim."""
    facts = upgraded["facts"]
    assert facts["site_identity"] == {
        "Acme shop": {"secret_drawn": True, "require_verified": False}
    }
    identities = {key: c["requester_identity"] for key, c in facts["conversations"].items()}
    assert identities["web_chat webchat:1"] == "unverified"
    assert {i for key, i in identities.items() if not key.startswith("web_chat ")} == {""}


def test_outbox_settings_and_tokens_survive(upgraded: dict[str, Any]) -> None:
    facts = upgraded["facts"]
    assert facts["outbox"] == {
        "slack.request_card": 10,
        "email.send": 3,
        "slack.reaction": 1,
        "slack.dm": 1,
    }
    assert facts["outbox_reaction"] == {
        "channel": "C0ACMESHARED",
        "timestamp": "1767607200.000100",
        "name": "eyes",
    }
    assert facts["request_settings"] == [["C0TRIAGE", "tickets@helpdesk.example"]]
    assert facts["sla_policies"] == [
        ["", "Standard", 240, False],
        ["enterprise", "Enterprise 24/7", 60, True],
    ]
    assert facts["api_tokens"] == [["CRM sync", False], ["Old laptop", True]]
