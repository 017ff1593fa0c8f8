"""Drafting handoff answers with a language model, against a local fake of its API."""

import datetime
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from rapport.onboarding.models import AnswerSource, HandoffAnswer
from rapport.onboarding.services import handoff_llm_draft
from rapport.onboarding.tests.factories import DEAL_NOTES, make_onboarding
from rapport.outbox.models import OutboxItem

pytestmark = pytest.mark.django_db


class FakeModel:
    """A chat completions endpoint that answers what a test sets, and records the calls."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.status = 200
        self.answers: dict[str, dict[str, str]] = {}


@pytest.fixture
def fake_model(settings: Any) -> Iterator[FakeModel]:
    model = FakeModel()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            body = json.loads(self.rfile.read(length))
            model.calls.append(
                {"path": self.path, "auth": self.headers.get("Authorization"), "body": body}
            )
            if model.status != 200:
                self.send_response(model.status)
                self.end_headers()
                return
            content = json.dumps({"answers": model.answers})
            answer = json.dumps(
                {"choices": [{"message": {"role": "assistant", "content": content}}]}
            )
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.DRAFTING_LLM_URL = f"http://127.0.0.1:{server.server_address[1]}/v1"
    settings.DRAFTING_LLM_KEY = "sk-test"
    settings.DRAFTING_LLM_MODEL = "drafting-model"
    settings.DRAFTING_LLM_WAIT_SECONDS = 60
    yield model
    server.shutdown()


def _ae_email() -> OutboxItem:
    return OutboxItem.objects.get(key__startswith="handoff:")


def test_the_model_drafts_cited_answers_and_then_the_ae_email_goes(
    fake_model: FakeModel, django_capture_on_commit_callbacks: Any
) -> None:
    fake_model.answers = {
        "go_live_date": {"answer": "2027-03-01", "citation": "Go-live target is 2027-03-01."},
        # Not in the notes word for word: dropped, the offline draft stays.
        "number_of_users": {"answer": "500", "citation": "They will have 500 users."},
        # Not one of the allowed answers: dropped.
        "sso_required": {
            "answer": "probably",
            "citation": "They need SSO through Okta before launch.",
        },
    }
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        plan = make_onboarding()
    # The creation made no call: the model is asked after the commit, by the worker.
    assert fake_model.calls == []
    assert len(callbacks) >= 1
    waiting = _ae_email()
    assert waiting.available_at > timezone.now() + datetime.timedelta(seconds=30)
    offline = {a.key: a.answer for a in HandoffAnswer.objects.filter(plan=plan)}

    assert handoff_llm_draft(plan.pk) == 1
    [call] = fake_model.calls
    assert call["path"] == "/v1/chat/completions" and call["auth"] == "Bearer sk-test"
    assert call["body"]["model"] == "drafting-model"
    assert DEAL_NOTES in call["body"]["messages"][1]["content"]
    answers = {a.key: a for a in HandoffAnswer.objects.filter(plan=plan)}
    assert (answers["go_live_date"].source, answers["go_live_date"].citation) == (
        AnswerSource.LLM,
        "Go-live target is 2027-03-01.",
    )
    assert answers["number_of_users"].answer == offline["number_of_users"]
    assert answers["number_of_users"].source != AnswerSource.LLM
    assert _ae_email().available_at <= timezone.now()


def test_when_the_model_fails_the_email_goes_at_once_with_the_offline_answers(
    fake_model: FakeModel,
) -> None:
    fake_model.status = 503
    plan = make_onboarding()
    before = {a.key: (a.answer, a.source) for a in HandoffAnswer.objects.filter(plan=plan)}
    assert handoff_llm_draft(plan.pk) == 0
    after = {a.key: (a.answer, a.source) for a in HandoffAnswer.objects.filter(plan=plan)}
    assert after == before
    assert _ae_email().available_at <= timezone.now()


def test_an_answer_the_ae_already_changed_is_not_replaced(fake_model: FakeModel) -> None:
    from rapport.onboarding.services import handoff_answers_save

    fake_model.answers = {
        "go_live_date": {"answer": "2027-03-01", "citation": "Go-live target is 2027-03-01."}
    }
    plan = make_onboarding()
    handoff_answers_save(plan=plan, answers={"go_live_date": "2027-05-01"})
    assert handoff_llm_draft(plan.pk) == 0
    assert HandoffAnswer.objects.get(plan=plan, key="go_live_date").answer == "2027-05-01"


def test_without_a_model_the_ae_email_goes_at_once(settings: Any) -> None:
    settings.DRAFTING_LLM_URL = ""
    make_onboarding()
    assert _ae_email().available_at <= timezone.now()
