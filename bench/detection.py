"""Benchmark the request detector: milliseconds per message, one `detect()` call each.

The messages are the hand-written evaluation set followed by the training rows, cycled
to BENCH_DETECTION_MESSAGES (default 20000). The baseline does the least work any
per-message classifier must: lower-case the text and look each whitespace token up
in a dict. Run alone with `python -m bench.detection`; it prints one JSON object per
line, as `make bench` does.
"""

import json
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

DEFAULT_MESSAGES = 20_000


def _timings_ms(run: Callable[[str], object], texts: Sequence[str]) -> list[float]:
    clock = time.perf_counter
    timings: list[float] = []
    for text in texts:
        start = clock()
        run(text)
        timings.append((clock() - start) * 1000)
    return timings


def _baseline(vocabulary: dict[str, float]) -> Callable[[str], float]:
    get = vocabulary.get

    def run(text: str) -> float:
        total = 0.0
        for token in text.lower().split():
            total += get(token, 0.0)
        return total

    return run


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _result(name: str, value: float, baseline: float, n: int) -> dict[str, Any]:
    return {
        "name": name,
        "value": round(value, 4),
        "unit": "ms",
        "baseline": round(baseline, 4),
        "ratio": round(value / baseline, 2) if baseline else None,
        "n": n,
    }


def bench_detection(messages: int | None = None) -> list[dict[str, Any]]:
    """Time `detect()` against the bare baseline; return the mean and p99 result lines."""
    from rapport.detection.evaluate import latency_messages
    from rapport.detection.model import detect, model_load

    count = messages or int(os.environ.get("BENCH_DETECTION_MESSAGES", DEFAULT_MESSAGES))
    texts = latency_messages(count)
    model = model_load()
    baseline = _baseline(
        {key[2:]: value for key, value in model.weights.items() if key[:2] == "u:"}
    )
    for text in texts[:500]:  # warm-up: caches, branch predictors, the allocator
        detect(text)
        baseline(text)
    detected = _timings_ms(detect, texts)
    bare = _timings_ms(baseline, texts)
    return [
        _result(
            "detection.latency_per_message",
            statistics.fmean(detected),
            statistics.fmean(bare),
            len(texts),
        ),
        _result(
            "detection.latency_per_message_p99",
            _percentile(detected, 0.99),
            _percentile(bare, 0.99),
            len(texts),
        ),
    ]


def main() -> None:
    for result in bench_detection():
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
