"""The directory table: its columns, filters, sorts and pages, and what it costs."""

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rapport.accounts.models import Account
from rapport.accounts.services import account_record_crm_sync
from rapport.accounts.services_fields import account_set_field_values
from rapport.accounts.tests.factories import make_account, make_field
from rapport.directory.tests.kit import HTMX, LIST, page_text
from rapport.inbox.services import channel_create, channel_set_accounts
from rapport.users.models import User
from rapport.users.services import user_create

pytestmark = pytest.mark.django_db


def _rows(response: Any) -> list[str]:
    """Return the account names in the directory table, in order."""
    return re.findall(
        r'class="account-link" href="/accounts/\d+/">([^<]+)</a>', page_text(response)
    )


def test_directory_shows_default_columns_and_crm_totals(admin_client: Client) -> None:
    owner = user_create(email="olga@example.test", password=None, name="Olga Owner")
    acme = make_account("Acme", domain="acme.example", contacts=2, crm_id="C-1", owner=owner)
    make_account("Globex", domain="globex.example", crm_id="C-2")
    account_record_crm_sync(account=Account.objects.get(name="Globex"), ok=False, error="Boom 500")
    make_account("Initech", domain="initech.example")
    channel = channel_create(slack_team_id="T1", slack_channel_id="C01", name="acme-support")
    channel_set_accounts(actor=None, channel=channel, accounts=[acme])

    response = admin_client.get(LIST)
    assert response.status_code == 200
    text = page_text(response)
    for header in (
        "Account",
        "Contacts",
        "Primary domain",
        "Slack channel",
        "Owner",
        "Company in CRM",
        "CRM sync",
    ):
        assert f">{header}</a>" in text
    assert re.search(r"<strong>3</strong> accounts", text)
    assert re.search(r"<strong>2</strong> mapped to the CRM", text)
    assert re.search(r"<strong>1</strong> failing to sync", text)
    assert "#acme-support" in text and "Olga Owner" in text and "acme.example" in text
    assert "Sync failing: Boom 500" in text  # the hover text of the failing badge
    assert _rows(response) == ["Acme", "Globex", "Initech"]


def test_directory_shows_domains_in_unicode(admin_client: Client) -> None:
    make_account("Bücher", domain="bücher.example")
    assert "bücher.example" in page_text(admin_client.get(LIST))


def test_filter_in_the_url_narrows_the_rows(admin_client: Client) -> None:
    make_account("Acme", domain="acme.example", industry="Retail")
    make_account("Globex", domain="globex.example", industry="Energy")
    make_account("Acme Labs", domain="acmelabs.example", industry="Energy")

    assert _rows(admin_client.get(LIST, {"q": "acme"})) == ["Acme", "Acme Labs"]
    assert _rows(admin_client.get(LIST, {"q": "acme", "industry": "Energy"})) == ["Acme Labs"]
    response = admin_client.get(LIST, {"q": "nothing-like-this"})
    assert "No accounts match these filters." in page_text(response)


def test_htmx_filter_pushes_a_clean_url_that_renders_the_same_view(admin_client: Client) -> None:
    make_account("Acme", domain="acme.example", status="at_risk")
    make_account("Globex", domain="globex.example")
    # The filter form sends every control, blank ones included.
    form = {"q": "", "owner": "", "status": "at_risk", "arr_min": "", "sort": "-name"}
    response = admin_client.get(LIST, form, headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in page_text(response)  # only the results are swapped in
    assert _rows(response) == ["Acme"]
    pushed = response["HX-Push-Url"]
    assert pushed == "/accounts/?status=at_risk&sort=-name"
    assert "HX-Request" in response["Vary"]
    # The sort kept by the filter form follows the swapped results.
    assert 'id="filter-sort" value="-name" hx-swap-oob="true"' in page_text(response)

    full = admin_client.get(pushed)
    assert "<html" in page_text(full)
    assert _rows(full) == ["Acme"]
    assert '<option value="at_risk" selected>' in page_text(full)


def test_filter_on_an_extra_field(admin_client: Client) -> None:
    tier = make_field("tier", type="choice", choices=["Gold", "Silver"])
    seats = make_field("seats", type="number")
    gold = make_account("Gold Co", domain="gold.example")
    silver = make_account("Silver Co", domain="silver.example")
    account_set_field_values(actor=None, account=gold, values={"tier": "Gold", "seats": "120"})
    account_set_field_values(actor=None, account=silver, values={"tier": "Silver", "seats": "5"})

    page = page_text(admin_client.get(LIST))
    assert f'name="field.{tier.key}"' in page
    assert f'name="field.{seats.key}.min"' in page and f'name="field.{seats.key}.max"' in page
    assert _rows(admin_client.get(LIST, {"field.tier": "Gold"})) == ["Gold Co"]
    assert _rows(admin_client.get(LIST, {"field.seats.min": "10"})) == ["Gold Co"]


def test_bad_filter_shows_the_error_with_status_400(admin_client: Client) -> None:
    make_account("Acme", domain="acme.example")
    response = admin_client.get(LIST, {"crm_status": "sideways"})
    assert response.status_code == 400
    assert "crm_status must be one of" in page_text(response)
    response = admin_client.get(LIST, {"sort": "password"}, headers=HTMX)
    assert response.status_code == 400
    assert "Cannot sort by" in page_text(response)
    assert admin_client.get(LIST, {"page": "zero"}).status_code == 400


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"owner": "²"}, "owner must be a user id"),
        ({"open_requests_min": "²"}, "open_requests_min must be a whole number"),
        ({"page": "²"}, "page must be a whole number"),
    ],
)
def test_a_superscript_digit_answers_400_not_500(
    admin_client: Client, params: dict[str, str], message: str
) -> None:
    response = admin_client.get(LIST, params)
    assert response.status_code == 400
    assert message in page_text(response)


