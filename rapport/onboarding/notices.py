"""What onboarding tells people, queued in the outbox with the change that causes it.

The AE gets the handoff link, the customer their portal link and an introduction to a
new CSM, and the CSM a Slack DM (when the member has a Slack id and Slack is set up) or
an email.
"""

import datetime

from django.conf import settings

from rapport.accounts.models import Account, Contact
from rapport.onboarding.links import link_url
from rapport.onboarding.models import LinkKind, Plan
from rapport.outbox.services import outbox_add
from rapport.users.models import User


def _one_line(text: str) -> str:
    return " ".join(text.split())


def handoff_email_content(
    *, company: str, template_name: str, url: str, reminder: int = 0
) -> tuple[str, str]:
    """Return the subject and body of the AE's handoff email (the bulk import's too)."""
    company = _one_line(company)
    subject = f"Handoff for {company}: review the answers and pick the CSM"
    lead = "Thanks for closing"
    if reminder:
        subject = f"Reminder: the handoff for {company} is waiting for you"
        lead = "A reminder: the handoff of"
    body = (
        f"Hello,\n\n{lead} {company}. Rapport drafted the handoff answers from the deal "
        "notes; each cites the sentence it came from. Check them, fill in what is missing, "
        "choose the CSM who takes the account over, and submit:\n\n"
        f"{url}\n\n"
        f"The link needs no login and works for {settings.HANDOFF_LINK_DAYS} days. "
        f"Plan: {template_name}.\n"
    )
    return subject, body


def handoff_email_key(plan: Plan, reminder: int = 0) -> str:
    return f"handoff:{plan.pk}:{reminder}"


def handoff_email_queue(
    *,
    plan: Plan,
    account: Account,
    raw: str,
    reminder: int = 0,
    available_at: datetime.datetime | None = None,
) -> None:
    """Queue the email that gives the AE the handoff link (or reminds them of it).

    With *available_at* it waits until then at the latest, for answers still being drafted.
    """
    subject, body = handoff_email_content(
        company=account.name,
        template_name=plan.template_name,
        url=link_url(LinkKind.HANDOFF, raw),
        reminder=reminder,
    )
    outbox_add(
        "email.send",
        {"to": [plan.ae_email], "subject": subject, "body": body},
        key=handoff_email_key(plan, reminder),
        available_at=available_at,
    )


def portal_email_queue(*, account: Account, contact: Contact, raw: str) -> None:
    """Queue the email that gives the customer's primary contact their portal link."""
    greeting = f"Hello {_one_line(contact.name)}," if contact.name else "Hello,"
    csm = account.csm.display_name if account.csm else "your customer success manager"
    body = (
        f"{greeting}\n\nWelcome aboard. Your onboarding plan, its milestones and the tasks "
        f"on your side are on this page, which {csm} keeps up to date:\n\n"
        f"{link_url(LinkKind.PORTAL, raw)}\n\n"
        "Keep the link to yourself: anyone who has it can see your plan.\n"
    )
    outbox_add(
        "email.send",
        {
            "to": [contact.email],
            "subject": f"Your onboarding plan for {_one_line(account.name)}",
            "body": body,
        },
        key=f"portal:{account.pk}:{raw[:12]}",
    )


def csm_notify(*, account: Account, csm: User, note: str = "", by: str = "") -> None:
    """Tell *csm* that *account* is theirs now."""
    text = f"You are now the CSM of {_one_line(account.name)}"
    text += f", assigned by {_one_line(by)}." if by else "."
    if note:
        text += f"\nTransition note: {note.strip()}"
    url = settings.SITE_URL.rstrip("/") + account.get_absolute_url()
    if csm.slack_user_id and settings.SLACK_BOT_TOKEN:
        outbox_add("slack.dm", {"user": csm.slack_user_id, "text": f"{text}\n{url}"})
        return
    outbox_add(
        "email.send",
        {
            "to": [csm.email],
            "subject": f"You are now the CSM of {_one_line(account.name)}",
            "body": f"{text}\n\nThe account: {url}\n",
        },
    )


def customer_csm_intro(*, account: Account, contact: Contact, csm: User, note: str = "") -> None:
    """Introduce a new CSM to the customer's primary contact."""
    greeting = f"Hello {_one_line(contact.name)}," if contact.name else "Hello,"
    body = f"{greeting}\n\n{csm.display_name} ({csm.email}) is now your customer success manager."
    if note:
        body += f"\n\n{note.strip()}"
    outbox_add(
        "email.send",
        {
            "to": [contact.email],
            "subject": "Meet your new customer success manager",
            "body": body + "\n",
            "reply_to": [csm.email],
        },
    )
