"""Bulk account upload parsing: what a person sees in the preview for the file they upload."""

import datetime
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rapport.core.errors import InvalidInput
from rapport.onboarding.csv_cells import (
    CellInvalid,
    DateOrder,
    amount_parse,
    company_size_normalize,
    date_parse,
    email_normalize,
    mail_domain_is_public,
    template_match,
    website_normalize,
)
from rapport.onboarding.csv_decoding import REQUIRED_COLUMNS, CsvUnreadable, csv_decode
from rapport.onboarding.csv_rows import ROW, ParsedFile, rows_parse

TEMPLATES = [(1, "Standard SaaS Onboarding"), (2, "Standard Enterprise"), (3, "Quick Start")]
HEADER = ",".join(REQUIRED_COLUMNS)


def parse(
    text: str,
    encoding: str = "utf-8",
    *,
    max_rows: int = 100,
    date_order: DateOrder = DateOrder.ISO,
    domain_public: Callable[[str], bool] = mail_domain_is_public,
) -> ParsedFile:
    """Parse *text* as the file a person uploads, with the three test templates."""
    return rows_parse(
        text.encode(encoding),
        templates=TEMPLATES,
        max_rows=max_rows,
        date_order=date_order,
        domain_public=domain_public,
    )


def row_line(company: str, **cells: str) -> str:
    """Return one data row under HEADER, with sensible cells unless given."""
    values = {
        "company_name": company,
        "arr": "50000",
        "close_date": "2025-01-15",
        "primary_contact_name": "Jane Smith",
        "primary_contact_email": f"jane@{company.lower().replace(' ', '')}.com",
        "ae_email": "ae@rapport.example",
        "template_name": "Quick Start",
        **cells,
    }
    return ",".join(values.values())


# --- the messy file ------------------------------------------------------------------------

MESSY = (
    # 1: spaced, mixed-case, hyphenated headers; an unknown column; a trailing empty one
    "Company Name, ARR ,Close-Date,Primary Contact Name,primary_contact_email,AE Email,"
    "Template Name,Website,Company Size,Notes,Region,\r\n"
    # 2-4: a quoted name with a comma, a $ amount, notes over three lines
    '"Acme, Inc.","$1,200,000",2025-01-15,Jane Smith,jane@acme.com,ae@rapport.example,'
    'Standard SaaS,www.Acme.com/,Mid-Market,"Renewal risk:\r\nneeds SSO\r\nbefore March",EMEA,\r\n'
    # 5: blank
    "\r\n"
    # 6: garbled accents next to good ones, 1.2M, a day-first date, a blank template,
    # an en dash in the size, cells with spaces around them
    "CafÃ© Lumière , 1.2M ,13/04/2025,Zoé Martin,zoe@Cafe-Lumiere.fr,ae@rapport.example,,,"
    "51–500,,EMEA,\r\n"
    # 7: an ambiguous date, an ambiguous template, a gmail contact, no trailing cell
    "Bolt Labs,450k,03/04/2025,Sam Lee,sam.lee@gmail.com,ae@rapport.example,standard,,SMB,,APAC\r\n"
    # 8: same domain as line 2, found through the contact's email
    "Acme Europe,50000,2025-02-01,Ola Nordmann,ola@acme.com,ae@rapport.example,Quick Start,,,,,\r\n"
    # 9: an empty row as spreadsheets export it
    ",,,,,,,,,,,\r\n"
    # 10: the same company as line 7, and everything else wrong too
    "Bolt Labs,(5000),2025-13-01,Sam Lee,not-an-email,ae@rapport.example,Quick Start,,huge,,\r\n"
)


@pytest.fixture
def messy() -> ParsedFile:
    return rows_parse(
        b"\xef\xbb\xbf" + MESSY.encode("utf-8"),
        templates=TEMPLATES,
        default_template_id=3,
        max_rows=100,
    )


