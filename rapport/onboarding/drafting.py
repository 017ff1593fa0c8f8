"""Draft answers to handoff questions from a deal's raw notes, offline.

The drafter splits the notes into sentences, scores each sentence against each question
(a small table of cue phrases per standard question key; the question's own content
words for a custom question), and extracts an answer from the best sentence. Every
answer cites the sentence it came from, verbatim. A wrong answer costs the account
executive more than an empty one, so each step prefers to leave a question empty.
"""

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from rapport.onboarding.questions import NO, YES, Draft, Question, QuestionKind

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


# --- cues ------------------------------------------------------------------------------------

Cue = tuple[re.Pattern[str], float]


def _cues(*pairs: tuple[str, float]) -> tuple[Cue, ...]:
    return tuple((re.compile(pattern, re.IGNORECASE), weight) for pattern, weight in pairs)


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])"
)
_FULL_MONTH = (
    r"(?:january|february|march|april|june|july|august|september|october|november|december)"
)

# Weighted cue phrases per standard question key; negative weights mark sentences that
# look relevant but speak of something else (a kickoff date is not a go-live date).
CUES: dict[str, tuple[Cue, ...]] = {
    "primary_goal": _cues(
        (r"\bgoals?\b", 3),
        (r"\bobjectives?\b", 3),
        (r"\bpriority\b", 3),
        (r"why (?:they|we) bought", 3),
        (r"\bmain (?:pain|thing|reason|driver|aim)\b", 3),
        (r"\bwants? (?:\w+ )?to\b|\bwant\b", 2),
        (r"\btrying to\b|\bcare about\b|\baim(?:s|ing)? to\b|\bfocus\b", 2),
        (r"\bpain\b|\bstruggl\w*|\bdrowning\b", 2),
        (r"\bdriving the project\b", 2),
        (r"\bsuccess\b|(?<!at-)\brisks?\b(?! team)|\bconcern", -2),
        (r"go[- ]?live|\blive (?:by|on|before)\b|\blaunch", -2),
        (r"integrat|migrat|\bimport|\bSSO\b|security", -2),
    ),
    "primary_use_case": _cues(
        (r"\buse[- ]case\b", 3),
        (r"\b(?:mainly|mostly|primarily|main|focus|priority|goals?|objective)\b", 1),
        (r"\b(?:care about|pain|wants?|need|needs|drowning|track|watch|catch)\b", 1),
        (r"why (?:they|we) bought", 1),
    ),
    "plan": _cues(
        (r"\bplan\b", 3),
        (r"\b(?:bought|signed|going with|went with|chose|approved|happy with|is fine|on)\b", 1),
        (r"\b(?:edition|tier|package)\b", 1),
    ),
    "support_tier": _cues(
        (r"\bsupport\b", 3),
        (r"\b(?:tier|SLA)\b", 1),
    ),
    "number_of_users": _cues(
        (r"\b(?:users?|seats?|licen[cs]es?|people|person|CSMs?|team of|will use|how many)\b", 2),
    ),
    "go_live_date": _cues(
        (r"go[- ]?live|\bgolive\b", 3),
        (r"\blive (?:by|on|before|in|from)\b|\bup and running\b", 3),
        (r"\bbe live\b|\bget (?:\w+ )?live\b", 2),
        (r"\blaunch\w*", 2),
        (r"\bstart(?:ing)?\b", 2),
        (r"\broll(?:ing)?[- ]?out\b", 1.5),
        (r"\btarget\b|\bdeadline\b", 1),
        (r"kick-?off|contract (?:ends|expires|renews)|valid until|\bexpires\b", -4),
        (r"\bQBR\b|fiscal year|renewal season|workshop|\bsigned\b|closed won|\bCW\b", -3),
        (r"\bboard\b|questionnaire", -2),
        (r"\boriginally\b|\bslipped\b|\bpushed (?:back|out)\b|\bpostponed\b|\bno longer\b", -3),
    ),
    "integrations": _cues(
        (r"\bintegr\w*", 3),
        (r"\bconnect(?:ed|ion|s)?\b|\bsync\w*|\btalk to\b", 2),
        (r"\bAPI\b", 1),
    ),
    "data_migration": _cues(
        (r"\bmigrat\w*|\bimport(?:s|ed|ing)?\b", 3),
        (r"\b(?:bring|bringing|brought) (?:\w+ )?(?:over|across)\b", 3),
        (r"start(?:ing)? (?:fresh|clean|from scratch|over)|clean slate|from scratch", 3),
        (r"\bhistor(?:y|ical)\b|\bexport\b", 1),
    ),
    "success_criteria": _cues(
        (r"\bsuccess\b", 3),
        (r"(?-i:\b[A-Z][a-z]+ Success\b)", -3),
        (r"\bKPIs?\b|\bcriteria\b", 3),
        (r"\bmeasured?\b", 2),
    ),
    "executive_sponsor": _cues(
        (r"\bsponsor\w*", 3),
        (r"\bsigns? off\b|\bsign-off\b", 1),
    ),
    "sso_required": _cues(
        (r"\bSSO\b|single sign[- ]on|\bSAML\b", 3),
        (r"\bSCIM\b|identity provider", 1),
    ),
    "security_review": _cues(
        (r"security review", 3),
        (r"(?:security|vendor|infosec) (?:assessment|questionnaire|requirements?)", 3),
        (r"\binfosec\b|pen-?test|\bSOC ?2\b|vendor risk", 2),
    ),
    "competitor_replaced": _cues(
        (r"\breplac(?:ing|es|e)\b|\bmoving (?:off|away from)\b|\bswitch(?:ing)? (?:from|off)\b", 3),
        (r"\bleaving\b|\bmigrating (?:from|off)\b|\bcoming from\b|\bwere using\b", 3),
        (r"\b(?:currently|today)\b", 1.5),
        (r"\b(?:on|using|use|run|running|runs)\b", 1),
    ),
    "risks": _cues(
        (r"(?<!at-)\brisks?\b(?! team)", 3),
        (r"\bconcern(?:s|ed)?\b|\bworr(?:y|ied|ies)\b|\bwary\b|\bblockers?\b", 3),
        (r"\b(?:could|may|might) (?:delay|slip|change)\b", 2),
    ),
}
THRESHOLDS: dict[str, float] = {
    "primary_goal": 2,
    "primary_use_case": 2.5,
    "plan": 2.5,
    "support_tier": 3,
    "number_of_users": 2,
    "go_live_date": 2,
    "integrations": 2,
    "data_migration": 3,
    "success_criteria": 3,
    "executive_sponsor": 3,
    "sso_required": 3,
    "security_review": 3,
    "competitor_replaced": 2.5,
    "risks": 3,
}
# A sentence that mentions one of the choices is likelier to answer a choice question.
_CHOICE_MENTION_WEIGHT = 1.5

