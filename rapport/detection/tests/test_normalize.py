"""Markup, links, emoji, quoted replies and signatures are removed before features."""

import pytest

from rapport.detection.features import features_extract, message_tokens
from rapport.detection.normalize import text_normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<@U0482KD> can you check?", "can you check?"),
        ("see <#C024BE91L|support> please", "see   please"),
        ("the <https://docs.example.com/a|Auth guide> is down", "the  Auth guide  is down"),
        ("link https://example.com/x?y=1 broken", "link   broken"),
        ("mail jane@acme.io now", "mail   now"),
        ("thanks :pray: 🙏🏽", "thanks"),
        ("*bold* and _italic_ and ~gone~", "bold  and  italic  and  gone"),
        ("it\u2019s broken", "it's broken"),
    ],
)
def test_text_normalize_strips_markup(text: str, expected: str) -> None:
    assert text_normalize(text) == expected


def test_text_normalize_drops_quoted_reply_and_signature() -> None:
    text = (
        "Hi,\n\nStill failing for us.\n\nThanks,\nMaria Lopez\nAcme Corp\n\n"
        "On Tue, Mar 4, 2025 at 10:00 AM Support <help@example.com> wrote:\n> Try again?"
    )
    assert text_normalize(text) == "Hi,\nStill failing for us."


def test_text_normalize_keeps_a_lone_thanks() -> None:
    assert text_normalize("Thanks!") == "Thanks!"
    assert text_normalize("thanks,\n\nJon") == "thanks,\nJon"


def test_text_normalize_replaces_code_blocks() -> None:
    assert "xxcode" in text_normalize("error:\n```Traceback\nKeyError```\nhelp")


def test_message_tokens_keep_question_marks_and_drop_apostrophes() -> None:
    assert message_tokens("Can't log in. Any idea?") == [
        ["cant", "log", "in"],
        ["any", "idea", "?"],
    ]


def test_features_are_lowercase_and_ignore_casing() -> None:
    assert features_extract("CAN YOU HELP") == features_extract("can you help")


def test_features_of_wordless_text_are_empty() -> None:
    assert features_extract(":wave: 👋 <@U1>") == []


def test_text_normalize_unescapes_slack_entities_and_drops_quotes() -> None:
    text = "&gt; can you try again?\nstill broken &amp; slow"
    assert text_normalize(text) == "still broken & slow"
