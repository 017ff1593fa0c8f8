"""Run the benchmarks: one JSON object per line on stdout, progress on stderr.

Each line is {"name", "value", "unit", "baseline", "ratio", "n"}; see docs/benchmarks.md.
Environment: BENCH_ACCOUNTS (accounts to seed, default 100000), BENCH_RUNS (measured
runs per figure, default 30), BENCH_WARMUP (unmeasured runs first, default 5); for the
ingest benchmark, BENCH_MESSAGES (default 100000) and BENCH_WORKERS (see bench/ingest.py);
for the load and fault benchmarks on a running stack, LOAD_SECONDS, LOAD_WRITERS,
LOAD_READERS, LOAD_EMAILS, FAULT_EMAILS and DB_HOLD_SECONDS (see bench/load.py, bench/faults.py).
"""

import json
import os
import platform
import subprocess
import sys
import time

from bench.database import bench_environment_configure, progress


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        value = int(raw) if raw.strip() else default
    except ValueError:
        sys.exit(f"{name}={raw!r} is not a whole number.")
    if value < 1:
        sys.exit(f"{name} must be at least 1.")
    return value


def main() -> None:
    accounts = _int_env("BENCH_ACCOUNTS", 100_000)
    runs = _int_env("BENCH_RUNS", 30)
    warmup = _int_env("BENCH_WARMUP", 5)
    bench_environment_configure()

    import django

    django.setup()

    from bench.database import bench_database_describe, bench_database_prepare
    from bench.directory import bench_directory
    from bench.seed import bench_seed, bench_seed_marker

    progress(f"bench: {bench_database_describe()}; Python {platform.python_version()}")
    if bench_database_prepare(bench_seed_marker(accounts)):
        progress(f"bench: reusing the seeded database ({accounts:,} accounts)")
    else:
        start = time.perf_counter()
        summary = bench_seed(accounts)
        progress(f"bench: seeded {summary.rows} in {time.perf_counter() - start:.1f} s")
    for result in bench_directory(runs=runs, warmup=warmup):
        print(json.dumps(result.as_json()), flush=True)

    from bench.detection import bench_detection
    from bench.request_metrics import bench_request_metrics
    from bench.requests_board import bench_board

    for line in bench_detection():
        print(json.dumps(line), flush=True)
    # The board seeds 100,000 requests into the same database; the metrics reuse them.
    for line in bench_board(runs, warmup):
        print(json.dumps(line), flush=True)
    for line in bench_request_metrics(runs=runs, warmup=warmup):
        print(json.dumps(line), flush=True)
    # The ingest benchmark has a database of its own, so it runs in a process of its own.
    subprocess.run([sys.executable, "-m", "bench.ingest"], check=True)  # noqa: S603
    subprocess.run([sys.executable, "-m", "bench.imports"], check=True)  # noqa: S603
    # Load and faults on a real stack (`manage.py runstack`, as `make run` starts it).
    subprocess.run([sys.executable, "-m", "bench.load"], check=True)  # noqa: S603
    subprocess.run([sys.executable, "-m", "bench.faults"], check=True)  # noqa: S603


if __name__ == "__main__":
    main()