def test_messy_file_header_maps_columns_as_written_and_warns_once_about_unknown(
    messy: ParsedFile,
) -> None:
    assert messy.errors == []
    assert messy.delimiter == ","
    assert messy.encoding == "UTF-8"
    assert messy.columns == {
        "company_name": "Company Name",
        "arr": "ARR",
        "close_date": "Close-Date",
        "primary_contact_name": "Primary Contact Name",
        "primary_contact_email": "primary_contact_email",
        "ae_email": "AE Email",
        "template_name": "Template Name",
        "website": "Website",
        "company_size": "Company Size",
        "notes": "Notes",
    }
    assert messy.warnings == [
        "Some accents were garbled (“Ã©” for “é”), as when a spreadsheet opens a UTF-8 file "
        "in the wrong encoding; Rapport repaired them. Check the names in the preview.",
        "Column “Region” is not one Rapport imports; ignored.",
    ]


def test_messy_file_rows_carry_their_physical_line_numbers(messy: ParsedFile) -> None:
    assert [row.line for row in messy.rows] == [2, 6, 7, 8, 10]


def test_messy_file_clean_row_has_typed_values(messy: ParsedFile) -> None:
    acme = messy.rows[0]
    assert acme.errors == {}
    assert acme.domain == "acme.com"
    values = acme.values
    assert values.company_name == "Acme, Inc."
    assert values.arr == Decimal("1200000.00")
    assert values.close_date == datetime.date(2025, 1, 15)
    assert values.primary_contact_email == "jane@acme.com"
    assert values.template_id == 1
    assert values.website == "https://www.acme.com"
    assert values.company_size == "51-500"
    assert values.notes == "Renewal risk:\nneeds SSO\nbefore March"
    assert values.industry is None


def test_messy_file_repairs_garbled_accents_and_applies_the_default_template(
    messy: ParsedFile,
) -> None:
    cafe = messy.rows[1]
    assert cafe.errors == {}
    assert cafe.values.company_name == "Café Lumière"
    assert cafe.values.primary_contact_name == "Zoé Martin"
    assert cafe.values.arr == Decimal("1200000.00")
    assert cafe.values.close_date == datetime.date(2025, 4, 13)
    assert cafe.values.template_id == 3
    assert cafe.values.company_size == "51-500"
    assert cafe.values.primary_contact_email == "zoe@cafe-lumiere.fr"
    assert cafe.domain == "cafe-lumiere.fr"


def test_messy_file_ambiguous_date_and_template_are_row_errors(messy: ParsedFile) -> None:
    bolt = messy.rows[2]
    assert bolt.errors == {
        "close_date": "“03/04/2025” could be 3 April 2025 or 4 March 2025; choose day-first "
        "or month-first dates for this file, or write 2025-04-03.",
        "template_name": "“standard” matches several templates: “Standard SaaS Onboarding”, "
        "“Standard Enterprise”.",
    }
    assert bolt.values.arr == Decimal("450000.00")
    assert bolt.values.company_size == "1-50"
    assert bolt.domain is None  # gmail.com says nothing about Bolt Labs


def test_messy_file_marks_a_later_row_with_the_same_domain_as_duplicate(
    messy: ParsedFile,
) -> None:
    acme_europe = messy.rows[3]
    assert acme_europe.domain == "acme.com"
    assert acme_europe.errors == {
        "primary_contact_email": "Duplicate of line 2 (same domain acme.com)."
    }


def test_messy_file_reports_every_error_of_a_row(messy: ParsedFile) -> None:
    broken = messy.rows[4]
    assert broken.errors == {
        "company_name": "Duplicate of line 7 (same company name).",
        "arr": "ARR cannot be negative.",
        "close_date": "“2025-13-01” is not a date in the calendar.",
        "primary_contact_email": "“not-an-email” is not an email address.",
        "company_size": "“huge” is not a company size; use 1-50, 51-500, 501-5000, 5000+ "
        "or a number of employees.",
    }
    assert broken.values.arr is None
    assert broken.values.ae_email == "ae@rapport.example"
    assert not broken.ok


