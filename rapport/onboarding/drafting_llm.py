"""Draft handoff answers with the optional language model, held to the offline rules.

The model gets the questions and the deal notes and answers JSON; an answer counts only
if it cites a sentence that is in the notes word for word, and a yes/no or multiple
choice answer only if it is one of the allowed values. Anything else is dropped, so the
offline draft stands.
"""

import json
from collections.abc import Sequence

from rapport.integrations.llm.client import llm_chat_json
from rapport.onboarding.questions import NO, YES, Draft, Question, QuestionKind

SYSTEM = (
    "You prepare the handoff of a newly signed customer from sales to customer success. "
    "Answer each question only from the deal notes. For each question key, give "
    '{"answer": ..., "citation": ...} where citation is one sentence copied word for word '
    "from the notes that supports the answer. When the notes do not say, give an empty "
    'answer and an empty citation. Yes/no questions are answered "yes" or "no"; '
    "multiple choice questions with one of their choices exactly. Answer with one JSON "
    'object: {"answers": {"<key>": {"answer": "...", "citation": "..."}}}.'
)


def _prompt(questions: Sequence[Question], notes: str) -> str:
    asked = [
        {"key": q.key, "question": q.text, "kind": q.kind.value, "choices": list(q.choices)}
        for q in questions
    ]
    return f"Questions:\n{json.dumps(asked, indent=1)}\n\nDeal notes:\n{notes}"


def _valid(question: Question, answer: str, citation: str, notes: str) -> bool:
    if not answer or not citation or citation not in notes:
        return False
    if question.kind == QuestionKind.YES_NO:
        return answer in (YES, NO)
    if question.kind == QuestionKind.CHOICE:
        return answer in question.choices
    return len(answer) <= 2000


def answers_draft_llm(
    questions: Sequence[Question], notes: str, *, timeout: float
) -> dict[str, Draft]:
    """Return the model's drafts that pass the checks, by question key.

    Raise OutsideUnavailable or OutsideRefused when the model cannot answer.
    """
    answered = llm_chat_json(SYSTEM, _prompt(questions, notes), timeout=timeout).get("answers")
    if not isinstance(answered, dict):
        return {}
    drafts: dict[str, Draft] = {}
    for question in questions:
        item = answered.get(question.key)
        if not isinstance(item, dict):
            continue
        answer = str(item.get("answer") or "").strip()
        citation = str(item.get("citation") or "").strip()
        if question.kind == QuestionKind.YES_NO:
            answer = answer.lower()
        if _valid(question, answer, citation, notes):
            drafts[question.key] = Draft(answer=answer, citation=citation)
    return drafts
