"""Contact services: adding people to accounts, one by one and in batches."""

import pytest

from rapport.accounts import services_contacts, services_fields
from rapport.accounts.models import (
    Account,
    Contact,
)
from rapport.accounts.tests.factories import (
    make_account,
)
from rapport.accounts.tests.kit import audit_of
from rapport.core.errors import InvalidInput, NotFound
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def _search(q: str) -> list[str]:
    """Return the names of the accounts whose search text holds every word of *q*."""
    accounts = Account.objects.order_by("name")
    for word in q.lower().split():
        accounts = accounts.filter(search_text__contains=word)
    return list(accounts.values_list("name", flat=True))


# --- contacts ------------------------------------------------------------------------------


def test_one_person_can_be_a_contact_of_several_accounts(db: None) -> None:
    acme = make_account("Acme", domain="acme.com")
    globex = make_account("Globex", domain="globex.com")
    first = services_contacts.contact_add_to_account(
        account=acme, email=" Jane@ACME.com ", name="Jane"
    )
    second = services_contacts.contact_add_to_account(account=globex, email="jane@acme.com")
    assert first.pk == second.pk
    assert first.email == "jane@acme.com"
    assert Contact.objects.count() == 1
    assert set(first.accounts.all()) == {acme, globex}
    acme.refresh_from_db()
    globex.refresh_from_db()
    assert acme.contact_count == globex.contact_count == 1


def test_adding_the_same_contact_twice_counts_once(db: None) -> None:
    account = make_account("Acme", domain="acme.com")
    services_contacts.contact_add_to_account(account=account, email="jane@acme.com")
    services_contacts.contact_add_to_account(
        account=account, email="JANE@acme.com", name="Jane Doe"
    )
    account.refresh_from_db()
    assert account.contact_count == 1
    assert Contact.objects.get().name == "Jane Doe"


def test_search_finds_an_account_by_a_contacts_email(db: None) -> None:
    make_account("Acme", domain="acme.com")
    globex = make_account("Globex", domain="globex.com")
    services_contacts.contact_add_to_account(account=globex, email="buyer@gmail.com")
    assert _search("buyer@gmail") == ["Globex"]


def test_removing_a_contact_keeps_their_other_accounts(admin_user: User) -> None:
    acme = make_account("Acme")
    globex = make_account("Globex")
    jane = services_contacts.contact_add_to_account(account=acme, email="jane@example.com")
    services_contacts.contact_add_to_account(account=globex, email="jane@example.com")
    services_contacts.contact_remove_from_account(actor=admin_user, account=acme, contact=jane)
    acme.refresh_from_db()
    assert acme.contact_count == 0
    assert list(jane.accounts.all()) == [globex]
    assert _search("jane@example.com") == ["Globex"]
    [entry] = audit_of(acme, "account.contact_remove")
    assert entry.changes == {"contacts": {"before": "jane@example.com", "after": None}}


def test_removing_a_person_who_is_not_a_contact_is_not_found(admin_user: User) -> None:
    acme = make_account("Acme")
    jane = services_contacts.contact_add_to_account(
        account=make_account("Globex"), email="jane@x.com"
    )
    with pytest.raises(NotFound, match="not a contact of Acme"):
        services_contacts.contact_remove_from_account(actor=admin_user, account=acme, contact=jane)


@pytest.mark.parametrize("email", ["", "jane", "@acme.com", "jane@", "jane@not a domain"])
def test_a_malformed_contact_email_is_refused(db: None, email: str) -> None:
    account = make_account("Acme")
    with pytest.raises(InvalidInput):
        services_contacts.contact_add_to_account(account=account, email=email)
    assert not Contact.objects.exists()


def test_a_contact_email_longer_than_the_column_is_refused(db: None) -> None:
    account = make_account("Acme")
    host = ".".join(["ü" * 15] * 4) + ".de"  # its punycode form is longer than what was typed
    email = f"{'j' * 170}@{host}"
    assert len(email) <= 254
    with pytest.raises(InvalidInput, match="at most 254") as caught:
        services_contacts.contact_add_to_account(account=account, email=email)
    assert caught.value.field == "email"


def test_a_choice_longer_than_a_stored_value_is_refused(admin_user: User) -> None:
    with pytest.raises(InvalidInput, match="at most 500"):
        services_fields.field_definition_create(
            actor=admin_user, key="tier", label="Tier", type="choice", choices=["x" * 501]
        )
