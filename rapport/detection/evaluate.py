"""Measure the committed request detector and write the figures into docs/detection.md.

`python -m rapport.detection.evaluate` reports, for the artifact in the repository:
precision, recall and F1 on the held-aside split (overall and per source), a
leave-one-source-out run (each source scored by a model fitted without it), the
hand-written customer-conversation evaluation set in both modes, and the latency per
message. The figures replace the block between the markers in docs/detection.md; the
prose around them is left alone.
"""

import argparse
import contextlib
import csv
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rapport.detection.augment import examples_augment
from rapport.detection.dataset import (
    CUSTOMER_EVAL,
    Example,
    examples_evaluation,
    examples_training,
)
from rapport.detection.model import DetectorModel, detect, model_load
from rapport.detection.modes import DetectionMode
from rapport.detection.train import SEED, TrainConfig, model_fit, training_examples

DOC = Path(__file__).resolve().parents[2] / "docs" / "detection.md"
START = "<!-- figures:start (written by python -m rapport.detection.evaluate) -->"
END = "<!-- figures:end -->"
LATENCY_MESSAGES = 20_000
ERRORS_SHOWN = 20


@dataclass(frozen=True)
class Scores:
    """Confusion counts of one set of predictions, with the usual ratios."""

    true_positives: int
    false_positives: int
    true_negatives: int
    false_negatives: int

    @property
    def count(self) -> int:
        return (
            self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
        )

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 0.0

    @property
    def recall(self) -> float:
        requests = self.true_positives + self.false_negatives
        return self.true_positives / requests if requests else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def accuracy(self) -> float:
        return (self.true_positives + self.true_negatives) / self.count if self.count else 0.0

    @property
    def false_positive_rate(self) -> float:
        others = self.false_positives + self.true_negatives
        return self.false_positives / others if others else 0.0


def scores_count(predicted: Iterable[bool], labels: Iterable[int]) -> Scores:
    """Count the confusion matrix of *predicted* against *labels*."""
    tp = fp = tn = fn = 0
    for guess, label in zip(predicted, labels, strict=True):
        if guess and label:
            tp += 1
        elif guess:
            fp += 1
        elif label:
            fn += 1
        else:
            tn += 1
    return Scores(tp, fp, tn, fn)


def _row(name: str, scores: Scores) -> str:
    if scores.true_positives + scores.false_negatives == 0:
        return (
            f"| {name} | {scores.count:,} | n/a | n/a | n/a | {scores.accuracy:.3f} "
            f"| {scores.false_positive_rate:.3f} |"
        )
    return (
        f"| {name} | {scores.count:,} | {scores.precision:.3f} | {scores.recall:.3f} "
        f"| {scores.f1:.3f} | {scores.accuracy:.3f} | {scores.false_positive_rate:.3f} |"
    )


_HEADER = (
    "| {first} | rows | precision | recall | F1 | accuracy | false-positive rate |\n"
    "|---|---:|---:|---:|---:|---:|---:|"
)


def _table(
    first: str,
    groups: Sequence[tuple[str, Sequence[Example]]],
    score: Callable[[str], float],
    threshold: float,
) -> list[str]:
    lines = [_HEADER.format(first=first)]
    for name, rows in groups:
        predicted = [score(row.text) >= threshold for row in rows]
        lines.append(_row(name, scores_count(predicted, [row.label for row in rows])))
    return lines


def _by_source(rows: Sequence[Example]) -> list[tuple[str, list[Example]]]:
    sources = sorted({row.source for row in rows})
    return [("**all**", list(rows))] + [
        (source, [row for row in rows if row.source == source]) for source in sources
    ]


