"""What the upgrade test reads back, through the current models, from a migrated snapshot.

Run in a child process against the migrated SQLite file (see test_upgrade.py):

    manage.py shell -c "from rapport.ops.tests.upgrade_report import main; main()"

It writes a JSON report to the path in $UPGRADE_REPORT: every table a current model
reads with its row count (each row is loaded through the model, so a missing column
fails here), the migrations left unapplied, and a few values of the snapshot's rows.

Models are found by their table, not by their module or app label, so the report keeps
working when an app moves. When a change renames a table on purpose (AlterModelTable, or
a move that takes the data along under a new name), add it to RENAMED_TABLES.
"""

import json
import os
from pathlib import Path
from typing import Any

# Tables of the snapshot that a later change renamed on purpose: {old name: new name}.
RENAMED_TABLES: dict[str, str] = {}


def current_table(snapshot_table: str) -> str:
    return RENAMED_TABLES.get(snapshot_table, snapshot_table)


def _models_by_table() -> dict[str, Any]:
    from django.apps import apps

    return {m._meta.db_table: m for m in apps.get_models(include_auto_created=True)}


def _tables(models: dict[str, Any]) -> dict[str, dict[str, Any]]:
    tables = {}
    for table, model in models.items():
        rows = sum(1 for _ in model._base_manager.all().iterator())
        tables[table] = {
            "model": model._meta.label,
            "app": model._meta.app_config.name,
            "rows": rows,
        }
    return tables


def _unapplied() -> list[str]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


def _facts(models: dict[str, Any]) -> dict[str, Any]:
    def table(name: str) -> Any:
        return models[current_table(name)]._base_manager

    users = dict(table("users_user").values_list("pk", "email"))
    account = table("accounts_account").values().get(name="Acme Corp")
    contact_ids = (
        table("accounts_accountcontact").filter(account_id=account["id"]).values("contact")
    )
    acme = {
        "primary_domain": account["primary_domain"],
        "domains": sorted(
            table("accounts_accountdomain")
            .filter(account_id=account["id"])
            .values_list("domain", flat=True)
        ),
        "owner": users.get(account["owner_id"]),
        "tier": account["tier"],
        "arr": str(account["arr"]),
        "status": account["status"],
        "company_size": account["company_size"],
        "contacts": sorted(
            table("accounts_contact").filter(pk__in=contact_ids).values_list("email", flat=True)
        ),
        "fields": sorted(
            table("accounts_fieldvalue")
            .filter(account_id=account["id"])
            .values_list("value_text", flat=True)
        ),
        "total_requests": table("metrics_accountrequestmetrics")
        .filter(account_id=account["id"])
        .values_list("total_count", flat=True)
        .get(),
    }
    accounts = dict(table("accounts_account").values_list("pk", "name"))

    channels = {}
    for channel in table("inbox_channel").values():
        linked = table("inbox_channelaccount").filter(channel_id=channel["id"])
        overrides = (
            table("requests_channelrequestsettings")
            .filter(channel_id=channel["id"])
            .values_list("grouping_window_seconds", flat=True)
            .first()
        )
        channels[channel["slack_channel_id"]] = {
            "name": channel["name"],
            "accounts": sorted(accounts[pk] for pk in linked.values_list("account_id", flat=True)),
            "csm": users.get(channel["csm_id"]),
            "grouping_window_seconds": overrides,
        }

    conversations = {}
    for conversation in table("inbox_conversation").values().order_by("id"):
        messages = table("inbox_message").filter(conversation_id=conversation["id"])
        requests = table("requests_request").filter(conversation_id=conversation["id"])
        conversations[f"{conversation['source']} {conversation['thread_key']}"] = {
            "account": accounts.get(conversation["account_id"]),
            "messages": list(messages.order_by("sent_at", "id").values_list("direction", "text")),
            "deliveries": list(
                messages.order_by("sent_at", "id").values_list("delivery_status", "delivery_error")
            ),
            "requests": [
                {
                    "status": r["status"],
                    "assignee": users.get(r["assignee_id"]),
                    "origin": r["origin"],
                    "csat_score": r["csat_score"],
                    "activities": sorted(
                        table("requests_requestactivity")
                        .filter(request_id=r["id"])
                        .values_list("kind", flat=True)
                    ),
                }
                for r in requests.values().order_by("id")
            ],
            "decisions": list(
                table("mapping_mappingdecision")
                .filter(conversation_id=conversation["id"])
                .order_by("id")
                .values_list("method", "outcome")
            ),
            "requester_identity": conversation["requester_identity"],
        }

    sites = dict(table("webchat_chatsite").values_list("pk", "name"))
    site_identity = {
        site["name"]: {
            "secret_drawn": site["identity_secret"].startswith("wcs_")
            and len(site["identity_secret"]) == 68,
            "require_verified": site["require_verified"],
        }
        for site in table("webchat_chatsite").values()
    }
    visitors = {
        v["email"]: {
            "site": sites[v["site_id"]],
            "name": v["name"],
            "ip": v["ip"],
            "verified": v["verified"],
            "conversation": table("inbox_conversation")
            .filter(pk=v["conversation_id"])
            .values_list("thread_key", flat=True)
            .first(),
        }
        for v in table("webchat_chatvisitor").values()
    }
    outbox: dict[str, int] = {}
    for action in table("outbox_outboxitem").values_list("action", flat=True):
        outbox[action] = outbox.get(action, 0) + 1
    reaction = table("outbox_outboxitem").filter(action="slack.reaction").values("payload").first()

    return {
        "acme": acme,
        "channels": channels,
        "conversations": conversations,
        "visitors": visitors,
        "site_identity": site_identity,
        "outbox": outbox,
        "outbox_reaction": reaction["payload"] if reaction else None,
        "slack_users": sorted(table("slack_slackuser").values_list("user_id", "email")),
        "member_slack_ids": sorted(
            table("users_user").exclude(slack_user_id="").values_list("email", "slack_user_id")
        ),
        "request_settings": list(
            table("requests_requestsettings").values_list("triage_channel_id", "ticket_address")
        ),
        "sla_policies": sorted(
            table("metrics_slapolicy").values_list(
                "tier", "name", "first_response_minutes", "always_on"
            )
        ),
        "directory_columns": list(
            table("accounts_directorypreference").values_list("columns", flat=True)
        ),
        "api_tokens": sorted(
            (name, revoked is not None)
            for name, revoked in table("users_apitoken").values_list("name", "revoked_at")
        ),
    }


def report() -> dict[str, Any]:
    models = _models_by_table()
    try:
        facts, error = _facts(models), None
    except KeyError as exc:  # a table of the snapshot that no current model reads
        facts, error = {}, f"no current model reads the table {exc}"
    return {
        "tables": _tables(models),
        "unapplied": _unapplied(),
        "facts": facts,
        "facts_error": error,
    }


def main() -> None:
    data = report()
    Path(os.environ["UPGRADE_REPORT"]).write_text(json.dumps(data, indent=1, default=str))