def test_sort_by_clicking_a_column_header(admin_client: Client) -> None:
    make_account("Beta", domain="beta.example", arr=500)
    make_account("Alpha", domain="alpha.example", arr=100)
    make_account("Gamma", domain="gamma.example", arr=300)

    page = page_text(admin_client.get(LIST))
    # The name column is the current sort, so its link flips it; others sort ascending first.
    assert 'href="/accounts/?sort=-name"' in page
    assert 'href="/accounts/?sort=owner"' in page
    assert _rows(admin_client.get(LIST, {"sort": "-name"})) == ["Gamma", "Beta", "Alpha"]
    assert _rows(admin_client.get(LIST, {"sort": "arr"})) == ["Alpha", "Gamma", "Beta"]
    assert _rows(admin_client.get(LIST, {"sort": "-arr"})) == ["Beta", "Gamma", "Alpha"]


def test_pagination_shows_fifty_a_page(admin_client: Client) -> None:
    for n in range(55):
        make_account(f"Account {n:02d}", domain=f"a{n}.example")
    first = admin_client.get(LIST)
    assert "1–50</strong> of 55" in page_text(first)
    assert len(_rows(first)) == 50
    assert 'href="/accounts/?page=2"' in page_text(first)

    second = admin_client.get(LIST, {"page": "2"})
    assert "51–55</strong> of 55" in page_text(second)
    assert _rows(second) == [f"Account {n}" for n in range(50, 55)]
    assert "Page 2 of 2" in page_text(second)


# The session and the user, the field definitions, the column preference, the header
# totals, the page's rows, then its contacts, channels, secondary domains and field
# values, the owners and the industries. Without a filter the page's count is the total.
DIRECTORY_QUERIES = 12


def _add_accounts(count: int, *, batch: str, owner: User) -> None:
    """Add accounts with everything a row can show: contacts, owner, channel, field value."""
    channel = channel_create(slack_team_id="T1", slack_channel_id=f"C-{batch}", name=batch)
    accounts = []
    for _ in range(count):
        account = make_account(contacts=4, owner=owner, secondary_domains=["alt.example"])
        account_set_field_values(actor=None, account=account, values={"tier": "Gold"})
        accounts.append(account)
    channel_set_accounts(actor=None, channel=channel, accounts=accounts)


def test_directory_issues_a_constant_number_of_queries(
    admin_client: Client,
    admin_user: User,
    django_assert_num_queries: Any,
) -> None:
    make_field("tier", type="text")
    # The heaviest rows: every default column plus secondary domains and an extra field.
    columns = ["name", "contacts", "primary_domain", "slack_channel", "owner", "crm_company"]
    columns += ["crm_status", "secondary_domains", "field.tier"]
    admin_client.post(reverse("accounts:columns"), {"columns": columns})
    _add_accounts(5, batch="first", owner=admin_user)
    with django_assert_num_queries(DIRECTORY_QUERIES):
        response = admin_client.get(LIST)
    assert len(_rows(response)) == 5

    _add_accounts(25, batch="second", owner=admin_user)
    with django_assert_num_queries(DIRECTORY_QUERIES):
        response = admin_client.get(LIST)
    assert len(_rows(response)) == 30
    assert page_text(response).count(">alt.example<") == 30


def test_column_preference_is_remembered_per_user(
    admin_client: Client, member_client: Client
) -> None:
    make_field("renewal_tier", type="text")
    make_account("Acme", domain="acme.example", industry="Retail")
    page = page_text(admin_client.get(LIST))
    # The picker offers Rapport, CRM and extra fields.
    assert "Rapport fields" in page and "CRM fields" in page and "Extra fields" in page
    assert 'value="field.renewal_tier"' in page

    response = admin_client.post(
        reverse("accounts:columns"),
        {"columns": ["name", "industry", "field.renewal_tier"], "query": "q=acme"},
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/?q=acme"
    page = page_text(admin_client.get(LIST))
    assert ">Industry</a>" in page and ">Renewal Tier</a>" in page and "Retail" in page
    assert ">Primary domain</a>" not in page
    # Another user keeps the defaults.
    assert ">Industry</a>" not in page_text(member_client.get(LIST))


def test_column_picker_over_htmx_swaps_the_results(admin_client: Client) -> None:
    make_account("Acme", domain="acme.example", industry="Retail")
    response = admin_client.post(
        reverse("accounts:columns"), {"columns": ["name", "industry"]}, headers=HTMX
    )
    assert response.status_code == 200
    assert "<html" not in page_text(response) and ">Industry</a>" in page_text(response)
    response = admin_client.post(reverse("accounts:columns"), {"columns": ["bogus"]}, headers=HTMX)
    assert response.status_code == 400 and "Unknown columns: bogus" in page_text(response)
