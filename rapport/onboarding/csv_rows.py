"""Read a bulk account upload (a CSV of newly won customers) into rows a preview can show.

Pure functions: bytes in, cleaned values and messages out, no database. The service that
builds the import preview passes in what only it knows (the templates, the default
template, the date order the person chose, the row limit).

The rules a person may need explained in the preview:

- Encoding: UTF-8 (with or without a byte order mark), UTF-16 or UTF-32 with a byte
  order mark, otherwise Windows-1252 (latin-1 for the five bytes it leaves undefined).
  Accents garbled by a spreadsheet that opened UTF-8 as Windows-1252 ("CafÃ©") are
  repaired where the repair decodes cleanly.
- Delimiter: comma, semicolon or tab, whichever makes the first row name the most
  known columns; a leading `sep=;` line names it outright.
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

import csv
import datetime
import enum
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from rapport.accounts.domains import domain_normalize
from rapport.core.errors import InvalidInput
from rapport.mapping.public_domains import domain_is_public

REQUIRED_COLUMNS = (
    "company_name",
    "arr",
    "close_date",
    "primary_contact_name",
    "primary_contact_email",
    "ae_email",
    "template_name",
)
OPTIONAL_COLUMNS = ("industry", "company_size", "website", "notes", "primary_contact_role")
KNOWN_COLUMNS = frozenset(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
# Errors that belong to the row rather than a column (too many cells).
ROW = "row"

COMPANY_SIZES = ("1-50", "51-500", "501-5000", "5000+")
ARR_MAX = Decimal("999999999999.99")  # Account.arr holds 14 digits, two after the point
_LENGTHS = {
    "company_name": 200,
    "primary_contact_name": 200,
    "primary_contact_role": 200,
    "industry": 100,
    "website": 500,
    "notes": 10_000,
}
_PLAIN_TEXT = ("company_name", "primary_contact_name", "industry", "notes", "primary_contact_role")
# A blank template name means the default template, so it is not required text.
_REQUIRED_TEXT = tuple(name for name in REQUIRED_COLUMNS if name != "template_name")
_LABELS = {
    "company_name": "Company name",
    "arr": "ARR",
    "close_date": "Close date",
    "primary_contact_name": "Primary contact name",
    "primary_contact_email": "Primary contact email",
    "ae_email": "AE email",
    "template_name": "Template",
}


class CsvUnreadable(InvalidInput, ValueError):
    """Refuse an upload that is not a readable text table (binary, empty, broken)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


class CellInvalid(ValueError):
    """Refuse one cell; the message says what is wrong and how to write it."""


class DateOrder(enum.StrEnum):
    """How to read a numeric date such as 03/04/2025."""

    ISO = "iso"  # only readings that cannot be wrong
    DAY_FIRST = "day_first"
    MONTH_FIRST = "month_first"


@dataclass(slots=True)
class RowValues:
    """The cleaned values of one row; None where the cell is empty or refused."""

    company_name: str | None = None
    arr: Decimal | None = None
    close_date: datetime.date | None = None
    primary_contact_name: str | None = None
    primary_contact_email: str | None = None
    ae_email: str | None = None
    template_id: int | None = None
    industry: str | None = None
    company_size: str | None = None
    website: str | None = None
    notes: str | None = None
    primary_contact_role: str | None = None


@dataclass(slots=True)
class ParsedRow:
    """One data row: where it is in the file, its values, its errors by column."""

    line: int
    values: RowValues
    errors: dict[str, str] = field(default_factory=dict)
    domain: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(slots=True)
