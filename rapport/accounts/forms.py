"""Forms of the accounts web UI.

They only turn posted text into Python values; the services decide what is valid
(domains, conflicts, permissions), so the web UI and the API cannot disagree.
"""

import re
from typing import Any

from django import forms

from rapport.accounts.domains import domain_display
from rapport.accounts.fields import field_format
from rapport.accounts.models import (
    Account,
    AccountStatus,
    CrmProvider,
    FieldDefinition,
    FieldType,
)
from rapport.accounts.selectors import account_owner_choices
from rapport.core.errors import ServiceError

_SEPARATORS = re.compile(r"[\s,;]+")


def split_list(text: str) -> list[str]:
    """Split text typed one item per line, or separated by commas, into its items."""
    return [item for item in _SEPARATORS.split(text or "") if item]


def form_add_service_error(form: forms.BaseForm, exc: ServiceError) -> None:
    """Show a service's error next to the field it names, or above the form."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


class DateInput(forms.DateInput):
    input_type = "date"


class AccountIdentityForm(forms.Form):
    """An account's name and domains (admins only)."""

    name = forms.CharField(max_length=200)
    primary_domain = forms.CharField(label="Primary domain", max_length=300, required=False)
    secondary_domains = forms.CharField(
        label="Secondary domains",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One per line, or separated by commas.",
    )

    @classmethod
    def for_account(cls, account: Account) -> "AccountIdentityForm":
        shown = getattr(account, "secondary_domains_shown", None)
        secondaries = (
            [d.domain for d in shown]
            if shown is not None
            else list(account.domains.values_list("domain", flat=True))
        )
        return cls(
            initial={
                "name": account.name,
                "primary_domain": domain_display(account.primary_domain or ""),
                "secondary_domains": "\n".join(domain_display(d) for d in secondaries),
            }
        )

    def changes(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "primary_domain": data["primary_domain"] or None,
            "secondary_domains": split_list(data["secondary_domains"]),
        }


class AccountMetadataForm(forms.Form):
    """Owner and lifecycle metadata, open to every member."""

    owner = forms.ModelChoiceField(
        queryset=account_owner_choices(), required=False, empty_label="No owner"
    )
    status = forms.ChoiceField(choices=AccountStatus.choices)
    industry = forms.CharField(max_length=100, required=False)
    employee_count = forms.IntegerField(label="Employees", min_value=0, required=False)
    arr = forms.DecimalField(
        label="ARR", min_value=0, max_digits=14, decimal_places=2, required=False
    )
    close_date = forms.DateField(label="Close date", required=False, widget=DateInput)
    website = forms.CharField(max_length=200, required=False)
    tier = forms.CharField(
        label="SLA tier",
        max_length=50,
        required=False,
        help_text="Picks the SLA policy for this account's requests.",
    )
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}))

    @classmethod
    def for_account(cls, account: Account) -> "AccountMetadataForm":
        return cls(
            initial={
                "owner": account.owner_id,
                "status": account.status,
                "industry": account.industry,
                "employee_count": account.employee_count,
                "arr": account.arr,
                "close_date": account.close_date,
                "website": account.website,
                "notes": account.notes,
                "tier": account.tier,
            }
        )

    def changes(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class AccountLogoForm(forms.Form):
    logo = forms.FileField(
        required=False,
        widget=forms.FileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
    )


class AccountCrmForm(forms.Form):
    """A hand-made link to a CRM company; an empty id unmaps the account."""

    crm_provider = forms.ChoiceField(
        label="CRM", choices=[("", "—"), *CrmProvider.choices], required=False
    )
    crm_external_id = forms.CharField(label="CRM company id", max_length=100, required=False)
    crm_company_name = forms.CharField(label="Company in CRM", max_length=200, required=False)

    @classmethod
    def for_account(cls, account: Account) -> "AccountCrmForm":
        return cls(
            initial={
                "crm_provider": account.crm_provider or CrmProvider.HUBSPOT,
                "crm_external_id": account.crm_external_id,
                "crm_company_name": account.crm_company_name,
            }
        )


class AccountFieldValuesForm(forms.Form):
    """The values of the Rapport-defined extra fields of one account."""

    def __init__(
        self,
        definitions: list[FieldDefinition],
        *args: Any,
        values: dict[str, object] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.definitions = definitions
        values = values or {}
        for definition in definitions:
            field: forms.Field
            match definition.type:
                case FieldType.CHOICE:
                    field = forms.ChoiceField(
                        choices=[("", "—"), *((c, c) for c in definition.choices)],
                        required=False,
                    )
                case FieldType.DATE:
                    field = forms.CharField(required=False, widget=DateInput)
                case FieldType.NUMBER:
                    field = forms.CharField(
                        required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"})
                    )
                case _:
                    field = forms.CharField(required=False, max_length=500)
            field.label = definition.label
            value = values.get(definition.key)
            field.initial = field_format(value)
            self.fields[definition.key] = field

    def values(self) -> dict[str, str]:
        return {key: value or "" for key, value in self.cleaned_data.items()}


class ContactAddForm(forms.Form):
    email = forms.CharField(max_length=254)
    name = forms.CharField(max_length=200, required=False)


class AccountCreateForm(forms.Form):
    name = forms.CharField(max_length=200)
    primary_domain = forms.CharField(label="Primary domain", max_length=300, required=False)
    secondary_domains = forms.CharField(
        label="Secondary domains",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line, or separated by commas.",
    )
    owner = forms.ModelChoiceField(
        queryset=account_owner_choices(), required=False, empty_label="No owner"
    )
    status = forms.ChoiceField(choices=AccountStatus.choices, initial=AccountStatus.ACTIVE)


class FieldDefinitionForm(forms.Form):
    key = forms.CharField(
        max_length=64, help_text="Letters, digits and underscores, such as renewal_tier."
    )
    label = forms.CharField(max_length=100)
    type = forms.ChoiceField(choices=FieldType.choices)
    choices = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For a single-choice field: one choice per line.",
    )

    def choice_list(self) -> list[str]:
        text = self.cleaned_data.get("choices") or ""
        separator = "\n" if "\n" in text else ","
        return [c.strip() for c in text.split(separator) if c.strip()]
