"""Forms of the onboarding pages, derived from the declarations in `specs`."""

from django import forms

from rapport.accounts.specs import STATUS
from rapport.core.spec_forms import SpecForm, form_field
from rapport.onboarding import specs
from rapport.onboarding.models import Template
from rapport.onboarding.selectors import SORTS
from rapport.users.models import User


class OnboardingCreateForm(SpecForm):
    """A new customer to onboard; the template is picked from the workspace's templates."""

    declared = tuple(s for s in specs.CREATE_SPECS if s.name != "template")
    widgets = {
        "notes": forms.Textarea(attrs={"rows": 3}),
        "raw_payload": forms.Textarea(attrs={"rows": 8}),
    }
    field_order = [s.name for s in specs.CREATE_SPECS]

    template = forms.ModelChoiceField(
        queryset=Template.objects.all(),
        empty_label=None,
        help_text="Copied into the account's plan.",
    )


class TemplateForm(forms.Form):
    """A template's name, description, milestones and questions, as text."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    milestones = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "class": "mono"}),
        help_text=(
            "“# Name | owner role | due in days | from” starts a milestone (owner role: csm, "
            "ae, customer, implementation or support; from: start or previous); “> text” "
            "describes it; “- Task” adds a task under it, “- [customer] Task” one the "
            "customer completes, “- [visible] Task” one the customer only sees."
        ),
    )
    questions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "class": "mono"}),
        help_text=(
            "One a line: “text: Question”, also long_text, yes_no, or "
            "“choice: Question | First, Second”."
        ),
    )


class StatusForm(forms.Form):
    status = form_field(STATUS)
    note = form_field(specs.STATUS_NOTE, widget=forms.Textarea(attrs={"rows": 2}))


class CsmForm(forms.Form):
    csm = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True, is_csm=True), label="CSM", empty_label=None
    )
    notify_csm = forms.BooleanField(label="Notify the new CSM", required=False, initial=True)
    notify_customer = forms.BooleanField(label="Notify the customer", required=False)
    note = form_field(specs.TRANSITION_NOTE, widget=forms.Textarea(attrs={"rows": 2}))


class OnboardingFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
    template = forms.CharField(required=False, max_length=200)
    arr_min = forms.DecimalField(
        required=False, min_value=0, max_digits=14, decimal_places=2, label="ARR from"
    )
    arr_max = forms.DecimalField(
        required=False, min_value=0, max_digits=14, decimal_places=2, label="ARR to"
    )
    sort = forms.ChoiceField(
        required=False,
        choices=[(f"{sign}{key}", key) for key in SORTS for sign in ("", "-")],
    )
