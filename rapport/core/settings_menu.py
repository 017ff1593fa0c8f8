"""The Settings menu: every app registers its settings pages here, from its AppConfig.

One menu links every setting a user can change, so a new admin finds them without the
Django admin. Apps call `settings_page_register` in `ready()`; the base template and the
`/settings/` page list what `settings_pages_for` returns for the signed-in user.
"""

from dataclasses import dataclass

from django.urls import reverse

SECTIONS = ("Workspace", "Team", "Channels", "Requests", "Integrations")


@dataclass(frozen=True)
class SettingsPage:
    key: str
    title: str
    url_name: str
    section: str
    description: str
    admin_only: bool
    order: int

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_PAGES: dict[str, SettingsPage] = {}


def settings_page_register(
    key: str,
    *,
    title: str,
    url_name: str,
    section: str,
    description: str,
    admin_only: bool = True,
    order: int = 100,
) -> None:
    """Add a page to the Settings menu; registering the same key again replaces it."""
    if section not in SECTIONS:
        raise ValueError(f"Unknown settings section {section!r}; use one of {SECTIONS}.")
    _PAGES[key] = SettingsPage(key, title, url_name, section, description, admin_only, order)


def settings_pages_for(*, is_admin: bool) -> list[SettingsPage]:
    """The pages a member (or an admin) may open, in menu order."""
    pages = [page for page in _PAGES.values() if is_admin or not page.admin_only]
    return sorted(pages, key=lambda page: (SECTIONS.index(page.section), page.order, page.title))


def settings_sections_for(*, is_admin: bool) -> list[tuple[str, list[SettingsPage]]]:
    """The pages grouped by section, sections in their fixed order, empty ones left out."""
    pages = settings_pages_for(is_admin=is_admin)
    return [
        (section, [page for page in pages if page.section == section])
        for section in SECTIONS
        if any(page.section == section for page in pages)
    ]