def test_spreadsheet_export_in_utf16_with_semicolons_and_decimal_commas() -> None:
    text = (
        "company_name;arr;close_date;primary_contact_name;primary_contact_email;ae_email;"
        "template_name;website\r\n"
        "Müller GmbH;1.200.000,50 €;15.01.2025;Jürgen Müller;j.mueller@mueller.de;"
        "ae@rapport.example;Quick Start;Müller.de\r\n"
    )
    parsed = parse(text, encoding="utf-16")
    assert (parsed.encoding, parsed.delimiter, parsed.errors) == ("UTF-16", ";", [])
    assert parsed.warnings == []  # good accents are not "repaired"
    (row,) = parsed.rows
    assert row.errors == {}
    assert row.values.company_name == "Müller GmbH"
    assert row.values.arr == Decimal("1200000.50")
    assert row.values.close_date == datetime.date(2025, 1, 15)
    assert row.values.website == "https://müller.de"
    assert row.domain == "xn--mller-kva.de"


def test_tab_separated_file_is_read() -> None:
    parsed = parse(HEADER.replace(",", "\t") + "\n" + row_line("Acme").replace(",", "\t") + "\n")
    assert parsed.delimiter == "\t"
    assert parsed.rows[0].values.company_name == "Acme"
    assert parsed.rows[0].errors == {}


def test_sep_line_names_the_delimiter_and_still_counts_as_a_line() -> None:
    parsed = parse("sep=;\n" + HEADER.replace(",", ";") + "\n" + row_line("Acme").replace(",", ";"))
    assert parsed.delimiter == ";"
    assert [row.line for row in parsed.rows] == [3]
    assert parsed.rows[0].errors == {}


def test_windows_1252_file_is_read() -> None:
    parsed = parse(HEADER + "\n" + row_line("Café Noir"), encoding="cp1252")
    assert parsed.encoding == "Windows-1252"
    assert parsed.rows[0].values.company_name == "Café Noir"


# --- file-level problems -------------------------------------------------------------------


def test_missing_required_columns_are_one_file_error_listing_them() -> None:
    parsed = parse(
        "Company Name,Close Date,Primary Contact Name,Primary Contact Email,Template Name\n"
        "Acme,2025-01-15,Jane,jane@acme.com,Quick Start\n"
    )
    assert parsed.errors == [
        "The file has no column for: arr, ae_email. The first row must name the columns "
        "company_name,arr,close_date,primary_contact_name,primary_contact_email,ae_email,"
        "template_name."
    ]
    assert parsed.rows == []


def test_missing_optional_columns_are_fine() -> None:
    parsed = parse(HEADER + "\n" + row_line("Acme"))
    assert (parsed.errors, parsed.warnings) == ([], [])
    assert parsed.rows[0].values.website is None
    assert parsed.rows[0].values.company_size is None


def test_a_column_named_twice_is_a_file_error() -> None:
    parsed = parse(HEADER + ",ARR\n" + row_line("Acme") + ",5")
    assert parsed.errors == ["Column arr appears twice (columns 2 and 8)."]


def test_unknown_column_is_warned_about_once_however_many_rows() -> None:
    lines = [HEADER + ",Owner"] + [row_line(f"Company {n}") + ",Kim" for n in range(5)]
    parsed = parse("\n".join(lines))
    assert parsed.warnings == ["Column “Owner” is not one Rapport imports; ignored."]
    assert all(row.ok for row in parsed.rows)


def test_unnamed_column_between_named_ones_is_warned_about() -> None:
    parsed = parse(HEADER + ",,notes\n" + row_line("Acme") + ",x,Call first")
    assert parsed.warnings == ["Column 8 has no name; it is ignored."]
    assert parsed.rows[0].values.notes == "Call first"


def test_more_rows_than_allowed_keeps_the_first_and_says_how_many() -> None:
    lines = [HEADER] + [row_line(f"Company {n}") for n in range(3)]
    parsed = parse("\n".join(lines), max_rows=2)
    assert parsed.errors == [
        "The file has 3 accounts; Rapport imports at most 2 at a time. Split the file."
    ]
    assert [row.values.company_name for row in parsed.rows] == ["Company 0", "Company 1"]


