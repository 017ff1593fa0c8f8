"""Reads of the audit log."""

from django.db import models
from django.db.models import QuerySet

from rapport.audit.models import AuditEntry


def audit_entries_for(obj: models.Model, *, limit: int = 100) -> QuerySet[AuditEntry]:
    """Return the newest audit entries of *obj*, with their actors."""
    return AuditEntry.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("actor")[:limit]


def audit_entries_recent(object_types: list[str], *, limit: int = 20) -> QuerySet[AuditEntry]:
    """Return the newest audit entries of objects of *object_types* ("users.user"), with actors."""
    return AuditEntry.objects.filter(object_type__in=object_types).select_related("actor")[:limit]
