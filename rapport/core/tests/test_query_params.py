"""Reading query values: numbers only from ASCII digits, the shared value parsers."""

import datetime
from decimal import Decimal

import pytest

from rapport.core.errors import InvalidInput
from rapport.core.query_params import (
    params_choices,
    params_count,
    params_date,
    params_decimal,
    params_ids,
    params_whole,
    params_yes_no,
)


@pytest.mark.parametrize(
    "raw",
    ["²", "1²", "٣", "１", "+1", "-1", " 1", "1_000", "", "1" * 19],
    ids=[
        "superscript",
        "digit-and-superscript",
        "arabic-indic",
        "fullwidth",
        "plus",
        "minus",
        "space",
        "underscore",
        "blank",
        "too-long",
    ],
)
def test_only_plain_ascii_digits_make_a_whole_number(raw: str) -> None:
    assert params_whole(raw) is None


def test_ascii_digits_make_a_whole_number_up_to_the_length_asked() -> None:
    assert params_whole("0042") == 42
    assert params_whole("1" * 18) == int("1" * 18)
    assert params_whole("1234", digits=3) is None


def test_a_superscript_id_is_refused_naming_the_parameter() -> None:
    # "²".isdigit() is True but int("²") raises: this answered 500 before.
    with pytest.raises(InvalidInput, match="channel must be an id") as caught:
        params_ids(["3", "²"], "channel")
    assert caught.value.field == "channel"


def test_ids_drop_blanks_and_repeats() -> None:
    assert params_ids([" 3", "", "5", "3"], "account") == [3, 5]


def test_a_count_takes_the_last_value_and_refuses_a_superscript() -> None:
    assert params_count(["1", "7"], "open_requests_min") == 7
    assert params_count([" "], "open_requests_min") is None
    with pytest.raises(InvalidInput, match="whole number"):
        params_count(["²"], "open_requests_min")


def test_choices_keep_known_values_and_refuse_others() -> None:
    parse = params_choices(["open", "closed"])
    assert parse(["open", " ", "closed"], "status") == ["open", "closed"]
    with pytest.raises(InvalidInput, match="status must be one of open, closed"):
        parse(["done"], "status")


def test_yes_no_decimal_and_date_read_the_last_value() -> None:
    assert params_yes_no(["no", "yes"], "has_channel") is True
    assert params_yes_no([], "has_channel") is None
    assert params_decimal(["1.5"], "arr_min") == Decimal("1.5")
    assert params_date(["2026-01-31"], "after") == datetime.date(2026, 1, 31)
    for parse, value in ((params_yes_no, "maybe"), (params_decimal, "NaN"), (params_date, "x")):
        with pytest.raises(InvalidInput):
            parse([value], "name")
