"""Vary the training messages so that source style stops being a shortcut.

The public corpora tie style to label: CLINC and MultiDoGO have no punctuation, SGD
drops every label-0 turn with a "?", and none of them has Slack markup, greetings
before an ask, or thanks after one. Each message therefore also appears with its
question marks dropped or added, its punctuation stripped, and wrapped the way customer
messages are (a greeting or mention before it, thanks or a signature after it), and
pairs of messages are joined so that one request sentence makes the whole message a
request. Every choice comes from one seeded generator, so the output is reproducible.
"""

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapport.detection.dataset import CUSTOMER_SOURCE, Example
from rapport.detection.lexicon import AUXILIARIES, INTERROGATIVES
from rapport.detection.synthetic import messages_compose

# How much each kind of row counts. The corpora teach the general shape of questions
# and asks, but also that any message with content is a request (their label-0 rows are
# nearly all closers), so they count little next to the written customer rows.
CUSTOMER_WEIGHT = 3.0
PUBLIC_WEIGHT = 0.15
VARIANT_WEIGHT = 0.3
PUBLIC_VARIANT_SHARE = 0.5
CUSTOMER_VARIANTS = 2
PAIRS_PER_CUSTOMER_ROW = 1.5
PUBLIC_PAIRS = 1500
COMPOSED = 3000
COMPOSED_WEIGHT = 1.0

_PUNCTUATION = re.compile(r"[.,!?;:]+")
_LEADING_WORD = re.compile(r"[A-Za-z']+")

_GREETINGS = (
    "Hi team,",
    "Hey team!",
    "hi all",
    "Hello,",
    "hey",
    "Hi there,",
    "Good morning!",
    "morning",
    "Hey folks,",
    "<@U02AB77>",
    "<@U7781QX> hi!",
    "<!here>",
    "Hi Sam,",
    "Hello Rapport team,",
    ":wave: hey",
    "yo",
    "Hi Alex, hope you're well.",
    "Dear Support,",
)
_CLOSINGS = (
    "thanks!",
    "Thanks",
    "thx",
    "ty",
    "Thank you!",
    "cheers",
    "thanks in advance :pray:",
    "🙏",
    "Thanks,\nMaria",
    "Best,\nJon",
    "Kind regards,\nLee Park\nIT Manager",
    "Cheers,\nAnna",
    ":slightly_smiling_face:",
    "😅",
    "(sorry for the noise)",
    "Regards",
)
_EMAIL_GREETINGS = ("Hi team,\n\n", "Hello,\n\n", "Hi Jordan,\n\n", "Dear Rapport team,\n\n")
_EMAIL_SIGNATURES = ("\n\nThanks,\nPriya", "\n\nBest regards,\nTom Walsh\nOps", "\n\n--\nKim")


@dataclass(frozen=True)
class Weighted:
    """A training message with its label and how much it counts."""

    text: str
    label: int
    weight: float


def examples_augment(examples: Sequence[Example], *, seed: int) -> list[Weighted]:
    """Return the examples, their style variants and joined pairs, in a reproducible order."""
    rng = random.Random(seed)  # noqa: S311 (reproducible sampling, not secrets)
    rows: list[Weighted] = []
    for example in examples:
        customer = example.source == CUSTOMER_SOURCE
        weight = CUSTOMER_WEIGHT if customer else PUBLIC_WEIGHT
        rows.append(Weighted(example.text, example.label, weight))
        variants = CUSTOMER_VARIANTS if customer else int(rng.random() < PUBLIC_VARIANT_SHARE)
        for _ in range(variants):
            rows.append(Weighted(_variant(example, rng), example.label, VARIANT_WEIGHT))
    customer_rows = [example for example in examples if example.source == CUSTOMER_SOURCE]
    public_rows = [example for example in examples if example.source != CUSTOMER_SOURCE]
    rows.extend(_pairs(customer_rows, round(len(customer_rows) * PAIRS_PER_CUSTOMER_ROW), rng))
    rows.extend(_pairs(public_rows, min(PUBLIC_PAIRS, len(public_rows)), rng))
    for composed in messages_compose(COMPOSED, seed=seed):
        rows.append(Weighted(composed.text, composed.label, COMPOSED_WEIGHT))
    return rows


def _variant(example: Example, rng: random.Random) -> str:
    """Return *example*'s text restyled: punctuation changed, then wrapped like a chat message."""
    text = example.text
    roll = rng.random()
    if roll < 0.25:
        text = _PUNCTUATION.sub("", text)
    elif roll < 0.45 and "?" in text:
        text = text.replace("?", "")
    elif roll < 0.65 and example.label == 1 and "?" not in text and _opens_as_question(text):
        text = text.rstrip(". ") + "?"
    elif roll < 0.75:
        text = text.lower()
    wrap = rng.random()
    if wrap < 0.3:
        text = rng.choice(_GREETINGS) + " " + text
    elif wrap < 0.5:
        text = text + " " + rng.choice(_CLOSINGS)
    elif wrap < 0.6:
        text = rng.choice(_EMAIL_GREETINGS) + text + rng.choice(_EMAIL_SIGNATURES)
    return text


def _pairs(examples: Sequence[Example], count: int, rng: random.Random) -> list[Weighted]:
    """Join *count* random pairs of messages; a pair is a request when either half is."""
    if len(examples) < 2:
        return []
    rows: list[Weighted] = []
    for _ in range(count):
        first = examples[rng.randrange(len(examples))]
        second = examples[rng.randrange(len(examples))]
        separator = rng.choice((" ", ". ", "\n", " - ", "! "))
        text = first.text.rstrip() + separator + second.text.lstrip()
        rows.append(Weighted(text, max(first.label, second.label), VARIANT_WEIGHT))
    return rows


def _opens_as_question(text: str) -> bool:
    match = _LEADING_WORD.match(text.strip())
    if not match:
        return False
    word = match.group(0).lower().replace("'", "")
    return word in INTERROGATIVES or word in AUXILIARIES
