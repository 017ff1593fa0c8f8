"""The directory's table cells and rows, built in Python.

A page has hundreds of cells, and plain string building with `html.escape` keeps the
rendering well below the database time (see docs/benchmarks.md). Every value that
comes from data goes through `_e`.
"""

import html
from functools import lru_cache
from typing import TYPE_CHECKING

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.exceptions import ObjectDoesNotExist
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import slugify

from rapport.accounts.domains import domain_display
from rapport.accounts.fields import field_format
from rapport.accounts.models import Account
from rapport.accounts.templatetags.accounts_ui import crm_title, requests_board_url
from rapport.core.templatetags.display import avatar_tone, csat, duration, initials, money, when
from rapport.directory.columns import Column

if TYPE_CHECKING:
    from rapport.metrics.models import AccountRequestMetrics

register = template.Library()


def account_metrics(account: Account) -> "AccountRequestMetrics | None":
    """Return the account's precomputed request figures, or None before the first refresh."""
    try:
        return account.request_metrics
    except ObjectDoesNotExist:
        return None


def _field_value(account: Account, key: str) -> str:
    """Return the formatted value of extra field *key*, from the prefetched values."""
    for value in getattr(account, "field_values_shown", ()):
        if value.field.key == key:
            return field_format(value.value)
    return ""


@register.simple_tag
def directory_value(account: Account, column: Column) -> str:
    """Return the text of a plain directory cell (the rich cells have their own markup)."""
    key = column.key
    if column.field is not None:
        return _field_value(account, column.field.key)
    match key:
        case "secondary_domains":
            shown = getattr(account, "secondary_domains_shown", ())
            return ", ".join(domain_display(d.domain) for d in shown)
        case "status":
            return account.get_status_display()
        case "source":
            return account.get_source_display()
        case "industry":
            return account.industry
        case "employee_count":
            return intcomma(account.employee_count) if account.employee_count is not None else ""
        case "arr":
            return money(account.arr)
        case "close_date":
            return when(account.close_date)
        case "created":
            return when(account.created_at.date())
        case "crm_id":
            return account.crm_external_id
        case "crm_last_synced":
            return when(account.crm_last_synced_at)
        case "crm_company":
            return account.crm_company_name
        case "tier":
            return account.tier
    if key in _METRIC_KEYS:
        return _metric_text(account_metrics(account), key)
    return ""


_METRIC_KEYS = frozenset(
    {
        "requests_open",
        "requests_total",
        "requests_last",
        "requests_first_response",
        "requests_resolution",
        "requests_csat",
        "sla_breaches",
    }
)


def _metric_text(metrics: "AccountRequestMetrics | None", key: str) -> str:
    if metrics is None:
        return ""
    match key:
        case "requests_open":
            return intcomma(metrics.open_count)
        case "requests_total":
            return intcomma(metrics.total_count)
        case "requests_last":
            return when(metrics.last_request_at)
        case "requests_first_response":
            return duration(metrics.avg_first_response_seconds)
        case "requests_resolution":
            return duration(metrics.avg_resolution_seconds)
        case "requests_csat":
            return csat(metrics.avg_csat)
        case "sla_breaches":
            return f"{metrics.first_response_breaches} / {metrics.resolution_breaches}"
    return ""


_EDIT_ICON = (
    '<svg viewBox="0 0 16 16" width="13" height="13" aria-hidden="true"><path d="M11.1 1.9a1.5 '
    "1.5 0 0 1 2.1 0l.9.9a1.5 1.5 0 0 1 0 2.1L5.6 13.4 2 14l.6-3.6 8.5-8.5Zm-7.2 9.2-.3 1.3 "
    '1.3-.3 7.2-7.2-1-1-7.2 7.2Z" fill="currentColor"/></svg>'
)
_EMPTY = '<span class="empty">—</span>'
_PK = 987654321


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


@lru_cache(maxsize=32)
def _url_pattern(name: str, field: str | None) -> str:
    return reverse(name, args=[_PK, field] if field else [_PK])


