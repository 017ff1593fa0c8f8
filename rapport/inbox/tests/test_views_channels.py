"""The Slack channels page: which accounts each channel is linked to."""

import pytest
from django.test import Client
from django.urls import reverse

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_channel
from rapport.audit.models import AuditEntry
from rapport.inbox.services import channel_set_csm
from rapport.inbox.tests.kit import page_text, ticket
from rapport.mapping.models import MappingMethod
from rapport.users.models import User

pytestmark = pytest.mark.django_db


def test_channels_page_lists_channels_with_their_accounts(
    member_client: Client, accounts: dict[str, Account]
) -> None:
    make_channel("shared-acme-globex", accounts=[accounts["acme"], accounts["globex"]])

    response = member_client.get(reverse("inbox:channels"))

    assert response.status_code == 200
    html = page_text(response)
    assert "#shared-acme-globex" in html
    assert ">Acme</a>" in html and ">Globex</a>" in html
    assert "Change accounts" not in html  # members see the links but cannot change them


def test_an_admin_links_a_channel_and_later_messages_there_link_by_channel(
    admin_client: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    channel = make_channel("ext-acme")

    page = page_text(admin_client.get(reverse("inbox:channels")))
    response = admin_client.post(
        reverse("inbox:channel_accounts", args=[channel.pk]), {"account": [accounts["acme"].pk]}
    )
    conversation = ticket(admin_api, "someone@gmail.com", "Via Slack", slack_channel="ext-acme")

    assert "Change accounts" in page
    assert response.status_code == 302
    assert list(channel.accounts.all()) == [accounts["acme"]]
    assert conversation.account == accounts["acme"]
    assert conversation.mapping_method == MappingMethod.SLACK_CHANNEL


def test_an_admin_unlinks_every_account_of_a_channel(
    admin_client: Client, accounts: dict[str, Account]
) -> None:
    channel = make_channel("ext-acme", accounts=[accounts["acme"]])

    response = admin_client.post(reverse("inbox:channel_accounts", args=[channel.pk]), {})

    assert response.status_code == 302
    assert not channel.accounts.exists()


def test_a_member_cannot_link_a_channel(
    member_client: Client, accounts: dict[str, Account]
) -> None:
    channel = make_channel("ext-acme")

    response = member_client.post(
        reverse("inbox:channel_accounts", args=[channel.pk]), {"account": [accounts["acme"].pk]}
    )

    assert response.status_code == 403
    assert not channel.accounts.exists()


def test_linking_a_channel_to_an_unknown_account_is_refused(
    admin_client: Client, accounts: dict[str, Account]
) -> None:
    channel = make_channel("ext-acme")

    response = admin_client.post(
        reverse("inbox:channel_accounts", args=[channel.pk]), {"account": ["999999"]}
    )

    assert response.status_code == 400
    assert "No account with id 999999." in page_text(response)
    assert not channel.accounts.exists()


# --- a channel's CSM -------------------------------------------------------------------------


def test_an_admin_sets_a_channels_csm_on_the_page(
    admin_client: Client, admin_user: User, member_user: User, db: None
) -> None:
    channel = make_channel("ext-acme")

    page = page_text(admin_client.get(reverse("inbox:channels")))
    response = admin_client.post(
        reverse("inbox:channel_csm", args=[channel.pk]), {"csm": str(member_user.pk)}
    )

    assert 'name="csm"' in page and "Save CSM" in page
    assert response.status_code == 302
    channel.refresh_from_db()
    assert channel.csm == member_user
    assert AuditEntry.objects.get(action="channel.set_csm").actor == admin_user
    shown = page_text(admin_client.get(response["Location"]))
    assert "Max Member is now the CSM of #ext-acme." in shown
    assert f'<option value="{member_user.pk}" selected>Max Member</option>' in shown

    cleared = admin_client.post(reverse("inbox:channel_csm", args=[channel.pk]), {"csm": ""})
    assert cleared.status_code == 302
    channel.refresh_from_db()
    assert channel.csm is None


def test_members_see_the_csm_but_cannot_change_it(
    member_client: Client, admin_user: User, member_user: User, db: None
) -> None:
    channel = make_channel("ext-acme")
    channel_set_csm(actor=admin_user, channel=channel, csm=admin_user)

    page = page_text(member_client.get(reverse("inbox:channels")))
    response = member_client.post(
        reverse("inbox:channel_csm", args=[channel.pk]), {"csm": str(member_user.pk)}
    )

    assert "Ada Admin" in page
    assert "Save CSM" not in page
    assert response.status_code == 403
    channel.refresh_from_db()
    assert channel.csm == admin_user


@pytest.mark.parametrize(
    ("raw", "error"), [("999999", "No member with id 999999."), ("max", "No member")]
)
def test_an_unknown_csm_is_refused_on_the_page(
    admin_client: Client, raw: str, error: str, db: None
) -> None:
    channel = make_channel("ext-acme")

    response = admin_client.post(reverse("inbox:channel_csm", args=[channel.pk]), {"csm": raw})

    assert response.status_code == 400
    assert error in page_text(response)
    channel.refresh_from_db()
    assert channel.csm is None
