"""The conversations and Slack channels API: lists, details, overrides, channel links."""

from typing import Any

import pytest
from django.test import Client

from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_channel
from rapport.audit.selectors import audit_entries_for
from rapport.inbox.models import Conversation
from rapport.mapping.models import MappingMethod
from rapport.users.models import User

pytestmark = pytest.mark.django_db

LIST = "/api/v1/conversations"
# The token, the count, the page (accounts, channels and first lines joined in).
LIST_QUERIES = 3
# The token, the count, the page of channels, their accounts.
CHANNEL_QUERIES = 4


def ticket(api: Client, email: str, subject: str = "Help", **fields: Any) -> int:
    payload = {"requester_email": email, "subject": subject, "body": f"About {subject}"}
    response = api.post("/api/v1/tickets", payload | fields, content_type="application/json")
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def _post(api: Client, url: str, body: Any) -> Any:
    return api.post(url, body, content_type="application/json")


def _put(api: Client, url: str, body: Any) -> Any:
    return api.put(url, body, content_type="application/json")


# --- list ------------------------------------------------------------------------------------


def test_the_list_answers_items_and_count_newest_activity_first(
    member_api: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    first = ticket(admin_api, "jo@acme.example", "Export fails")
    second = ticket(admin_api, "al@nowhere.example", "Invoice")

    response = member_api.get(LIST)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["items"]] == [second, first]
    item = body["items"][1]
    assert item["account"] == {"id": accounts["acme"].pk, "name": "Acme"}
    assert item["source"] == "api"
    assert item["requester"]["email"] == "jo@acme.example"
    assert item["requester"]["contact_id"] is not None
    assert item["subject"] == "Export fails"
    assert item["first_line"] == "About Export fails"
    assert item["mapping"] == {"method": "email_domain", "outcome": "linked"}
    assert item["message_count"] == 1
    assert body["items"][0]["account"] is None


@pytest.mark.parametrize(
    ("query", "subjects"),
    [
        ("q=export", ["Export fails"]),
        ("outcome=unmatched", ["Invoice"]),
        ("unlinked=yes", ["Invoice"]),
        ("outcome=linked&outcome=unmatched", ["Invoice", "Export fails"]),
        ("source=slack", []),
    ],
)
def test_the_list_takes_the_inbox_filters(
    member_api: Client,
    admin_api: Client,
    accounts: dict[str, Account],
    query: str,
    subjects: list[str],
) -> None:
    ticket(admin_api, "jo@acme.example", "Export fails")
    ticket(admin_api, "al@nowhere.example", "Invoice")

    body = member_api.get(f"{LIST}?{query}").json()

    assert [item["subject"] for item in body["items"]] == subjects
    assert body["count"] == len(subjects)


def test_the_list_filters_by_account_and_channel(
    member_api: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    channel = make_channel("ext-globex", accounts=[accounts["globex"]])
    ticket(admin_api, "jo@acme.example", "Export fails")
    ticket(admin_api, "x@gmail.com", "In Slack", slack_channel="ext-globex")

    by_account = member_api.get(f"{LIST}?account={accounts['globex'].pk}").json()
    by_channel = member_api.get(f"{LIST}?channel={channel.pk}").json()

    assert [i["subject"] for i in by_account["items"]] == ["In Slack"]
    assert by_channel["items"][0]["channel"] == {"id": channel.pk, "name": "ext-globex"}
    assert by_channel["items"][0]["mapping"]["method"] == "slack_channel"


def test_the_list_pages_with_limit_and_offset(
    member_api: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    for n in range(5):
        ticket(admin_api, "jo@acme.example", f"Q{n}")

    body = member_api.get(f"{LIST}?limit=2&offset=2").json()

    assert body["count"] == 5
    assert [i["subject"] for i in body["items"]] == ["Q2", "Q1"]


def test_the_list_issues_the_same_queries_for_2_or_12_conversations(
    member_api: Client,
    admin_api: Client,
    accounts: dict[str, Account],
    django_assert_num_queries: Any,
) -> None:
    make_channel("ext-acme", accounts=[accounts["acme"]])
    member_api.get(LIST)  # a token's first use is recorded once, outside the count
    for total in (2, 12):
        for n in range(total - Conversation.objects.count()):
            email = f"p{n}@{'acme' if n % 2 else 'gmail'}.example"
            ticket(admin_api, email, slack_channel="ext-acme")
        with django_assert_num_queries(LIST_QUERIES):
            body = member_api.get(f"{LIST}?q=example&outcome=linked&outcome=unmatched").json()
        assert body["count"] == len(body["items"]) == total


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("outcome=lost", 400, "outcome must be one of"),
        ("account=abc", 400, "account must be an id"),
        ("unlinked=maybe", 400, "unlinked must be yes or no."),
        ("limit=0", 422, "limit"),
        ("offset=-1", 422, "offset"),
    ],
)
def test_bad_list_parameters_get_a_clear_error(
    member_api: Client, query: str, status: int, message: str
) -> None:
    response = member_api.get(f"{LIST}?{query}")
    assert response.status_code == status
    assert message in response.json()["error"]