def test_header_without_rows_is_a_file_error() -> None:
    assert parse(HEADER + "\r\n\r\n").errors == ["The file has a header but no accounts below it."]


def test_unclosed_quote_refuses_the_file_instead_of_swallowing_rows() -> None:
    text = "\n".join([HEADER, row_line("Acme", template_name='"Quick Start'), row_line("Beta")])
    with pytest.raises(CsvUnreadable) as caught:
        parse(text)
    assert str(caught.value) == (
        "A quote opened on line 2 is never closed, so the rest of the file reads as one cell. "
        "Close the quote or remove it."
    )


def test_quoted_cells_with_escaped_quotes_and_line_breaks_are_read() -> None:
    text = HEADER + ",notes\n" + row_line("Acme") + ',"Said ""yes""\non the call"\n\n'
    (row,) = parse(text).rows
    assert row.values.notes == 'Said "yes"\non the call'


def test_cell_too_long_for_the_reader_names_its_line() -> None:
    text = "\n".join([HEADER + ",notes", row_line("Acme") + ",ok", row_line("Beta") + ",x" * 3])
    text += "\n" + row_line("Gamma") + ',"' + "x" * 200_000 + '"'
    with pytest.raises(CsvUnreadable) as caught:
        parse(text)
    assert str(caught.value) == (
        "Line 4 cannot be read (field larger than field limit (131072)); check the quotes on it."
    )


# --- rows ----------------------------------------------------------------------------------


def test_same_bad_cell_on_many_rows_is_an_error_on_each() -> None:
    lines = [HEADER] + [row_line(f"Company {n}", close_date="03/04/2025") for n in range(3)]
    parsed = parse("\n".join(lines))
    assert [set(row.errors) for row in parsed.rows] == [{"close_date"}] * 3
    assert all(row.values.close_date is None for row in parsed.rows)


def test_row_with_too_many_cells_is_a_row_error_but_empty_extra_cells_are_not() -> None:
    parsed = parse("\n".join([HEADER, row_line("Acme") + ",oops", row_line("Beta") + ",,"]))
    assert parsed.rows[0].errors == {
        ROW: "This row has 8 cells but the header names 7 columns; "
        "put quotes around a cell that contains a comma."
    }
    assert parsed.rows[1].errors == {}


def test_row_with_fewer_cells_reads_the_missing_ones_as_empty() -> None:
    parsed = parse(HEADER + "\nAcme,50000,2025-01-15")
    assert parsed.rows[0].errors == {
        "primary_contact_name": "Primary contact name is required.",
        "primary_contact_email": "Primary contact email is required.",
        "ae_email": "AE email is required.",
        "template_name": "Name a template; there is no default template.",
    }
    assert parsed.rows[0].values.arr == Decimal("50000.00")


def test_too_long_company_name_is_refused() -> None:
    parsed = parse(HEADER + "\n" + row_line("A" * 201))
    assert parsed.rows[0].errors["company_name"] == "Keep this under 200 characters."
    assert parsed.rows[0].values.company_name is None


def test_duplicate_company_names_without_domains_compare_loosely() -> None:
    lines = [
        HEADER,
        row_line("Acme Corp.", primary_contact_email="a@gmail.com"),
        row_line("ACME  corp", primary_contact_email="b@outlook.com"),
    ]
    parsed = parse("\n".join(lines))
    assert parsed.rows[1].errors == {"company_name": "Duplicate of line 2 (same company name)."}


def test_duplicate_by_website_is_reported_on_the_website() -> None:
    lines = [
        HEADER + ",website",
        row_line("Acme", website="acme.com"),
        row_line("Acme Labs", website="https://WWW.acme.com/labs"),
    ]
    parsed = parse("\n".join(lines))
    assert parsed.rows[1].errors == {"website": "Duplicate of line 2 (same domain acme.com)."}
    assert parsed.rows[1].values.website == "https://www.acme.com/labs"


