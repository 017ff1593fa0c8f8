"""Forms of the accounts web UI.

They only turn posted text into Python values; the services decide what is valid
(domains, conflicts, permissions), so the web UI and the API cannot disagree. The
account's own fields and the extra ones derive from `rapport.accounts.specs`, so a
form refuses what the services refuse, with the same message.
"""

import re
from typing import Any

from django import forms

from rapport.accounts import specs
from rapport.accounts.domains import domain_display
from rapport.accounts.fields import field_format
from rapport.accounts.models import Account, CrmProvider, FieldDefinition, FieldType
from rapport.accounts.selectors import account_owner_choices
from rapport.core.spec_forms import SpecForm, form_field
from rapport.core.specs import Kind

_SEPARATORS = re.compile(r"[\s,;]+")


def split_list(text: str) -> list[str]:
    """Split text typed one item per line, or separated by commas, into its items."""
    return [item for item in _SEPARATORS.split(text or "") if item]


class AccountIdentityForm(SpecForm):
    """An account's name and domains (admins only)."""

    declared = (specs.NAME, specs.PRIMARY_DOMAIN)
    field_order = ["name", "primary_domain"]

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


class AccountMetadataForm(SpecForm):
    """Owner and lifecycle metadata, open to every member."""

    declared = specs.METADATA_SPECS
    widgets = {"notes": forms.Textarea(attrs={"rows": 4})}

    owner = forms.ModelChoiceField(
        queryset=account_owner_choices(), required=False, empty_label="No owner"
    )

    @classmethod
    def for_account(cls, account: Account) -> "AccountMetadataForm":
        initial = {spec.name: getattr(account, spec.name) for spec in cls.declared}
        return cls(initial={"owner": account.owner_id, **initial})

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
    crm_external_id = form_field(specs.CRM_EXTERNAL_ID)
    crm_company_name = form_field(specs.CRM_COMPANY_NAME)

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
    """The values of the Rapport-defined extra fields of one account.

    Each field derives from its definition's declaration (`specs.field_spec`).
    """

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
            spec = specs.field_spec(definition)
            # A number shows grouped ("12,500"), which a number input would not take.
            widget = forms.TextInput(attrs={"inputmode": "decimal"})
            field = form_field(spec, widget=widget if spec.kind == Kind.DECIMAL else None)
            field.initial = field_format(values.get(definition.key))
            self.fields[definition.key] = field

    def values(self) -> dict[str, object]:
        return dict(self.cleaned_data)


class ContactAddForm(forms.Form):
    email = forms.CharField(max_length=specs.CONTACT_EMAIL.max_length)
    name = forms.CharField(max_length=specs.CONTACT_NAME.max_length, required=False)


class AccountCreateForm(SpecForm):
    declared = (specs.NAME, specs.STATUS, specs.PRIMARY_DOMAIN)
    field_order = ["name", "primary_domain"]

    secondary_domains = forms.CharField(
        label="Secondary domains",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line, or separated by commas.",
    )
    owner = forms.ModelChoiceField(
        queryset=account_owner_choices(), required=False, empty_label="No owner"
    )


class FieldDefinitionForm(forms.Form):
    key = forms.CharField(max_length=specs.FIELD_KEY.max_length, help_text=specs.FIELD_KEY.help)
    label = forms.CharField(max_length=specs.FIELD_LABEL.max_length)
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
