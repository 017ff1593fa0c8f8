"""Onboarding tasks: thin wrappers that call the services."""

from django.tasks import task

from rapport.onboarding.services import handoff_llm_draft, handoff_reminders_send


@task()
def handoff_reminders_run() -> int:
    """Remind the account executives whose handoff has waited too long."""
    return handoff_reminders_send()


@task()
def handoff_llm_draft_run(plan_id: int) -> int:
    """Draft a new plan's handoff answers with the language model."""
    return handoff_llm_draft(plan_id)