# Synonyms of choices, by the choice's lower-cased label; any other choice matches its
# own words. "enterprise" is not the plan in "an enterprise deal" or "enterprise logos".
CHOICE_SYNONYMS: dict[str, str] = {
    "onboarding": r"\bonboard\w*|\bimplementation\b|time[- ]to[- ]value"
    r"|\bget(?:ting)? (?:new )?customers live\b",
    "renewals": r"\brenewals?\b|\bupsell\w*|\bexpansion\b",
    "support escalations": r"\bescalations?\b|\bsupport (?:tickets|requests)\b|\bopen tickets\b",
    "health monitoring": r"\bhealth\b|\bchurn\b|\bat-risk\b",
    "enterprise": r"\benterprise\b(?! (?:deals?|handoff|logos?|customers?|accounts?"
    r"|implementation|template|rollout|segment)\b)",
}
# Words a choice must sit near to count, so "a standard questionnaire" is no support tier.
CHOICE_ANCHORS: dict[str, re.Pattern[str]] = {
    "support_tier": re.compile(r"\bsupport\b|\btier\b|\bSLA\b", re.IGNORECASE),
}

# --- yes / no --------------------------------------------------------------------------------

_NEGATION_BEFORE = re.compile(
    r"\b(?:no|not|don't|do not|doesn't|does not|didn't|did not|won't|will not|isn't|is not"
    r"|aren't|are not|never|nothing|without|neither|nor|decided against)\b",
    re.IGNORECASE,
)
_NEGATION_AFTER = re.compile(
    r"^\W*(?:no|n|none|nope)\b|\b(?:not|no longer|never)\b|n't\b|\bnothing\b", re.IGNORECASE
)
_FRESH_START = re.compile(
    r"start(?:ing)? (?:fresh|clean|from scratch|over)|clean slate|from scratch"
    r"|new to (?:\w+ )?tooling",
    re.IGNORECASE,
)
_LEADING_YES = re.compile(
    r"^\W*(?:oh )?(?:yes|yeah|yep|yup|sure|absolutely|definitely|of course|correct)\b",
    re.IGNORECASE,
)
_LEADING_NO = re.compile(r"^\W*(?:no|nope|nah|not really|none|not at all)\b", re.IGNORECASE)
# A clause that speaks of a rival's offer or of an evaluation says nothing of the need.
_DISTRACTOR = re.compile(
    r"\b(?:competitors?|pitch(?:ed)?|offers?|offered|evaluated|evaluating|looked at)\b",
    re.IGNORECASE,
)
_HEDGE = re.compile(
    r"\b(?:if|whether|maybe|might|possibly|perhaps|tbd|unclear|unsure|not sure"
    r"|anything you need)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"[;,:—–]|\s-\s|\bbut\b|\bwhile\b|\bwhereas\b", re.IGNORECASE)
# The topic words a yes/no answer's polarity is read around.
YES_NO_TOPICS: dict[str, re.Pattern[str]] = {
    "sso_required": re.compile(r"\bSSO\b|single sign[- ]on|\bSAML\b", re.IGNORECASE),
    "security_review": re.compile(
        r"security review|(?:security|vendor|infosec) (?:assessment|questionnaire)"
        r"|\binfosec\b|pen-?test",
        re.IGNORECASE,
    ),
    "data_migration": re.compile(
        r"\bmigrat\w*|\bimport(?:s|ed|ing)?\b|\b(?:bring|bringing|brought) (?:\w+ )?"
        r"(?:over|across)\b",
        re.IGNORECASE,
    ),
}


def _polarity(text: str, topic: re.Pattern[str] | None, *, fresh_start: bool) -> str | None:
    """Read whether *text* says yes or no about *topic*; None when it does not say clearly."""
    if fresh_start and _FRESH_START.search(text):
        return NO
    if topic is None:
        return None
    verdicts: set[str] = set()
    for match in topic.finditer(text):
        before_breaks = list(_CLAUSE_BREAK.finditer(text, 0, match.start()))
        clause_start = before_breaks[-1].end() if before_breaks else 0
        after_text = text[match.end() :]
        # A label's value follows its colon ("Data migration: not required").
        label_value = re.match(r"\s*[:=]\s*", after_text)
        skip = label_value.end() if label_value else 0
        after_break = _CLAUSE_BREAK.search(after_text, skip)
        after = after_text[skip : after_break.start() if after_break else len(after_text)]
        after = " ".join(after.split()[:6])
        before = " ".join(text[clause_start : match.start()].split()[-5:])
        clause = text[clause_start : match.end()] + " " + after
        if _DISTRACTOR.search(clause):
            continue
        if _NEGATION_BEFORE.search(before) or _NEGATION_AFTER.search(after):
            verdicts.add(NO)
        elif _HEDGE.search(text[clause_start:]):
            verdicts.add("unsure")
        else:
            verdicts.add(YES)
    if NO in verdicts and YES in verdicts:
        return None
    if NO in verdicts:
        return NO
    if YES in verdicts:
        return YES
    return None


def _yes_no_answer(question: Question, sentence: Sentence) -> str | None:
    topic = YES_NO_TOPICS.get(question.key) or _overlap_pattern(question)
    fresh_start = question.key == "data_migration"
    text = _label_stripped(sentence.text)
    if topic is not None and topic.search(sentence.text):
        return _polarity(sentence.text, topic, fresh_start=fresh_start)
    if fresh_start and _FRESH_START.search(text):
        return NO
    # The topic is only in the question this sentence answers: read the reply's first word.
    if sentence.context:
        if _LEADING_YES.search(text):
            return YES
        if _LEADING_NO.search(text):
            return NO
    return None


# --- choices ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _choice_patterns(question: Question) -> list[tuple[str, re.Pattern[str]]]:
    """Return each choice's pattern; a question's choices are fixed, so built once."""
    patterns = []
    for choice in question.choices:
        synonym = CHOICE_SYNONYMS.get(choice.lower())
        own = r"\b" + r"\s+".join(re.escape(word) for word in choice.split()) + r"s?\b"
        pattern = synonym if synonym is not None else own
        patterns.append((choice, re.compile(pattern, re.IGNORECASE)))
    return patterns


def _choice_mentions(question: Question, text: str) -> list[tuple[int, str]]:
    mentions: list[tuple[int, str]] = []
    for choice, pattern in _choice_patterns(question):
        for match in pattern.finditer(text):
            # "They won't be on the Growth plan" names the plan they did not buy.
            before = " ".join(text[: match.start()].split()[-4:])
            if not _NEGATION_BEFORE.search(before):
                mentions.append((match.start(), choice))
    return sorted(mentions)


def _choice_answer(question: Question, sentence: Sentence) -> str | None:
    text = sentence.text
    mentions = _choice_mentions(question, text)
    if not mentions:
        return None
    anchor = CHOICE_ANCHORS.get(question.key) or _KEY_WORD.get(question.key)
    anchors = [match.start() for match in anchor.finditer(text)] if anchor else []
    if anchors:
        # The choice closest to the word that names the question ("plan", "support").
        def distance(mention: tuple[int, str]) -> int:
            return min(len(text[min(a, mention[0]) : max(a, mention[0])].split()) for a in anchors)

        nearest = min(mentions, key=distance)
        if distance(nearest) <= 3:
            return nearest[1]
        if question.key in CHOICE_ANCHORS:
            return None
    elif question.key in CHOICE_ANCHORS:
        return None
    return mentions[0][1]


_KEY_WORD: dict[str, re.Pattern[str]] = {
    "plan": re.compile(r"\bplan\b", re.IGNORECASE),
    "primary_use_case": re.compile(r"\buse[- ]case\b", re.IGNORECASE),
}

# --- text extractors -------------------------------------------------------------------------

_DATE_PATTERNS = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"\b\d{4}-\d{2}-\d{2}\b",
        r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b",
        r"\b(?:the )?week of \d{1,2}(?:st|nd|rd|th)? " + _MONTH + r"(?:,? \d{4})?",
        r"\b(?:the )?week of " + _MONTH + r"\.? \d{1,2}(?:st|nd|rd|th)?(?:,? \d{4})?",
        r"\b(?:(?:first|second|third|fourth|last) week of|early|mid|late|end of|the end of"
        r"|beginning of|start of)[- ]?" + _MONTH + r"(?: \d{4})?",
        r"\b" + _MONTH + r"\.? \d{1,2}(?:st|nd|rd|th)?\b(?:,? \d{4})?",
        r"\b\d{1,2}(?:st|nd|rd|th)? (?:of )?" + _MONTH + r"(?:,? \d{4})?",
        r"\b(?:(?:the )?end of |mid-|early |late )?Q[1-4](?: \d{4})?\b",
        r"\bthe \d{1,2}(?:st|nd|rd|th)\b",
        r"\b(?:next|this) (?:week|month|quarter)\b|\btoday\b|\btomorrow\b",
        r"\b(?:next |this )?(?:monday|tuesday|wednesday|thursday|friday)\b",
        r"(?<=\b(?:in|by) )" + _FULL_MONTH + r"(?: \d{4})?\b",
    )
]