def test_domain_comes_from_the_website_before_the_email() -> None:
    parsed = parse(HEADER + ",website\n" + row_line("Acme", website="acme.io"))
    assert parsed.rows[0].domain == "acme.io"


@pytest.mark.parametrize("provider", ["gmail.com", "outlook.com", "proton.me", "gmx.de", "gmx.fr"])
def test_public_mail_domain_gives_no_domain(provider: str) -> None:
    parsed = parse(HEADER + "\n" + row_line("Acme", primary_contact_email=f"jane@{provider}"))
    assert parsed.rows[0].domain is None
    assert parsed.rows[0].errors == {}


def test_caller_may_say_which_domains_are_public() -> None:
    parsed = parse(
        HEADER + "\n" + row_line("Acme", primary_contact_email="jane@acme.com"),
        domain_public=lambda domain: domain == "acme.com",
    )
    assert parsed.rows[0].domain is None


def test_month_first_order_reads_numeric_dates_month_first() -> None:
    parsed = parse(
        HEADER + "\n" + row_line("Acme", close_date="03/04/2025"), date_order=DateOrder.MONTH_FIRST
    )
    assert parsed.rows[0].values.close_date == datetime.date(2025, 3, 4)


# --- decoding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("Café".encode(), "Café"),
        (b"\xef\xbb\xbfCaf\xc3\xa9", "Café"),
        ("Café".encode("utf-16"), "Café"),
        ("Café".encode("utf-16-be").join([b"\xfe\xff", b""]), "Café"),
        ("Café".encode("cp1252"), "Café"),
        ("CafÃ©".encode(), "Café"),  # UTF-8 read as Windows-1252, then saved as UTF-8
        ("CafÃ©".encode("cp1252"), "Café"),  # ... or saved as Windows-1252
        ("Café and CafÃ©".encode(), "Café and Café"),
        ("Itâ€™s".encode(), "It’s"),
        ("ÃƒÂ©".encode(), "é"),  # garbled twice
        ("Â© 2025 Ã".encode(), "© 2025 Ã"),  # a lone Ã has nothing to repair
    ],
)
def test_csv_decode_reads_common_encodings_and_repairs_garbled_accents(
    data: bytes, text: str
) -> None:
    assert csv_decode(data) == text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b" \r\n\r\n", "The file is empty."),
        (b"\xef\xbb\xbf", "The file is empty."),
        (
            b"PK\x03\x04\x14\x00\x06\x00",
            "This is a spreadsheet workbook or a zip archive, not a CSV file. "
            "Export the sheet as CSV.",
        ),
        (b"\x89PNG\r\n\x1a\n", "This is an image, not a CSV file. Export the sheet as CSV."),
        (
            b"company_name\x00,arr\n",
            "The file holds binary data (NUL bytes), not text. Export the sheet as CSV.",
        ),
        (
            b"name\x01\x02\x03\x04,arr",
            "The file holds binary data, not text. Export the sheet as CSV.",
        ),
        (
            b"\xff\xfe\x00\xd8",
            "The file says it is UTF-16 but is not; save it again as CSV (UTF-8).",
        ),
    ],
)
def test_csv_decode_refuses_what_is_not_text(data: bytes, message: str) -> None:
    with pytest.raises(CsvUnreadable) as caught:
        csv_decode(data)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, InvalidInput)  # the API answers it as a 400


def test_rows_parse_refuses_a_binary_upload() -> None:
    with pytest.raises(CsvUnreadable, match="not a CSV file"):
        rows_parse(b"%PDF-1.7\n", templates=TEMPLATES, max_rows=100)


