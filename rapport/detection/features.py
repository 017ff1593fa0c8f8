"""Turn a message into the sparse binary features the request detector weighs.

Features are plain strings, so the artifact maps each one to its weight and needs no
hashing scheme. They are lower-cased words and word pairs, character n-grams inside
words (for typos and unseen word forms), the opening words of each sentence, and a
few hand-made signals (question mark, interrogative opening, "please", "can you",
problem words, thanks-only, greeting-only). Casing and punctuation other than "?" and
"!" are dropped, because in the training corpora they say more about the source than
about the message.
"""

import re

from rapport.detection import lexicon
from rapport.detection.lexicon import AUXILIARIES, IMPERATIVES, INTERROGATIVES, OPENERS, YOU
from rapport.detection.normalize import text_normalize

_APOSTROPHE = re.compile(r"(?<=[^\W_])'(?=[^\W_])")
_SENTENCE = re.compile(r"([^.!?;\n]*)([.!?;\n]*)")
_WORD = re.compile(r"[^\W_]+")
_DIGIT = re.compile(r"\d")

CHAR_NGRAMS = (3, 4)
# How far back a negator reaches: "doesn't seem to load", "haven't seen the error".
NEGATION_REACH = 3


def message_tokens(text: str) -> list[list[str]]:
    """Split a normalized message into sentences of lower-case word tokens.

    A sentence that ended with "?" gets a trailing "?" token, and one that ended with
    "!" a trailing "!", so that the tokens keep the only punctuation that matters.
    """
    text = _APOSTROPHE.sub("", text.lower())
    sentences: list[list[str]] = []
    for match in _SENTENCE.finditer(text):
        body, end = match.group(1), match.group(2)
        words = [_number_shape(word) for word in _WORD.findall(body)]
        if not words:
            if "?" in end and sentences:
                sentences[-1].append("?")
            continue
        if "?" in end:
            words.append("?")
        elif "!" in end:
            words.append("!")
        sentences.append(words)
    return sentences


def message_sentences(text: str) -> list[list[str]]:
    """Return the token sentences of a raw message: normalized, then tokenized."""
    return message_tokens(text_normalize(text))


def features_extract(text: str) -> list[str]:
    """Return the distinct features of *text*, in a fixed order; [] when it has no words."""
    return sentences_features(message_sentences(text))


def sentences_features(sentences: list[list[str]]) -> list[str]:
    """Return the distinct features of tokenized sentences, in a fixed order."""
    if not sentences:
        return []
    features: dict[str, None] = {}
    words: list[str] = []
    for sentence in sentences:
        plain = [token for token in sentence if token not in ("?", "!")]
        words.extend(plain)
        _sentence_features(sentence, plain, features)
    for word in words:
        features["u:" + word] = None
        if len(word) > 2:
            padded = "<" + word + ">"
            for size in CHAR_NGRAMS:
                for start in range(len(padded) - size + 1):
                    features["c:" + padded[start : start + size]] = None
    for first, second in zip(words, words[1:], strict=False):
        features["b:" + first + " " + second] = None
    for name in _signals(sentences, words):
        features["x:" + name] = None
    return list(features)


def _sentence_features(sentence: list[str], plain: list[str], features: dict[str, None]) -> None:
    """Add the opening words of one sentence, and whether it opens as a question."""
    if not plain:
        return
    features["s:" + plain[0]] = None
    features["s:" + " ".join(plain[:2])] = None
    position = 0
    while position < len(plain) - 1 and plain[position] in OPENERS:
        position += 1
    head = plain[position]
    if position:
        features["o:" + head] = None
    if head in INTERROGATIVES:
        features["x:opens_interrogative"] = None
    elif head in AUXILIARIES and position + 1 < len(plain):
        features["x:opens_auxiliary"] = None
        if plain[position + 1] in YOU:
            features["x:opens_auxiliary_you"] = None
    elif head in IMPERATIVES and (position or len(plain) > 1):
        features["x:opens_imperative"] = None
    features["e:" + plain[-1]] = None
    if sentence[-1] == "?":
        features["x:sentence_question"] = None


def _signals(sentences: list[list[str]], words: list[str]) -> list[str]:
    """Return the names of the hand-made signals that hold for the message."""
    signals: list[str] = []
    last = sentences[-1]
    if last[-1] == "?":
        signals.append("ends_question")
    elif last[-1] == "!":
        signals.append("ends_exclamation")
    count = len(words)
    signals.append("len_" + _length_bucket(count))
    signals.append("sentences_" + str(min(len(sentences), 4)))
    if not words:
        return signals
    vocabulary = set(words)
    if vocabulary <= lexicon.ACKNOWLEDGEMENTS:
        signals.append("acknowledgement_only")
    if vocabulary <= lexicon.GREETINGS or (words[0] in lexicon.GREETINGS and count <= 2):
        signals.append("greeting_only")
    asks = False
    for name, group in (
        ("please", lexicon.PLEASE),
        ("need", lexicon.NEED),
        ("help", lexicon.HELP),
        ("problem", lexicon.PROBLEM),
        ("follow_up", lexicon.FOLLOW_UP),
        ("persistence", lexicon.PERSISTENCE),
    ):
        if not vocabulary.isdisjoint(group):
            signals.append(name)
            asks = asks or name != "persistence"
    failure, negated_failure, negated_function = _polarity(words)
    if failure:
        signals.append("failure")
    if negated_failure:
        signals.append("negated_failure")
    if negated_function:
        signals.append("negated_function")
    if not vocabulary.isdisjoint(lexicon.RESOLVED):
        signals.append("resolved_negated" if negated_function else "resolved")
    if any(word.startswith("0") and len(word) == 3 for word in words):
        signals.append("code_number")
    if not (asks or failure or negated_function or any(s[-1] == "?" for s in sentences)):
        signals.append("no_ask_cue")
    return signals


def _polarity(words: list[str]) -> tuple[bool, bool, bool]:
    """Return (a failure word, a negated failure word, a negated working verb) occurs.

    "No errors since the patch" negates a failure and reports none; "the sync doesn't
    run" negates a working verb and reports one.
    """
    failure = negated_failure = negated_function = False
    last_negator = -NEGATION_REACH - 1
    for position, word in enumerate(words):
        negated = position - last_negator <= NEGATION_REACH
        if word in lexicon.FAILURE:
            if negated:
                negated_failure = True
            else:
                failure = True
        elif word in lexicon.FUNCTIONS and negated:
            negated_function = True
        if word in lexicon.NEGATORS:
            last_negator = position
    return failure, negated_failure, negated_function


def _length_bucket(count: int) -> str:
    if count <= 2:
        return str(count)
    if count <= 4:
        return "3_4"
    if count <= 8:
        return "5_8"
    if count <= 16:
        return "9_16"
    return "17_"


def _number_shape(word: str) -> str:
    """Map digits to 0 so that "404" and "500" share a feature, and cap long numbers."""
    if not any(character.isdigit() for character in word):
        return word
    return _DIGIT.sub("0", word)[:6]
