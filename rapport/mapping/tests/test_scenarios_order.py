"""The mapping methods together: their priority order, one decision per ticket.

The priority order: a direct account id, then an explicit customer reference, then the
Slack channel (with the contact cross-reference when several accounts share it), then
the email domain (primary, then secondary, public domains skipped), then automatic
creation when the workspace allows it. Each test checks what a person sees: the ticket's
answer, the stored decision (method, outcome, candidates, reason), the conversation's
account and the requester as a contact.
"""

import pytest
from django.test import Client

from rapport.accounts.tests.factories import make_account, make_channel
from rapport.mapping.models import MappingDecision, MappingMethod, MappingOutcome
from rapport.mapping.tests.kit import contact_accounts, ticket

pytestmark = pytest.mark.django_db


# --- The priority order --------------------------------------------------------------------


@pytest.mark.usefixtures("auto_create")
def test_the_methods_apply_in_the_documented_order(admin_api: Client) -> None:
    by_id = make_account("By Id", domain="by-id.example")
    by_ref = make_account("By Ref", domain="by-ref.example", crm_id="REF-1")
    by_channel = make_account("By Channel", domain="by-channel.example")
    by_domain = make_account("By Domain", domain="by-domain.example")
    channel = make_channel("customer", accounts=[by_channel])
    everything = {
        "account_id": by_id.pk,
        "customer_ref": "REF-1",
        "slack_channel": channel.slack_channel_id,
    }

    steps = [
        (everything, by_id.pk, "account_id"),
        (everything | {"account_id": None}, by_ref.pk, "customer_ref"),
        (everything | {"account_id": None, "customer_ref": ""}, by_channel.pk, "slack_channel"),
        ({}, by_domain.pk, "email_domain"),
    ]
    for fields, account_id, method in steps:
        answer = ticket(admin_api, "jo@by-domain.example", **fields)
        assert (answer["account_id"], answer["mapping"]["method"]) == (account_id, method)
    answer = ticket(admin_api, "jo@brand-new.example")
    assert answer["mapping"]["method"] == "auto_create"
    # The one requester is now a contact of every account a ticket linked to.
    assert contact_accounts("jo@by-domain.example") == [
        "By Channel",
        "By Domain",
        "By Id",
        "By Ref",
    ]


# --- Every decision is one stored record ---------------------------------------------------


def test_each_ticket_stores_exactly_one_decision(admin_api: Client) -> None:
    make_account("Acme", domain="acme.example")
    answers = [ticket(admin_api, email) for email in ("a@acme.example", "b@gmail.com", "c@x.io")]

    assert MappingDecision.objects.count() == 3
    assert sorted(MappingDecision.objects.values_list("outcome", flat=True)) == sorted(
        [MappingOutcome.LINKED, MappingOutcome.UNMATCHED, MappingOutcome.UNMATCHED]
    )
    assert {d.conversation_id for d in MappingDecision.objects.all()} == {a["id"] for a in answers}
    assert all(d.actor is None and not d.overridden for d in MappingDecision.objects.all())
    assert not MappingDecision.objects.filter(method=MappingMethod.MANUAL).exists()
