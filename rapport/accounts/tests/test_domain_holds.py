"""A member cannot take another account's mail; public mail domains identify no company.

Through the new-account page, the accounts API and the services: a primary domain that
is another account's secondary domain (or a secondary domain that is another account's
primary domain) is refused to members with a 403 naming that account; an admin may
take it, and both accounts' histories say so.
"""

import pytest
from django.test import Client
from django.urls import reverse

from rapport.accounts.models import Account, AccountDomain
from rapport.accounts.services import account_create, account_update
from rapport.accounts.tests.factories import make_account
from rapport.accounts.tests.kit import audit_of, error_of, send
from rapport.core.errors import InvalidInput, PermissionDenied
from rapport.mapping.services import mapping_settings_update
from rapport.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(db: None) -> Account:
    return make_account("Acme", domain="acme.com", secondary_domains=["acme.io"])


def _text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


# --- members are refused ------------------------------------------------------------------


def test_a_member_cannot_create_an_account_on_another_accounts_secondary_domain_by_page(
    member_client: Client, acme: Account
) -> None:
    response = member_client.post(
        reverse("accounts:create"),
        {"name": "Impostor", "primary_domain": "acme.io", "status": "active"},
    )
    assert response.status_code == 403
    assert f"the account “Acme” (id {acme.pk})" in _text(response)
    assert not Account.objects.filter(name="Impostor").exists()
    assert AccountDomain.objects.filter(account=acme, domain="acme.io").exists()


def test_a_member_cannot_create_an_account_on_another_accounts_secondary_domain_by_api(
    member_api: Client, acme: Account
) -> None:
    response = send(
        member_api, "post", "/api/v1/accounts", {"name": "Impostor", "primary_domain": "ACME.io"}
    )
    message = error_of(response, 403)
    assert "acme.io is a secondary domain of the account “Acme”" in message
    assert not Account.objects.filter(name="Impostor").exists()


def test_a_member_cannot_add_another_accounts_primary_domain_as_a_secondary_one(
    member_api: Client, acme: Account
) -> None:
    response = send(
        member_api,
        "post",
        "/api/v1/accounts",
        {
            "name": "Impostor",
            "primary_domain": "impostor.example",
            "secondary_domains": ["acme.com"],
        },
    )
    message = error_of(response, 403)
    assert f"acme.com is the primary domain of the account “Acme” (id {acme.pk})" in message
    assert not Account.objects.filter(name="Impostor").exists()


def test_the_service_refuses_the_member_whatever_face_calls_it(
    member_user: User, acme: Account
) -> None:
    with pytest.raises(PermissionDenied, match="Acme"):
        account_create(actor=member_user, name="Impostor", primary_domain="acme.io")


def test_a_member_may_still_share_an_unrelated_or_free_domain(
    member_api: Client, acme: Account
) -> None:
    response = send(
        member_api,
        "post",
        "/api/v1/accounts",
        {
            "name": "Acme Labs",
            "primary_domain": "acmelabs.example",
            "secondary_domains": ["acme.io"],
        },
    )
    assert response.status_code == 201, response.content


# --- admins may, and it is audited on both accounts ----------------------------------------


def test_an_admin_takes_a_secondary_domain_as_a_primary_one_and_both_histories_say_so(
    admin_api: Client, admin_client: Client, acme: Account
) -> None:
    response = send(
        admin_api, "post", "/api/v1/accounts", {"name": "Acme IO", "primary_domain": "acme.io"}
    )
    assert response.status_code == 201, response.content
    taker = Account.objects.get(pk=response.json()["id"])
    assert taker.primary_domain == "acme.io"
    # The domain moved: its mail goes to one account only.
    assert not AccountDomain.objects.filter(account=acme, domain="acme.io").exists()

    [lost] = audit_of(acme, "account.domain_takeover")
    assert lost.changes["secondary_domains"] == {"before": ["acme.io"], "after": []}
    assert f"now the primary domain of the account “Acme IO” (id {taker.pk})" in str(
        lost.changes["domain_takeover"]["after"]
    )
    assert lost.actor_label == "Ada Admin"
    [took] = audit_of(taker, "account.domain_takeover")
    assert f"was a secondary domain of the account “Acme” (id {acme.pk})" in str(
        took.changes["domain_takeover"]["after"]
    )

    page = _text(admin_client.get(acme.get_absolute_url()))
    assert "moved a domain between accounts" in page
    assert "Acme IO" in page


def test_an_admin_adds_another_accounts_primary_domain_as_a_secondary_one_audited_on_both(
    admin_user: User, acme: Account
) -> None:
    other = make_account("Other", domain="other.example")
    account_update(actor=admin_user, account=other, secondary_domains=["acme.com"])
    acme.refresh_from_db()
    assert acme.primary_domain == "acme.com"  # the primary domain stays where it was
    assert audit_of(acme, "account.domain_takeover")
    assert audit_of(other, "account.domain_takeover")


def test_an_admin_moving_a_primary_domain_onto_a_secondary_one_takes_it(
    admin_user: User, acme: Account
) -> None:
    other = make_account("Other", domain="other.example")
    account_update(actor=admin_user, account=other, primary_domain="acme.io")
    assert not AccountDomain.objects.filter(account=acme).exists()
    assert Account.objects.get(pk=other.pk).primary_domain == "acme.io"
    assert audit_of(acme, "account.domain_takeover")
    assert acme.pk and "acme.io" not in Account.objects.get(pk=acme.pk).search_text


# --- public mail domains -------------------------------------------------------------------


@pytest.mark.parametrize("client_name", ["admin_api", "member_api"])
def test_a_public_mail_domain_is_refused_as_a_primary_domain_by_api(
    client_name: str, request: pytest.FixtureRequest
) -> None:
    client = request.getfixturevalue(client_name)
    response = send(
        client, "post", "/api/v1/accounts", {"name": "Gmail", "primary_domain": "gmail.com"}
    )
    message = error_of(response, 400)
    assert "gmail.com is a public mail domain" in message
    assert response.json()["field"] == "primary_domain"
    assert not Account.objects.filter(name="Gmail").exists()


def test_a_public_mail_domain_is_refused_as_a_primary_domain_by_page(
    admin_client: Client,
) -> None:
    response = admin_client.post(
        reverse("accounts:create"),
        {"name": "Mail user", "primary_domain": "https://www.GMAIL.com/", "status": "active"},
    )
    assert response.status_code == 400
    assert "gmail.com is a public mail domain" in _text(response)
    assert not Account.objects.filter(name="Mail user").exists()


def test_a_public_mail_domain_cannot_become_a_primary_domain_by_a_change_either(
    admin_api: Client, acme: Account
) -> None:
    response = send(
        admin_api, "patch", f"/api/v1/accounts/{acme.pk}", {"primary_domain": "outlook.com"}
    )
    assert "public mail domain" in error_of(response, 400)
    assert Account.objects.get(pk=acme.pk).primary_domain == "acme.com"


def test_a_domain_an_admin_removed_from_the_public_list_may_be_a_primary_domain(
    admin_user: User,
) -> None:
    with pytest.raises(InvalidInput):
        account_create(actor=admin_user, name="Yahoo", primary_domain="yahoo.com")
    mapping_settings_update(actor=admin_user, public_domains_removed=["yahoo.com"])
    assert account_create(actor=admin_user, name="Yahoo", primary_domain="yahoo.com").pk
