"""Load the labelled messages the request detector learns from and is judged on.

Two kinds of rows: the public corpora in the shared training set (`train.csv`, outside
the repository because of its share-alike license), and the customer-success messages
written for Rapport in `data/` (source `customer`). The hand-written evaluation set,
`data/customer_eval.csv`, is never trained on.
"""

import csv
import os
import random
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
CUSTOMER_TRAIN = DATA_DIR / "customer_train.csv"
CUSTOMER_EVAL = DATA_DIR / "customer_eval.csv"
CUSTOMER_SOURCE = "customer"
# The shared data sits beside the repository checkout (`shared/` next to `main/`).
PUBLIC_TRAIN = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "request_detection" / "train.csv"
)


@dataclass(frozen=True)
class Example:
    """One labelled message: label 1 is a request, 0 is not."""

    text: str
    label: int
    source: str


def public_train_path() -> Path:
    """Return the shared training CSV, which RAPPORT_DETECTION_DATA may point elsewhere."""
    override = os.environ.get("RAPPORT_DETECTION_DATA", "").strip()
    return Path(override) if override else PUBLIC_TRAIN


def examples_read(path: Path, *, source: str | None = None) -> list[Example]:
    """Read a `text,label[,source]` CSV; *source* names rows whose file has no source column."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Example(
                text=row["text"],
                label=int(row["label"]),
                source=source or row["source"],
            )
            for row in csv.DictReader(handle)
        ]


def examples_training() -> list[Example]:
    """Return every row the detector may train on: the public corpora, then Rapport's own."""
    path = public_train_path()
    if not path.exists():
        raise FileNotFoundError(
            f"The shared request-detection data is missing at {path}; "
            "set RAPPORT_DETECTION_DATA to its train.csv."
        )
    return examples_read(path) + examples_read(CUSTOMER_TRAIN, source=CUSTOMER_SOURCE)


def examples_evaluation() -> list[Example]:
    """Return the hand-written customer-conversation evaluation set."""
    return examples_read(CUSTOMER_EVAL, source=CUSTOMER_SOURCE)


def examples_split(
    examples: Iterable[Example], *, fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """Split off *fraction* of each (source, label) group, in a fixed random order.

    Return (kept, held), both in the input order, so a fixed seed gives the same split.
    """
    rows = list(examples)
    groups: dict[tuple[str, int], list[int]] = {}
    for index, example in enumerate(rows):
        groups.setdefault((example.source, example.label), []).append(index)
    rng = random.Random(seed)  # noqa: S311 (reproducible sampling, not secrets)
    held: set[int] = set()
    for key in sorted(groups):
        indexes = groups[key]
        rng.shuffle(indexes)
        held.update(indexes[: round(len(indexes) * fraction)])
    kept = [example for index, example in enumerate(rows) if index not in held]
    return kept, [example for index, example in enumerate(rows) if index in held]