class ParsedFile:
    """A whole upload: *columns* maps each known field to its header as written."""

    columns: dict[str, str]
    delimiter: str
    encoding: str
    rows: list[ParsedRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# --- decoding ------------------------------------------------------------------------------

_BINARY_MAGIC = (
    (b"PK\x03\x04", "a spreadsheet workbook or a zip archive"),
    (b"\xd0\xcf\x11\xe0", "a spreadsheet workbook"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "an image"),
    (b"\xff\xd8\xff", "an image"),
    (b"GIF8", "an image"),
    (b"\x1f\x8b", "a compressed archive"),
)
_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32-le", "UTF-32"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "UTF-32"),
    (b"\xef\xbb\xbf", "utf-8", "UTF-8"),
    (b"\xff\xfe", "utf-16-le", "UTF-16"),
    (b"\xfe\xff", "utf-16-be", "UTF-16"),
)
# Control characters no text export contains (tab, newlines, form feed and the vertical
# tab some spreadsheets write for a line break inside a cell are fine).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# Windows-1252 leaves five bytes undefined; a tool that reads them anyway keeps them as
# the latin-1 control characters, so mojibake can contain those too.
_CP1252_UNDEFINED = "\x81\x8d\x8f\x90\x9d"
# A UTF-8 lead byte (0xC2-0xF4) read as Windows-1252, then its continuation bytes
# (0x80-0xBF) read the same way.
_CONTINUATION = "".join(
    sorted(set(bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")) | set(_CP1252_UNDEFINED))
)
_MOJIBAKE = re.compile(
    "[\u00c2-\u00df][{c}]|[\u00e0-\u00ef][{c}]{{2}}|[\u00f0-\u00f4][{c}]{{3}}".format(
        c=re.escape(_CONTINUATION)
    )
)


def _mojibake_undo(match: re.Match[str]) -> str:
    text = match.group()
    raw = bytes(ord(c) if c in _CP1252_UNDEFINED else c.encode("cp1252")[0] for c in text)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return text  # not mojibake after all (a lone "Ã" followed by a symbol)


def mojibake_repair(text: str) -> str:
    """Return *text* with UTF-8 read as Windows-1252 ("CafÃ©") turned back ("Café").

    Each garbled sequence is repaired on its own, so a file that mixes good accents with
    garbled ones comes out right; a sequence that does not decode as UTF-8 stays as it
    is. Twice, because a file garbled twice is not rare.
    """
    for _ in range(2):
        repaired = _MOJIBAKE.sub(_mojibake_undo, text)
        if repaired == text:
            break
        text = repaired
    return text


def _decode(data: bytes) -> tuple[str, str, bool]:
    """Return the text of *data*, the encoding it was read as, whether accents were repaired."""
    if not data.strip():
        raise CsvUnreadable("The file is empty.")
    for magic, what in _BINARY_MAGIC:
        if data.startswith(magic):
            raise CsvUnreadable(f"This is {what}, not a CSV file. Export the sheet as CSV.")
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text, encoding = data[len(bom) :].decode(codec), name
            except UnicodeDecodeError:
                raise CsvUnreadable(
                    f"The file says it is {name} but is not; save it again as CSV (UTF-8)."
                ) from None
            break
    else:
        if b"\x00" in data:
            raise CsvUnreadable(
                "The file holds binary data (NUL bytes), not text. Export the sheet as CSV."
            )
        try:
            text, encoding = data.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            try:
                text, encoding = data.decode("cp1252"), "Windows-1252"
            except UnicodeDecodeError:
                text, encoding = data.decode("latin-1"), "Latin-1"
    if _CONTROL.search(text):
        # NUL and other controls never occur in a text export; a few would corrupt rows.
        raise CsvUnreadable("The file holds binary data, not text. Export the sheet as CSV.")
    text = text.lstrip("\ufeff")  # a second mark left by a tool that added its own
    if not text.strip():
        raise CsvUnreadable("The file is empty.")
    if text.isascii():
        return text, encoding, False
    repaired = mojibake_repair(text)
    return repaired, encoding, repaired != text


def csv_decode(data: bytes) -> str:
    """Return the text of an uploaded CSV file, or raise CsvUnreadable.

    See the module docstring for the encodings tried, in order.
    """
    return _decode(data)[0]


# --- delimiter and header -------------------------------------------------------------------

DELIMITERS = (",", ";", "\t")
_SEP_LINE = re.compile(r"sep=([,;\t])\r?")


def header_normalize(text: str) -> str:
    """Return a header as a field name: "Company Name " and "company-name" give company_name."""
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def delimiter_sniff(text: str) -> str:
    """Return the delimiter (comma, semicolon, tab) that makes the header most sensible.

    The header names known columns, so the delimiter that splits out the most of them
    wins; with none known, the one that gives the most cells; a tie goes to the comma.
    """
    sample = io.StringIO(text[:65536], newline="")
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        sample.seek(0)
        header: list[str] = []
        try:
            for record in csv.reader(sample, delimiter=delimiter):
                if any(cell.strip() for cell in record):
                    header = record
                    break
        except csv.Error:
            continue
        known = sum(1 for cell in header if header_normalize(cell) in KNOWN_COLUMNS)
        score = (known, len(header))
        if score > best_score:
            best, best_score = delimiter, score
    return best


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


# --- rows -----------------------------------------------------------------------------------


def _memo[T](cache: dict[str, T | CellInvalid], parse: Callable[[str], T], text: str) -> T:
    """Return parse(text), remembering the answer (or the refusal) for repeated cells."""
    try:
        answer = cache[text]
    except KeyError:
        try:
            answer = parse(text)
        except CellInvalid as exc:
            answer = exc.with_traceback(None)
        cache[text] = answer
    if isinstance(answer, CellInvalid):
        # A fresh error each time: raising the cached one again would grow its traceback
        # with every row that repeats the cell.
        raise CellInvalid(*answer.args)
    return answer


class _RowReader:
    """Turn the cells of one row into a ParsedRow, remembering answers for repeated cells."""

    def __init__(
        self,
        *,
        columns: dict[str, int],
        width: int,
        delimiter: str,
        templates: Sequence[tuple[int, str]],
        default_template_id: int | None,
        date_order: DateOrder,
        domain_public: Callable[[str], bool],
    ) -> None:
        self.indexes = tuple((name, columns.get(name, -1)) for name in KNOWN_COLUMNS)
        self.width = width
        self.delimiter_name = {",": "a comma", ";": "a semicolon"}.get(delimiter, "a tab")
        self.domain_public = domain_public
        self.template = partial(
            _memo, {}, partial(template_match, templates=templates, default_id=default_template_id)
        )
        self.parsers: tuple[tuple[str, Callable[[str], object]], ...] = (
            ("arr", partial(_memo, {}, amount_parse)),
            ("close_date", partial(_memo, {}, partial(date_parse, order=date_order))),
            ("primary_contact_email", email_normalize),
            ("ae_email", partial(_memo, {}, email_normalize)),
            ("company_size", partial(_memo, {}, company_size_normalize)),
        )
        self.seen: dict[str, int] = {}  # domain or company name key -> first line

    def read(self, line: int, cells: list[str]) -> ParsedRow:
        values = RowValues()
        row = ParsedRow(line=line, values=values)
        errors = row.errors
        width = self.width
        if len(cells) > width and any(cells[width:]):
            errors[ROW] = (
                f"This row has {len(cells)} cells but the header names {width} columns; "
                f"put quotes around a cell that contains {self.delimiter_name}."
            )
        # Missing cells are empty; an absent optional column reads the empty last cell.
        cells = [*cells[:width], *[""] * (width - len(cells)), ""]
        cell = {name: cells[index] for name, index in self.indexes}

        for name in _REQUIRED_TEXT:
            if not cell[name]:
                errors[name] = f"{_LABELS[name]} is required."
        for name, length in _LENGTHS.items():
            if len(cell[name]) > length:
                errors[name] = f"Keep this under {length} characters."
        for name in _PLAIN_TEXT:
            if (text := cell[name]) and name not in errors:
                if "\r" in text:  # a quoted cell over several lines of a Windows file
                    text = text.replace("\r\n", "\n").replace("\r", "\n")
                setattr(values, name, text)
        for name, parse in self.parsers:
            if (text := cell[name]) and name not in errors:
                try:
                    setattr(values, name, parse(text))
                except CellInvalid as exc:
                    errors[name] = str(exc)
        try:
            values.template_id = self.template(cell["template_name"])
        except CellInvalid as exc:
            errors["template_name"] = str(exc)

        duplicate_column = "company_name"
        if (text := cell["website"]) and "website" not in errors:
            try:
                website = website_normalize(text)
            except CellInvalid as exc:
                errors["website"] = str(exc)
            else:
                if website is not None:
                    values.website, row.domain = website
                    duplicate_column = "website"
        if row.domain is None and values.primary_contact_email:
            domain = values.primary_contact_email.rpartition("@")[2]
            try:
                domain = _domain_of(domain)
            except CellInvalid:
                pass
            else:
                if not self.domain_public(domain):
                    row.domain = domain
                    duplicate_column = "primary_contact_email"

        self._duplicate_mark(row, duplicate_column)
        return row

    def _duplicate_mark(self, row: ParsedRow, column: str) -> None:
        if row.domain is not None:
            key, what = f"@{row.domain}", f"same domain {row.domain}"
        elif row.values.company_name:
            key, what = company_name_key(row.values.company_name), "same company name"
        else:
            return
        first = self.seen.setdefault(key, row.line)
        if first != row.line and column not in row.errors:
            row.errors[column] = f"Duplicate of line {first} ({what})."


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Yield each record with the physical line it starts on, skipping blank ones.

    Raise CsvUnreadable when a quote is never closed: the reader would otherwise take
    the rest of the file as one cell and the rows after it would silently vanish.
    """
    end = [0]  # where the line last handed to the reader ends

    def lines() -> Iterator[str]:
        # Slices of the text, not a StringIO: that would hold a second copy of the whole
        # file at four bytes a character.
        for match in _LINE.finditer(text):
            end[0] = match.end()
            yield match.group()

    reader = csv.reader(lines(), delimiter=delimiter)
    start = last_line = record_start = next_start = 0
    try:
        for record in reader:
            start, last_line = last_line + 1, reader.line_num
            record_start, next_start = next_start, end[0]
            if any(cell.strip() for cell in record):
                yield start, record
    except csv.Error as exc:
        raise CsvUnreadable(
            f"Line {reader.line_num} cannot be read ({exc}); check the quotes on it."
        ) from None
    if last_line > start and text.count('"', record_start) % 2:
        raise CsvUnreadable(
            f"A quote opened on line {start} is never closed, so the rest of the file reads "
            "as one cell. Close the quote or remove it."
        )


def _header_map(header: list[str], parsed: ParsedFile) -> dict[str, int]:
    """Return field -> column index, filling in the file's columns, warnings and errors."""
    columns: dict[str, int] = {}
    last_named = max((i for i, cell in enumerate(header) if cell.strip()), default=-1)
    for index, cell in enumerate(header):
        name = header_normalize(cell)
        if not name:
            if index < last_named:
                parsed.warnings.append(f"Column {index + 1} has no name; it is ignored.")
        elif name not in KNOWN_COLUMNS:
            parsed.warnings.append(f"Column “{cell.strip()}” is not one Rapport imports; ignored.")
        elif name in columns:
            parsed.errors.append(
                f"Column {name} appears twice (columns {columns[name] + 1} and {index + 1})."
            )
        else:
            columns[name] = index
            parsed.columns[name] = cell.strip()
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        parsed.errors.append(
            f"The file has no column for: {', '.join(missing)}. The first row must name the "
            f"columns {','.join(REQUIRED_COLUMNS)}."
        )
    return columns


def rows_parse(
    data: bytes,
    *,
    templates: Sequence[tuple[int, str]],
    default_template_id: int | None = None,
    date_order: DateOrder = DateOrder.ISO,
    max_rows: int,
    domain_public: Callable[[str], bool] = mail_domain_is_public,
) -> ParsedFile:
    """Return the rows of a bulk account upload, cleaned, with their errors by column.

    Raise CsvUnreadable when the file is not a text table at all. A problem with the
    header (a required column missing, one named twice) is a file error and no rows are
    read; more than *max_rows* rows is a file error and only the first *max_rows* are
    kept. *domain_public* says which mail domains cannot identify a company; the
    default is Rapport's packaged list, the caller may pass one with the admin's changes.
    """
    text, encoding, repaired = _decode(data)
    delimiter = None
    first_line, _, rest = text.partition("\n")
    if match := _SEP_LINE.fullmatch(first_line):
        delimiter = match[1]
        # An empty line in its place keeps line numbers those of the file.
        text = "\n" + rest
    delimiter = delimiter or delimiter_sniff(text)
    parsed = ParsedFile(columns={}, delimiter=delimiter, encoding=encoding)
    if repaired:
        parsed.warnings.append(
            "Some accents were garbled (“Ã©” for “é”), as when a spreadsheet opens a UTF-8 "
            "file in the wrong encoding; Rapport repaired them. Check the names in the preview."
        )
    records = _records(text, delimiter)
    header = next(records, None)
    if header is None:
        raise CsvUnreadable("The file is empty.")
    columns = _header_map(header[1], parsed)
    if parsed.errors:
        return parsed

    reader = _RowReader(
        columns=columns,
        width=len(header[1]),
        delimiter=delimiter,
        templates=templates,
        default_template_id=default_template_id,
        date_order=date_order,
        domain_public=domain_public,
    )
    rows = parsed.rows
    count = 0
    for line, record in records:
        count += 1
        if count <= max_rows:
            rows.append(reader.read(line, [cell.strip() for cell in record]))
    if count == 0:
        parsed.errors.append("The file has a header but no accounts below it.")
    elif count > max_rows:
        parsed.errors.append(
            f"The file has {count:,} accounts; Rapport imports at most {max_rows:,} at a time. "
            "Split the file."
        )
    return parsed
