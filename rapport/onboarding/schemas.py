"""Shapes of onboarding in the JSON API."""

import datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema

from rapport.core.spec_schemas import loose_schema_field, schema_model, specs_fields
from rapport.onboarding import specs

# The fields are declared once (rapport.onboarding.specs); the service validates them,
# so a bad value is a 400 naming the field, as from the web form.
_OnboardingCreateFields: Any = schema_model(
    "OnboardingCreateFields",
    __name__,
    specs_fields(specs.CREATE_SPECS, loose_schema_field),
    base=Schema,
)


class OnboardingCreateIn(_OnboardingCreateFields):
    """A new customer to onboard; `template` is a template's id or name."""


class PersonOut(Schema):
    id: int
    email: str
    name: str


class ContactRefOut(Schema):
    email: str
    name: str
    role: str


class TemplateRefOut(Schema):
    id: int | None
    name: str
    version: int


class PlanProgressOut(Schema):
    done: int
    total: int
    percent: int


class TaskOut(Schema):
    id: int
    title: str
    status: str
    owner_role: str
    due_date: datetime.date | None
    overdue: bool
    customer_visible: bool
    customer_completable: bool
    completed_at: datetime.datetime | None
    completed_by: str | None


class MilestoneOut(Schema):
    id: int
    name: str
    owner_role: str
    due_date: datetime.date | None
    completed: bool
    overdue: bool
    tasks: list[TaskOut]


class AnswerOut(Schema):
    key: str
    question: str
    kind: str
    choices: list[str]
    answer: str
    citation: str = Field(description="The sentence of the deal notes the draft came from.")
    source: str


class OnboardingOut(Schema):
    """An account in onboarding, with its plan. `id` is the account's id."""

    id: int
    account_id: int
    company_name: str
    status: str
    primary_domain: str | None
    arr: Decimal | None
    close_date: datetime.date | None
    csm: PersonOut | None
    ae_email: str
    primary_contact: ContactRefOut | None
    template: TemplateRefOut
    started_on: datetime.date
    handoff_submitted_at: datetime.datetime | None
    progress: PlanProgressOut
    milestones: list[MilestoneOut]
    answers: list[AnswerOut]


class OnboardingListItemOut(Schema):
    id: int
    company_name: str
    status: str
    arr: Decimal | None
    close_date: datetime.date | None
    template: str
    primary_contact_email: str | None
    csm: str | None
    progress: PlanProgressOut


class OnboardingListOut(Schema):
    items: list[OnboardingListItemOut]
    count: int
    counts: dict[str, int] = Field(description="Accounts in onboarding per status.")


class StatusIn(Schema):
    status: str
    note: str = ""


class CsmIn(Schema):
    csm_id: int
    notify_csm: bool = True
    notify_customer: bool = False
    note: str = ""


class TaskTemplateIO(Schema):
    title: str
    customer_visible: bool = False
    customer_completable: bool = False


class MilestoneTemplateIO(Schema):
    name: str
    description: str = ""
    owner_role: str = Field("csm", description="csm, ae, customer, implementation or support.")
    due_days: int = Field(0, description="Days after the start or the previous milestone.")
    due_from: str = Field("previous", description="start or previous.")
    tasks: list[TaskTemplateIO] = []


class QuestionIO(Schema):
    key: str | None = Field(None, description="Stable id; made from the text when left out.")
    text: str
    kind: str = Field("text", description="text, long_text, choice or yes_no.")
    choices: list[str] = []


class TemplateCreateIn(Schema):
    name: str
    description: str = ""
    milestones: list[MilestoneTemplateIO]
    questions: list[QuestionIO] = []


class TemplatePatchIn(Schema):
    name: str | None = None
    description: str | None = None
    milestones: list[MilestoneTemplateIO] | None = None
    questions: list[QuestionIO] | None = None


class TemplateOut(Schema):
    id: int
    name: str
    description: str
    version: int
    milestones: list[MilestoneTemplateIO]
    questions: list[QuestionIO]
    plan_count: int
    created_at: datetime.datetime
    updated_at: datetime.datetime


class TemplateListOut(Schema):
    items: list[TemplateOut]
    count: int


class VersionOut(Schema):
    number: int
    created_at: datetime.datetime
    milestones: list[MilestoneTemplateIO]
    questions: list[QuestionIO]
    changes: list[str] = Field(description="What this version changed from the one before.")


class TaskStateOut(Schema):
    id: int
    status: str
    completed_by: str