def _date_extract(text: str, cue_position: int) -> str | None:
    """Return the date nearest after the cue (or before it, when none follows)."""
    found = [match.span() for pattern in _DATE_PATTERNS for match in pattern.finditer(text)]
    # Keep the longest of overlapping matches ("15 March 2027" over "March 2027").
    spans: list[tuple[int, int]] = []
    for start, end in sorted(found, key=lambda span: (span[0] - span[1], span[0])):
        if all(end <= s or e <= start for s, e in spans):
            spans.append((start, end))
    if not spans:
        return None
    after = [span for span in spans if span[0] >= cue_position]
    start, end = min(after) if after else max(spans)
    return text[start:end].strip(" ,")


_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty"
    r"|forty|fifty|sixty|hundred"
)
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?k?|" + _NUMBER_WORDS + r")\+?"
_APPROX = r"(?:(?:~|about|around|roughly|approximately|approx\.|over|nearly|up to)\s*)?"
# Seat counts, most direct first: "25 seats" outranks "18 CSMs" outranks "3 instructors
# will use it".
_USER_PATTERNS = [
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"\b(?:users?|seats?|licen[cs]es?)\s*[:=~]\s*~?\s*" + _NUMBER + r"(?: \w+)?",
        _APPROX + r"\b" + _NUMBER + r"\s*(?:named |active |total |paid )?"
        r"(?:users?|seats?|licen[cs]es?)\b",
        _APPROX + r"\b" + _NUMBER + r"(?:\s*|-)(?:people|persons?|members)\b",
        r"\bteam of " + _APPROX + _NUMBER + r"\b",
        _APPROX + r"\b" + _NUMBER + r"\s*(?:CSMs?|agents?|managers?)\b",
        _APPROX + r"\b" + _NUMBER + r"(?: [a-z]+){1,3}(?: and [A-Za-z]+)? will use\b",
    )
]
_HOW_MANY = re.compile(r"\bhow many\b", re.IGNORECASE)