def _url(name: str, pk: int, field: str | None = None) -> str:
    """Reverse a URL once per process and fill in the id (hundreds of links per page)."""
    return _url_pattern(name, field).replace(str(_PK), str(pk))


def _edit_button(account: Account, field: str, label: str) -> str:
    return (
        f'<button type="button" class="icon-btn edit-btn" title="Edit the {label}" '
        f'aria-label="Edit the {label} of {_e(account.name)}" '
        f'hx-get="{_url("accounts:cell_edit", account.pk, field)}" '
        f'hx-target="#cell-{account.pk}-{field}" hx-swap="outerHTML">{_EDIT_ICON}</button>'
    )


def _cell_div(account: Account, key: str, classes: str, content: str, saved: bool) -> str:
    return (
        f'<div class="cell{classes}{" saved" if saved else ""}" id="cell-{account.pk}-{key}">'
        f"{content}</div>"
    )


def _name_cell(account: Account, is_admin: bool, saved: bool = False) -> str:
    if account.logo:
        badge = (
            f'<img class="logo logo-sm" src="{_url("accounts:logo", account.pk)}" alt="" '
            'width="22" height="22" loading="lazy">'
        )
    else:
        badge = (
            f'<span class="avatar avatar-sm tone-{avatar_tone(account.name)}" '
            f'aria-hidden="true">{_e(initials(account.name))}</span>'
        )
    edit = ""
    if is_admin:
        # The logo's form takes the place of the whole name cell, as the name's form does.
        badge = (
            f'<button type="button" class="logo-btn" title="Change the logo" '
            f'aria-label="Change the logo of {_e(account.name)}" '
            f'hx-get="{_url("accounts:cell_edit", account.pk, "logo")}" '
            f'hx-target="#cell-{account.pk}-name" hx-swap="outerHTML">{badge}</button>'
        )
        edit = _edit_button(account, "name", "name")
    link = (
        f'<a class="account-link" href="{_url("accounts:detail", account.pk)}">'
        f"{_e(account.name)}</a>"
    )
    return _cell_div(account, "name", " cell-name", f"{badge} {link}{edit}", saved)


def _domain_cell(account: Account, is_admin: bool, saved: bool = False) -> str:
    shown = (
        f'<span class="domain">{_e(domain_display(account.primary_domain))}</span>'
        if account.primary_domain
        else _EMPTY
    )
    edit = _edit_button(account, "primary_domain", "primary domain") if is_admin else ""
    return _cell_div(account, "primary_domain", " cell-domain", shown + edit, saved)


def _text_or_empty(text: str) -> str:
    if not text:
        return _EMPTY
    return f'<span class="truncate" title="{_e(text)}">{_e(text)}</span>'


def _secondary_domains_cell(account: Account, is_admin: bool, saved: bool = False) -> str:
    shown = getattr(account, "secondary_domains_shown", ())
    text = _text_or_empty(", ".join(domain_display(d.domain) for d in shown))
    edit = _edit_button(account, "secondary_domains", "secondary domains") if is_admin else ""
    return _cell_div(account, "secondary_domains", "", text + edit, saved)


def _crm_cell(account: Account, key: str, is_admin: bool, saved: bool = False) -> str:
    """A cell of the CRM company name or id; either one opens the whole mapping's form."""
    text = _text_or_empty(
        account.crm_company_name if key == "crm_company" else account.crm_external_id
    )
    edit = _edit_button(account, key, "CRM mapping") if is_admin else ""
    return _cell_div(account, key, "", text + edit, saved)


def directory_cell(account: Account, key: str, is_admin: bool, saved: bool = False) -> SafeString:
    """Return the directory cell an inline edit of *key* replaces; the logo's is the name's."""
    match key:
        case "name" | "logo":
            cell = _name_cell(account, is_admin, saved)
        case "primary_domain":
            cell = _domain_cell(account, is_admin, saved)
        case "secondary_domains":
            cell = _secondary_domains_cell(account, is_admin, saved)
        case "crm_company" | "crm_id":
            cell = _crm_cell(account, key, is_admin, saved)
        case _:
            raise ValueError(f"The {key} cell is not edited in place.")
    return mark_safe(cell)  # noqa: S308 - escaped by _e


