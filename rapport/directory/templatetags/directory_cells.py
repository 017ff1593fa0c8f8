"""The directory's table cells and rows, built in Python from `DirectoryRow`s.

A page has hundreds of cells. Each column's renderer is picked once per page, and what
the rows share (the admin's controls, month names, the time zone, an owner's badge) is
worked out once; a cell is then plain string building with `html.escape`. Every value
that comes from data goes through `_e`.
"""

import datetime
import html
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify
from django.utils.translation import get_language

from rapport.accounts.domains import domain_display
from rapport.accounts.fields import field_format
from rapport.accounts.models import AccountSource, AccountStatus, CrmSyncStatus
from rapport.accounts.templatetags.accounts_ui import crm_sync_title, requests_board_url
from rapport.core.templatetags.display import avatar_tone, csat, duration, initials, money
from rapport.directory.columns import Column
from rapport.directory.selectors import DirectoryRow

register = template.Library()

# A cell's renderer: the row and the account's name, escaped once for all its cells.
Renderer = Callable[[DirectoryRow, str], str]

_EDIT_ICON = (
    '<svg viewBox="0 0 16 16" width="13" height="13" aria-hidden="true"><path d="M11.1 1.9a1.5 '
    "1.5 0 0 1 2.1 0l.9.9a1.5 1.5 0 0 1 0 2.1L5.6 13.4 2 14l.6-3.6 8.5-8.5Zm-7.2 9.2-.3 1.3 "
    '1.3-.3 7.2-7.2-1-1-7.2 7.2Z" fill="currentColor"/></svg>'
)
_EMPTY = '<span class="empty">—</span>'
_PK = 987654321
# The labels `get_<field>_display` shows.
_STATUS_LABELS = {value: str(label) for value, label in AccountStatus.choices}
_SOURCE_LABELS = {value: str(label) for value, label in AccountSource.choices}
_CRM_LABELS = {value: str(label) for value, label in CrmSyncStatus.choices}


# Escape text for HTML, quotes too (every caller passes a str).
_e = html.escape


@lru_cache(maxsize=32)
def _url_parts(name: str, field: str | None) -> tuple[str, str]:
    path = reverse(name, args=[_PK, field] if field else [_PK])
    before, _, after = path.partition(str(_PK))
    return before, after


def _url(name: str, pk: int, field: str | None = None) -> str:
    """Reverse a URL once per process and fill in the id (hundreds of links per page)."""
    before, after = _url_parts(name, field)
    return f"{before}{pk}{after}"


@lru_cache(maxsize=256)
def _column_class(key: str) -> str:
    return slugify(key)


@lru_cache(maxsize=16)
def _month_names(language: str | None) -> tuple[str, ...]:
    """Return the month abbreviations of the date format "M" in *language*, January first."""
    return ("", *(str(MONTHS_3[month]).title() for month in range(1, 13)))


def _label(labels: dict[str, str], value: str) -> str:
    """Return the label of a choice as `get_<field>_display` does: the value if unknown."""
    return labels.get(value, value)


def _count(number: int) -> str:
    # Below 1,000 no locale groups digits (Django's groupings are 3 or 4 wide).
    return str(number) if 0 <= number < 1000 else intcomma(number)


def _text_or_empty(text: str) -> str:
    if not text:
        return _EMPTY
    escaped = _e(text)
    return f'<span class="truncate" title="{escaped}">{escaped}</span>'


def _cell_div(pk: int, key: str, classes: str, content: str, saved: bool) -> str:
    return (
        f'<div class="cell{classes}{" saved" if saved else ""}" id="cell-{pk}-{key}">'
        f"{content}</div>"
    )


