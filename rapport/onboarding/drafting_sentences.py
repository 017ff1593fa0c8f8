"""Split a deal's notes into sentences the drafter can score and cite verbatim.

Notes are bullet lists, email threads, call transcripts: a sentence ends at a full stop
(not one of an abbreviation, a decimal, an email or a URL), a semicolon, a bar or a dash
between words, or a line break; a reply is read with the question on the line before.
"""

import re
from dataclasses import dataclass, replace

# --- sentences -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sentence:
    """One sentence (or clause) of the notes, at its place in them.

    *context* holds the question this sentence answers when the notes are a question and
    answer exchange ("AE: How many users?" / "Lars: About 80."); *cite_start* then
    points at that question, so the citation shows both lines.
    """

    text: str
    start: int
    end: int
    context: str = ""
    cite_start: int = -1

    @property
    def is_question(self) -> bool:
        return self.text.rstrip().endswith("?") or bool(_PROMPT.search(self.text))


# An interviewer's prompt asks like a question though it ends in a full stop.
_PROMPT = re.compile(
    r"^(?:[^:]{1,40}:\s+)?(?:so,? )?(?:tell me|walk me through|talk me through)\b", re.IGNORECASE
)


def _words(text: str) -> frozenset[str]:
    """Return the words of *text*: word lists read best written as words."""
    return frozenset(text.split())


_BULLET = re.compile(r"[ \t]*(?:[-*•·>]+|\d{1,2}[.)])[ \t]+")
# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = _words("mr mrs ms dr prof sr jr st vs etc approx inc ltd co corp")
# A month's short form ends no sentence when a day follows it ("Jan. 8").
_MONTH_ABBREVIATIONS = _words("jan feb mar apr jun jul aug sep sept oct nov dec")
# A sentence ends at . ! ? (or a run of them) followed by space; clauses also end at ";",
# " | " and a spaced dash, which notes use where prose would start a new sentence.
_BREAK = re.compile(r"(?<=[.!?])[\"')\]]?[ \t]+|[ \t]*;[ \t]*|[ \t]+[|—–][ \t]+|[ \t]+-[ \t]+")


def sentences_split(notes: str) -> list[Sentence]:
    """Split *notes* into sentences, each a verbatim span of them.

    Lines are split first (bullets and CRM fields are one per line), then each line at
    sentence ends that are not abbreviations ("Mr.", "e.g."), decimals ("1.2M") or
    addresses (emails and URLs hold no space after their dots).
    """
    sentences: list[Sentence] = []
    offset = 0
    previous_line_question: Sentence | None = None
    for line in notes.splitlines(keepends=True):
        line_start = offset
        offset += len(line)
        body = line.rstrip("\r\n")
        bullet = _BULLET.match(body)
        position = bullet.end() if bullet else 0
        pieces: list[tuple[int, int]] = []
        piece_start = position
        for match in _BREAK.finditer(body, position):
            if match.start() <= piece_start:
                continue
            before = body[piece_start : match.start()]
            if _ends_with_abbreviation(before, body[match.end() : match.end() + 1]):
                continue
            # "Sponsor - Marcus Webb": a dash after a short label joins, it does not split.
            if match.group(0).strip() in ("-", "—", "–") and len(before.split()) < 4:
                continue
            pieces.append((piece_start, match.start()))
            piece_start = match.end()
        pieces.append((piece_start, len(body)))
        line_sentences: list[Sentence] = []
        for start, end in pieces:
            text = body[start:end]
            stripped = text.strip()
            if not re.search(r"\w", stripped):
                continue
            lead = len(text) - len(text.lstrip())
            absolute = line_start + start + lead
            sentence = Sentence(text=stripped, start=absolute, end=absolute + len(stripped))
            # The first sentence of a line that follows a line ending in a question is
            # read as that question's answer.
            if not line_sentences and previous_line_question is not None:
                sentence = replace(
                    sentence,
                    context=previous_line_question.text,
                    cite_start=previous_line_question.start,
                )
            line_sentences.append(sentence)
        if line_sentences:
            last = line_sentences[-1]
            previous_line_question = last if last.is_question else None
            sentences.extend(line_sentences)
    return sentences


def _ends_with_abbreviation(text: str, following: str) -> bool:
    if not text.endswith("."):
        return False
    word = text[:-1].rsplit(None, 1)[-1] if text[:-1].split() else ""
    word = word.lstrip("(\"'").lower()
    if word in _ABBREVIATIONS:
        return True
    if word in _MONTH_ABBREVIATIONS and following.isdigit():
        return True
    # Dotted abbreviations ("e.g.", "i.e.", "a.m.") and single initials ("J.").
    return bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]|[a-z]", word))
