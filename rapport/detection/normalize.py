"""Reduce a chat or email message to the plain words a person would read.

Slack markup, links, emoji, quoted replies and signatures say little about whether a
message asks for something, and the training corpora have none of them, so they are
removed before features are taken. Casing and most punctuation are dropped later, by
the tokenizer in `features.py`.
"""

import re

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " "})

_CODE_BLOCK = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]*)`")
_SLACK_LINK_LABEL = re.compile(r"<(?:https?|mailto):[^>|]*\|([^>]*)>")
_SLACK_ANGLE = re.compile(r"<[@#!][^>]*>|<(?:https?|mailto):[^>]*>")
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SLACK_EMOJI = re.compile(r":[a-z0-9_+\-']+:")
# Pictographs, dingbats, flags, skin tones, variation selectors and joiners.
_EMOJI = re.compile(
    "[\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2900-\u297f\u2b00-\u2bff\u3030\u303d"
    "\ufe0e\ufe0f\u200d\U0001f000-\U0001faff\U000e0000-\U000e007f]"
)
_MARKUP = re.compile(r"(?<!\w)[*_~]+|[*_~]+(?!\w)")

_QUOTE_HEADER = re.compile(
    r"^(?:on .{0,200}wrote:|-{2,}\s*original message\s*-{2,}|from: .*|sent from my \w+.*"
    r"|sent from (?:outlook|mail|gmail|yahoo).*|get outlook for .*)$",
    re.IGNORECASE,
)
_SIGNATURE_DELIMITER = re.compile(r"^(?:--|__+|—)\s*$")
_SIGN_OFF = re.compile(
    r"^(?:best|best regards|kind regards|warm regards|warmest regards|regards|cheers|thanks"
    r"|thank you|thanks again|thanks in advance|many thanks|thanks so much|thanks a lot|thx"
    r"|sincerely|yours sincerely|yours faithfully|yours truly|all the best|talk soon|merci"
    r"|best wishes|with thanks|respectfully|br)\s*[,.!]*\s*$",
    re.IGNORECASE,
)
_SIGNATURE_LINES = 5


def text_normalize(text: str) -> str:
    """Return *text* without markup, links, emoji, quoted replies or a trailing signature."""
    text = text.translate(_QUOTES)
    text = _CODE_BLOCK.sub(" xxcode. ", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _SLACK_LINK_LABEL.sub(r" \1 ", text)
    text = _SLACK_ANGLE.sub(" ", text)
    # Slack escapes these three in message text; the markup above uses the raw forms.
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    text = _URL.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _SLACK_EMOJI.sub(" ", text)
    text = _EMOJI.sub(" ", text)
    text = _MARKUP.sub(" ", text)
    if "\n" in text:
        text = _email_body(text)
    return text.strip()


def _email_body(text: str) -> str:
    """Drop quoted lines, the quoted thread below a reply header, and a sign-off block."""
    lines: list[str] = []
    for raw in text.split("\n"):
        line = raw.strip()
        if line.startswith(">"):
            continue
        if _QUOTE_HEADER.match(line):
            if lines:
                break
            continue
        lines.append(line)
    kept = [line for line in lines if line]
    for index, line in enumerate(kept):
        if index == 0:
            continue
        if _SIGNATURE_DELIMITER.match(line):
            kept = kept[:index]
            break
        rest = kept[index + 1 :]
        if (
            _SIGN_OFF.match(line)
            and len(rest) <= _SIGNATURE_LINES
            and all(len(r) <= 60 for r in rest)
        ):
            kept = kept[:index]
            break
    return "\n".join(kept)
