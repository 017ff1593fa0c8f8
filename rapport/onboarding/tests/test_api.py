"""The onboarding API, as a client uses it with a token."""

from typing import Any

import pytest
from django.test import Client

from rapport.accounts.models import Account
from rapport.accounts.tests.kit import error_of, send
from rapport.onboarding.catalog import templates_ship
from rapport.onboarding.tests.factories import DEAL_NOTES, make_onboarding
from rapport.outbox.models import OutboxItem
from rapport.users.models import User

pytestmark = pytest.mark.django_db
BASE = "/api/v1/onboarding"


def _new(**overrides: Any) -> dict[str, Any]:
    body = {
        "company_name": "Acme Corp",
        "arr": 50000,
        "close_date": "2026-11-20",
        "primary_contact_name": "Jane Smith",
        "primary_contact_email": "jane@acme.example",
        "template": "Enterprise Implementation",
        "ae_email": "ae@rapport.example",
        "industry": "Manufacturing",
        "company_size": "501-5000",
        "website": "https://www.acme.example",
        "notes": "Signed at the offsite.",
        "raw_payload": DEAL_NOTES,
    }
    body.update(overrides)
    return body


def test_creating_an_onboarding_answers_201_with_its_plan(admin_api: Client) -> None:
    templates_ship()
    response = send(admin_api, "post", f"{BASE}/accounts", _new())
    assert response.status_code == 201, response.content
    body = response.json()
    account = Account.objects.get()
    assert (body["id"], body["status"], body["company_name"]) == (
        account.pk,
        "pending_handoff",
        "Acme Corp",
    )
    assert account.primary_domain == "acme.example" and account.company_size == "501-5000"
    assert body["template"]["name"] == "Enterprise Implementation"
    assert [m["name"] for m in body["milestones"]][:2] == [
        "Kickoff and discovery",
        "Security and compliance",
    ]
    assert body["progress"] == {"done": 0, "total": body["progress"]["total"], "percent": 0}
    drafted = [a for a in body["answers"] if a["answer"]]
    assert drafted and all(a["citation"] in DEAL_NOTES for a in drafted)
    assert send(admin_api, "get", f"{BASE}/accounts/{account.pk}").json() == body
    assert OutboxItem.objects.filter(payload__to=["ae@rapport.example"]).count() == 1


def test_bad_onboardings_get_clear_4xx_and_change_nothing(admin_api: Client) -> None:
    templates_ship()
    assert "ARR must be a number" in error_of(
        send(admin_api, "post", f"{BASE}/accounts", _new(arr="lots")), 400
    )
    message = error_of(send(admin_api, "post", f"{BASE}/accounts", _new(template="Nope")), 404)
    assert "Nope" in message
    missing = _new()
    del missing["ae_email"]
    assert error_of(send(admin_api, "post", f"{BASE}/accounts", missing), 400)
    assert not Account.objects.exists()
    assert send(admin_api, "post", f"{BASE}/accounts", _new()).status_code == 201
    message = error_of(send(admin_api, "post", f"{BASE}/accounts", _new()), 409)
    assert "onboarding plan already" in message
    assert error_of(send(admin_api, "get", f"{BASE}/accounts/999999"), 404)


def test_templates_are_listed_created_and_edited_into_new_versions(admin_api: Client) -> None:
    templates_ship()
    listed = send(admin_api, "get", f"{BASE}/templates").json()
    assert listed["count"] == 3
    made = send(
        admin_api,
        "post",
        f"{BASE}/templates",
        {
            "name": "Pilot",
            "milestones": [
                {"name": "Pilot setup", "due_days": 3, "tasks": [{"title": "Set up"}]},
                {"name": "Review", "due_days": 14, "due_from": "start", "tasks": []},
            ],
            "questions": [
                {"text": "Pilot length?", "kind": "choice", "choices": ["2 weeks", "4 weeks"]}
            ],
        },
    )
    assert made.status_code == 201, made.content
    template = made.json()
    assert (template["version"], template["questions"][0]["key"]) == (1, "pilot_length")
    plan = make_onboarding(template="pilot")
    patched = send(
        admin_api,
        "patch",
        f"{BASE}/templates/{template['id']}",
        {"milestones": [{"name": "Pilot setup", "due_days": 5, "tasks": [{"title": "Set up"}]}]},
    )
    assert patched.json()["version"] == 2
    version = send(admin_api, "get", f"{BASE}/templates/{template['id']}/versions/2").json()
    assert "Removed the milestone “Review”." in version["changes"]
    assert "“Pilot setup”: due in days changed from 3 to 5." in version["changes"]
    got = send(admin_api, "get", f"{BASE}/accounts/{plan.account_id}").json()
    assert [m["name"] for m in got["milestones"]] == ["Pilot setup", "Review"]  # unchanged
    bad = send(
        admin_api,
        "post",
        f"{BASE}/templates",
        {"name": "Broken", "milestones": [{"name": "", "tasks": []}]},
    )
    assert "Milestone name needs a value." in error_of(bad, 400)
    assert error_of(
        send(
            admin_api, "post", f"{BASE}/templates", {"name": "pilot", "milestones": [{"name": "x"}]}
        ),
        409,
    )


def test_status_csm_and_tasks_through_the_api(admin_api: Client, admin_user: User) -> None:
    plan = make_onboarding(admin_user)
    url = f"{BASE}/accounts/{plan.account_id}"
    body = send(
        admin_api, "post", f"{url}/status", {"status": "at_risk", "note": "Slipping"}
    ).json()
    assert body["status"] == "at_risk"
    assert error_of(send(admin_api, "post", f"{url}/status", {"status": "onboarding"}), 400)
    cleo = User.objects.create_user("cleo@rapport.example", name="Cleo", is_csm=True)
    body = send(admin_api, "post", f"{url}/csm", {"csm_id": cleo.pk}).json()
    assert body["csm"]["email"] == "cleo@rapport.example"
    task_id = body["milestones"][0]["tasks"][0]["id"]
    done = send(admin_api, "post", f"/api/v1/tasks/{task_id}/complete").json()
    assert done == {"id": task_id, "status": "done", "completed_by": admin_user.display_name}
    listed = send(admin_api, "get", f"{BASE}/accounts").json()
    assert listed["count"] == 1 and listed["counts"]["at_risk"] == 1
    assert listed["items"][0]["progress"]["done"] == 1
