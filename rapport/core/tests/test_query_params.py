"""Reading query values: numbers only from ASCII digits."""

import pytest

from rapport.core.errors import InvalidInput
from rapport.core.query_params import params_ids, params_whole


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
