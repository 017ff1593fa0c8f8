"""Decode a bulk account upload and find its delimiter and header.

- Encoding: UTF-8 (with or without a byte order mark), UTF-16 or UTF-32 with a byte
  order mark, otherwise Windows-1252 (latin-1 for the five bytes it leaves undefined).
  Accents garbled by a spreadsheet that opened UTF-8 as Windows-1252 ("CafÃ©") are
  repaired where the repair decodes cleanly.
- Delimiter: comma, semicolon or tab, whichever makes the first row name the most
  known columns; a leading `sep=;` line names it outright.
"""

import csv
import io
import re

from rapport.core.errors import InvalidInput

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


class CsvUnreadable(InvalidInput, ValueError):
    """Refuse an upload that is not a readable text table (binary, empty, broken)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


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
