"""Load the trained request detector and score messages with it.

The artifact, `model.json.gz`, is written by `python -m rapport.detection.train`. It
holds one weight per feature, a bias, and a threshold per mode. It is read once per
process, on first use.
"""

import gzip
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from rapport.detection.features import message_sentences, sentences_features
from rapport.detection.modes import DetectionMode

ARTIFACT = Path(__file__).resolve().parent / "model.json.gz"
ARTIFACT_FORMAT = 1
# Longer text is cut: what a message asks for is near its top (quoted history and
# signatures come below), and the cut bounds the time one message can take.
MAX_CHARS = 5000


@dataclass(frozen=True)
class Detection:
    """The verdict on one message: whether it is a request, and the model's probability."""

    is_request: bool
    score: float


@dataclass(frozen=True)
class DetectorModel:
    """A logistic-regression model over the features of `features.py`."""

    weights: Mapping[str, float]
    bias: float
    thresholds: Mapping[str, float]
    metadata: Mapping[str, Any]

    def score(self, text: str) -> float:
        """Return the probability that *text* is a request; 0.0 when it has no words.

        A message of several sentences is a request when any one of them asks for
        something, however much context surrounds it, so the score is the mean of the
        whole message's probability and the highest of it and its sentences'.
        """
        sentences = message_sentences(text[:MAX_CHARS])
        if not sentences:
            return 0.0
        whole = self.probability_of(sentences_features(sentences))
        if len(sentences) == 1:
            return whole
        best = max(self.probability_of(sentences_features([sentence])) for sentence in sentences)
        return (whole + max(whole, best)) / 2

    def probability_of(self, features: Iterable[str]) -> float:
        """Return the model's probability for one bag of features."""
        get = self.weights.get
        total = self.bias
        for feature in features:
            total += get(feature, 0.0)
        return probability(total)

    def threshold(self, mode: str) -> float:
        """Return the score at or above which *mode* calls a message a request."""
        try:
            return self.thresholds[DetectionMode(mode).value]
        except ValueError:
            choices = ", ".join(DetectionMode.values)
            raise ValueError(f"Unknown detection mode {mode!r}; use one of {choices}.") from None

    def detect(self, text: str, mode: str = DetectionMode.AGGRESSIVE) -> Detection:
        """Decide whether *text* is a request under *mode*."""
        threshold = self.threshold(mode)
        score = self.score(text)
        return Detection(is_request=score > 0.0 and score >= threshold, score=score)


def probability(total: float) -> float:
    """Return the logistic function of *total*, without overflow for large magnitudes."""
    if total >= 0:
        return 1.0 / (1.0 + math.exp(-total))
    exp = math.exp(total)
    return exp / (1.0 + exp)


def model_from_json(payload: Mapping[str, Any]) -> DetectorModel:
    """Build a model from the artifact's JSON document, refusing other formats."""
    if payload.get("format") != ARTIFACT_FORMAT:
        raise ValueError(f"Unsupported detector artifact format {payload.get('format')!r}.")
    thresholds = {mode: float(payload["thresholds"][mode]) for mode in DetectionMode.values}
    return DetectorModel(
        weights={str(key): float(value) for key, value in payload["weights"].items()},
        bias=float(payload["bias"]),
        thresholds=thresholds,
        metadata=payload.get("metadata", {}),
    )


def model_read(path: Path) -> DetectorModel:
    """Read a detector artifact from *path*."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return model_from_json(json.load(handle))


@lru_cache(maxsize=1)
def model_load() -> DetectorModel:
    """Return the committed detector, read once per process."""
    return model_read(ARTIFACT)


def detect(text: str, mode: str = DetectionMode.AGGRESSIVE) -> Detection:
    """Decide whether the customer message *text* is a request (a question or an ask)."""
    return model_load().detect(text, mode)


def detect_many(texts: Iterable[str], mode: str = DetectionMode.AGGRESSIVE) -> list[Detection]:
    """Decide each of *texts*, in order, under one mode."""
    model = model_load()
    threshold = model.threshold(mode)
    detections: list[Detection] = []
    for text in texts:
        score = model.score(text)
        detections.append(Detection(is_request=score > 0.0 and score >= threshold, score=score))
    return detections
