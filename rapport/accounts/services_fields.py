"""Extra account fields: their definitions, and the values accounts hold for them."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from rapport.accounts.fields import field_json, field_parse, field_value_apply
from rapport.accounts.models import (
    Account,
    FieldDefinition,
    FieldSource,
    FieldType,
    FieldValue,
)
from rapport.accounts.specs import FIELD_KEY, FIELD_LABEL, FIELD_TEXT_MAX_LENGTH
from rapport.audit.services import audit_record
from rapport.core.errors import Conflict, InvalidInput
from rapport.users.models import User
from rapport.users.services import user_require_admin


def account_field_values_write(
    actor: User | None, account: Account, values: Mapping[str, Any], *, allow_crm: bool
) -> dict[str, dict[str, Any]]:
    """Write extra field values of *account*; return the changes, for the caller's audit entry.

    Neither checks the actor's role nor records an audit entry: the callers do.
    """
    definitions = {f.key: f for f in FieldDefinition.objects.filter(key__in=list(values))}
    unknown = set(values) - set(definitions)
    if unknown:
        raise InvalidInput(f"Unknown fields: {', '.join(sorted(unknown))}.", field="fields")
    existing = {
        v.field_id: v
        for v in FieldValue.objects.filter(account=account, field__key__in=list(values))
    }
    changes: dict[str, dict[str, Any]] = {}
    to_create, to_update, to_delete = [], [], []
    for key, raw in values.items():
        field = definitions[key]
        if field.source == FieldSource.CRM and not allow_crm:
            raise InvalidInput(
                f"{field.label} comes from the CRM and cannot be edited here.", field=key
            )
        parsed = field_parse(field, raw)
        current = existing.get(field.pk)
        before = field_json(current.value) if current else None
        if parsed is None:
            if current:
                to_delete.append(current.pk)
        elif current:
            field_value_apply(current, field, parsed)
            to_update.append(current)
        else:
            value = FieldValue(account=account, field=field)
            field_value_apply(value, field, parsed)
            to_create.append(value)
        after = field_json(parsed)
        if before != after:
            changes[f"field:{key}"] = {"before": before, "after": after}
    FieldValue.objects.filter(pk__in=to_delete).delete()
    FieldValue.objects.bulk_update(to_update, ["value_text", "value_number", "value_date"])
    FieldValue.objects.bulk_create(to_create)
    return changes


@transaction.atomic
def account_set_field_values(
    *, actor: User | None, account: Account, values: Mapping[str, Any]
) -> None:
    """Set extra field values of an account; Rapport fields need an admin.

    CRM fields are written only by the CRM sync (actor None), never by a person.
    """
    if actor is not None:
        user_require_admin(actor, "edit account fields")
    changes = account_field_values_write(actor, account, values, allow_crm=actor is None)
    audit_record(
        actor=actor,
        actor_label=None if actor else "CRM sync",
        action="account.fields",
        obj=account,
        changes=changes,
    )


@transaction.atomic
def field_definition_create(
    *,
    actor: User | None,
    key: str,
    label: str,
    source: str = FieldSource.RAPPORT,
    type: str = FieldType.TEXT,
    choices: Iterable[str] = (),
    crm_property: str = "",
) -> FieldDefinition:
    """Define an extra account field."""
    if actor is not None:
        user_require_admin(actor, "define account fields")
    key = key.strip().lower().replace("-", "_")
    if not key or not key.replace("_", "").isalnum() or len(key) > (FIELD_KEY.max_length or 0):
        raise InvalidInput("A field key uses letters, digits and underscores.", field="key")
    label = label.strip()
    if len(label) > (FIELD_LABEL.max_length or 0):
        raise InvalidInput(FIELD_LABEL.too_long(), field="label")
    if source not in FieldSource.values:
        raise InvalidInput(f"Unknown field source {source!r}.", field="source")
    if type not in FieldType.values:
        raise InvalidInput(f"Unknown field type {type!r}.", field="type")
    choice_list = [c.strip() for c in choices if c and c.strip()]
    if any(len(c) > FIELD_TEXT_MAX_LENGTH for c in choice_list):  # stored like a text value
        raise InvalidInput(
            f"A choice is at most {FIELD_TEXT_MAX_LENGTH} characters.", field="choices"
        )
    if type == FieldType.CHOICE and not choice_list:
        raise InvalidInput("A single-choice field needs at least one choice.", field="choices")
    if FieldDefinition.objects.filter(key=key).exists():
        raise Conflict(f"A field with the key {key} already exists.", field="key")
    position = FieldDefinition.objects.filter(source=source).count()
    return FieldDefinition.objects.create(
        key=key,
        label=label or key,
        source=source,
        type=type,
        choices=choice_list if type == FieldType.CHOICE else [],
        crm_property=crm_property,
        position=position,
    )
