"""Forms of the Team, API tokens and invitation pages; their fields derive from the specs."""

from typing import Any

from django import forms

from rapport.core.spec_forms import SpecForm
from rapport.core.specs import FieldSpec
from rapport.users.models import User
from rapport.users.specs import INVITATION_SPECS, IS_CSM, NAME, ROLE, SLACK_USER_ID, TOKEN_SPECS

# Hashing a very long password is slow work for nothing; no person types this much.
PASSWORD_MAX_LENGTH = 4096


class InvitationForm(SpecForm):
    """Invite someone by email, with the name and role they will have."""

    declared = INVITATION_SPECS
    widgets = {"email": forms.EmailInput(attrs={"autocomplete": "off"})}


class MemberFieldForm(SpecForm):
    """Change one field of one member: its role or its Slack user id."""

    def __init__(self, spec: FieldSpec, member: User, *args: Any, **kwargs: Any) -> None:
        self.declared = (spec,)
        kwargs.setdefault("initial", {spec.name: getattr(member, spec.name)})
        super().__init__(*args, prefix=f"m{member.pk}", **kwargs)
        self.spec, self.member = spec, member
        field = self.fields[spec.name]
        # The member's name in the label tells one row's field from the next.
        field.widget.attrs["aria-label"] = f"{spec.label} of {member.display_name}"


def member_forms(member: User) -> dict[str, MemberFieldForm]:
    """Return the role and Slack user id forms of *member*, by field name."""
    return {spec.name: MemberFieldForm(spec, member) for spec in (ROLE, SLACK_USER_ID, IS_CSM)}


class ApiTokenForm(SpecForm):
    declared = TOKEN_SPECS
    widgets = {"name": forms.TextInput(attrs={"placeholder": "CI, laptop, CRM sync…"})}


class InvitationAcceptForm(forms.Form):
    """The invitee's name and the password they choose, typed twice."""

    name = forms.CharField(label="Your name", max_length=NAME.max_length)
    password1 = forms.CharField(
        label="Password",
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords differ.")
        return cleaned