def _users_extract(sentence: Sentence) -> str | None:
    for pattern in _USER_PATTERNS:
        match = pattern.search(sentence.text)
        if match:
            return match.group(0).strip()
    if _HOW_MANY.search(sentence.context):
        match = re.search(_APPROX + r"\b" + _NUMBER + r"\b", _label_stripped(sentence.text))
        if match:
            return match.group(0).strip()
    return None


_ROLE = re.compile(
    r"\b(?:C[A-Z]{1,2}O|(?:S|E)?VP(?: of)?(?: [A-Z][A-Za-z]+){1,3}"
    r"|Chief(?: [A-Z][a-z]+){1,3}|(?:Head|Director) of(?: [A-Z][A-Za-z]+){1,3})\b"
)
_NAME = re.compile(
    r"\b(?:(?:Dr|Mr|Mrs|Ms|Prof)\. )?[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?"
    r"(?: [A-Z][a-z]+(?:[-'][A-Z][a-z]+)?){1,2}\b"
)
_SINGLE_NAME = re.compile(
    r"\b([A-Z][a-z]+) is (?:the |our |their )?(?:exec(?:utive)? )?sponsor", re.IGNORECASE
)
_NOT_NAMES = _words(
    "the our their that this they he she it sponsor sponsors executive exec chief"
    " customer success support plan enterprise premium standard vp svp head director"
)


