"""Train the request detector and write `model.json.gz`: `make train-detector`.

Pure Python, no third-party packages: logistic regression over sparse binary features,
fitted by Adagrad with L2 shrinkage, with every random choice drawn from one seeded
generator and no set of strings ever iterated, so the same data gives the same bytes.

Steps: hold 15% of every (source, label) group aside for the report; choose each mode's
threshold on out-of-fold scores of the customer rows among the other 85%; then fit on
the whole 85% and store that model with those thresholds. `evaluate.py` reports on the
held rows.
"""

import argparse
import gzip
import io
import json
import math
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rapport.detection.augment import Weighted, examples_augment
from rapport.detection.dataset import (
    CUSTOMER_SOURCE,
    Example,
    examples_split,
    examples_training,
)
from rapport.detection.features import features_extract
from rapport.detection.model import ARTIFACT, ARTIFACT_FORMAT, DetectorModel, model_from_json

SEED = 20240611
HELD_ASIDE = 0.15
THRESHOLD_FOLDS = 4
AGGRESSIVE_RECALL = 0.97
CONSERVATIVE_PRECISION = 0.97


@dataclass(frozen=True)
class TrainConfig:
    """The knobs of one fit; the defaults are what the committed artifact used."""

    epochs: int = 4
    learning_rate: float = 0.2
    l2: float = 3e-4
    char_scale: float = 0.1
    min_count: int = 2
    digits: int = 4
    seed: int = SEED


def model_fit(rows: Sequence[Weighted], config: TrainConfig) -> tuple[dict[str, float], float]:
    """Fit logistic regression to *rows*; return the non-zero weights and the bias.

    Features seen in fewer than `min_count` rows are left out: they cannot generalise,
    and they would only make the artifact larger.
    """
    featurized = [features_extract(row.text) for row in rows]
    counts: dict[str, int] = {}
    for features in featurized:
        for name in features:
            counts[name] = counts.get(name, 0) + 1
    index: dict[str, int] = {}
    for name, count in counts.items():
        if count >= config.min_count:
            index[name] = len(index)
    vectors = [[index[f] for f in features if f in index] for features in featurized]
    # Character n-grams are many per word and mostly echo the word itself; a smaller
    # value keeps them from outvoting the word and signal features.
    values = [config.char_scale if name.startswith("c:") else 1.0 for name in index]
    weights = [0.0] * len(index)
    squares = [1e-8] * len(index)
    bias, bias_square = 0.0, 1e-8
    rate, l2 = config.learning_rate, config.l2
    order = list(range(len(rows)))
    rng = random.Random(config.seed)  # noqa: S311 (reproducible sampling, not secrets)
    for _ in range(config.epochs):
        rng.shuffle(order)
        for position in order:
            vector = vectors[position]
            total = bias
            for feature in vector:
                total += weights[feature] * values[feature]
            total = max(-30.0, min(30.0, total))
            row = rows[position]
            gradient = (1.0 / (1.0 + math.exp(-total)) - row.label) * row.weight
            bias_square += gradient * gradient
            bias -= rate * gradient / math.sqrt(bias_square)
            for feature in vector:
                step = gradient * values[feature] + l2 * weights[feature]
                squares[feature] += step * step
                weights[feature] -= rate * step / math.sqrt(squares[feature])
    names = list(index)
    kept = {
        names[feature]: round(weight * values[feature], config.digits)
        for feature, weight in enumerate(weights)
        if round(weight * values[feature], config.digits) != 0.0
    }
    return dict(sorted(kept.items())), round(bias, config.digits)


def thresholds_choose(scores: Sequence[float], labels: Sequence[int]) -> dict[str, float]:
    """Choose each mode's threshold from validation scores.

    Aggressive: the highest threshold that still finds AGGRESSIVE_RECALL of the
    requests. Conservative: the lowest threshold whose precision reaches
    CONSERVATIVE_PRECISION, never below the aggressive one.
    """
    positives = sorted(score for score, label in zip(scores, labels, strict=True) if label)
    missed = math.floor(len(positives) * (1 - AGGRESSIVE_RECALL))
    aggressive = positives[missed] if positives else 0.5
    ranked = sorted(zip(scores, labels, strict=True), reverse=True)
    conservative = 0.5
    true_positives = 0
    for rank, (score, label) in enumerate(ranked, start=1):
        true_positives += label
        if true_positives / rank >= CONSERVATIVE_PRECISION:
            conservative = score
    conservative = max(conservative, aggressive)
    return {"aggressive": round(aggressive, 4), "conservative": round(conservative, 4)}


def detector_train(
    examples: Sequence[Example], config: TrainConfig
) -> tuple[DetectorModel, dict[str, Any]]:
    """Fit the detector on *examples*, with thresholds chosen on out-of-fold scores.

    The thresholds come from the customer rows only: the public corpora are easy to
    separate, and thresholds tuned on them would mean little for customer chat. Each
    customer row is scored by a model fitted without it (THRESHOLD_FOLDS folds).
    """
    scores, labels = out_of_fold_scores(examples, config)
    thresholds = thresholds_choose(scores, labels)
    weights, bias = model_fit(examples_augment(examples, seed=config.seed), config)
    payload: dict[str, Any] = {
        "format": ARTIFACT_FORMAT,
        "bias": bias,
        "thresholds": thresholds,
        "metadata": {
            "config": asdict(config),
            "rows": _counts(examples),
            "threshold_rows": len(scores),
            "features": len(weights),
        },
        "weights": weights,
    }
    return model_from_json(payload), payload


def out_of_fold_scores(
    examples: Sequence[Example], config: TrainConfig
) -> tuple[list[float], list[int]]:
    """Score every customer row with a model fitted on all rows but its fold."""
    customer = [index for index, row in enumerate(examples) if row.source == CUSTOMER_SOURCE]
    random.Random(config.seed).shuffle(customer)  # noqa: S311 (reproducible folds)
    scores: list[float] = []
    labels: list[int] = []
    for fold in range(THRESHOLD_FOLDS):
        held = set(customer[fold::THRESHOLD_FOLDS])
        kept = [row for index, row in enumerate(examples) if index not in held]
        weights, bias = model_fit(examples_augment(kept, seed=config.seed + fold), config)
        probe = DetectorModel(weights, bias, {}, {})
        for index in sorted(held):
            scores.append(probe.score(examples[index].text))
            labels.append(examples[index].label)
    return scores, labels


def artifact_bytes(payload: dict[str, Any]) -> bytes:
    """Serialise *payload* the same way every time: sorted keys, no gzip timestamp."""
    document = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as gz:
        gz.write(document.encode("utf-8"))
    return buffer.getvalue()


def training_examples(seed: int = SEED) -> tuple[list[Example], list[Example]]:
    """Return (training rows, held-aside rows) of the full data set."""
    return examples_split(examples_training(), fraction=HELD_ASIDE, seed=seed)


def _counts(examples: Sequence[Example]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for example in examples:
        by_label = counts.setdefault(example.source, {"0": 0, "1": 0})
        by_label[str(example.label)] += 1
    return dict(sorted(counts.items()))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ARTIFACT, help="Where to write the model.")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    train, held = training_examples()
    model, payload = detector_train(train, TrainConfig())
    data = artifact_bytes(payload)
    args.out.write_bytes(data)
    print(
        f"Wrote {args.out} ({len(data) / 1024:.0f} KiB, {len(model.weights):,} features, "
        f"thresholds {dict(model.thresholds)}) from {len(train):,} rows "
        f"({len(held):,} held aside) in {time.perf_counter() - start:.0f} s.",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
