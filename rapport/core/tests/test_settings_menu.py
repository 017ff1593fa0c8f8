"""The Settings menu lists every registered settings page, by role."""

from django.test import Client
from django.urls import reverse

from rapport.core.settings_menu import settings_pages_for


def test_admins_see_every_page_and_members_the_shared_ones(
    admin_client: Client, member_client: Client
) -> None:
    admin_pages = settings_pages_for(is_admin=True)
    member_pages = settings_pages_for(is_admin=False)
    assert {"fields", "mapping", "webhook"} <= {page.key for page in admin_pages}
    assert {"requests", "sla"} <= {page.key for page in member_pages}
    assert not {"fields", "mapping", "webhook"} & {page.key for page in member_pages}

    admin_page = admin_client.get(reverse("settings")).content.decode()
    for page in admin_pages:
        assert f'href="{page.url}" data-settings-key="{page.key}"' in admin_page
        # Every page the menu links opens for the role that sees it.
        assert admin_client.get(page.url).status_code == 200, page.key
    member_page = member_client.get(reverse("settings")).content.decode()
    assert f'href="{reverse("accounts:fields")}"' not in member_page
    for page in member_pages:
        assert member_client.get(page.url).status_code == 200, page.key


def test_the_menu_is_in_the_navigation_of_every_page(admin_client: Client) -> None:
    page = admin_client.get(reverse("accounts:list")).content.decode()
    assert 'data-menu="settings"' in page
    assert f'href="{reverse("metrics:sla_policies")}"' in page


def test_the_settings_page_needs_a_login(client: Client) -> None:
    response = client.get(reverse("settings"))
    assert response.status_code == 302 and "/login/" in response["Location"]