def _sponsor_extract(sentence: Sentence, cue_position: int) -> str | None:
    text = sentence.text
    roles = [(m.start(), m.end()) for m in _ROLE.finditer(text)]
    names: list[tuple[int, int]] = []
    for match in _NAME.finditer(text):
        if any(s <= match.start() < e for s, e in roles):
            continue
        words = match.group(0).replace(".", "").split()
        if words[0].lower() in _NOT_NAMES:
            continue
        names.append((match.start(), match.end()))
    single = _SINGLE_NAME.search(text)
    if single and single.group(1).lower() not in _NOT_NAMES and single.group(1)[0].isupper():
        names.append((single.start(1), single.end(1)))
    if names:
        after = [span for span in names if span[0] >= cue_position]
        start, end = min(after) if after else max(names)
        role = re.match(r"\s*(?:,|\()\s*(?:our |their |the )?", text[end:])
        if role:
            role_match = _ROLE.match(text, end + role.end())
            if role_match:
                return f"{text[start:end]}, {role_match.group(0)}"
        return text[start:end]
    if roles:
        start, end = roles[0]
        return text[start:end]
    return None


_PRODUCT = (
    r"(?:[A-Z][\w-]*(?: [A-Z][\w-]*)*|spreadsheets?|shared inbox(?:es)?|email|docs"
    r"|(?:an )?in-house tool|(?:a )?homegrown tool)"
)
_REPLACED = re.compile(
    r"\b(?i:replac(?:ing|es|e)|moving (?:off|away from)|move (?:off|away from)"
    r"|migrating (?:from|off|away from)|switch(?:ing)? (?:from|off)|leaving|coming from"
    r"|churning from|were using|used to use"
    r"|(?:currently|today)(?: they| we)? (?:on|use|using|run|running|runs)(?: [a-z]+){0,3}?"
    r" (?:in|on|out of|with)|currently on|currently using)"
    r"\s*:?\s+(?i:a mix of |the |their )?"
    r"(" + _PRODUCT + r"(?:(?:,| and| &) (?:a |an |the )?" + _PRODUCT + r")*)",
)
_NOT_PRODUCTS = _words("the their our a an in at when because")


