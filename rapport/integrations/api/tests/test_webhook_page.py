"""The outbound webhook's page: admins see the secret, set the URL and rotate the secret."""

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rapport.audit.models import AuditEntry
from rapport.audit.selectors import audit_entries_for
from rapport.integrations.api.models import OutboundWebhook
from rapport.integrations.api.services import outbound_webhook_get, outbound_webhook_url_set
from rapport.users.models import User

pytestmark = pytest.mark.django_db

PAGE = reverse("api_channel:webhook")
GOOD_URL = "https://hooks.acme.example/rapport/replies"


def _text(response: Any) -> str:
    return response.content.decode()


def test_an_admin_sees_the_url_and_the_signing_secret(
    admin_client: Client, admin_user: User
) -> None:
    outbound_webhook_url_set(actor=admin_user, url=GOOD_URL)
    webhook = outbound_webhook_get()

    response = admin_client.get(PAGE)

    assert response.status_code == 200
    page = _text(response)
    assert webhook.secret.startswith("whsec_")
    assert f'value="{webhook.secret}"' in page
    assert f'value="{GOOD_URL}"' in page
    assert "X-Rapport-Signature" in page and "X-Rapport-Timestamp" in page


def test_the_page_costs_a_fixed_few_queries(
    admin_client: Client, django_assert_num_queries: Callable[..., Any]
) -> None:
    admin_client.get(PAGE)  # the webhook row is made on first use
    # The session, the user, the webhook.
    with django_assert_num_queries(3):
        assert admin_client.get(PAGE).status_code == 200


def test_a_member_gets_403_and_changes_nothing(member_client: Client, admin_user: User) -> None:
    outbound_webhook_url_set(actor=admin_user, url=GOOD_URL)
    before = outbound_webhook_get()

    assert member_client.get(PAGE).status_code == 403
    assert member_client.post(PAGE, {"url": "https://evil.example/"}).status_code == 403
    assert member_client.post(PAGE, {"rotate": "1"}).status_code == 403

    after = outbound_webhook_get()
    assert (after.url, after.secret) == (GOOD_URL, before.secret)
    assert before.secret not in _text(member_client.get(PAGE))


def test_a_visitor_who_is_not_logged_in_is_sent_to_the_login_page(db: None) -> None:
    response = Client().get(PAGE)
    assert response.status_code == 302
    assert "/login" in response["Location"]
    assert not OutboundWebhook.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        "ftp://x",
        "not a url",
        "javascript:alert(1)",
        "http://",
        "https://hooks.acme.example/" + "a" * 500,
    ],
)
def test_a_bad_url_shows_the_error_and_changes_nothing(
    admin_client: Client, admin_user: User, bad: str
) -> None:
    outbound_webhook_url_set(actor=admin_user, url=GOOD_URL)
    entries = AuditEntry.objects.count()

    response = admin_client.post(PAGE, {"url": bad})

    assert 400 <= response.status_code < 500
    page = _text(response)
    assert 'role="alert"' in page
    assert "The webhook URL" in page
    assert outbound_webhook_get().url == GOOD_URL
    assert AuditEntry.objects.count() == entries


def test_a_good_url_is_saved_and_audited(admin_client: Client, admin_user: User) -> None:
    response = admin_client.post(PAGE, {"url": f"  {GOOD_URL}  "})

    assert response.status_code == 302 and response["Location"] == PAGE
    webhook = outbound_webhook_get()
    assert (webhook.url, webhook.updated_by) == (GOOD_URL, admin_user)
    entry = audit_entries_for(webhook).get()
    assert (entry.actor, entry.action) == (admin_user, "webhook.set_url")
    assert entry.changes == {"url": {"before": "", "after": GOOD_URL}}
    page = _text(admin_client.get(PAGE))
    assert "Saved the webhook URL." in page
    assert f'value="{GOOD_URL}"' in page


def test_an_empty_url_stops_posting_replies(admin_client: Client, admin_user: User) -> None:
    outbound_webhook_url_set(actor=admin_user, url=GOOD_URL)
    response = admin_client.post(PAGE, {"url": ""})
    assert response.status_code == 302
    assert outbound_webhook_get().url == ""
    assert "Replies are no longer posted." in _text(admin_client.get(PAGE))


def test_rotating_makes_a_new_secret_audited_without_either_secret(
    admin_client: Client, admin_user: User
) -> None:
    outbound_webhook_url_set(actor=admin_user, url=GOOD_URL)
    old = outbound_webhook_get()

    response = admin_client.post(PAGE, {"rotate": "1"})

    assert response.status_code == 302 and response["Location"] == PAGE
    new = outbound_webhook_get()
    assert new.secret != old.secret and new.secret.startswith("whsec_")
    assert new.secret_rotated_at > old.secret_rotated_at
    assert new.url == GOOD_URL  # the URL stays as it was
    [entry] = [e for e in audit_entries_for(new) if e.action == "webhook.rotate_secret"]
    assert entry.actor == admin_user
    assert old.secret not in str(entry.changes) and new.secret not in str(entry.changes)
    page = _text(admin_client.get(PAGE))
    assert "Made a new signing secret" in page
    assert f'value="{new.secret}"' in page and old.secret not in page