class DirectoryCells:
    """Render the cells of directory rows for one reader (admin or not) and one request.

    Dates read as `display.when` writes them ("M j, Y" and "M j, Y H:i" in the current
    time zone), with the month names looked up once per page instead of going through
    Django's localized date formatting on every cell.
    """

    def __init__(self, is_admin: bool) -> None:
        self.is_admin = is_admin
        self.months = _month_names(get_language())
        self.zone = timezone.get_current_timezone()
        # An owner's badge, by (display name, email): a page has few owners.
        self.owners: dict[tuple[str, str], str] = {}

    # --- values --------------------------------------------------------------------------

    def date(self, value: datetime.date | None) -> str:
        if value is None:
            return ""
        return f"{self.months[value.month]} {value.day}, {value.year:04d}"

    def time(self, value: datetime.datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(self.zone)
        return (
            f"{self.months[local.month]} {local.day}, {local.year:04d} "
            f"{local.hour:02d}:{local.minute:02d}"
        )

    # --- rows ----------------------------------------------------------------------------

    def plan(self, columns: list[Column]) -> list[tuple[str, Renderer]]:
        """Return, per column, its opening `<td>` and the renderer of its cells."""
        return [(f'<td class="col-{_column_class(c.key)}">', self.renderer(c)) for c in columns]

    def row(self, plan: list[tuple[str, Renderer]], row: DirectoryRow) -> str:
        """Render the `<td>` cells of one row."""
        name = _e(row["name"])
        return "".join([f"{td}{render(row, name)}</td>" for td, render in plan])

    def renderer(self, column: Column) -> Renderer:
        """Return the function that renders *column*'s cells."""
        key = column.key
        if column.field is not None:
            return lambda row, name: _text_or_empty(field_format(row.get(key)))
        match key:
            case "name":
                return self.name_cell
            case "primary_domain":
                return self.domain_cell
            case "secondary_domains":
                return self.secondary_domains_cell
            case "crm_company":
                return self.crm_company_cell
            case "crm_id":
                return self.crm_id_cell
            case "contacts":
                return self.contacts_cell
            case "slack_channel":
                return self.channels_cell
            case "owner":
                return self.owner_cell
            case "crm_status":
                return self.crm_status_cell
            case "status":
                return self.status_cell
            case "requests_open":
                return self.requests_open_cell
            case "sla_breaches":
                return self.sla_breaches_cell
            case "requests_csat":
                return self.csat_cell
        text = self.text(key)
        return lambda row, name: _text_or_empty(text(row))

    def text(self, key: str) -> Callable[[DirectoryRow], str]:
        """Return the function that gives the text of a plain cell of column *key*."""
        match key:
            case "source":
                return lambda row: _label(_SOURCE_LABELS, row["source"])
            case "industry":
                return lambda row: row["industry"]
            case "employee_count":
                return lambda row: (
                    "" if row["employee_count"] is None else _count(row["employee_count"])
                )
            case "arr":
                return lambda row: money(row["arr"])
            case "close_date":
                return lambda row: self.date(row["close_date"])
            case "created":
                return lambda row: self.date(row["created_at"].date())
            case "crm_last_synced":
                return lambda row: self.time(row["crm_last_synced_at"])
            case "tier":
                return lambda row: row["tier"]
            case "requests_total":
                return self.metric(lambda row: _count(row["request_metrics__total_count"]))
            case "requests_last":
                return self.metric(lambda row: self.time(row["request_metrics__last_request_at"]))
            case "requests_first_response":
                return self.metric(
                    lambda row: duration(row["request_metrics__avg_first_response_seconds"])
                )
            case "requests_resolution":
                return self.metric(
                    lambda row: duration(row["request_metrics__avg_resolution_seconds"])
                )
        return lambda row: ""

    @staticmethod
    def metric(text: Callable[[DirectoryRow], str]) -> Callable[[DirectoryRow], str]:
        """Give no text for an account without request figures yet (no metrics row)."""
        return lambda row: "" if row["request_metrics__pk"] is None else text(row)

    # --- the cells an admin edits ----------------------------------------------------------

    def edit_button(self, pk: int, name: str, field: str, label: str) -> str:
        return (
            f'<button type="button" class="icon-btn edit-btn" title="Edit the {label}" '
            f'aria-label="Edit the {label} of {name}" '
            f'hx-get="{_url("accounts:cell_edit", pk, field)}" '
            f'hx-target="#cell-{pk}-{field}" hx-swap="outerHTML">{_EDIT_ICON}</button>'
        )

    def name_cell(self, row: DirectoryRow, name: str, saved: bool = False) -> str:
        pk = row["id"]
        if row["logo"]:
            badge = (
                f'<img class="logo logo-sm" src="{_url("accounts:logo", pk)}" alt="" '
                'width="22" height="22" loading="lazy">'
            )
        else:
            badge = (
                f'<span class="avatar avatar-sm tone-{avatar_tone(row["name"])}" '
                f'aria-hidden="true">{_e(initials(row["name"]))}</span>'
            )
        edit = ""
        if self.is_admin:
            # The logo's form takes the place of the whole name cell, as the name's form does.
            badge = (
                f'<button type="button" class="logo-btn" title="Change the logo" '
                f'aria-label="Change the logo of {name}" '
                f'hx-get="{_url("accounts:cell_edit", pk, "logo")}" '
                f'hx-target="#cell-{pk}-name" hx-swap="outerHTML">{badge}</button>'
            )
            edit = self.edit_button(pk, name, "name", "name")
        link = f'<a class="account-link" href="{_url("accounts:detail", pk)}">{name}</a>'
        return _cell_div(pk, "name", " cell-name", f"{badge} {link}{edit}", saved)

    def domain_cell(self, row: DirectoryRow, name: str, saved: bool = False) -> str:
        pk = row["id"]
        domain = row["primary_domain"]
        shown = f'<span class="domain">{_e(domain_display(domain))}</span>' if domain else _EMPTY
        if self.is_admin:
            shown += self.edit_button(pk, name, "primary_domain", "primary domain")
        return _cell_div(pk, "primary_domain", " cell-domain", shown, saved)

    def secondary_domains_cell(self, row: DirectoryRow, name: str, saved: bool = False) -> str:
        pk = row["id"]
        text = _text_or_empty(", ".join(domain_display(d) for d in row["domains"]))
        if self.is_admin:
            text += self.edit_button(pk, name, "secondary_domains", "secondary domains")
        return _cell_div(pk, "secondary_domains", "", text, saved)

    def crm_company_cell(self, row: DirectoryRow, name: str, saved: bool = False) -> str:
        return self.crm_cell(row, name, "crm_company", row["crm_company_name"], saved)

    def crm_id_cell(self, row: DirectoryRow, name: str, saved: bool = False) -> str:
        return self.crm_cell(row, name, "crm_id", row["crm_external_id"], saved)

    def crm_cell(self, row: DirectoryRow, name: str, key: str, value: str, saved: bool) -> str:
        """A cell of the CRM company name or id; either one opens the whole mapping's form."""
        pk = row["id"]
        text = _text_or_empty(value)
        if self.is_admin:
            text += self.edit_button(pk, name, key, "CRM mapping")
        return _cell_div(pk, key, "", text, saved)

    # --- read-only cells -----------------------------------------------------------------

    def contacts_cell(self, row: DirectoryRow, name: str) -> str:
        count = row["contact_count"]
        if not count:
            return _EMPTY
        shown = row["contacts"]
        names = ", ".join(
            f'<span title="{_e(email)}">{_e(contact or email)}</span>' for contact, email in shown
        )
        more = " …" if count > len(shown) else ""
        return (
            f'<span class="count" title="{count} contact{"" if count == 1 else "s"}">'
            f'{_count(count)}</span> <span class="contact-names">{names}{more}</span>'
        )

    def channels_cell(self, row: DirectoryRow, name: str) -> str:
        return (
            "".join(
                f'<span class="chip chip-channel" title="Slack channel {_e(slack_id)}">'
                f"#{_e(channel)}</span>"
                for channel, slack_id in row["channels"]
            )
            or _EMPTY
        )

    def owner_cell(self, row: DirectoryRow, name: str) -> str:
        email = row["owner__email"]
        if email is None:
            return '<span class="empty">Unassigned</span>'
        shown = row["owner__name"] or email  # User.display_name
        cell = self.owners.get((shown, email))
        if cell is None:
            cell = (
                f'<span class="owner"><span class="avatar avatar-xs tone-{avatar_tone(email)}" '
                f'aria-hidden="true">{_e(initials(shown))}</span>{_e(shown)}</span>'
            )
            self.owners[(shown, email)] = cell
        return cell

    def crm_status_cell(self, row: DirectoryRow, name: str) -> str:
        status = row["crm_sync_status"]
        title = crm_sync_title(
            status, row["crm_last_synced_at"], row["crm_sync_error"], when=self.time
        )
        return (
            f'<span class="badge crm-{_e(status)}" title="{_e(title)}">'
            f"{_e(_label(_CRM_LABELS, status))}</span>"
        )

    def status_cell(self, row: DirectoryRow, name: str) -> str:
        status = row["status"]
        return (
            f'<span class="badge status-{_e(status)}">{_e(_label(_STATUS_LABELS, status))}</span>'
        )

    def requests_open_cell(self, row: DirectoryRow, name: str) -> str:
        if row["request_metrics__pk"] is None:
            return _EMPTY
        return (
            f'<a class="count" href="{_e(requests_board_url(row["id"], "open"))}" '
            f'title="Open requests of {name}">{_count(row["request_metrics__open_count"])}</a>'
        )

    def sla_breaches_cell(self, row: DirectoryRow, name: str) -> str:
        if row["request_metrics__pk"] is None:
            return _EMPTY
        breaches = row["request_metrics__breach_count"]
        return (
            f'<span class="count{" breached" if breaches else ""}" '
            f'title="{row["request_metrics__first_response_breaches"]} first response, '
            f'{row["request_metrics__resolution_breaches"]} resolution">'
            f"{_count(breaches)}</span>"
        )

    def csat_cell(self, row: DirectoryRow, name: str) -> str:
        average = row["request_metrics__avg_csat"]
        if row["request_metrics__pk"] is None or average is None:
            return _EMPTY
        ratings = row["request_metrics__csat_count"]
        return f'<span title="{ratings} rating{"" if ratings == 1 else "s"}">{csat(average)}</span>'


# The cells an inline edit replaces, by the field in its URL; the logo's is the name's.
_EDITED_CELLS = {
    "name": DirectoryCells.name_cell,
    "logo": DirectoryCells.name_cell,
    "primary_domain": DirectoryCells.domain_cell,
    "secondary_domains": DirectoryCells.secondary_domains_cell,
    "crm_company": DirectoryCells.crm_company_cell,
    "crm_id": DirectoryCells.crm_id_cell,
}


def directory_cell(row: DirectoryRow, key: str, is_admin: bool, saved: bool = False) -> SafeString:
    """Return the directory cell an inline edit of *key* replaces; the logo's is the name's."""
    render = _EDITED_CELLS.get(key)
    if render is None:
        raise ValueError(f"The {key} cell is not edited in place.")
    cell = render(DirectoryCells(is_admin), row, _e(row["name"]), saved)
    return mark_safe(cell)  # noqa: S308 - escaped by _e


# The aria-sort of a header, by the direction its column sorts in.
_ARIA_SORT = {"asc": ' aria-sort="ascending"', "desc": ' aria-sort="descending"'}


@register.simple_tag
def directory_headers(headers: list[dict[str, Any]]) -> SafeString:
    """Render the table's header cells: each column's label, a link that sorts by it if any.

    A header is the view's dict of its column, the URL sorting by it ("" for a column
    that does not sort) and the direction it sorts in now ("asc", "desc" or "").
    """
    cells = []
    for header in headers:
        column, url, direction = header["column"], header["url"], header["direction"]
        label = _e(column.label)
        if url:
            sort = f" sort-{_e(direction)}" if direction else ""
            url = _e(url)
            label = (
                f'<a class="sort{sort}" href="{url}" hx-get="{url}" hx-target="#directory" '
                f'hx-swap="outerHTML">{label}</a>'
            )
        cells.append(
            f'<th scope="col" class="col-{_column_class(column.key)}"'
            f"{_ARIA_SORT.get(direction, '')}>\n              {label}\n            </th>"
        )
    return mark_safe("\n            ".join(cells))  # noqa: S308 - escaped by _e


@register.simple_tag
def directory_rows(rows: list[DirectoryRow], columns: list[Column], is_admin: bool) -> SafeString:
    """Render the table's rows, one `<tr>` a line."""
    cells = DirectoryCells(is_admin)
    plan = cells.plan(columns)
    html_rows = [f"<tr>{cells.row(plan, row)}</tr>" for row in rows]
    return mark_safe("\n          ".join(html_rows))  # noqa: S308 - escaped by _e


def directory_row(
    row: DirectoryRow, columns: list[Column], is_admin: bool, saved: bool = False
) -> SafeString:
    """Render one whole directory row, for a change that shows in several of its cells."""
    row_class = ' class="saved"' if saved else ""
    cells = DirectoryCells(is_admin)
    return mark_safe(f"<tr{row_class}>{cells.row(cells.plan(columns), row)}</tr>")  # noqa: S308