def _replaced_extract(sentence: Sentence) -> str | None:
    for match in _REPLACED.finditer(sentence.text):
        product = match.group(1)
        if product.split()[0].lower() in _NOT_PRODUCTS:
            continue
        return product
    return None


# --- drafting --------------------------------------------------------------------------------

_STOPWORDS = _words(
    "a an the is are was were be been do does did will would should can could what which"
    " who whom whose when where why how of to in on at for with from by about as and or"
    " not no yes any this that these those it its they them their there customer customers"
    " rapport use used using need needs"
)


def _stem(word: str) -> str:
    for suffix in ("ing", "ies", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _content_words(text: str) -> list[str]:
    words = re.findall(r"[a-z][a-z'-]+", text.lower())
    return sorted({_stem(w) for w in words if w not in _STOPWORDS and len(w) > 2})


def _same_word(a: str, b: str) -> bool:
    return a == b or (len(a) >= 5 and len(b) >= 5 and a[:5] == b[:5])


def _overlap_pattern(question: Question) -> re.Pattern[str] | None:
    words = _content_words(question.text)
    if not words:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(w[:5]) for w in words) + r")\w*", re.I)


def _overlap_score(question: Question, text: str) -> float:
    wanted = _content_words(question.text)
    found = _content_words(text)
    hits = sum(1 for w in wanted if any(_same_word(w, f) for f in found))
    # Two shared words for a question with several, so one common word is not enough.
    needed = min(2, len(wanted))
    return float(hits) if wanted and hits >= needed else 0.0


# Keys whose sentences often name two dates: score each clause on its own, so "Kickoff is
# on Nov 3 and they go live mid-December" is not sunk by the kickoff.
_CLAUSE_SCORED = frozenset({"go_live_date"})
_SCORING_CLAUSE = re.compile(
    r",\s+|\s+but\s+|\s+and\s+(?=(?:they|we|he|she|it|the|their|our)\b)", re.IGNORECASE
)


def _clause_cue_score(cues: Sequence[Cue], text: str) -> tuple[float, int]:
    best, best_position, offset = float("-inf"), -1, 0
    for clause in _SCORING_CLAUSE.split(text):
        score, position = _cue_score(cues, clause)
        if score > best:
            best = score
            best_position = offset + position if position >= 0 else -1
        offset = text.find(clause, offset) + len(clause)
    return best, best_position


def _cue_score(cues: Sequence[Cue], text: str) -> tuple[float, int]:
    """Return the score of *text* and where its strongest positive cue starts."""
    score = 0.0
    position, strongest = -1, 0.0
    for pattern, weight in cues:
        match = pattern.search(text)
        if match:
            score += weight
            if weight > strongest:
                strongest, position = weight, match.start()
    return score, position


def _label_stripped(text: str) -> str:
    """Drop a leading "Label:" or "Speaker (role):" so the answer reads as a value."""
    label = re.match(r"^[A-Z][^:\n]{0,44}?:\s+(?=\S)", text)
    if label and len(label.group(0).split()) <= 6:
        return text[label.end() :]
    return text


@dataclass(frozen=True)
class _Candidate:
    score: float
    sentence: Sentence
    cue_position: int  # -1 when the cue was only in the question this sentence answers


