"""Read one cell of a bulk account upload: amounts, dates, templates, emails, sizes, websites.

Pure functions; each returns the cleaned value or raises CellInvalid with the message
the preview shows. The rules a person may need explained:

- Amounts: a comma or dot followed by exactly three digits groups thousands; one
  followed by one or two digits at the end is the decimal mark. So "1,200.50",
  "1.200,50", "$1,200,000" and "€50.000" (fifty thousand) all read as people mean them,
  and "1200.500" or "12,00,000" are refused rather than guessed. A `k`, `m`/`mm` or
  `b`/`bn` suffix multiplies ("1.2M", "450k"); with a suffix the one separator is the
  decimal mark, and "1,200k" or "1.250M" (three digits after it) are refused as
  ambiguous. A currency sign or a common ISO code is allowed and dropped (Rapport
  records ARR in the number given, unconverted).
- Dates: year-first numbers and dates with a month name are always read. Other
  numeric dates are read in the order the person chose; under the default order they
  are read only when one reading is possible (13/04/2025), and an ambiguous one
  (03/04/2025) asks the person to choose day-first or month-first. Two-digit years
  are refused: "03/04/25" cannot say its century.
"""

import datetime
import enum
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from rapport.accounts.domains import domain_normalize
from rapport.core.errors import InvalidInput
from rapport.mapping.public_domains import domain_is_public

COMPANY_SIZES = ("1-50", "51-500", "501-5000", "5000+")
ARR_MAX = Decimal("999999999999.99")  # Account.arr holds 14 digits, two after the point


class CellInvalid(ValueError):
    """Refuse one cell; the message says what is wrong and how to write it."""


class DateOrder(enum.StrEnum):
    """How to read a numeric date such as 03/04/2025."""

    ISO = "iso"  # only readings that cannot be wrong
    DAY_FIRST = "day_first"
    MONTH_FIRST = "month_first"


# --- amounts --------------------------------------------------------------------------------

_CURRENCY_CODES = (
    "USD|EUR|GBP|CAD|AUD|NZD|CHF|JPY|SEK|NOK|DKK|INR|SGD|HKD|BRL|MXN|ZAR|PLN|CZK|ILS|AED"
)
_AMOUNT = re.compile(
    rf"""
    (?P<open>[(])?\s*(?P<minus1>[-\u2212])?\s*
    (?:(?:{_CURRENCY_CODES})\s*)?(?:(?:US|A|C|NZ)?[$€£¥])?\s*
    (?P<minus2>[-\u2212])?\s*
    (?P<number>\d[\d.,'\s]*?)\s*
    (?P<suffix>k|mm|m|bn|b)?\s*
    [$€£¥]?\s*(?:(?:{_CURRENCY_CODES})\s*)?
    (?P<minus3>[-\u2212])?\s*(?P<close>[)])?
    """,
    re.VERBOSE | re.IGNORECASE,
)
_AMOUNT_PLAIN = re.compile(r"\d{1,15}(?:\.\d{1,2})?", re.ASCII)
_AMOUNT_EXPONENT = re.compile(r"\d+(?:\.\d+)?[eE]\+?\d{1,2}", re.ASCII)
_SEPARATORS = re.compile(r"[.,'\s]")
_MULTIPLIERS = {
    "": 1,
    "k": 1_000,
    "m": 1_000_000,
    "mm": 1_000_000,
    "b": 1_000_000_000,
    "bn": 1_000_000_000,
}
_CENT = Decimal("0.01")


def _amount_bounded(amount: Decimal) -> Decimal:
    amount = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    if amount > ARR_MAX:
        raise CellInvalid("ARR must be at most 999,999,999,999.99.")
    return amount


def _amount_number(number: str, has_suffix: bool) -> str | None:
    """Return *number* with grouping removed and a dot as decimal mark, or None."""
    parts = _SEPARATORS.split(number)
    separators = _SEPARATORS.findall(number)
    if not all(part.isdigit() and part.isascii() for part in parts):
        return None
    if not separators:
        return number
    last_separator, last = separators[-1], parts[-1]
    if has_suffix:
        # "1.2M", "1,5M": the one separator is the decimal mark; "1,200k" could mean
        # 1.2 thousand or 1,200 thousand.
        if len(separators) > 1 or last_separator not in ".," or len(last) == 3:
            return None
        return f"{parts[0]}.{last}"
    decimals = ""
    if last_separator in ".," and len(last) in (1, 2):
        decimals, parts, separators = last, parts[:-1], separators[:-1]
        if last_separator in separators:
            return None  # "1.200.50"
    if separators:
        if len({s if s in ".,'" else " " for s in separators}) > 1:
            return None  # "1,200.000": two different grouping marks
        if not 1 <= len(parts[0]) <= 3 or parts[0] == "0":
            return None
        if any(len(part) != 3 for part in parts[1:]):
            return None  # "12,00,000" or "1200.500"
    whole = "".join(parts)
    return f"{whole}.{decimals}" if decimals else whole