def section_held_aside(model: DetectorModel) -> list[str]:
    """Report the artifact on the rows held aside from its training."""
    _, held = training_examples()
    cache = {row.text: model.score(row.text) for row in held}
    lines = [
        "### Held-aside split",
        "",
        f"15% of every (source, label) group, seed {SEED}, never trained on: {len(held):,} rows. "
        "`sgd_system` has only label 0, so precision, recall and F1 do not apply to it; "
        "read its accuracy and false-positive rate.",
        "",
    ]
    for mode in DetectionMode:
        threshold = model.threshold(mode)
        lines += [f"**{mode.value}** (threshold {threshold:.4f})", ""]
        lines += _table("source", _by_source(held), cache.__getitem__, threshold)
        lines.append("")
    return lines


def section_leave_one_source_out(model: DetectorModel, config: TrainConfig) -> list[str]:
    """Fit without each source in turn and score that source, at the artifact's thresholds."""
    rows = examples_training()
    sources = sorted({row.source for row in rows})
    results: dict[str, dict[str, Scores]] = {}
    for source in sources:
        kept = [row for row in rows if row.source != source]
        tested = [row for row in rows if row.source == source]
        start = time.perf_counter()
        weights, bias = model_fit(examples_augment(kept, seed=config.seed), config)
        probe = DetectorModel(weights, bias, model.thresholds, {})
        scores = [probe.score(row.text) for row in tested]
        labels = [row.label for row in tested]
        results[source] = {
            mode.value: scores_count([s >= model.threshold(mode) for s in scores], labels)
            for mode in DetectionMode
        }
        print(
            f"leave-one-source-out: {source} in {time.perf_counter() - start:.0f} s",
            file=sys.stderr,
        )
    lines = [
        "### Leave one source out",
        "",
        "Each source is scored by a model fitted on every other source (all their rows, "
        "including the written customer rows unless `customer` is the one left out; the "
        "composed messages of `synthetic.py` are always in), with the artifact's thresholds.",
        "",
    ]
    for mode in DetectionMode:
        lines += [f"**{mode.value}**", "", _HEADER.format(first="left-out source")]
        for source in sources:
            lines.append(_row(source, results[source][mode.value]))
        lines.append("")
    return lines


def section_evaluation_set(model: DetectorModel) -> list[str]:
    """Report the hand-written customer-conversation set, never trained on."""
    rows = examples_evaluation()
    channels = _channels()
    cache = {row.text: model.score(row.text) for row in rows}
    groups: list[tuple[str, Sequence[Example]]] = [("**all**", rows)]
    for channel in ("slack", "email", "chat"):
        groups.append((channel, [row for row in rows if channels.get(row.text) == channel]))
    requests = sum(row.label for row in rows)
    lines = [
        "### Hand-written customer-conversation evaluation set",
        "",
        f"`rapport/detection/data/customer_eval.csv`: {len(rows)} messages "
        f"({requests} requests, {len(rows) - requests} not), written apart from the "
        "training rows and never trained on.",
        "",
    ]
    for mode in DetectionMode:
        threshold = model.threshold(mode)
        lines += [f"**{mode.value}** (threshold {threshold:.4f})", ""]
        lines += _table("channel", groups, cache.__getitem__, threshold)
        lines.append("")
    threshold = model.threshold(DetectionMode.AGGRESSIVE)
    wrong = [row for row in rows if (cache[row.text] >= threshold) != bool(row.label)]
    wrong.sort(key=lambda row: abs(cache[row.text] - threshold), reverse=True)
    lines += [
        f"Misclassified in aggressive mode ({len(wrong)}; the {min(len(wrong), ERRORS_SHOWN)} "
        "furthest from the threshold):",
        "",
        "| label | score | message |",
        "|---:|---:|---|",
    ]
    for row in wrong[:ERRORS_SHOWN]:
        text = row.text.replace("\n", " ⏎ ").replace("|", "\\|")
        if len(text) > 90:
            text = text[:87] + "..."
        lines.append(f"| {row.label} | {cache[row.text]:.3f} | {text} |")
    lines.append("")
    return lines


def latency_messages(count: int = LATENCY_MESSAGES) -> list[str]:
    """Return *count* messages for timing: the evaluation set, then training rows, cycled."""
    texts = [row.text for row in examples_evaluation()]
    # Without the shared corpora (a bare checkout), the evaluation set alone is timed.
    with contextlib.suppress(FileNotFoundError):
        texts += [row.text for row in examples_training()]
    return [texts[index % len(texts)] for index in range(count)]