def _candidates(question: Question, sentences: Sequence[Sentence]) -> list[_Candidate]:
    cues = CUES.get(question.key)
    found: list[_Candidate] = []
    for sentence in sentences:
        if cues is not None:
            scorer = _clause_cue_score if question.key in _CLAUSE_SCORED else _cue_score
            score, position = scorer(cues, sentence.text)
            if sentence.context:
                score += _cue_score(cues, sentence.context)[0]
            if question.kind is QuestionKind.CHOICE and _choice_mentions(question, sentence.text):
                score += _CHOICE_MENTION_WEIGHT
            threshold = THRESHOLDS.get(question.key, 3.0)
        else:
            score = _overlap_score(question, sentence.text)
            position = 0
            if sentence.context:
                score = max(score, _overlap_score(question, sentence.context))
            threshold = 1.0
        if score >= threshold:
            found.append(_Candidate(score, sentence, max(position, 0)))
    found.sort(key=lambda candidate: (-candidate.score, candidate.sentence.start))
    return found


TextExtractor = Callable[[Sentence, int], "str | None"]
TEXT_EXTRACTORS: dict[str, TextExtractor] = {
    "go_live_date": lambda sentence, cue: _date_extract(sentence.text, cue),
    "number_of_users": lambda sentence, cue: _users_extract(sentence),
    "executive_sponsor": _sponsor_extract,
    "competitor_replaced": lambda sentence, cue: _replaced_extract(sentence),
}


def _answer(question: Question, candidate: _Candidate) -> str | None:
    sentence = candidate.sentence
    extractor = TEXT_EXTRACTORS.get(question.key)
    if question.kind in (QuestionKind.TEXT, QuestionKind.LONG_TEXT) and extractor is not None:
        # A question sentence may still state a fact ("Can we be live by Friday?").
        return extractor(sentence, candidate.cue_position)
    if sentence.is_question:
        return None
    if question.kind is QuestionKind.YES_NO:
        return _yes_no_answer(question, sentence)
    if question.kind is QuestionKind.CHOICE:
        return _choice_answer(question, sentence)
    answer = _label_stripped(sentence.text).strip()
    if sentence.context and not answer.strip(" .!?"):
        return None
    return answer or None


def _citation(notes: str, sentence: Sentence) -> str:
    start = sentence.cite_start if sentence.cite_start >= 0 else sentence.start
    return notes[start : sentence.end]


def answer_draft(question: Question, notes: str, sentences: Sequence[Sentence]) -> Draft:
    """Draft one question's answer from the already split *sentences* of *notes*."""
    candidates = _candidates(question, sentences)
    if question.kind is QuestionKind.YES_NO:
        return _yes_no_draft(question, notes, candidates)
    for candidate in candidates:
        answer = _answer(question, candidate)
        if answer:
            return Draft(answer=answer, citation=_citation(notes, candidate.sentence))
    return Draft()


def _yes_no_draft(question: Question, notes: str, candidates: Sequence[_Candidate]) -> Draft:
    """Answer from the best sentence that says yes or no, unless another one says otherwise."""
    verdicts = [(candidate, _answer(question, candidate)) for candidate in candidates]
    said = [(candidate, verdict) for candidate, verdict in verdicts if verdict in (YES, NO)]
    if not said or len({verdict for _, verdict in said}) > 1:
        return Draft()
    candidate, verdict = said[0]
    return Draft(answer=str(verdict), citation=_citation(notes, candidate.sentence))


def answers_draft(questions: Sequence[Question], notes: str) -> dict[str, Draft]:
    """Draft an answer to each question from a deal's notes, keyed by question key.

    A question the notes do not answer gets an empty Draft.
    """
    sentences = sentences_split(notes or "")
    return {question.key: answer_draft(question, notes, sentences) for question in questions}


def answers_draft_many(
    deals: Sequence[tuple[int, Sequence[Question], str]],
) -> dict[int, dict[str, Draft]]:
    """Draft many deals at once, by the caller's id: the unit of work a process pool takes.

    Pure and free of Django, so a spawned process imports nothing else to run it.
    """
    return {ident: answers_draft(questions, notes) for ident, questions, notes in deals}