def amount_parse(text: str) -> Decimal:
    """Return an ARR such as "$1,200,000", "1.2M" or "USD 50.000" as a Decimal in cents.

    Raise CellInvalid for an empty, negative, malformed or out-of-range amount; the
    module docstring gives the rule for thousands separators.
    """
    text = text.strip()
    if not text:
        raise CellInvalid("Enter an amount.")
    if _AMOUNT_PLAIN.fullmatch(text):  # the common case, kept fast
        return _amount_bounded(Decimal(text))
    if _AMOUNT_EXPONENT.fullmatch(text):  # a spreadsheet's 1.2E+06
        return _amount_bounded(Decimal(text))
    match = _AMOUNT.fullmatch(text)
    if match is None:
        if re.search(r"\d", text) and re.match(r"[(\-\u2212]", text):
            raise CellInvalid("ARR cannot be negative.")
        raise CellInvalid(f"“{text}” is not an amount; write it like 1200000, $1,200,000 or 1.2M.")
    if match["open"] or match["close"] or match["minus1"] or match["minus2"] or match["minus3"]:
        raise CellInvalid("ARR cannot be negative.")
    suffix = (match["suffix"] or "").lower()
    number = _amount_number(match["number"].strip(), bool(suffix))
    if number is None:
        raise CellInvalid(
            f"“{text}” is not an amount Rapport can read without guessing; "
            "write it like 1200000, $1,200,000, 1,200.50 or 1.2M."
        )
    return _amount_bounded(Decimal(number) * _MULTIPLIERS[suffix])


# --- dates ----------------------------------------------------------------------------------

_MONTH_WORDS = (
    ("jan", "january"),
    ("feb", "february"),
    ("mar", "march"),
    ("apr", "april"),
    ("may",),
    ("jun", "june"),
    ("jul", "july"),
    ("aug", "august"),
    ("sep", "sept", "september"),
    ("oct", "october"),
    ("nov", "november"),
    ("dec", "december"),
)
_MONTHS = {word: number for number, words in enumerate(_MONTH_WORDS, 1) for word in words}
_MONTH_NAMES = tuple(words[-1].title() for words in _MONTH_WORDS)
_TIME = r"(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})?)?"
_YEAR_FIRST = re.compile(rf"(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_TIME}", re.ASCII)
_COMPACT = re.compile(r"(?:19|20|21)\d{6}", re.ASCII)
_NUMERIC = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}|\d{{2}}){_TIME}", re.ASCII)
_DAY_NAME = re.compile(
    r"(\d{1,2})(?:st|nd|rd|th)?[\s\-/.]*([a-z]{3,9})\.?,?[\s\-/.]*(\d{4}|\d{2})", re.IGNORECASE
)
_NAME_DAY = re.compile(
    r"([a-z]{3,9})\.?[\s\-/.]*(\d{1,2})(?:st|nd|rd|th)?,?[\s\-/.]*(\d{4}|\d{2})", re.IGNORECASE
)
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?", re.ASCII)
_YEAR_MIN, _YEAR_MAX = 1900, 2100


def _date_make(text: str, year: int, month: int, day: int) -> datetime.date:
    if not _YEAR_MIN <= year <= _YEAR_MAX:
        raise CellInvalid(f"“{text}” has the year {year}; check it.")
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise CellInvalid(f"“{text}” is not a date in the calendar.") from None


def _date_human(date: datetime.date) -> str:
    return f"{date.day} {_MONTH_NAMES[date.month - 1]} {date.year}"


def _year_full(text: str, year: str) -> int:
    if len(year) != 4:
        raise CellInvalid(f"“{text}” has a two-digit year; write the year in full (2025).")
    return int(year)


def _date_numeric(text: str, first: int, second: int, year: int, order: DateOrder) -> datetime.date:
    if order == DateOrder.DAY_FIRST:
        if second > 12:
            raise CellInvalid(f"“{text}” is not a day-first date (day/month/year).")
        return _date_make(text, year, second, first)
    if order == DateOrder.MONTH_FIRST:
        if first > 12:
            raise CellInvalid(f"“{text}” is not a month-first date (month/day/year).")
        return _date_make(text, year, first, second)
    if first > 12 and second <= 12:
        return _date_make(text, year, second, first)
    if second > 12 and first <= 12:
        return _date_make(text, year, first, second)
    if first == second:
        return _date_make(text, year, first, second)  # 05/05/2025 reads the same both ways
    if first > 12:
        raise CellInvalid(f"“{text}” is not a date.")
    day_first = _date_make(text, year, second, first)
    month_first = _date_make(text, year, first, second)
    raise CellInvalid(
        f"“{text}” could be {_date_human(day_first)} or {_date_human(month_first)}; "
        "choose day-first or month-first dates for this file, or write 2025-04-03."
    )


