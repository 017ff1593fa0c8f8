"""The template editor's text: what a person types, and what it becomes."""

import pytest
from django.test import Client
from django.urls import reverse

from rapport.core.errors import InvalidInput
from rapport.onboarding.catalog import STANDARD_SAAS, templates_ship
from rapport.onboarding.content import content_clean
from rapport.onboarding.handoff_questions import STANDARD_SAAS_QUESTIONS
from rapport.onboarding.models import Template
from rapport.onboarding.template_text import (
    milestones_parse,
    milestones_text,
    questions_parse,
    questions_text,
)
from rapport.onboarding.tests.factories import make_onboarding


def test_a_template_round_trips_through_its_text() -> None:
    milestones, questions = content_clean(
        STANDARD_SAAS, [q.as_json() for q in STANDARD_SAAS_QUESTIONS]
    )
    again = content_clean(
        milestones_parse(milestones_text(milestones)),
        questions_parse(questions_text(questions), questions),
    )
    assert again == (milestones, questions)


def test_the_text_says_which_line_is_wrong() -> None:
    with pytest.raises(InvalidInput, match="Line 1: a task comes under a milestone"):
        milestones_parse("- orphan task\n# Kickoff")
    with pytest.raises(InvalidInput, match="Line 2: “soon” is no number of days"):
        milestones_parse("# Kickoff | csm | 3\n# Launch | csm | soon")
    with pytest.raises(InvalidInput, match="Line 1: start a question with its kind"):
        questions_parse("Is SSO needed?", [])


@pytest.mark.django_db
def test_a_member_edits_a_template_in_the_page_and_gets_a_new_version(
    member_client: Client,
) -> None:
    templates_ship()
    plan = make_onboarding(template="Quick Start")
    quick = Template.objects.get(name="Quick Start")
    url = reverse("onboarding:template_edit", args=[quick.pk])
    page = member_client.get(url).content.decode()
    assert "# Welcome call | csm | 2 | previous" in page
    response = member_client.post(
        url,
        {
            "name": "Quick Start",
            "description": "Two steps.",
            "milestones": "# Welcome call | csm | 3\n- Hold the welcome call\n"
            "# Go live | customer | 7\n- [customer] Invite your team\n",
            "questions": "text: What is the target go-live date?\nyes_no: Is SSO required?\n",
        },
        follow=True,
    )
    text = response.content.decode()
    assert "Saved “Quick Start” as version 2" in text
    assert "Added the milestone “Go live”." in text
    version = quick.versions.get(number=2)
    assert version.milestones[1]["tasks"][0]["customer_completable"] is True
    # The unchanged question keeps its key, so answers stay comparable across versions.
    assert version.questions[0]["key"] == "go_live_date"
    plan.refresh_from_db()
    assert plan.version_number == 1
    bad = member_client.post(url, {"name": "Quick Start", "milestones": "just words"})
    assert bad.status_code == 400
    assert "Line 1: start a milestone with # and a task with -." in bad.content.decode()
    created = member_client.post(
        reverse("onboarding:template_create"),
        {"name": "Pilot", "milestones": "# Pilot | csm | 14\n- Run the pilot\n", "questions": ""},
    )
    assert created.status_code == 302
    assert Template.objects.filter(name="Pilot").exists()
