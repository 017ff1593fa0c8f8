"""The onboarding templates Rapport ships: standard SaaS, enterprise implementation, quick start.

The demo workspace loads them; a workspace can edit them like any template.
"""

from typing import Any

from rapport.onboarding.handoff_questions import (
    ENTERPRISE_QUESTIONS,
    QUICK_START_QUESTIONS,
    STANDARD_SAAS_QUESTIONS,
)
from rapport.onboarding.models import Template
from rapport.onboarding.questions import Question
from rapport.onboarding.services_templates import template_create
from rapport.users.models import User


def _task(title: str, *, customer: bool = False) -> dict[str, Any]:
    return {"title": title, "customer_visible": customer, "customer_completable": customer}


def _milestone(
    name: str, role: str, days: int, tasks: list[dict[str, Any]], description: str = ""
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "owner_role": role,
        "due_days": days,
        "due_from": "previous",
        "tasks": tasks,
    }


STANDARD_SAAS = [
    _milestone(
        "Kickoff",
        "csm",
        5,
        [
            _task("Hold the kickoff call"),
            _task("Share the onboarding plan with the customer"),
            _task("Confirm your project team and goals", customer=True),
        ],
        "Agree on goals, the team on both sides and the launch date.",
    ),
    _milestone(
        "Technical setup",
        "implementation",
        7,
        [
            _task("Provision the customer's workspace"),
            _task("Invite your administrators", customer=True),
            _task("Configure single sign-on where needed"),
        ],
    ),
    _milestone(
        "Data and integrations",
        "implementation",
        10,
        [
            _task("Import historical data"),
            _task("Connect the agreed integrations"),
            _task("Check the imported data", customer=True),
        ],
    ),
    _milestone(
        "Training",
        "csm",
        7,
        [
            _task("Run the administrator training"),
            _task("Run the end-user training"),
            _task("Have your team complete the training course", customer=True),
        ],
    ),
    _milestone(
        "Launch",
        "csm",
        5,
        [
            _task("Review the go-live checklist"),
            _task("Announce the launch to your team", customer=True),
            _task("Hold the launch retrospective"),
        ],
        "The customer is live; hand over to steady-state success.",
    ),
]

ENTERPRISE = [
    _milestone(
        "Kickoff and discovery",
        "csm",
        7,
        [
            _task("Hold the executive kickoff"),
            _task("Run discovery workshops"),
            _task("Name your project lead and executive sponsor", customer=True),
        ],
    ),
    _milestone(
        "Security and compliance",
        "implementation",
        14,
        [
            _task("Answer the security questionnaire"),
            _task("Sign the data processing agreement", customer=True),
            _task("Configure single sign-on and provisioning"),
        ],
    ),
    _milestone(
        "Solution design",
        "implementation",
        10,
        [
            _task("Write the solution design"),
            _task("Approve the solution design", customer=True),
        ],
    ),
    _milestone(
        "Data migration",
        "implementation",
        21,
        [
            _task("Map the legacy data"),
            _task("Run a trial migration"),
            _task("Sign off the migrated data", customer=True),
        ],
    ),
    _milestone(
        "Integrations",
        "implementation",
        14,
        [
            _task("Build and test the integrations"),
            _task("Provide integration credentials", customer=True),
        ],
    ),
    _milestone(
        "User acceptance testing",
        "customer",
        10,
        [_task("Run the acceptance tests", customer=True), _task("Fix the issues found")],
    ),
    _milestone(
        "Training",
        "csm",
        7,
        [
            _task("Train the administrators"),
            _task("Train the champions"),
            _task("Roll training out to all users", customer=True),
        ],
    ),
    _milestone(
        "Go-live and hypercare",
        "csm",
        14,
        [
            _task("Go live"),
            _task("Daily check-ins for the first two weeks"),
            _task("Executive review of the launch"),
        ],
    ),
]

QUICK_START = [
    _milestone(
        "Welcome call",
        "csm",
        2,
        [_task("Hold the welcome call"), _task("Send the getting-started guide")],
    ),
    _milestone(
        "Self-serve setup",
        "customer",
        5,
        [
            _task("Create your workspace and invite your team", customer=True),
            _task("Connect your first integration", customer=True),
        ],
    ),
    _milestone(
        "Launch check-in",
        "csm",
        7,
        [_task("Check usage and answer questions")],
    ),
]

SHIPPED: list[tuple[str, str, list[dict[str, Any]], tuple[Question, ...]]] = [
    (
        "Standard SaaS Onboarding",
        "Five milestones from kickoff to launch, about five weeks.",
        STANDARD_SAAS,
        STANDARD_SAAS_QUESTIONS,
    ),
    (
        "Enterprise Implementation",
        "Security review, data migration, integrations and acceptance testing; about three months.",
        ENTERPRISE,
        ENTERPRISE_QUESTIONS,
    ),
    (
        "Quick Start",
        "A light touch for small teams: live within two weeks.",
        QUICK_START,
        QUICK_START_QUESTIONS,
    ),
]


def templates_ship(actor: User | None = None) -> list[Template]:
    """Create the shipped templates that are missing (by name); return all three."""
    made = []
    for name, description, milestones, questions in SHIPPED:
        template = Template.objects.filter(name__iexact=name).first()
        if template is None:
            template = template_create(
                actor=actor,
                name=name,
                description=description,
                milestones=milestones,
                questions=[q.as_json() for q in questions],
            )
        made.append(template)
    return made