# --- amounts -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1200000", "1200000.00"),
        ("$1,200,000", "1200000.00"),
        ("1,200.50", "1200.50"),
        ("1.200,50", "1200.50"),
        ("€50.000", "50000.00"),  # three digits after the dot: thousands
        ("50.5", "50.50"),
        ("50,5", "50.50"),
        ("1 200 000", "1200000.00"),
        ("1\u00a0200\u00a0000 €", "1200000.00"),
        ("1'200'000 CHF", "1200000.00"),
        ("USD 50,000", "50000.00"),
        ("50,000 usd", "50000.00"),
        ("US$ 75,000", "75000.00"),
        ("£120k", "120000.00"),
        ("1.2M", "1200000.00"),
        ("1,5m", "1500000.00"),
        ("450k", "450000.00"),
        ("450 K", "450000.00"),
        ("2.5mm", "2500000.00"),
        ("1bn", "1000000000.00"),
        ("1.2E+06", "1200000.00"),
        ("0", "0.00"),
        ("999999999999.99", "999999999999.99"),
        ("12.35k", "12350.00"),
    ],
)
def test_amount_parse_reads_how_people_write_money(text: str, amount: str) -> None:
    assert amount_parse(text) == Decimal(amount)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter an amount."),
        ("-5000", "ARR cannot be negative."),
        ("(5,000)", "ARR cannot be negative."),
        ("$-5,000", "ARR cannot be negative."),
        ("−5000", "ARR cannot be negative."),
        ("1000000000000", "ARR must be at most 999,999,999,999.99."),
        ("1000bn", "ARR must be at most 999,999,999,999.99."),
        ("TBD", "“TBD” is not an amount; write it like 1200000, $1,200,000 or 1.2M."),
        ("50k-100k", "“50k-100k” is not an amount; write it like 1200000, $1,200,000 or 1.2M."),
    ],
)
def test_amount_parse_refuses_negative_huge_and_unreadable(text: str, message: str) -> None:
    with pytest.raises(CellInvalid) as caught:
        amount_parse(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "text", ["1200.500", "12,00,000", "1,200.000", "1.200.50", "1,200k", "1.250M", "0,500"]
)
def test_amount_parse_refuses_to_guess_between_readings(text: str) -> None:
    with pytest.raises(CellInvalid) as caught:
        amount_parse(text)
    assert str(caught.value) == (
        f"“{text}” is not an amount Rapport can read without guessing; "
        "write it like 1200000, $1,200,000, 1,200.50 or 1.2M."
    )


@given(st.decimals(min_value=0, max_value=Decimal("999999999999.99"), places=2))
def test_amount_parse_reads_grouped_amounts_in_either_convention(amount: Decimal) -> None:
    english = f"${amount:,.2f}"
    european = english.translate(str.maketrans(",.", ".,"))
    assert amount_parse(english) == amount
    assert amount_parse(european) == amount


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "order", "date"),
    [
        ("2025-01-15", DateOrder.ISO, (2025, 1, 15)),
        ("2025/1/5", DateOrder.ISO, (2025, 1, 5)),
        ("2025-01-15 00:00:00", DateOrder.ISO, (2025, 1, 15)),
        ("2025-01-15T09:30:00Z", DateOrder.ISO, (2025, 1, 15)),
        ("20250115", DateOrder.ISO, (2025, 1, 15)),
        ("15 Jan 2025", DateOrder.ISO, (2025, 1, 15)),
        ("15-Jan-2025", DateOrder.ISO, (2025, 1, 15)),
        ("1st September 2025", DateOrder.ISO, (2025, 9, 1)),
        ("Jan 15, 2025", DateOrder.ISO, (2025, 1, 15)),
        ("Sept. 3 2025", DateOrder.ISO, (2025, 9, 3)),
        ("13/04/2025", DateOrder.ISO, (2025, 4, 13)),
        ("04/13/2025", DateOrder.ISO, (2025, 4, 13)),
        ("15.01.2025", DateOrder.ISO, (2025, 1, 15)),
        ("05/05/2025", DateOrder.ISO, (2025, 5, 5)),
        ("03/04/2025", DateOrder.DAY_FIRST, (2025, 4, 3)),
        ("03.04.2025", DateOrder.DAY_FIRST, (2025, 4, 3)),
        ("03/04/2025", DateOrder.MONTH_FIRST, (2025, 3, 4)),
        ("2025-03-04", DateOrder.MONTH_FIRST, (2025, 3, 4)),
        ("4 Mar 2025", DateOrder.MONTH_FIRST, (2025, 3, 4)),
    ],
)
def test_date_parse_reads_unambiguous_dates_and_the_chosen_order(
    text: str, order: DateOrder, date: tuple[int, int, int]
) -> None:
    assert date_parse(text, order) == datetime.date(*date)


