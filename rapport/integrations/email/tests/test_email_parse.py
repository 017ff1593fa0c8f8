"""The email parser keeps the best text it can and refuses only what cannot be a message.

The hostile cases are generated at full size: each must cost about what an ordinary
message of that size costs (the bounds are loose, for slow machines).
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from rapport.integrations.email.parse import (
    MAX_HEADER_LINES,
    MAX_RAW_BYTES,
    MAX_TEXT_CHARS,
    EmailRejected,
    bytes_decode,
    decode_words,
    email_fingerprint,
    email_headers_parse,
    email_parse,
    html_to_text,
)
from rapport.integrations.email.tests.email_corpus import CORPUS, corpus_message

HEAD = b"From: Ana <ana@acme.example>\r\nSubject: Hostile\r\nMessage-ID: <h@acme.example>\r\n"
FILL = MAX_RAW_BYTES - 4096


@contextmanager
def takes_less_than(seconds: float) -> Iterator[None]:
    started = time.monotonic()
    yield
    elapsed = time.monotonic() - started
    assert elapsed < seconds, f"took {elapsed:.1f}s"


def clean(text: str) -> bool:
    return "\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text)


@pytest.mark.parametrize("name", sorted(n for n, e in CORPUS.items() if not e.rejected))
def test_every_accepted_corpus_message_parses_to_storable_text(name: str) -> None:
    parsed = email_parse(corpus_message(name))
    fields = [parsed.text, parsed.subject, parsed.from_name, parsed.message_id, *parsed.references]
    assert all(clean(value) for value in fields)
    assert len(parsed.subject) <= 500 and len(parsed.message_id) <= 255


# --- headers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "decoded"),
    [
        ("=?utf-8?q?caf=C3=A9?= ok", "café ok"),
        ("=?UTF-8?B?w6k=?= =?utf-8?b?w6k=?=", "éé"),  # no space between adjacent words
        ("=?iso-8859-1?q?a?= b =?iso-8859-1?q?c?=", "a b c"),
        ("=?utf-8?b?w6k?=", "é"),  # missing padding
        ("=?no-such-charset?q?plain?=", "plain"),
        ("=?utf-8?b?***?=", "=?utf-8?b?***?="),  # undecodable: kept as written
        ("=?utf-8?q?never closed", "=?utf-8?q?never closed"),
        ("=?utf-8*en?q?with_language?=", "with language"),
        ("=?base64?q?codec_not_charset?=", "codec not charset"),
    ],
)
def test_encoded_words_are_decoded_tolerantly(value: str, decoded: str) -> None:
    assert decode_words(value) == decoded


@pytest.mark.parametrize(
    ("data", "charset", "text"),
    [
        ("für".encode("latin-1"), "utf-8", "für"),  # mislabelled Latin-1
        ("für".encode(), "iso-8859-1", "für"),  # UTF-8 labelled Latin-1
        ("für".encode(), "us-ascii", "für"),
        ("für".encode("latin-1"), "x-unknown", "für"),
        (b"\\ud800", "unicode_escape", "\\ud800"),  # escape codecs are not charsets
        (b"\x81\x8d", "utf-8", "\x81\x8d"),  # undecodable anywhere: Latin-1 keeps the bytes
        ("テスト".encode("shift_jis"), "shift_jis", "テスト"),
    ],
)
def test_bytes_are_decoded_as_declared_or_as_they_most_likely_are(
    data: bytes, charset: str, text: str
) -> None:
    assert bytes_decode(data, charset) == text


@pytest.mark.parametrize(
    ("header", "address", "name"),
    [
        ("From: Ana Lima <Ana@ACME.example>", "ana@acme.example", "Ana Lima"),
        ('From: "Lima, Ana" <ana@acme.example>', "ana@acme.example", "Lima, Ana"),
        ("From: ana@acme.example (Ana)", "ana@acme.example", "Ana"),
        ("From: a@acme.example, b@globex.example", "a@acme.example", ""),
        ("From: Ana <ana@acme.example", "ana@acme.example", "Ana"),  # unclosed bracket
        ("Sender: ana@acme.example", "ana@acme.example", ""),  # no From: the Sender
    ],
)
def test_the_sender_is_found_in_common_and_broken_forms(
    header: str, address: str, name: str
) -> None:
    headers = email_headers_parse(f"{header}\r\nSubject: x\r\n\r\nbody".encode())
    assert (headers.from_email, headers.from_name) == (address, name)


@pytest.mark.parametrize(
    "header",
    ["From: <>", "From: undisclosed-recipients:;", "From: Ana", "X-From: ana@acme.example"],
)
def test_a_message_without_a_sender_address_is_rejected(header: str) -> None:
    with pytest.raises(EmailRejected, match="no valid sender address"):
        email_headers_parse(f"{header}\r\nSubject: x\r\n\r\nbody".encode())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 03 Feb 2026 09:15:00 +0100", datetime(2026, 2, 3, 8, 15, tzinfo=UTC)),
        ("3 Feb 2026 09:15 -0000", datetime(2026, 2, 3, 9, 15, tzinfo=UTC)),  # unknown zone
        ("Tue, 03 Feb 2026 09:15:00 +9999", None),
        ("Mon, 01 Jan 1899 00:00:00 +0000", None),  # before e-mail
        ("Fri, 01 Jan 2100 00:00:00 +0000", None),  # in the future
        ("yesterday", None),
    ],
)
def test_dates_are_read_in_utc_and_absurd_ones_ignored(
    value: str, expected: datetime | None
) -> None:
    raw = f"From: a@acme.example\r\nDate: {value}\r\n\r\nbody".encode()
    assert email_headers_parse(raw).sent_at == expected


def test_message_ids_are_cleaned_and_long_ones_stay_distinct() -> None:
    def message_id(value: str) -> str:
        raw = f"From: a@acme.example\r\nMessage-ID: {value}\r\n\r\nbody".encode()
        return email_headers_parse(raw).message_id

    assert message_id("<abc@acme.example> (comment)") == "abc@acme.example"
    assert message_id("no-brackets@acme.example") == "no-brackets@acme.example"
    first, second = message_id(f"<{'x' * 400}1@a>"), message_id(f"<{'x' * 400}2@a>")
    assert first != second and len(first) <= 255 and len(second) <= 255


def test_the_thread_root_survives_a_very_long_references_header() -> None:
    refs = " ".join(f"<m{n}@acme.example>" for n in range(500))
    raw = f"From: a@acme.example\r\nReferences: {refs}\r\n\r\nbody".encode()
    references = email_headers_parse(raw).references
    assert len(references) == 50
    assert (references[0], references[1], references[-1]) == (
        "m0@acme.example",
        "m451@acme.example",
        "m499@acme.example",
    )


def test_a_message_without_message_id_gets_the_same_id_on_every_route() -> None:
    raw = corpus_message("missing-message-id.eml")
    relayed = b"Received: from relay.example by mx.example\r\n" + raw.replace(b"\r\n", b"\n")
    assert email_fingerprint(raw) == email_fingerprint(relayed)
    assert email_fingerprint(raw) != email_fingerprint(raw.replace(b"identifies", b"names"))


# --- bodies ---------------------------------------------------------------------------------


def test_html_is_turned_into_readable_text() -> None:
    markup = (
        "<html><head><style>p{}</style><script>x()</script></head><body>"
        "<p>One&nbsp;&amp; two</p><!-- hidden --><div>three<br>four</div>"
        "<SCRIPT type=x>y()</SCRIPT >five</body></html>"
    )
    assert html_to_text(markup).split() == ["One", "&", "two", "three", "four", "five"]


@pytest.mark.parametrize(
    "markup",
    ["<a " * 700_000, "<!--" * 500_000, "<br" * 700_000, "<script>x</scrip" * 130_000],
    ids=["unclosed-tags", "unclosed-comments", "unclosed-breaks", "unclosed-scripts"],
)
def test_hostile_html_costs_linear_time(markup: str) -> None:
    with takes_less_than(5):
        assert html_to_text(markup).strip() == ""


def nested(levels: int) -> bytes:
    inner = b"Content-Type: text/plain\r\n\r\nThe text at the bottom.\r\n"
    for n in range(levels):
        b = b"n%d" % n
        inner = (
            (b"Content-Type: multipart/mixed; boundary=" + b + b"\r\n\r\n--" + b + b"\r\n")
            + inner
            + b"\r\n--"
            + b
            + b"--\r\n"
        )
    return HEAD + inner


def test_absurd_nesting_is_cut_and_read_as_plain_text() -> None:
    with takes_less_than(10):
        parsed = email_parse(nested(5000))
    assert parsed.text.startswith("--n4999\nContent-Type: multipart/mixed")
    assert clean(parsed.text) and len(parsed.text) <= MAX_TEXT_CHARS
    assert parsed.defects == ["Truncated", "Unparseable"]


def test_deep_but_parseable_nesting_keeps_the_text() -> None:
    assert email_parse(nested(40)).text == "The text at the bottom."


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        (
            "a million parts",
            HEAD
            + b"Content-Type: multipart/mixed; boundary=z\r\n\r\n"
            + b"--z\r\n\r\nx\r\n" * 2_000_000,
        ),
        ("only line breaks", HEAD + b"\r\n" + b"\n" * FILL),
        ("only carriage returns", HEAD + b"\r\n" + b"\r" * FILL),
        ("one endless line", HEAD + b"\r\n" + b"a" * FILL),
        ("one endless header", HEAD + b"X-Long: " + b"b" * FILL + b"\r\n\r\nbody"),
        ("spaces", HEAD + b"\r\n" + b" " * FILL + b"end"),
        (
            "base64 text",
            HEAD + b"Content-Transfer-Encoding: base64\r\n\r\n" + b"QUJD" * (FILL // 4),
        ),
        (
            "nested messages",
            HEAD + b"Content-Type: message/rfc822\r\n\r\n" * (FILL // 32 // 4),
        ),
    ],
)
def test_hostile_bodies_at_the_size_limit_are_parsed_in_bounded_time(name: str, raw: bytes) -> None:
    assert len(raw) <= MAX_RAW_BYTES
    with takes_less_than(20):
        parsed = email_parse(raw)
    assert len(parsed.text) <= MAX_TEXT_CHARS and clean(parsed.text)


def test_a_header_flood_is_rejected_quickly() -> None:
    raw = HEAD + b"X-A: b\r\n" * (FILL // 8) + b"\r\nbody"
    with takes_less_than(5), pytest.raises(EmailRejected, match="more than 10,000 lines"):
        email_headers_parse(raw)
    assert MAX_HEADER_LINES == 10_000


def test_a_message_over_the_limit_or_empty_is_rejected() -> None:
    with pytest.raises(EmailRejected, match="the limit is 25 MB"):
        email_parse(HEAD + b"\r\n" + b"x" * MAX_RAW_BYTES)
    with pytest.raises(EmailRejected, match="empty"):
        email_parse(b" \r\n")


def test_too_many_parts_keep_the_first_ones() -> None:
    parts = b"".join(b"--z\r\n\r\nPart %d.\r\n" % n for n in range(2000))
    parsed = email_parse(HEAD + b"Content-Type: multipart/mixed; boundary=z\r\n\r\n" + parts)
    assert "Part 0." in parsed.text and "Part 1999." not in parsed.text
    assert "Truncated" in parsed.defects


def test_attachments_are_listed_with_their_size_and_not_read_as_text() -> None:
    raw = (
        HEAD + b"Content-Type: multipart/mixed; boundary=z\r\n\r\n"
        b"--z\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n"
        b"--z\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=a.csv\r\n"
        b"\r\nx,y\r\n"
        b"--z\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        b"\r\niVBORw0KGgo=\r\n"
        b"--z--\r\n"
    )
    parsed = email_parse(raw)
    assert parsed.text == "See attached."
    assert [(a.filename, a.content_type, a.size) for a in parsed.attachments] == [
        ("a.csv", "text/csv", 3),
        ("attachment-3.png", "image/png", 8),
    ]
