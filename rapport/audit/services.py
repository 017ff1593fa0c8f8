"""Record audit entries. Callers pass the values before and after a change."""

from collections.abc import Mapping
from typing import Any

from django.db import models

from rapport.audit.models import AuditEntry
from rapport.users.models import User


def audit_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Return the fields whose value differs, as {"field": {"before": .., "after": ..}}.

    Empty values (None, "", []) count as the same "nothing", so creating an account
    without secondary domains does not log "None → []".
    """
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key) and (before.get(key) or after.get(key))
    }


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model,
    changes: dict[str, dict[str, Any]],
    actor_label: str | None = None,
) -> AuditEntry | None:
    """Store one audit entry for *obj*; skip it when nothing changed."""
    if not changes:
        return None
    return AuditEntry.objects.create(
        actor=actor,
        actor_label=actor_label or (actor.display_name if actor else "system"),
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_label=str(obj)[:200],
        changes=changes,
    )