@pytest.mark.parametrize(
    ("text", "order", "message"),
    [
        ("", DateOrder.ISO, "Enter a date."),
        (
            "03.04.2025",
            DateOrder.ISO,
            "“03.04.2025” could be 3 April 2025 or 4 March 2025; choose day-first or "
            "month-first dates for this file, or write 2025-04-03.",
        ),
        (
            "03/04/25",
            DateOrder.DAY_FIRST,
            "“03/04/25” has a two-digit year; write the year in full (2025).",
        ),
        (
            "15 Jan 25",
            DateOrder.ISO,
            "“15 Jan 25” has a two-digit year; write the year in full (2025).",
        ),
        (
            "04/13/2025",
            DateOrder.DAY_FIRST,
            "“04/13/2025” is not a day-first date (day/month/year).",
        ),
        (
            "13/04/2025",
            DateOrder.MONTH_FIRST,
            "“13/04/2025” is not a month-first date (month/day/year).",
        ),
        ("2025-02-30", DateOrder.ISO, "“2025-02-30” is not a date in the calendar."),
        ("15 Foo 2025", DateOrder.ISO, "“15 Foo 2025” is not a date: “Foo” is not a month."),
        ("0205-01-15", DateOrder.ISO, "“0205-01-15” has the year 205; check it."),
        (
            "45672",
            DateOrder.ISO,
            "“45672” is a spreadsheet's day number, not a date; format the column as dates "
            "before exporting.",
        ),
        ("next week", DateOrder.ISO, "“next week” is not a date; write it like 2025-01-15."),
    ],
)
def test_date_parse_refuses_ambiguous_and_malformed_dates(
    text: str, order: DateOrder, message: str
) -> None:
    with pytest.raises(CellInvalid) as caught:
        date_parse(text, order)
    assert str(caught.value) == message


@given(st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2100, 12, 31)))
def test_date_parse_reads_every_date_in_its_written_forms(date: datetime.date) -> None:
    assert date_parse(date.isoformat()) == date
    assert date_parse(date.strftime("%d %b %Y")) == date
    assert date_parse(date.strftime("%d/%m/%Y"), DateOrder.DAY_FIRST) == date
    assert date_parse(date.strftime("%m/%d/%Y"), DateOrder.MONTH_FIRST) == date


# --- templates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "template_id"),
    [
        ("Standard SaaS Onboarding", 1),
        ("standard  saas onboarding ", 1),
        ("Standard SaaS", 1),
        ("standard e", 2),
        ("QUICK", 3),
        ("", 3),
    ],
)
def test_template_match_by_name_prefix_or_default(name: str, template_id: int) -> None:
    assert template_match(name, TEMPLATES, default_id=3) == template_id


def test_template_match_prefers_an_exact_name_over_a_longer_one() -> None:
    templates = [(7, "Enterprise Implementation"), (8, "Enterprise")]
    assert template_match("enterprise", templates) == 8


@pytest.mark.parametrize(
    ("name", "templates", "message"),
    [
        (
            "standard",
            TEMPLATES,
            "“standard” matches several templates: “Standard SaaS Onboarding”, "
            "“Standard Enterprise”.",
        ),
        (
            "Premium",
            TEMPLATES,
            "No template is named “Premium”. Templates: “Standard SaaS Onboarding”, "
            "“Standard Enterprise”, “Quick Start”.",
        ),
        ("Premium", [], "No template is named “Premium”. Create a template first."),
        ("  ", TEMPLATES, "Name a template; there is no default template."),
    ],
)
def test_template_match_refuses_unknown_ambiguous_or_blank_without_default(
    name: str, templates: list[tuple[int, str]], message: str
) -> None:
    with pytest.raises(CellInvalid) as caught:
        template_match(name, templates)
    assert str(caught.value) == message


