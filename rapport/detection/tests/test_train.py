"""Training is reproducible: same rows, same weights, same bytes."""

import gzip
import json

from rapport.detection.augment import examples_augment
from rapport.detection.dataset import CUSTOMER_TRAIN, examples_read, examples_split
from rapport.detection.train import TrainConfig, artifact_bytes, model_fit, thresholds_choose

TINY = TrainConfig(epochs=2, min_count=1)


def _tiny_rows() -> list:
    rows = examples_read(CUSTOMER_TRAIN, source="customer")[:120]
    return examples_augment(rows, seed=7)[:600]


def test_model_fit_gives_the_same_weights_twice() -> None:
    rows = _tiny_rows()
    first = model_fit(rows, TINY)
    second = model_fit(rows, TINY)
    assert first == second
    assert first[0], "a fit on real rows has non-zero weights"


def test_examples_augment_is_reproducible() -> None:
    rows = examples_read(CUSTOMER_TRAIN, source="customer")[:50]
    assert examples_augment(rows, seed=3) == examples_augment(rows, seed=3)


def test_examples_split_is_stratified_and_fixed() -> None:
    rows = examples_read(CUSTOMER_TRAIN, source="customer")
    kept, held = examples_split(rows, fraction=0.2, seed=1)
    assert (kept, held) == examples_split(rows, fraction=0.2, seed=1)
    assert len(kept) + len(held) == len(rows)
    held_requests = sum(row.label for row in held)
    requests = sum(row.label for row in rows)
    assert abs(held_requests - round(requests * 0.2)) <= 1


def test_artifact_bytes_are_stable_and_readable() -> None:
    payload = {"format": 1, "bias": 0.1, "thresholds": {}, "weights": {"u:b": 1.0, "u:a": -1.0}}
    data = artifact_bytes(payload)
    assert data == artifact_bytes(dict(reversed(list(payload.items()))))
    assert json.loads(gzip.decompress(data)) == payload


def test_thresholds_choose_orders_the_modes() -> None:
    scores = [0.05, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]
    labels = [0, 1, 0, 0, 1, 0, 1, 1, 1, 1]
    thresholds = thresholds_choose(scores, labels)
    assert thresholds["aggressive"] == 0.2
    assert thresholds["conservative"] == 0.8
