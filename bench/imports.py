"""Benchmark the bulk account upload: preview and confirm 100,000 rows, and the memory it takes.

`python -m bench.imports` (run by `make bench`) builds a realistic CSV of 10,000 and of
100,000 new customers, a few percent of them messy (unreadable amounts, ambiguous dates,
bad addresses, duplicates, companies Rapport knows already, some onboarding already),
and for each size runs, in a process of its own on a fresh SQLite database:

- the preview (`import_preview`: parse, look up existing accounts, store every row);
- the confirm (`import_confirm`, then `import_run` as the worker runs it): accounts,
  contacts, plans with milestones, tasks and drafted answers, handoff links, outbox
  emails and audit entries, chunk by chunk;
- the memory: the growth of the process's anonymous resident memory (`RssAnon`, sampled
  every 5 ms) over what it held once Django was set up and the file read. It counts what
  SQLite and the C parts allocate, which tracemalloc does not see, and leaves out the
  database pages SQLite maps from its file (`mmap_size`), which are the kernel's page
  cache and grow with the database, not with what the import holds.

The baseline is the bare work underneath: one `executemany` INSERT of the same CSV rows
into one plain table, in one transaction, in a process of its own (time and memory).
Environment: BENCH_IMPORT_ROWS (the large size, default 100000).
"""

import csv
import io
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
import unicodedata
from typing import Any

from bench.database import DATA_DIR, progress

VAR_DIR = DATA_DIR / "imports"
SEED = 20261206
SMALL = 10_000
COLUMNS = (
    "company_name",
    "arr",
    "close_date",
    "primary_contact_name",
    "primary_contact_email",
    "ae_email",
    "template_name",
    "industry",
    "company_size",
    "website",
    "notes",
    "primary_contact_role",
)
MESSY_SHARE = 0.03
EXISTING_SHARE = 0.02  # rows whose company Rapport has already (half of them onboarding)
NOTES_SHARE = 0.10  # rows with deal notes, which the handoff answers are drafted from
WORDS = (
    "North",
    "Blue",
    "Bright",
    "Apex",
    "Delta",
    "Summit",
    "Harbor",
    "Pine",
    "Cedar",
    "River",
    "Stone",
    "Silver",
    "Iron",
    "Maple",
    "Falcon",
    "Orbit",
    "Quantum",
    "Vector",
    "Nimbus",
    "Atlas",
    "Crest",
    "Beacon",
    "Meridian",
    "Horizon",
    "Lumen",
    "Vertex",
)
SUFFIXES = ("Logistics", "Health", "Labs", "Systems", "Foods", "Capital", "Retail", "Energy")
FIRST = ("Jane", "John", "Priya", "Kenji", "Ana", "Lars", "Fatima", "Omar", "Chloé", "Zoë")
LAST = ("Smith", "Doe", "Rao", "Tanaka", "García", "Berg", "Haddad", "Okafor", "Müller")
INDUSTRIES = ("Logistics", "Healthcare", "Software", "Retail", "Manufacturing", "")
SIZES = ("1-50", "51-500", "501-5000", "5000+", "Mid-Market", "1200", "")
TEMPLATES = ("Standard SaaS Onboarding", "enterprise", "Quick Start", "standard saas")
NOTES = (
    "Closed-won after a four-month cycle. The customer is replacing {tool}. "
    "They need SSO through Okta before launch. Go-live target is 2027-03-01. "
    "About {users} users will use it. Executive sponsor is {name}, VP Operations.",
    "Signed {users} seats. Sponsor: {name} (COO). Data migration from {tool} is in scope; "
    "no SSO needed yet. Launch before the end of the quarter.",
)


def _amount(rng: random.Random) -> str:
    value = rng.randrange(5, 2_000) * 1_000
    match rng.randrange(4):
        case 0:
            return str(value)
        case 1:
            return f"${value:,}"
        case 2:
            return f"{value / 1_000_000:.1f}M" if value >= 1_000_000 else f"{value // 1000}k"
    return f"{value}.00"


def _ascii(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()


def _row(rng: random.Random, n: int) -> dict[str, str]:
    name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIXES)} {n}"
    domain = f"company{n:06d}.example"
    person = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    website = rng.choice((f"https://www.{domain}/", domain, "", f"{domain}/about"))
    day = rng.randrange(1, 28)
    date = rng.choice((f"2026-{n % 12 + 1:02d}-{day:02d}", f"{day} Mar 2026"))
    notes = ""
    if rng.random() < NOTES_SHARE:
        notes = rng.choice(NOTES).format(
            tool=rng.choice(("Legacy Desk", "spreadsheets", "an in-house tool")),
            users=rng.randrange(10, 5000),
            name=person,
        )
    return {
        "company_name": name,
        "arr": _amount(rng),
        "close_date": date,
        "primary_contact_name": person,
        "primary_contact_email": f"{_ascii(person.split()[0])}.{n}@{domain}",
        "ae_email": f"ae{n % 40}@rapport.example",
        "template_name": rng.choice(TEMPLATES),
        "industry": rng.choice(INDUSTRIES),
        "company_size": rng.choice(SIZES),
        "website": website,
        "notes": notes,
        "primary_contact_role": rng.choice(("IT Director", "COO", "Head of Support", "")),
    }