def _month_number(text: str, word: str) -> int:
    month = _MONTHS.get(word.lower())
    if month is None:
        raise CellInvalid(f"“{text}” is not a date: “{word}” is not a month.")
    return month


def date_parse(text: str, order: DateOrder = DateOrder.ISO) -> datetime.date:
    """Return a close date such as "2025-01-15", "15 Jan 2025" or "13/04/2025".

    Raise CellInvalid for an empty, malformed, two-digit-year or (under DateOrder.ISO)
    ambiguous date. A time after the date, as some exports add, is ignored.
    """
    text = text.strip()
    if not text:
        raise CellInvalid("Enter a date.")
    if match := _YEAR_FIRST.fullmatch(text):
        return _date_make(text, int(match[1]), int(match[3]), int(match[4]))
    if match := _NUMERIC.fullmatch(text):
        year = _year_full(text, match[4])
        return _date_numeric(text, int(match[1]), int(match[3]), year, order)
    if match := _DAY_NAME.fullmatch(text):
        month = _month_number(text, match[2])
        return _date_make(text, _year_full(text, match[3]), month, int(match[1]))
    if match := _NAME_DAY.fullmatch(text):
        month = _month_number(text, match[1])
        return _date_make(text, _year_full(text, match[3]), month, int(match[2]))
    if _COMPACT.fullmatch(text):
        return _date_make(text, int(text[:4]), int(text[4:6]), int(text[6:]))
    if _SERIAL.fullmatch(text):
        raise CellInvalid(
            f"“{text}” is a spreadsheet's day number, not a date; "
            "format the column as dates before exporting."
        )
    raise CellInvalid(f"“{text}” is not a date; write it like 2025-01-15.")


# --- templates ------------------------------------------------------------------------------


def _name_fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def template_match(
    name: str, templates: Sequence[tuple[int, str]], default_id: int | None = None
) -> int:
    """Return the id of the template *name* means: its exact name, else a unique prefix.

    Case and spacing do not count. A blank name means *default_id*. Raise CellInvalid
    when no template or several match, naming them.
    """
    wanted = _name_fold(name)
    if not wanted:
        if default_id is None:
            raise CellInvalid("Name a template; there is no default template.")
        return default_id
    for exact in (True, False):
        found = [
            (template_id, template_name)
            for template_id, template_name in templates
            if (_name_fold(template_name) == wanted)
            or (not exact and _name_fold(template_name).startswith(wanted))
        ]
        if len(found) == 1:
            return found[0][0]
        if found:
            names = ", ".join(f"“{template_name}”" for _, template_name in found)
            raise CellInvalid(f"“{name.strip()}” matches several templates: {names}.")
    known = ", ".join(f"“{template_name}”" for _, template_name in templates[:10])
    raise CellInvalid(
        f"No template is named “{name.strip()}”."
        + (f" Templates: {known}." if known else " Create a template first.")
    )


# --- contacts, sizes, websites, domains -----------------------------------------------------

# A strict subset of what validate_email accepts, checked first because it is several
# times faster and nearly every address in an upload matches it.
_EMAIL_PLAIN = re.compile(
    r"[a-z0-9_%+-]+(?:\.[a-z0-9_%+-]+)*@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
    re.ASCII | re.IGNORECASE,
)


def email_normalize(text: str) -> str:
    """Return an email address with its domain in lower case, or raise CellInvalid."""
    text = text.strip().removeprefix("mailto:")
    local, at, domain = text.rpartition("@")
    email = f"{local}{at}{domain.lower()}"
    if len(email) > 254:
        raise CellInvalid("The email address is too long.")
    if not _EMAIL_PLAIN.fullmatch(email):
        try:
            validate_email(email)
        except ValidationError:
            raise CellInvalid(f"“{text}” is not an email address.") from None
    return email


_SIZE_LABELS = {
    "smb": "1-50",
    "mid market": "51-500",
    "midmarket": "51-500",
    "enterprise": "501-5000",
    "global enterprise": "5000+",
}
_SIZE_BOUNDS = ((1, 50, "1-50"), (51, 500, "51-500"), (501, 5000, "501-5000"))
_SIZE_RANGE = re.compile(r"(\d+)\s*(?:-|to)\s*(\d+)", re.ASCII)
_SIZE_OPEN = re.compile(r"(?:(\d+)\s*\+|>\s*=?\s*(\d+))", re.ASCII)


