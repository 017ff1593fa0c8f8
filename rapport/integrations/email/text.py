"""Safe text out of any mail: charsets, encoded words and HTML, with bounded work.

Every string that leaves this module has no NUL, no control characters but tab and
newlines, and no lone surrogates.
"""

import base64
import binascii
import codecs
import html
import re

MAX_TEXT_CHARS = 200_000
MAX_HTML_CHARS = 2_000_000


# --- safe text ------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_LINE_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
# Codecs that decode escape syntax or host names rather than a character set: a hostile
# message could use them to smuggle lone surrogates or odd text in.
_NOT_MAIL_CHARSETS = {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined"}
_LATIN_NAMES = {"ascii", "iso8859-1", "cp1252", "latin-1"}


def _safe(text: str) -> str:
    """Drop control characters (but tab and newlines) and replace lone surrogates."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text))


def _single_line(text: str, limit: int) -> str:
    text = _SURROGATE.sub("\ufffd", _LINE_CONTROL.sub(" ", text))
    return " ".join(text.split())[:limit]


def _codec(charset: str | None) -> str | None:
    """Return the Python codec for a MIME charset name, or None when it is unusable."""
    name = (charset or "").strip().strip("\"'").lower()
    name = name.split("*", 1)[0]  # RFC 2231 language suffix: utf-8*en
    if not name or name in ("unknown-8bit", "x-unknown", "x-user-defined"):
        return None
    try:
        info = codecs.lookup(name)
    except Exception:  # noqa: BLE001 - LookupError, or ValueError for names with NUL
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_MAIL_CHARSETS:
        return None
    return info.name


def bytes_decode(data: bytes, charset: str | None = None) -> str:
    """Decode *data* as its declared charset, else UTF-8, else Windows-1252; never raise.

    A declared Latin charset over bytes that are valid UTF-8 is the most common mislabel
    of all, so valid UTF-8 wins there.
    """
    codec = _codec(charset)
    candidates: list[str] = []
    if codec in _LATIN_NAMES and not data.isascii():
        candidates.append("utf-8")
    candidates += [c for c in (codec, "utf-8", "cp1252") if c and c not in candidates]
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except Exception:  # noqa: BLE001,S112 - codecs raise more than UnicodeDecodeError
            continue
    return data.decode("latin-1")


def _from_surrogates(value: str) -> str:
    """Recover text the parser kept as surrogate escapes (8-bit bytes in headers)."""
    if value.isascii() or not _SURROGATE.search(value):
        return value
    try:
        return bytes_decode(value.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:  # a surrogate that no byte escaped to
        return _SURROGATE.sub("\ufffd", value)


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"\s+")


def _encoded_word(charset: str, encoding: str, text: str) -> str | None:
    try:
        if encoding in "bB":
            data = base64.b64decode(text + "=" * (-len(text) % 4), validate=False)
        else:
            data = binascii.a2b_qp(text.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        return None
    if text and not data:
        return None  # nothing in it was base64
    return bytes_decode(data, charset)


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, tolerating unknown charsets and broken words.

    A word that cannot be decoded stays as it was written; whitespace between two
    encoded words disappears, as the RFC says.
    """
    if "=?" not in value:
        return value
    out: list[str] = []
    position = 0
    previous_was_word = False
    for match in _ENCODED_WORD.finditer(value):
        gap = value[position : match.start()]
        decoded = _encoded_word(match.group(1), match.group(2), match.group(3))
        if not (previous_was_word and decoded is not None and not _BETWEEN_WORDS.sub("", gap)):
            out.append(gap)
        out.append(decoded if decoded is not None else match.group(0))
        previous_was_word = decoded is not None
        position = match.end()
    out.append(value[position:])
    return "".join(out)


# --- HTML -------------------------------------------------------------------------------------

_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b", re.IGNORECASE)
_COMMENT_START = "<!--"
# `[^<>]*` stops at the next bracket, so a run of unclosed tags costs linear time.
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:br|p|div|li|tr|h[1-6]|blockquote|table)\b[^<>]*>", re.I)
_TAG = re.compile(r"<[^<>]*>")
_TAG_START = re.compile(r"<[a-zA-Z/!?]")


def _drop_between(markup: str, start: re.Pattern[str] | str, end_for: str) -> str:
    """Remove each `start ... end` block in one forward pass (unclosed: to the end)."""
    lower = markup.lower()
    out: list[str] = []
    position = 0
    while True:
        if isinstance(start, str):
            found = lower.find(start, position)
            begin, end_marker = found, end_for
        else:
            match = start.search(markup, position)
            found = match.start() if match else -1
            begin, end_marker = found, (f"</{match.group(1).lower()}" if match else "")
        if begin < 0:
            out.append(markup[position:])
            return "".join(out)
        out.append(markup[position:begin])
        stop = lower.find(end_marker, begin + 1)
        if stop < 0:
            return "".join(out)
        close = lower.find(">", stop)
        position = len(markup) if close < 0 else close + 1


def html_to_text(markup: str) -> str:
    """Return the readable text of an HTML body, in time linear in its length."""
    markup = markup[:MAX_HTML_CHARS]
    markup = _drop_between(markup, _COMMENT_START, "-->")
    markup = _drop_between(markup, _SCRIPT_OR_STYLE, "")
    markup = _TAG.sub("", _BLOCK_TAG.sub("\n", markup))
    # A tag that never closes hides the rest of the document in a browser; here too.
    unclosed = _TAG_START.search(markup, markup.rfind(">") + 1)
    if unclosed:
        markup = markup[: unclosed.start()]
    return html.unescape(markup).replace("\xa0", " ")


def _clean_text(text: str) -> str:
    text = _safe(text[: MAX_TEXT_CHARS * 2].replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip(" \t") for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return text[:MAX_TEXT_CHARS]
