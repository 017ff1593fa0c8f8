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
from dataclasses import dataclass

from rapport.onboarding.drafting_cues import (
    _CHOICE_MENTION_WEIGHT,
    _FULL_MONTH,
    _MONTH,
    CHOICE_ANCHORS,
    CHOICE_SYNONYMS,
    CUES,
    THRESHOLDS,
    Cue,
)
from rapport.onboarding.drafting_sentences import Sentence, _words, sentences_split
from rapport.onboarding.questions import NO, YES, Draft, Question, QuestionKind

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