def test_the_api_needs_authentication(client: Client, db: None) -> None:
    assert client.get(LIST).status_code == 401
    assert client.get(f"{LIST}/1").status_code == 401
    assert _post(client, f"{LIST}/1/account", {"account_id": None}).status_code == 401
    assert client.get("/api/v1/channels").status_code == 401
    assert _put(client, "/api/v1/channels/1/accounts", {"account_ids": []}).status_code == 401
    bad = Client(headers={"Authorization": "Bearer nope"})
    assert bad.get(LIST).json() == {
        "error": "Authentication required: send a Bearer token or log in."
    }


# --- detail --------------------------------------------------------------------------------


def test_a_conversation_comes_with_its_messages_and_mapping_decisions(
    member_api: Client, admin_api: Client, member_user: User, accounts: dict[str, Account]
) -> None:
    conversation_id = ticket(admin_api, "jo@acme.example", "Export fails")

    body = member_api.get(f"{LIST}/{conversation_id}").json()

    assert body["id"] == conversation_id
    assert [m["text"] for m in body["messages"]] == ["About Export fails"]
    message = body["messages"][0]
    assert message["direction"] == "inbound"
    assert message["author_email"] == "jo@acme.example"
    assert message["attachments"] == []
    (decision,) = body["mapping_decisions"]
    assert decision["method"] == "email_domain"
    assert decision["outcome"] == "linked"
    assert decision["reason"] == "Linked to Acme by primary domain acme.example."
    assert decision["candidates"] == [
        {"id": accounts["acme"].pk, "name": "Acme", "via": "primary domain acme.example"}
    ]
    assert decision["actor"] is None and decision["requester_domain"] == "acme.example"


def test_an_unknown_conversation_is_404(member_api: Client) -> None:
    response = member_api.get(f"{LIST}/999999")
    assert response.status_code == 404
    assert response.json() == {"error": "No conversation with id 999999."}


# --- override ------------------------------------------------------------------------------


