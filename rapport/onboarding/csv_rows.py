"""Read a bulk account upload (a CSV of newly won customers) into rows a preview can show.

Pure functions: bytes in, cleaned values and messages out, no database. The service that
builds the import preview passes in what only it knows (the templates, the default
template, the date order the person chose, the row limit). How a file is decoded is in
`csv_decoding`, how each cell is read in `csv_cells`.
"""

import csv
import datetime
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial

from rapport.onboarding.csv_cells import (
    ARR_MAX,
    COMPANY_SIZES,
    CellInvalid,
    DateOrder,
    _domain_of,
    amount_parse,
    company_name_key,
    company_size_normalize,
    date_parse,
    email_normalize,
    mail_domain_is_public,
    template_match,
    website_normalize,
)
from rapport.onboarding.csv_decoding import (
    _SEP_LINE,
    KNOWN_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    CsvUnreadable,
    _decode,
    delimiter_sniff,
    header_normalize,
)

__all__ = [
    "ARR_MAX",
    "COMPANY_SIZES",
    "KNOWN_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "CellInvalid",
    "CsvUnreadable",
    "DateOrder",
    "ParsedFile",
    "ParsedRow",
    "RowValues",
    "rows_parse",
    "rows_stream",
]


# Errors that belong to the row rather than a column (too many cells).
ROW = "row"

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
    parsed, rows = rows_stream(
        data,
        templates=templates,
        default_template_id=default_template_id,
        date_order=date_order,
        max_rows=max_rows,
        domain_public=domain_public,
    )
    parsed.rows.extend(rows)
    return parsed


def rows_stream(
    data: bytes,
    *,
    templates: Sequence[tuple[int, str]],
    default_template_id: int | None = None,
    date_order: DateOrder = DateOrder.ISO,
    max_rows: int,
    domain_public: Callable[[str], bool] = mail_domain_is_public,
) -> tuple[ParsedFile, Iterator[ParsedRow]]:
    """Return the file's header facts and its rows one by one, as `rows_parse` reads them.

    Nothing holds the rows: a caller that writes them as they come keeps its memory the
    same for any size of file. The file's row errors (none, or too many) are in the
    ParsedFile's `errors` once the rows are all read.
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
        return parsed, iter(())

    reader = _RowReader(
        columns=columns,
        width=len(header[1]),
        delimiter=delimiter,
        templates=templates,
        default_template_id=default_template_id,
        date_order=date_order,
        domain_public=domain_public,
    )

    def rows() -> Iterator[ParsedRow]:
        count = 0
        for line, record in records:
            count += 1
            if count <= max_rows:
                yield reader.read(line, [cell.strip() for cell in record])
        if count == 0:
            parsed.errors.append("The file has a header but no accounts below it.")
        elif count > max_rows:
            parsed.errors.append(
                f"The file has {count:,} accounts; Rapport imports at most {max_rows:,} at a "
                "time. Split the file."
            )

    return parsed, rows()
