"""Handoff questions: what an onboarding template asks the account executive.

A template version keeps its questions as JSON (`Question.as_json`); an account's plan
copies them, so a question is a plain value, not a row.
"""

import enum
from dataclasses import dataclass
from typing import Any


class QuestionKind(enum.StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    YES_NO = "yes_no"


YES, NO = "yes", "no"


@dataclass(frozen=True)
class Question:
    """One handoff question. *key* is stable across versions; *choices* only for CHOICE."""

    key: str
    text: str
    kind: QuestionKind = QuestionKind.TEXT
    choices: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "text": self.text,
            "kind": self.kind.value,
            "choices": list(self.choices),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Question":
        return cls(
            key=data["key"],
            text=data["text"],
            kind=QuestionKind(data.get("kind", QuestionKind.TEXT)),
            choices=tuple(data.get("choices") or ()),
        )


@dataclass(frozen=True)
class Draft:
    """A drafted answer and the sentence of the deal notes it came from ("" when none).

    A YES_NO answer is "yes" or "no"; a CHOICE answer is one of the question's choices.
    An empty answer means the notes do not say.
    """

    answer: str = ""
    citation: str = ""
