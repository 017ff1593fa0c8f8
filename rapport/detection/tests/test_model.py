"""The committed detector: loading, clear cases in both modes, modes and determinism."""

import pytest

from rapport.detection import Detection, DetectionMode, detect, detect_many
from rapport.detection.model import ARTIFACT, model_load, model_read

# Messages whose label no reader would dispute. Requests marked "clear" are also
# expected in conservative mode; every non-request is a non-request in both modes.
REQUESTS = [
    ("Hey team, our SSO login is failing since this morning, can someone take a look?", True),
    ("Can you send me a copy of last month's invoice?", True),
    ("How do I add a new user to our workspace?", True),
    ("<@U024BE7LH> could you check why the sync is failing? :pray:", True),
    ("Could you please reset the 2FA for jane@acme.io?", True),
    ("What's the ETA on the fix?", True),
    ("Is there a way to export all contacts to CSV?", True),
    ("Hi,\n\nCan you please update our billing address?\n\nThanks,\nMaria", True),
    ("the export button throws a 500 for us", False),
    ("we can't log in", False),
    ("I lost access to my admin account", False),
    ("Any update on the invoice issue?", False),
    ("we need to add 3 more seats", False),
    ("dashboard is blank again :disappointed:", False),
    ("<https://app.example.com/r/1|This report> shows the wrong totals, can you check?", False),
    ("Getting this when I export:\n```KeyError: 'account_id'```\nany idea?", False),
    ("Please add sarah@initech.com as an admin", False),
    ("our webhooks stopped firing after the update", False),
    ("i cant log in to my account", False),
    (
        "Hello,\n\nWe were charged twice this month. Please refund one charge.\n\nBest,\nTom",
        False,
    ),
]
NON_REQUESTS = [
    "thanks, that fixed it!",
    "great, appreciate it 🙏",
    "FYI we're rolling out to the EU team next week",
    "Good morning!",
    "ok will do",
    "lol",
    "👍",
    ":tada: :tada:",
    "Thanks so much <@U0482KD>, really appreciate the quick turnaround",
    "sounds good to me",
    "Have a great weekend!",
    "no worries",
    "got it, thanks",
    "works now, thanks!",
    "Hi Sam,\n\nThank you for the quick resolution, everything works now.\n\nBest regards,\nMaria",
    "I'll check with my team and get back to you",
    "yes, that's correct",
    "Welcome to the channel <@U0AAA>!",
    "haha nice",
    "> Could you try again now?\n\nWorks now, thank you!",
]


@pytest.mark.parametrize(("text", "clear"), REQUESTS)
def test_detect_flags_requests(text: str, clear: bool) -> None:
    assert detect(text).is_request
    assert detect(text, DetectionMode.AGGRESSIVE).is_request
    if clear:
        assert detect(text, DetectionMode.CONSERVATIVE).is_request


@pytest.mark.parametrize("text", NON_REQUESTS)
def test_detect_passes_over_non_requests_in_both_modes(text: str) -> None:
    for mode in DetectionMode:
        assert not detect(text, mode).is_request, mode


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "🙏🙏", ":thumbsup: :tada:", "<@U0123>"])
def test_detect_calls_wordless_text_no_request_with_zero_score(text: str) -> None:
    assert detect(text) == Detection(is_request=False, score=0.0)


def test_artifact_loads_once_with_thresholds_for_every_mode() -> None:
    model = model_load()
    assert model_load() is model
    assert len(model.weights) > 1000
    assert set(model.thresholds) == set(DetectionMode.values)
    assert ARTIFACT.stat().st_size < 2 * 1024 * 1024


def test_conservative_threshold_is_not_below_aggressive() -> None:
    model = model_load()
    assert model.threshold("conservative") >= model.threshold("aggressive")


def test_conservative_flags_a_subset_of_aggressive() -> None:
    texts = [text for text, _ in REQUESTS] + NON_REQUESTS
    aggressive = detect_many(texts, DetectionMode.AGGRESSIVE)
    conservative = detect_many(texts, DetectionMode.CONSERVATIVE)
    for loose, strict in zip(aggressive, conservative, strict=True):
        assert loose.score == strict.score
        assert loose.is_request or not strict.is_request


def test_detect_is_deterministic_and_matches_detect_many() -> None:
    texts = [text for text, _ in REQUESTS] + NON_REQUESTS
    first = [detect(text) for text in texts]
    fresh = model_read(ARTIFACT)
    assert [fresh.detect(text) for text in texts] == first
    assert detect_many(texts) == first


def test_detect_scores_are_probabilities() -> None:
    for text, _ in REQUESTS:
        assert 0.0 <= detect(text).score <= 1.0


def test_detect_rejects_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="Unknown detection mode"):
        detect("can you help?", "reckless")


def test_detect_bounds_the_work_on_a_huge_message() -> None:
    text = "Can you check the export? " + "We had a long week here. " * 20_000
    detection = detect(text)
    assert detection.is_request
    assert detection == detect(text[:5000])