def test_a_member_moves_a_conversation_through_the_api(
    member_api: Client, admin_api: Client, member_user: User, accounts: dict[str, Account]
) -> None:
    conversation_id = ticket(admin_api, "jo@acme.example")

    response = _post(
        member_api, f"{LIST}/{conversation_id}/account", {"account_id": accounts["globex"].pk}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["account"] == {"id": accounts["globex"].pk, "name": "Globex"}
    assert body["mapping"] == {"method": "manual", "outcome": "linked"}
    manual, automatic = body["mapping_decisions"]
    assert manual["method"] == "manual"
    assert manual["actor"] == {
        "id": member_user.pk,
        "name": "Max Member",
        "email": member_user.email,
    }
    assert manual["previous_account"] == {"id": accounts["acme"].pk, "name": "Acme"}
    assert automatic["overridden"] is True
    conversation = Conversation.objects.get(pk=conversation_id)
    entry = audit_entries_for(conversation).get()
    assert (entry.actor, entry.changes["account"]["after"]) == (member_user, "Globex")


def test_null_unlinks_a_conversation(
    member_api: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    conversation_id = ticket(admin_api, "jo@acme.example")

    body = _post(member_api, f"{LIST}/{conversation_id}/account", {"account_id": None}).json()

    assert body["account"] is None
    assert body["mapping"] == {"method": "manual", "outcome": "unmatched"}
    assert body["mapping_decisions"][0]["reason"] == "Unlinked by Max Member (was Acme)."


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({}, 422, "account_id"),
        ({"account_id": "acme"}, 422, "account_id"),
        ({"account_id": 0}, 422, "account_id"),
        ({"account_id": 999999}, 400, "No account with id 999999."),
    ],
)
def test_a_bad_override_is_refused_and_changes_nothing(
    member_api: Client,
    admin_api: Client,
    accounts: dict[str, Account],
    body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    conversation_id = ticket(admin_api, "jo@acme.example")

    response = _post(member_api, f"{LIST}/{conversation_id}/account", body)

    assert response.status_code == status
    assert message in response.json()["error"]
    conversation = Conversation.objects.get(pk=conversation_id)
    assert conversation.mapping_method == MappingMethod.EMAIL_DOMAIN


def test_moving_to_the_same_account_or_an_unknown_conversation_is_refused(
    member_api: Client, admin_api: Client, accounts: dict[str, Account]
) -> None:
    conversation_id = ticket(admin_api, "jo@acme.example")

    same = _post(
        member_api, f"{LIST}/{conversation_id}/account", {"account_id": accounts["acme"].pk}
    )
    missing = _post(member_api, f"{LIST}/999999/account", {"account_id": accounts["acme"].pk})

    assert same.status_code == 400
    assert same.json()["error"] == "The conversation is already linked to Acme."
    assert missing.status_code == 404


# --- Slack channels ------------------------------------------------------------------------


def test_channels_list_with_their_accounts(
    member_api: Client, accounts: dict[str, Account], django_assert_num_queries: Any
) -> None:
    make_channel("b-shared", accounts=[accounts["globex"], accounts["acme"]])
    make_channel("a-lonely")

    member_api.get("/api/v1/channels")  # a token's first use is recorded once
    with django_assert_num_queries(CHANNEL_QUERIES):
        body = member_api.get("/api/v1/channels").json()
    for n in range(5):
        make_channel(f"c-{n}", accounts=[accounts["acme"], accounts["globex"]])
    with django_assert_num_queries(CHANNEL_QUERIES):
        assert len(member_api.get("/api/v1/channels?limit=6").json()["items"]) == 6

    assert body["count"] == 2
    lonely, shared = body["items"]
    assert (lonely["name"], lonely["accounts"]) == ("a-lonely", [])
    assert [a["name"] for a in shared["accounts"]] == ["Acme", "Globex"]
    assert shared["slack_team_id"] == "T0001"


def test_an_admin_links_a_channel_to_exactly_the_given_accounts(
    admin_api: Client, accounts: dict[str, Account]
) -> None:
    channel = make_channel("ext", accounts=[accounts["acme"]])

    response = _put(
        admin_api,
        f"/api/v1/channels/{channel.pk}/accounts",
        {"account_ids": [accounts["globex"].pk]},
    )

    assert response.status_code == 200
    assert response.json()["accounts"] == [{"id": accounts["globex"].pk, "name": "Globex"}]
    assert list(channel.accounts.all()) == [accounts["globex"]]
    empty = _put(admin_api, f"/api/v1/channels/{channel.pk}/accounts", {"account_ids": []})
    assert empty.json()["accounts"] == []


def test_a_member_cannot_link_a_channel(member_api: Client, accounts: dict[str, Account]) -> None:
    channel = make_channel("ext")

    response = _put(
        member_api,
        f"/api/v1/channels/{channel.pk}/accounts",
        {"account_ids": [accounts["acme"].pk]},
    )

    assert response.status_code == 403
    assert response.json() == {"error": "Only an admin can link Slack channels to accounts."}
    assert not channel.accounts.exists()


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"account_ids": [999999]}, 400, "No account with id 999999."),
        ({"account_ids": "all"}, 422, "account_ids"),
        ({}, 422, "account_ids"),
    ],
)
def test_bad_channel_links_are_refused(
    admin_api: Client, accounts: dict[str, Account], body: Any, status: int, message: str
) -> None:
    channel = make_channel("ext", accounts=[accounts["acme"]])

    response = _put(admin_api, f"/api/v1/channels/{channel.pk}/accounts", body)

    assert response.status_code == status
    assert message in response.json()["error"]
    assert list(channel.accounts.all()) == [accounts["acme"]]