# --- contacts, sizes, websites -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("Jane.Smith@ACME.com", "Jane.Smith@acme.com"),
        (" mailto:jane@acme.com ", "jane@acme.com"),
        ("jane+crm@mail.acme.co.uk", "jane+crm@mail.acme.co.uk"),
        ("jane@Bücher.de", "jane@bücher.de"),
    ],
)
def test_email_normalize_lowers_the_domain(text: str, email: str) -> None:
    assert email_normalize(text) == email


@pytest.mark.parametrize("text", ["jane", "jane@", "jane@@acme.com", "jane smith@acme.com"])
def test_email_normalize_refuses_what_is_not_an_address(text: str) -> None:
    with pytest.raises(CellInvalid, match="is not an email address"):
        email_normalize(text)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1-50", "1-50"),
        ("51–500", "51-500"),
        ("51 to 500", "51-500"),
        ("501-5,000", "501-5000"),
        ("5000+", "5000+"),
        ("5,000+", "5000+"),
        ("10000+", "5000+"),
        ("SMB", "1-50"),
        ("mid-market", "51-500"),
        ("Mid Market", "51-500"),
        ("Enterprise", "501-5000"),
        ("Global Enterprise", "5000+"),
        ("1-50 (SMB)", "1-50"),
        ("12", "1-50"),
        ("250", "51-500"),
        ("5000", "501-5000"),
        ("12,000", "5000+"),
        ("11-40", "1-50"),
        ("", None),
    ],
)
def test_company_size_normalize_maps_labels_ranges_and_counts(text: str, size: str | None) -> None:
    assert company_size_normalize(text) == size


@pytest.mark.parametrize("text", ["0", "10-100", "1000+", "51-500 (SMB)", "huge", "-5"])
def test_company_size_normalize_refuses_what_spans_or_names_no_band(text: str) -> None:
    with pytest.raises(CellInvalid) as caught:
        company_size_normalize(text)
    assert str(caught.value) == (
        f"“{text}” is not a company size; use 1-50, 51-500, 501-5000, 5000+ "
        "or a number of employees."
    )


@pytest.mark.parametrize(
    ("text", "url", "domain"),
    [
        ("acme.com", "https://acme.com", "acme.com"),
        ("www.Acme.com", "https://www.acme.com", "acme.com"),
        ("HTTP://Shop.Acme.com/About/", "http://shop.acme.com/About/", "shop.acme.com"),
        ("https://acme.com/", "https://acme.com", "acme.com"),
        ("acme.com/?ref=crm", "https://acme.com/?ref=crm", "acme.com"),
        ("https://acme.com:8443/x#top", "https://acme.com:8443/x#top", "acme.com"),
        ("//acme.io", "https://acme.io", "acme.io"),
        ("Bücher.de", "https://bücher.de", "xn--bcher-kva.de"),
    ],
)
def test_website_normalize_adds_https_and_lowers_the_host(text: str, url: str, domain: str) -> None:
    assert website_normalize(text) == (url, domain)


def test_website_normalize_refuses_spaces() -> None:
    with pytest.raises(CellInvalid) as caught:
        website_normalize("acme .com")
    assert str(caught.value) == "A website cannot contain spaces."


@pytest.mark.parametrize(
    "text", ["acme", "ftp://acme.com", "https://user@acme.com", "http://10.0.0.1", "https://"]
)
def test_website_normalize_refuses_what_is_not_a_web_address(text: str) -> None:
    with pytest.raises(CellInvalid, match="is not a website address; write it like"):
        website_normalize(text)


def test_blank_website_is_none() -> None:
    assert website_normalize("  ") is None
