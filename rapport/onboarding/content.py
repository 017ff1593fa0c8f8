"""What a template version holds: milestones with their tasks, and handoff questions.

`content_clean` is the one check of that shape; the API, the web editor and the shipped
templates all go through it, so a version in the database is always well formed.
"""

import enum
import re
from collections.abc import Sequence
from typing import Any

from rapport.core.errors import InvalidInput
from rapport.onboarding.questions import Question, QuestionKind

MAX_MILESTONES = 30
MAX_TASKS = 50
MAX_QUESTIONS = 40
MAX_CHOICES = 20
MAX_DUE_DAYS = 730
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class OwnerRole(enum.StrEnum):
    """Who carries a milestone; a task without a named owner falls to this role."""

    CSM = "csm"
    AE = "ae"
    CUSTOMER = "customer"
    IMPLEMENTATION = "implementation"
    SUPPORT = "support"


class DueFrom(enum.StrEnum):
    START = "start"
    PREVIOUS = "previous"


def _text(value: Any, where: str, label: str, *, max_length: int, required: bool = True) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{label} must be text.", field=where)
    text = " ".join(value.split()) if max_length <= 300 else value.strip()
    if required and not text:
        raise InvalidInput(f"{label} needs a value.", field=where)
    if len(text) > max_length:
        raise InvalidInput(f"{label} is at most {max_length:,} characters.", field=where)
    return text


def _flag(value: Any, where: str, label: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidInput(f"{label} is true or false.", field=where)
    return value


def _list(value: Any, where: str, label: str, *, most: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(f"{label} must be a list.", field=where)
    if len(value) > most:
        raise InvalidInput(f"{label}: at most {most}.", field=where)
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput("Each entry must be an object.", field=where)
    return value


def _task_clean(raw: Any, where: str) -> dict[str, Any]:
    data = _object(raw, where)
    visible = _flag(data.get("customer_visible"), f"{where}.customer_visible", "Customer sees it")
    completable = _flag(
        data.get("customer_completable"), f"{where}.customer_completable", "Customer completes it"
    )
    return {
        "title": _text(data.get("title"), f"{where}.title", "Task title", max_length=300),
        # The customer can only check off what they can see.
        "customer_visible": visible or completable,
        "customer_completable": completable,
    }


def _milestone_clean(raw: Any, where: str) -> dict[str, Any]:
    data = _object(raw, where)
    role = data.get("owner_role") or OwnerRole.CSM
    if role not in OwnerRole.__members__.values():
        roles = ", ".join(OwnerRole)
        raise InvalidInput(f"Owner role must be one of: {roles}.", field=f"{where}.owner_role")
    due_days = data.get("due_days", 0)
    if (
        isinstance(due_days, bool)
        or not isinstance(due_days, int)
        or not 0 <= due_days <= MAX_DUE_DAYS
    ):
        raise InvalidInput(
            f"Due in days must be a whole number from 0 to {MAX_DUE_DAYS}.",
            field=f"{where}.due_days",
        )
    due_from = data.get("due_from") or DueFrom.PREVIOUS
    if due_from not in DueFrom.__members__.values():
        raise InvalidInput(
            "Due from is “start” (the plan's start) or “previous” (the previous milestone).",
            field=f"{where}.due_from",
        )
    tasks = _list(data.get("tasks"), f"{where}.tasks", "Tasks", most=MAX_TASKS)
    return {
        "name": _text(data.get("name"), f"{where}.name", "Milestone name", max_length=200),
        "description": _text(
            data.get("description"),
            f"{where}.description",
            "Description",
            max_length=2000,
            required=False,
        ),
        "owner_role": str(role),
        "due_days": due_days,
        "due_from": str(due_from),
        "tasks": [_task_clean(task, f"{where}.tasks[{i}]") for i, task in enumerate(tasks)],
    }


def _key_from(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    key = "_".join(words)[:64].strip("_") or "question"
    return key if key[0].isalpha() else f"q_{key}"[:64]


def _question_clean(raw: Any, where: str) -> dict[str, Any]:
    data = _object(raw, where)
    text = _text(data.get("text"), f"{where}.text", "Question", max_length=500)
    key = data.get("key") or _key_from(text)
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise InvalidInput(
            "A question key is lower-case letters, digits and underscores, starting with a letter.",
            field=f"{where}.key",
        )
    kind = data.get("kind") or QuestionKind.TEXT
    if kind not in QuestionKind.__members__.values():
        kinds = ", ".join(QuestionKind)
        raise InvalidInput(f"Question kind must be one of: {kinds}.", field=f"{where}.kind")
    choices = [
        _text(choice, f"{where}.choices[{i}]", "A choice", max_length=100)
        for i, choice in enumerate(
            _list(data.get("choices"), f"{where}.choices", "Choices", most=MAX_CHOICES)
        )
    ]
    if kind == QuestionKind.CHOICE and len(set(choices)) < 2:
        raise InvalidInput(
            "A multiple choice question needs two different choices or more.",
            field=f"{where}.choices",
        )
    if kind != QuestionKind.CHOICE and choices:
        raise InvalidInput("Only a multiple choice question has choices.", field=f"{where}.choices")
    return Question(
        key=key, text=text, kind=QuestionKind(kind), choices=tuple(dict.fromkeys(choices))
    ).as_json()


def content_clean(
    milestones: Any, questions: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return a template's milestones and questions cleaned, or raise InvalidInput.

    The error names the entry, such as `milestones[2].tasks[0].title`.
    """
    milestone_list = _list(milestones, "milestones", "Milestones", most=MAX_MILESTONES)
    if not milestone_list:
        raise InvalidInput("A template needs at least one milestone.", field="milestones")
    cleaned_milestones = [
        _milestone_clean(m, f"milestones[{i}]") for i, m in enumerate(milestone_list)
    ]
    cleaned_questions = [
        _question_clean(q, f"questions[{i}]")
        for i, q in enumerate(_list(questions, "questions", "Questions", most=MAX_QUESTIONS))
    ]
    seen: set[str] = set()
    for i, question in enumerate(cleaned_questions):
        if question["key"] in seen:
            raise InvalidInput(
                f"Two questions have the key “{question['key']}”; give each its own.",
                field=f"questions[{i}].key",
            )
        seen.add(question["key"])
    return cleaned_milestones, cleaned_questions


def questions_of(data: Sequence[dict[str, Any]]) -> list[Question]:
    """Return the questions a version or a plan keeps as JSON."""
    return [Question.from_json(item) for item in data]
