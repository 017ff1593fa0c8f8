"""Template filters every page uses: dates, durations, amounts, ratings and avatars.

`{% load display %}`; Python code that builds markup calls the same functions.
"""

import datetime
import zlib
from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import timezone
from django.utils.formats import date_format

register = template.Library()

AVATAR_TONES = 8


@register.filter
def initials(name: str) -> str:
    """Return up to two initials for an avatar."""
    words = [w for w in (name or "").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


@register.filter
def avatar_tone(value: object) -> int:
    """Return a stable colour index for an avatar, so a name keeps its colour."""
    return zlib.crc32(str(value).encode()) % AVATAR_TONES


@register.filter
def money(value: Decimal | None) -> str:
    """Show an amount without cents when it has none: 120,000 or 1,250.50."""
    if value is None:
        return ""
    if value == value.to_integral_value():
        return intcomma(int(value))
    return intcomma(f"{value:.2f}")


@register.filter
def when(value: datetime.datetime | datetime.date | None) -> str:
    """Show a date or a time the same way everywhere."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return date_format(timezone.localtime(value), "M j, Y H:i")
    return date_format(value, "M j, Y")


@register.filter
def duration(seconds: float | None) -> str:
    """Show a duration in seconds the way a person says it: 45s, 12m, 3h 20m, 2d 4h."""
    if seconds is None:
        return ""
    total = max(0, round(seconds))
    if total < 60:
        return f"{total}s"
    minutes, _ = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


@register.filter
def csat(value: float | None) -> str:
    """Show an average rating out of 5 with one decimal."""
    return "" if value is None else f"{value:.1f}"