def _messy(rng: random.Random, row: dict[str, str], n: int) -> None:
    """Spoil one cell the way real exports do."""
    match rng.randrange(6):
        case 0:
            row["arr"] = rng.choice(("lots", "-5000", "1,200k", "TBD"))
        case 1:
            row["close_date"] = rng.choice(("03/04/2026", "45678", "2026-02-30", "3/4/26"))
        case 2:
            row["primary_contact_email"] = rng.choice(("n/a", "jane at acme", ""))
        case 3:
            row["template_name"] = rng.choice(("Gold", "Standard Enterprise Plan", ""))
        case 4:
            row["website"] = f"company{max(n - 1, 0):06d}.example"  # a duplicate domain
        case _:
            row["company_name"] = ""


def csv_build(rows: int) -> tuple[bytes, list[str]]:
    """Return the CSV of *rows* customers, and the domains Rapport should know already."""
    rng = random.Random(SEED + rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    existing = []
    for n in range(rows):
        row = _row(rng, n)
        roll = rng.random()
        if roll < MESSY_SHARE:
            _messy(rng, row, n)
        elif roll < MESSY_SHARE + EXISTING_SHARE:
            existing.append(f"company{n:06d}.example")
        writer.writerow(row)
    # A spreadsheet's UTF-8 export with its byte order mark.
    return b"\xef\xbb\xbf" + out.getvalue().encode(), existing


def _rss_anon() -> int:
    """Return this process's anonymous resident memory now, in bytes.

    Anonymous memory is what the process allocated (Python objects, SQLite's page cache,
    buffers). The resident set also counts the database file's pages that SQLite maps
    (`mmap_size`), which are the kernel's page cache and grow with the file, not with
    what the import holds.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return 0


class PeakMemory:
    """Sample the anonymous resident memory every 5 ms; keep the highest seen."""

    def __init__(self) -> None:
        self.start = _rss_anon()
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss_anon())

    def growth_mb(self) -> float:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_anon())
        return max(0, self.peak - self.start) / (1024 * 1024)


def _environment(rows: int) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "rapport.settings"
    env.setdefault("RAPPORT_ENV", "development")
    env["DEBUG"] = "0"
    env.setdefault("LOG_LEVEL", "WARNING")
    env["RAPPORT_VAR_DIR"] = str(VAR_DIR / str(rows))
    env["TASKS_BACKEND"] = "django_tasks_db.DatabaseBackend"
    env.pop("DATABASE_URL", None)  # the figures are SQLite's
    env["IMPORT_BENCH_ROWS"] = str(rows)
    return env


def _seed(existing: list[str]) -> Any:
    """Migrate, ship the templates, add a member and the accounts the file will find."""
    from django.core.management import call_command

    from rapport.accounts.models import Account, AccountSource
    from rapport.onboarding.catalog import templates_ship
    from rapport.onboarding.services import onboarding_create
    from rapport.users.services import user_create

    call_command("migrate", verbosity=0, interactive=False)
    templates_ship()
    member = user_create(email="bench-member@example.com", password=None, name="Bench Member")
    half = len(existing) // 2
    Account.objects.bulk_create(
        Account(name=f"Known {domain}", primary_domain=domain, source=AccountSource.MANUAL)
        for domain in existing[:half]
    )
    for domain in existing[half:]:
        onboarding_create(
            actor=member,
            values={
                "company_name": f"Onboarding {domain}",
                "arr": "1000",
                "close_date": "2026-01-01",
                "primary_contact_name": "Known Person",
                "primary_contact_email": f"known@{domain}",
                "template": "Quick Start",
                "ae_email": "ae@rapport.example",
            },
        )
    return member


def child_rapport(rows: int) -> dict[str, Any]:
    """Preview and confirm the file of *rows* rows; return the times, memory and counts."""
    import django

    django.setup()

    from rapport.imports.services import import_confirm, import_preview, import_run
    from rapport.onboarding.models import HandoffAnswer, Plan
    from rapport.tasks.models import Task

    path = VAR_DIR / f"accounts-{rows}.csv"
    existing = json.loads(path.with_suffix(".json").read_text())
    member = _seed(existing)
    data = path.read_bytes()
    memory = PeakMemory()
    started = time.perf_counter()
    upload = import_preview(actor=member, data=data, filename=path.name)
    previewed = time.perf_counter()
    import_confirm(actor=member, upload=upload)
    upload = import_run(upload.pk)
    done = time.perf_counter()
    if upload.status != "done":
        sys.exit(f"The import ended {upload.status}: {upload.error}")
    return {
        "preview_s": previewed - started,
        "confirm_s": done - previewed,
        "memory_mb": memory.growth_mb(),
        "counts": {
            "create": upload.creates,
            "update": upload.updates,
            "skip": upload.skips,
            "error": upload.errors,
        },
        "plans": Plan.objects.count(),
        "tasks": Task.objects.count(),
        "answers_drafted": HandoffAnswer.objects.exclude(answer="").count(),
    }


def child_bare(rows: int) -> dict[str, Any]:
    """Insert the file's rows into one plain table in one transaction; time and memory."""
    import sqlite3

    path = VAR_DIR / f"accounts-{rows}.csv"
    database = VAR_DIR / f"bare-{rows}.sqlite3"
    database.unlink(missing_ok=True)
    connection = sqlite3.connect(database)
    connection.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    columns = ", ".join(f"{name} text" for name in COLUMNS)
    connection.execute(f"CREATE TABLE bare_row (id integer PRIMARY KEY, {columns})")
    data = path.read_bytes()
    memory = PeakMemory()
    started = time.perf_counter()
    records = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))[1:]
    with connection:
        connection.executemany(
            f"INSERT INTO bare_row ({', '.join(COLUMNS)}) "  # noqa: S608 - constant names
            f"VALUES ({', '.join('?' * len(COLUMNS))})",
            records,
        )
    seconds = time.perf_counter() - started
    connection.close()
    return {"seconds": seconds, "memory_mb": memory.growth_mb()}


