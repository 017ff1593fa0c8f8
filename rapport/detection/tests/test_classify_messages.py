"""The classify_messages command: one `label<TAB>score` line per input line, in order."""

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rapport.detection import detect

ROOT = Path(__file__).resolve().parents[3]


def _classify(lines: list[str], *args: str) -> list[str]:
    out = StringIO()
    call_command("classify_messages", *args, stdin=StringIO("".join(lines)), stdout=out)
    return out.getvalue().splitlines()


def test_classify_messages_prints_label_and_score_per_line_in_order() -> None:
    messages = ["can you reset my password?", "thanks!", "", "the export throws a 500"]
    output = _classify([message + "\n" for message in messages])
    assert len(output) == len(messages)
    for message, line in zip(messages, output, strict=True):
        label, score = line.split("\t")
        assert len(score.split(".")[1]) == 4
        expected = detect(message)
        assert label == ("1" if expected.is_request else "0")
        assert score == f"{expected.score:.4f}"
    assert output[0].startswith("1\t")
    assert output[1].startswith("0\t")
    assert output[2] == "0\t0.0000"


def test_classify_messages_handles_blank_lines_crlf_and_a_missing_final_newline() -> None:
    assert _classify(["   \r\n", "\n", "hello there"]) == [
        "0\t0.0000",
        "0\t0.0000",
        "0\t" + f"{detect('hello there').score:.4f}",
    ]


def test_classify_messages_conservative_mode_flags_fewer() -> None:
    lines = ["hmm, the tags filter doesn't seem to work\n"] * 3 + ["can you help?\n"]
    aggressive = _classify(lines, "--mode", "aggressive")
    conservative = _classify(lines, "--mode", "conservative")
    assert [line.split("\t")[1] for line in aggressive] == [
        line.split("\t")[1] for line in conservative
    ]
    flagged = sum(line.startswith("1") for line in aggressive)
    assert sum(line.startswith("1") for line in conservative) <= flagged


def test_classify_messages_refuses_an_unknown_mode() -> None:
    with pytest.raises(CommandError):
        _classify(["hi\n"], "--mode", "reckless")


def test_classify_messages_streams_through_a_real_pipe() -> None:
    lines = ["where is the API key?", "ok", "", "🙏"] * 250
    result = subprocess.run(
        [sys.executable, "manage.py", "classify_messages"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    output = result.stdout.splitlines()
    assert len(output) == len(lines)
    assert output[:4] == output[4:8]
    assert output[0].startswith("1\t") and output[1].startswith("0\t")
    assert output[2] == output[3] == "0\t0.0000"
