"""A template's milestones and questions as plain text, for the web editor.

Milestones: a line `# Name | owner role | due in days | from` starts a milestone (`from`
is `start` or `previous`, the default), a `> text` line under it describes it, each
`- Task` line adds a task, `- [customer] Task` one the customer sees and completes, and
`- [visible] Task` one the customer sees only. Questions: one a line,
`kind: text`, where kind is text, long_text, yes_no or choice, and a choice question
ends with `| first, second, ...`. A question keeps its key across versions while its
text stays the same. `content.content_clean` checks the result as for the API.
"""

from typing import Any

from rapport.core.errors import InvalidInput
from rapport.onboarding.content import DueFrom, OwnerRole
from rapport.onboarding.questions import QuestionKind

CUSTOMER = "[customer]"
VISIBLE = "[visible]"


def milestones_text(milestones: list[dict[str, Any]]) -> str:
    """Return *milestones* as the editor shows them."""
    lines: list[str] = []
    for milestone in milestones:
        lines.append(
            f"# {milestone['name']} | {milestone['owner_role']} | {milestone['due_days']}"
            f" | {milestone['due_from']}"
        )
        lines += [f"> {line}" for line in milestone["description"].splitlines() if line.strip()]
        for task in milestone["tasks"]:
            mark = ""
            if task["customer_completable"]:
                mark = f"{CUSTOMER} "
            elif task["customer_visible"]:
                mark = f"{VISIBLE} "
            lines.append(f"- {mark}{task['title']}")
        lines.append("")
    return "\n".join(lines).strip() + "\n"


def questions_text(questions: list[dict[str, Any]]) -> str:
    """Return *questions* as the editor shows them."""
    lines = []
    for question in questions:
        line = f"{question['kind']}: {question['text']}"
        if question["kind"] == QuestionKind.CHOICE:
            line += " | " + ", ".join(question["choices"])
        lines.append(line)
    return "\n".join(lines) + ("\n" if lines else "")


def milestones_parse(text: str) -> list[dict[str, Any]]:
    """Return the milestones written in *text*; raise InvalidInput naming the line."""
    milestones: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            parts = [part.strip() for part in line.lstrip("#").split("|")]
            if len(parts) > 4:
                raise InvalidInput(
                    f"Line {number}: a milestone is “# Name | owner role | due in days | from”.",
                    field="milestones",
                )
            name, role, days, due_from = (parts + ["", "", "", ""])[:4]
            if days and not days.isdigit():
                raise InvalidInput(
                    f"Line {number}: “{days}” is no number of days.", field="milestones"
                )
            milestones.append(
                {
                    "name": name,
                    "owner_role": role or OwnerRole.CSM,
                    "due_days": int(days) if days else 0,
                    "due_from": due_from or DueFrom.PREVIOUS,
                    "description": "",
                    "tasks": [],
                }
            )
        elif line.startswith(">") and milestones:
            described = milestones[-1]["description"]
            milestones[-1]["description"] = f"{described}\n{line[1:].strip()}".strip()
        elif line.startswith("-"):
            if not milestones:
                raise InvalidInput(
                    f"Line {number}: a task comes under a milestone (a line starting with #).",
                    field="milestones",
                )
            title = line[1:].strip()
            customer = title.lower().startswith(CUSTOMER)
            visible = customer or title.lower().startswith(VISIBLE)
            if visible:
                title = title.split("]", 1)[1].strip()
            milestones[-1]["tasks"].append(
                {"title": title, "customer_visible": visible, "customer_completable": customer}
            )
        else:
            raise InvalidInput(
                f"Line {number}: start a milestone with # and a task with -.", field="milestones"
            )
    return milestones


def questions_parse(text: str, previous: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the questions written in *text*; one whose text is unchanged keeps its key."""
    keys = {question["text"]: question["key"] for question in previous}
    questions: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        kind, sep, rest = line.partition(":")
        kind = kind.strip().lower().replace(" ", "_").replace("-", "_")
        if not sep or kind not in QuestionKind.__members__.values():
            kinds = ", ".join(QuestionKind)
            raise InvalidInput(
                f"Line {number}: start a question with its kind ({kinds}) and a colon.",
                field="questions",
            )
        question_text, _, choices = (
            rest.partition("|") if kind == QuestionKind.CHOICE else (rest, "", "")
        )
        question_text = question_text.strip()
        question: dict[str, Any] = {"text": question_text, "kind": kind}
        if question_text in keys:
            question["key"] = keys[question_text]
        if kind == QuestionKind.CHOICE:
            question["choices"] = [c.strip() for c in choices.split(",") if c.strip()]
        questions.append(question)
    return questions