def test_linking_an_unknown_channel_is_404(admin_api: Client, db: None) -> None:
    response = _put(admin_api, "/api/v1/channels/999999/accounts", {"account_ids": []})
    assert response.status_code == 404
    assert response.json() == {"error": "No Slack channel with id 999999."}


# --- a channel's CSM -----------------------------------------------------------------------


def _patch(api: Client, url: str, body: Any) -> Any:
    return api.patch(url, body, content_type="application/json")


def test_an_admin_sets_and_clears_a_channels_csm(
    admin_api: Client, admin_user: User, member_user: User, db: None
) -> None:
    channel = make_channel("ext-acme")
    url = f"/api/v1/channels/{channel.pk}"

    assert admin_api.get(url).json()["csm"] is None
    response = _patch(admin_api, url, {"csm": member_user.pk})

    assert response.status_code == 200, response.content
    assert response.json()["csm"] == {
        "id": member_user.pk,
        "name": "Max Member",
        "email": "member@example.test",
    }
    channel.refresh_from_db()
    assert channel.csm == member_user
    entry = audit_entries_for(channel).get()
    assert (entry.action, entry.actor) == ("channel.set_csm", admin_user)
    assert entry.changes == {"csm": {"before": None, "after": member_user.pk}}
    listed = admin_api.get("/api/v1/channels").json()["items"]
    assert listed[0]["csm"]["id"] == member_user.pk

    cleared = _patch(admin_api, url, {"csm": None})
    assert cleared.status_code == 200
    assert cleared.json()["csm"] is None
    channel.refresh_from_db()
    assert channel.csm is None
    # A body without `csm` leaves it as it is.
    _patch(admin_api, url, {"csm": member_user.pk})
    assert _patch(admin_api, url, {}).json()["csm"]["id"] == member_user.pk


def test_a_member_cannot_set_a_channels_csm(
    member_api: Client, member_user: User, db: None
) -> None:
    channel = make_channel("ext-acme")

    for body in ({"csm": member_user.pk}, {"csm": 999999}, {"csm": None}):
        response = _patch(member_api, f"/api/v1/channels/{channel.pk}", body)
        assert response.status_code == 403
        assert response.json() == {"error": "Only an admin can set a channel's CSM."}
    channel.refresh_from_db()
    assert channel.csm is None


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"csm": 999999}, 400, "No member with id 999999."),
        ({"csm": "max"}, 422, "csm"),
        ({"csm": 0}, 422, "csm"),
        ({"csm": True}, 422, "csm"),
    ],
)
def test_a_bad_csm_is_refused_and_changes_nothing(
    admin_api: Client, member_user: User, body: Any, status: int, message: str
) -> None:
    channel = make_channel("ext-acme")
    _patch(admin_api, f"/api/v1/channels/{channel.pk}", {"csm": member_user.pk})

    response = _patch(admin_api, f"/api/v1/channels/{channel.pk}", body)

    assert response.status_code == status
    assert message in response.json()["error"]
    channel.refresh_from_db()
    assert channel.csm == member_user


def test_a_deactivated_member_cannot_become_a_csm(
    admin_api: Client, member_user: User, db: None
) -> None:
    channel = make_channel("ext-acme")
    User.objects.filter(pk=member_user.pk).update(is_active=False)

    response = _patch(admin_api, f"/api/v1/channels/{channel.pk}", {"csm": member_user.pk})

    assert response.status_code == 400
    assert response.json()["error"] == "The CSM must be an active member."
    channel.refresh_from_db()
    assert channel.csm is None


def test_setting_the_csm_of_an_unknown_channel_is_404(admin_api: Client, db: None) -> None:
    assert _patch(admin_api, "/api/v1/channels/999999", {"csm": None}).status_code == 404
    assert admin_api.get("/api/v1/channels/999999").status_code == 404