def _line(name: str, value: float, unit: str, baseline: float, n: int) -> dict[str, Any]:
    ratio = value / baseline if baseline else 0.0
    return {
        "name": name,
        "value": round(value, 2),
        "unit": unit,
        "baseline": round(baseline, 2),
        "ratio": round(ratio, 2) if ratio >= 0.1 else float(f"{ratio:.2g}"),
        "n": n,
    }


def _child(mode: str, rows: int) -> dict[str, Any]:
    result = subprocess.run(  # noqa: S603 - this very module
        [sys.executable, "-m", "bench.imports", mode, str(rows)],
        env=_environment(rows),
        check=True,
        capture_output=True,
        text=True,
    )
    sys.stderr.write(result.stderr)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def bench_imports(large: int) -> list[dict[str, Any]]:
    """Run the benchmark for SMALL and *large* rows; return its output lines."""
    shutil.rmtree(VAR_DIR, ignore_errors=True)
    VAR_DIR.mkdir(parents=True)
    figures: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    for rows in sorted({min(SMALL, large), large}):
        data, existing = csv_build(rows)
        path = VAR_DIR / f"accounts-{rows}.csv"
        path.write_bytes(data)
        path.with_suffix(".json").write_text(json.dumps(existing))
        (VAR_DIR / str(rows) / "static").mkdir(parents=True, exist_ok=True)
        rapport = _child("rapport", rows)
        bare = _child("bare", rows)
        progress(
            f"bench: import of {rows:,} rows ({len(data) / 1e6:.1f} MB): preview "
            f"{rapport['preview_s']:.1f} s, confirm {rapport['confirm_s']:.1f} s, memory "
            f"+{rapport['memory_mb']:.0f} MB; {rapport['counts']}, {rapport['plans']:,} plans, "
            f"{rapport['tasks']:,} tasks, {rapport['answers_drafted']:,} drafted answers; "
            f"bare insert {bare['seconds']:.2f} s, +{bare['memory_mb']:.0f} MB"
        )
        figures[rows] = (rapport, bare)
    small_rapport, small_bare = figures[min(SMALL, large)]
    rapport, bare = figures[large]
    label = f"{large // 1000}k"
    return [
        _line(f"import_preview_{label}_s", rapport["preview_s"], "s", bare["seconds"], large),
        _line(f"import_confirm_{label}_s", rapport["confirm_s"], "s", bare["seconds"], large),
        _line(
            "import_memory_growth_10k_mb",
            small_rapport["memory_mb"],
            "MB",
            small_bare["memory_mb"],
            min(SMALL, large),
        ),
        _line(
            f"import_memory_growth_{label}_mb", rapport["memory_mb"], "MB", bare["memory_mb"], large
        ),
    ]


def main() -> None:
    if len(sys.argv) == 3:  # a child: one measurement, its figures on the last line
        mode, rows = sys.argv[1], int(sys.argv[2])
        os.environ.update(_environment(rows))
        result = child_rapport(rows) if mode == "rapport" else child_bare(rows)
        print(json.dumps(result), flush=True)
        return
    raw = os.environ.get("BENCH_IMPORT_ROWS", "").strip()
    large = int(raw) if raw.isdigit() and int(raw) > 0 else 100_000
    for line in bench_imports(large):
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
