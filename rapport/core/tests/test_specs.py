"""The one declaration of a field: its checks and its messages."""

import datetime
from decimal import Decimal

import pytest

from rapport.core.errors import InvalidInput
from rapport.core.specs import FieldSpec, Kind, specs_by_name, specs_validate

DAYS = FieldSpec("days", "Days", Kind.INT, required=True, min=0, max=365)
PRICE = FieldSpec("price", "Price", Kind.DECIMAL, min=0, max=Decimal("999.99"), places=2)
COLOR = FieldSpec("color", "Color", Kind.CHOICE, required=True, choices=(("red", "Red"),))
EMOJI = FieldSpec("emoji", "Emoji", Kind.WORD, required=True, max_length=8)
NOTE = FieldSpec("note", "Note", Kind.TEXT, max_length=5)


def refusal(spec: FieldSpec, value: object, **options: bool) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        spec.validate(value, **options)
    assert caught.value.field == spec.name
    return caught.value


def test_a_number_is_checked_against_its_bounds() -> None:
    assert DAYS.validate(0) == 0 and DAYS.validate(365) == 365
    for bad in (-1, 366, "3", 2.5, True):
        assert refusal(DAYS, bad).message == "Days must be a whole number from 0 to 365."


def test_a_required_field_refuses_empty_and_an_override_inherits_with_none() -> None:
    assert refusal(DAYS, None).message == "Days must be a whole number from 0 to 365."
    assert refusal(FieldSpec("n", "Name", Kind.TEXT, required=True), " ").message == (
        "Name needs a value."
    )
    assert DAYS.validate(None, nullable=True) is None
    assert NOTE.validate(None) == "" and PRICE.validate("") is None


def test_text_is_stripped_and_bounded() -> None:
    assert NOTE.validate("  hi ") == "hi"
    assert refusal(NOTE, "toolong").message == "Note is at most 5 characters."
    assert refusal(NOTE, 5).message == "Note must be text."
    assert EMOJI.validate(":eyes:") == "eyes"
    assert refusal(EMOJI, "two words").message == "Emoji is one word of at most 8 characters."


def test_decimals_round_to_their_places_before_the_bounds() -> None:
    assert PRICE.validate("12.345") == Decimal("12.35")
    assert refusal(PRICE, "999.995").message == "Price must be a number from 0 to 999.99."
    assert refusal(PRICE, "NaN").field == "price"
    assert refusal(PRICE, "1e30").message == "Price must be a number from 0 to 999.99."


def test_choices_dates_times_and_emails() -> None:
    assert refusal(COLOR, "blue").message == "Color must be one of: red."
    day = FieldSpec("on", "Day", Kind.DATE)
    assert day.validate("2026-01-31") == datetime.date(2026, 1, 31)
    assert refusal(day, "tomorrow").message == "Day must be a date as YYYY-MM-DD."
    at = FieldSpec("at", "Start", Kind.TIME)
    assert at.validate("09:30") == datetime.time(9, 30)
    assert refusal(at, "9h").message == "Start must be a time such as 09:00."
    assert refusal(at, "09:30+01:00").message == "Start must be a time such as 09:00."
    mail = FieldSpec("to", "Address", Kind.EMAIL, max_length=254)
    assert refusal(mail, "not-an-email").message == "Address is not an email address."


def test_parse_reads_text_typed_into_a_form_or_a_modal() -> None:
    assert DAYS.parse(" 12 ") == 12
    assert refusal_of_parse(DAYS, "twelve") == "Days must be a whole number from 0 to 365."
    switch = FieldSpec("on", "Switch", Kind.BOOL, required=True)
    assert switch.parse("on") is True and switch.parse(False) is False
    assert switch.parse("", nullable=True) is None


def refusal_of_parse(spec: FieldSpec, raw: object) -> str:
    with pytest.raises(InvalidInput) as caught:
        spec.parse(raw)
    return caught.value.message


def test_refine_cleans_further_or_refuses_with_its_own_message() -> None:
    def https(value: str) -> str:
        if value.startswith("ftp:"):
            raise ValueError("Site must be a web address.")
        return value if value.startswith("http") else f"https://{value}"

    site = FieldSpec("site", "Site", Kind.TEXT, max_length=50, refine=https)
    assert site.validate("acme.example") == "https://acme.example"
    assert refusal(site, "ftp://x").message == "Site must be a web address."


def test_a_set_of_specs_refuses_unknown_names_and_double_declarations() -> None:
    specs = specs_by_name([DAYS, NOTE])
    assert specs_validate(specs, {"days": 3}) == {"days": 3}
    with pytest.raises(InvalidInput, match="Unknown fields: color"):
        specs_validate(specs, {"color": "red"})
    with pytest.raises(ValueError, match="declared twice"):
        specs_by_name([DAYS, DAYS])
