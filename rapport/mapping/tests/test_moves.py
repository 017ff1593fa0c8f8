"""Moving a conversation to another account by hand: its requests, figures and contact.

Moves go through `POST /api/v1/conversations/{id}/account` and the conversation page,
as a member would make them.
"""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rapport.accounts.models import Account, Contact
from rapport.accounts.services_contacts import contact_add_to_account
from rapport.accounts.tests.factories import make_account
from rapport.accounts.tests.kit import audit_of
from rapport.mapping.models import MappingDecision
from rapport.metrics.models import AccountRequestMetrics
from rapport.metrics.services import account_request_metrics_refresh
from rapport.metrics.tests.factories import make_request
from rapport.requests.models import Request
from rapport.users.models import User

pytestmark = pytest.mark.django_db

REQUESTER = "jo@acme.example"


@pytest.fixture
def acme(db: None) -> Account:
    return make_account("Acme", domain="acme.example")


@pytest.fixture
def globex(db: None) -> Account:
    return make_account("Globex", domain="globex.example")


@pytest.fixture
def request_on_acme(acme: Account) -> Request:
    """A request on Acme from its contact Jo, with the figures the scheduler keeps."""
    jo = contact_add_to_account(account=acme, email=REQUESTER, name="Jo")
    request = make_request(acme, requester=jo)
    account_request_metrics_refresh(None)
    return request


def _move(api: Client, conversation_id: int, account: Account | None) -> Any:
    response = api.post(
        f"/api/v1/conversations/{conversation_id}/account",
        {"account_id": account.pk if account else None},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response


def _total(account: Account) -> int:
    return AccountRequestMetrics.objects.get(account=account).total_count


def _contact_of(account: Account) -> list[str]:
    return sorted(account.contacts.values_list("email", flat=True))


def test_moving_a_conversation_moves_its_requests_and_refreshes_both_accounts_figures(
    member_api: Client, acme: Account, globex: Account, request_on_acme: Request
) -> None:
    assert (_total(acme), _total(globex)) == (1, 0)

    _move(member_api, request_on_acme.conversation_id, globex)

    assert Request.objects.get(pk=request_on_acme.pk).account == globex
    # At once, without waiting for the scheduler's refresh.
    assert (_total(acme), _total(globex)) == (0, 1)


def test_unlinking_a_conversation_takes_its_requests_off_the_account(
    member_api: Client, acme: Account, request_on_acme: Request
) -> None:
    _move(member_api, request_on_acme.conversation_id, None)

    assert Request.objects.get(pk=request_on_acme.pk).account is None
    assert _total(acme) == 0


def test_moving_a_conversation_through_the_page_moves_its_requests_too(
    member_client: Client, acme: Account, globex: Account, request_on_acme: Request
) -> None:
    response = member_client.post(
        reverse("inbox:conversation_account", args=[request_on_acme.conversation_id]),
        {"account": str(globex.pk)},
    )
    assert response.status_code == 302
    assert Request.objects.get(pk=request_on_acme.pk).account == globex
    assert (_total(acme), _total(globex)) == (0, 1)


def test_a_move_and_back_removes_the_contact_link_the_move_created(
    member_api: Client, acme: Account, globex: Account, request_on_acme: Request
) -> None:
    conversation_id = request_on_acme.conversation_id

    _move(member_api, conversation_id, globex)
    assert _contact_of(globex) == [REQUESTER]
    linked = MappingDecision.objects.filter(conversation_id=conversation_id).first()
    assert linked is not None and linked.linked_contact is not None

    _move(member_api, conversation_id, acme)

    assert _contact_of(globex) == []
    assert _contact_of(acme) == [REQUESTER]  # the link Jo had before stays
    assert Contact.objects.filter(email=REQUESTER).exists()
    assert Request.objects.get(pk=request_on_acme.pk).account == acme
    assert (_total(acme), _total(globex)) == (1, 0)
    # Both changes to Globex's contacts are in its history, by the member who moved.
    [added] = audit_of(globex, "account.contact_add")
    [removed] = audit_of(globex, "account.contact_remove")
    assert added.actor_label == removed.actor_label == "Max Member"


def test_a_move_and_back_keeps_a_contact_link_that_was_there_before(
    member_api: Client, acme: Account, globex: Account, request_on_acme: Request
) -> None:
    contact_add_to_account(account=globex, email=REQUESTER)
    conversation_id = request_on_acme.conversation_id

    _move(member_api, conversation_id, globex)
    _move(member_api, conversation_id, acme)

    assert _contact_of(globex) == [REQUESTER]
    assert not audit_of(globex, "account.contact_remove")


def test_moving_on_to_a_third_account_also_undoes_the_link_of_the_mistaken_move(
    member_api: Client, acme: Account, globex: Account, request_on_acme: Request
) -> None:
    initech = make_account("Initech", domain="initech.example")
    conversation_id = request_on_acme.conversation_id

    _move(member_api, conversation_id, globex)
    _move(member_api, conversation_id, initech)

    assert _contact_of(globex) == []
    assert _contact_of(initech) == [REQUESTER]
    assert Request.objects.get(pk=request_on_acme.pk).account == initech
    assert (_total(acme), _total(globex), _total(initech)) == (0, 0, 1)


def test_a_link_removed_by_hand_in_between_is_no_obstacle_to_moving_back(
    member_api: Client, admin_user: User, acme: Account, globex: Account, request_on_acme: Request
) -> None:
    from rapport.accounts.services_contacts import contact_remove_from_account

    conversation_id = request_on_acme.conversation_id
    _move(member_api, conversation_id, globex)
    jo = Contact.objects.get(email=REQUESTER)
    contact_remove_from_account(actor=admin_user, account=globex, contact=jo)

    _move(member_api, conversation_id, acme)

    assert _contact_of(globex) == []
    assert Request.objects.get(pk=request_on_acme.pk).account == acme