def latency_measure(texts: Sequence[str]) -> dict[str, float]:
    """Time one `detect` call per message: wall-clock mean and p99, and CPU-time p99.

    The CPU time leaves out the moments the process was descheduled, which on a
    shared two-core machine is most of the wall-clock tail.
    """
    detect("warm up")
    wall: list[float] = []
    cpu: list[float] = []
    clock, cpu_clock = time.perf_counter, time.thread_time
    for text in texts:
        start, cpu_start = clock(), cpu_clock()
        detect(text)
        cpu.append((cpu_clock() - cpu_start) * 1000)
        wall.append((clock() - start) * 1000)
    wall.sort()
    cpu.sort()
    p99 = int(len(texts) * 0.99)
    return {
        "mean": statistics.fmean(wall),
        "p50": wall[len(wall) // 2],
        "p99": wall[p99],
        "cpu_mean": statistics.fmean(cpu),
        "cpu_p99": cpu[p99],
    }


def section_latency() -> list[str]:
    """Time single-message calls on this machine."""
    start = time.perf_counter()
    model_load.cache_clear()
    model_load()
    load_ms = (time.perf_counter() - start) * 1000
    texts = latency_messages()
    load_average = os.getloadavg()[0]
    timing = latency_measure(texts)
    return [
        "### Latency",
        "",
        f"{len(texts):,} single-message `detect()` calls (the evaluation set and training "
        f"rows, cycled), {os.cpu_count()} cores, Python {platform.python_version()}, load "
        f"average {load_average:.1f} at the start: **mean {timing['mean']:.3f} ms, p99 "
        f"{timing['p99']:.3f} ms** per message wall-clock (median {timing['p50']:.3f} ms); "
        f"CPU time mean {timing['cpu_mean']:.3f} ms, p99 {timing['cpu_p99']:.3f} ms. "
        f"Loading the artifact, once per process, takes {load_ms:.0f} ms.",
        "",
    ]


def report_build(*, leave_one_out: bool = True) -> str:
    """Return the generated figures as Markdown."""
    model = model_load()
    config = TrainConfig(**model.metadata.get("config", {}))
    lines = [START, ""]
    lines += [
        f"Artifact: {len(model.weights):,} weighted features; thresholds aggressive "
        f"{model.threshold(DetectionMode.AGGRESSIVE):.4f}, conservative "
        f"{model.threshold(DetectionMode.CONSERVATIVE):.4f}.",
        "",
    ]
    lines += section_evaluation_set(model)
    lines += section_held_aside(model)
    if leave_one_out:
        lines += section_leave_one_source_out(model, config)
    lines += section_latency()
    lines.append(END)
    return "\n".join(lines)


def doc_update(doc: Path, figures: str) -> None:
    """Replace the figures block of *doc*, or append one when it has none."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else ""
    if START in text and END in text:
        head, _, rest = text.partition(START)
        _, _, tail = rest.partition(END)
        text = head + figures + tail
    else:
        text = text.rstrip("\n") + "\n\n" + figures + "\n"
    doc.write_text(text, encoding="utf-8")


def _channels() -> dict[str, str]:
    with CUSTOMER_EVAL.open(newline="", encoding="utf-8") as handle:
        return {row["text"]: row["channel"] for row in csv.DictReader(handle)}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--doc", type=Path, default=DOC, help="Markdown file to update.")
    parser.add_argument(
        "--no-leave-one-out", action="store_true", help="Skip the slow leave-one-source-out run."
    )
    parser.add_argument("--print", action="store_true", help="Print instead of writing the doc.")
    args = parser.parse_args(argv)
    figures = report_build(leave_one_out=not args.no_leave_one_out)
    if args.print:
        print(figures)
    else:
        doc_update(args.doc, figures)
        print(f"Updated {args.doc}", file=sys.stderr)


if __name__ == "__main__":
    main()