def _directory_cell(account: Account, column: Column, is_admin: bool) -> str:
    key = column.key
    if key == "name":
        return _name_cell(account, is_admin)
    if key == "primary_domain":
        return _domain_cell(account, is_admin)
    if key == "contacts":
        count = account.contact_count
        if not count:
            return _EMPTY
        shown = getattr(account, "contacts_shown", [])
        names = ", ".join(
            f'<span title="{_e(c.email)}">{_e(c.name or c.email)}</span>' for c in shown
        )
        more = " …" if count > len(shown) else ""
        return (
            f'<span class="count" title="{count} contact{"" if count == 1 else "s"}">'
            f'{intcomma(count)}</span> <span class="contact-names">{names}{more}</span>'
        )
    if key == "slack_channel":
        channels = getattr(account, "channels_shown", [])
        return (
            "".join(
                f'<span class="chip chip-channel" title="Slack channel {_e(c.slack_channel_id)}">'
                f"#{_e(c.name)}</span>"
                for c in channels
            )
            or _EMPTY
        )
    if key == "owner":
        owner = account.owner
        if owner is None:
            return '<span class="empty">Unassigned</span>'
        return (
            f'<span class="owner"><span class="avatar avatar-xs tone-{avatar_tone(owner.email)}" '
            f'aria-hidden="true">{_e(initials(owner.display_name))}</span>'
            f"{_e(owner.display_name)}</span>"
        )
    if key == "crm_company" or key == "crm_id":
        return _crm_cell(account, key, is_admin)
    if key == "crm_status":
        return (
            f'<span class="badge crm-{_e(account.crm_sync_status)}" '
            f'title="{_e(crm_title(account))}">{_e(account.get_crm_sync_status_display())}</span>'
        )
    if key == "status":
        return (
            f'<span class="badge status-{_e(account.status)}">'
            f"{_e(account.get_status_display())}</span>"
        )
    if key == "secondary_domains":
        return _secondary_domains_cell(account, is_admin)
    if key == "requests_open":
        metrics = account_metrics(account)
        if metrics is None:
            return _EMPTY
        return (
            f'<a class="count" href="{_e(requests_board_url(account.pk, "open"))}" '
            f'title="Open requests of {_e(account.name)}">{intcomma(metrics.open_count)}</a>'
        )
    if key == "sla_breaches":
        metrics = account_metrics(account)
        if metrics is None:
            return _EMPTY
        return (
            f'<span class="count{" breached" if metrics.breach_count else ""}" '
            f'title="{metrics.first_response_breaches} first response, '
            f'{metrics.resolution_breaches} resolution">{intcomma(metrics.breach_count)}</span>'
        )
    if key == "requests_csat":
        metrics = account_metrics(account)
        if metrics is None or metrics.avg_csat is None:
            return _EMPTY
        return (
            f'<span title="{metrics.csat_count} rating{"" if metrics.csat_count == 1 else "s"}">'
            f"{csat(metrics.avg_csat)}</span>"
        )
    return _text_or_empty(directory_value(account, column))


def _directory_cells(account: Account, columns: list[Column], is_admin: bool) -> str:
    return "".join(
        f'<td class="col-{_column_class(column.key)}">'
        f"{_directory_cell(account, column, is_admin)}</td>"
        for column in columns
    )


@register.simple_tag
def directory_cells(account: Account, columns: list[Column], is_admin: bool) -> SafeString:
    """Render the cells of one directory row."""
    return mark_safe(_directory_cells(account, columns, is_admin))  # noqa: S308 - escaped by _e


def directory_row(
    account: Account, columns: list[Column], is_admin: bool, saved: bool = False
) -> SafeString:
    """Render one whole directory row, for a change that shows in several of its cells."""
    row_class = ' class="saved"' if saved else ""
    cells = _directory_cells(account, columns, is_admin)
    return mark_safe(f"<tr{row_class}>{cells}</tr>")  # noqa: S308 - escaped by _e


@lru_cache(maxsize=256)
def _column_class(key: str) -> str:
    return slugify(key)