def _size_of(count: int) -> str | None:
    if count >= 5001:
        return "5000+"
    return next((label for low, high, label in _SIZE_BOUNDS if low <= count <= high), None)


def _size_one(text: str) -> str | None:
    word = " ".join(re.sub(r"[-_]", " ", text).split()).lower()
    if word in _SIZE_LABELS:
        return _SIZE_LABELS[word]
    compact = re.sub(r"(?<=\d)[,.'\s](?=\d{3}\b)", "", text.replace("–", "-").replace("—", "-"))
    compact = compact.strip().lower()
    if compact.isdigit():
        return _size_of(int(compact))
    if match := _SIZE_RANGE.fullmatch(compact):
        low, high = _size_of(int(match[1])), _size_of(int(match[2]))
        return low if low == high else None
    if match := _SIZE_OPEN.fullmatch(compact):
        return "5000+" if int(match[1] or match[2]) >= 5000 else None
    return None


def company_size_normalize(text: str) -> str | None:
    """Return one of COMPANY_SIZES for "51–500", "Mid-Market", "1-50 (SMB)" or "1200".

    A range or a count maps to the size band that holds it; a range across two bands is
    refused. Return None for a blank cell.
    """
    text = text.strip()
    if not text:
        return None
    main, _, rest = text.partition("(")
    readings = {_size_one(part) for part in (main, rest.rstrip(")")) if part.strip()}
    if len(readings) == 1 and None not in readings:
        return readings.pop()
    raise CellInvalid(
        f"“{text}” is not a company size; use 1-50, 51-500, 501-5000, 5000+ "
        "or a number of employees."
    )


_HOST_PLAIN = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.ASCII | re.IGNORECASE
)


def _domain_of(host: str) -> str:
    """Return *host* as a stored domain, or raise CellInvalid.

    Plain ASCII host names skip IDNA encoding, which is slow and changes nothing for them.
    """
    if len(host) <= 253 and "--" not in host and _HOST_PLAIN.fullmatch(host):
        domain = host.lower()
        while domain.startswith("www."):
            domain = domain[4:]
        if "." in domain:
            return domain
    try:
        return domain_normalize(host)
    except InvalidInput as exc:
        raise CellInvalid(exc.message) from None


_SPACE = re.compile(r"\s")
_WEBSITE_PLAIN = re.compile(
    r"(?:(?P<scheme>https?)://)?(?P<host>[a-z0-9.-]+)(?P<path>/[^?#]*)?", re.I
)


def website_normalize(text: str) -> tuple[str, str] | None:
    """Return a website as a URL (https:// added, host in lower case) and its domain.

    Return None for a blank cell; raise CellInvalid for spaces or anything but a web
    address.
    """
    text = text.strip()
    if not text:
        return None
    if _SPACE.search(text):
        raise CellInvalid("A website cannot contain spaces.")
    if match := _WEBSITE_PLAIN.fullmatch(text):
        # The common "acme.com" or "https://www.acme.com/about", without urlsplit's cost.
        host, path = match["host"].lower(), match["path"] or ""
        try:
            domain = _domain_of(host)
        except CellInvalid:
            pass
        else:
            return (
                f"{(match['scheme'] or 'https').lower()}://{host}{'' if path == '/' else path}",
                domain,
            )
    if "://" not in text:
        text = "https:" + text if text.startswith("//") else "https://" + text
    invalid = CellInvalid(f"“{text}” is not a website address; write it like https://acme.com.")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise invalid from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise invalid
    host = parts.hostname.lower()
    try:
        domain = _domain_of(host)
    except CellInvalid:
        raise invalid from None
    url = f"{parts.scheme.lower()}://{host}{f':{port}' if port is not None else ''}"
    url += "" if parts.path == "/" and not parts.query and not parts.fragment else parts.path
    url += f"?{parts.query}" if parts.query else ""
    url += f"#{parts.fragment}" if parts.fragment else ""
    return url, domain


def mail_domain_is_public(domain: str) -> bool:
    """Say whether *domain* is a public mail provider's (gmail.com, gmx.de) by Rapport's list."""
    return domain_is_public(domain) or "gmx" in domain.split(".")[:-1]


def company_name_key(name: str) -> str:
    """Return the form in which two company names count as the same: "ACME  Corp." is acme corp."""
    return " ".join(re.sub(r"[^\w\s]", " ", name.casefold()).split())
