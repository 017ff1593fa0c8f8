import io
import sys
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandParser

from rapport.detection.model import model_load
from rapport.detection.modes import DetectionMode


class Command(BaseCommand):
    help = (
        "Classify messages read one per line from standard input; print `label<TAB>score` "
        "per line, in order (label 1 is a request, 0 is not; score has 4 decimals)."
    )
    # call_command(..., stdin=StringIO(...)) passes the input this way.
    stealth_options = ("stdin",)
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--mode",
            choices=DetectionMode.values,
            default=DetectionMode.AGGRESSIVE.value,
            help="aggressive favours recall, conservative favours precision (default aggressive).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        model = model_load()
        threshold = model.threshold(options["mode"])
        source: IO[str] = options.get("stdin") or io.TextIOWrapper(
            sys.stdin.buffer, encoding="utf-8", errors="replace", newline=None
        )
        # Each answer is flushed as soon as it is written, so a caller that feeds one
        # line at a time through a pipe gets its answer without waiting for the rest.
        out = self.stdout
        for line in source:
            text = line.rstrip("\r\n")
            score = model.score(text) if text.strip() else 0.0
            label = 1 if score > 0.0 and score >= threshold else 0
            out.write(f"{label}\t{score:.4f}")
            out.flush()
