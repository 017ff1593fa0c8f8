"""Fuzz the JSON API from its own OpenAPI schema: no input may make it answer 5xx.

Every status an operation answers must be one its OpenAPI document lists, and every
answer must match the schema published for its status. The run has two phases: each
operation alone, then scenarios of linked calls (the stateful phase).

Schemathesis generates valid and invalid requests for every operation in
/api/v1/openapi.json and sends them through the WSGI application in-process, so the
requests hit the test database. The run is bounded (a few dozen examples per operation).
A failure prints a curl command that reproduces it.
"""

from typing import Any

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from conftest import PASSWORD
from rapport.accounts.models import Account
from rapport.accounts.tests.factories import make_account, make_channel, make_field
from rapport.users.models import Role, User
from rapport.users.services import api_token_create, user_create
from rapport.wsgi import application

# Raw emails for POST /api/v1/inbound/email: random bytes, and messages built from
# generated headers and bodies, so both garbage and plausible mail reach the parser.
_plausible_email = st.builds(
    lambda sender, subject, body: (
        f"From: {sender}\r\nSubject: {subject}\r\nMessage-ID: <{abs(hash(body))}@fuzz>\r\n"
        f"\r\n{body}"
    ).encode("utf-8", "surrogatepass"),
    st.sampled_from(["ann@acme.example", "x@gmail.com", "<>", "bad", "=?utf-8?q?=C3?= <a@b.co>"]),
    st.text(max_size=60),
    st.text(max_size=400),
)
schemathesis.openapi.media_type(
    "message/rfc822", st.one_of(st.binary(max_size=2000), _plausible_email)
)
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
# The budget: the whole module runs in well under a minute on two cores.
EXAMPLES = 25
STATEFUL_SCENARIOS = 20
schema.config.generation.update(max_examples=EXAMPLES)
# No server error, every status documented, every answer shaped as documented.
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture
def workspace(admin_user: User, member_user: User) -> list[Account]:
    return workspace_build(member_user)


def workspace_build(member: User) -> list[Account]:
    """A few accounts, fields and channels, so generated ids and filters can hit real rows."""
    make_field("seats", type="number")
    make_field("renewal", type="date")
    make_field("tier", type="choice", choices=["Gold", "Silver"])
    make_field("plan", source="crm")
    accounts = [
        make_account(
            domain=None if i == 0 else "",
            owner=member if i % 2 else None,
            crm_id=str(i) if i % 2 else None,
            fields={"seats": i, "tier": "Gold"},
            contacts=1,
        )
        for i in range(1, 5)
    ]
    make_channel("support", accounts=accounts[:2])
    return accounts


# Transactional: the real WSGI handler closes the connection at the end of each request,
# which a test wrapped in one transaction would not survive on PostgreSQL.
@pytest.mark.django_db(transaction=True)
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_request_makes_the_api_fail(
    case: schemathesis.Case, admin_token: str, workspace: list[Account], media_root: object
) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)


# The stateful phase: schemathesis links operations by their schemas (an account listed
# or created gives the id that GET/PATCH/DELETE /accounts/{account_id} take, and so on)
# and runs short scenarios of linked calls.
StatefulBase = schema.as_state_machine()


@pytest.mark.django_db(transaction=True)
def test_no_sequence_of_calls_makes_the_api_fail(media_root: object) -> None:
    class Scenario(StatefulBase):  # type: ignore[misc,valid-type]
        def setup(self) -> None:
            # Every scenario starts from the same workspace, with ids from 1 again: what
            # Hypothesis draws next depends on earlier answers, so a scenario must not see
            # what the one before it left behind.
            call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
            admin = user_create(email="admin@example.test", password=PASSWORD, role=Role.ADMIN)
            member = user_create(email="member@example.test", password=PASSWORD)
            workspace_build(member)
            self.token = api_token_create(user=admin)[1]

        def before_call(self, case: schemathesis.Case) -> None:
            case.headers["Authorization"] = f"Bearer {self.token}"

        def validate_response(self, response: Any, case: schemathesis.Case, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    Scenario.run(
        settings=settings(
            Scenario.TestCase.settings,
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            deadline=None,
        )
    )


def test_every_api_schema_has_a_name_of_its_own() -> None:
    """Two schemas with one class name share one OpenAPI component, and one answer is
    then documented (and validated) with the other's fields."""
    import collections

    from ninja import Schema

    import rapport.api  # noqa: F401 - registers every router and its schemas

    def subclasses(cls: type) -> list[type]:
        found: list[type] = []
        direct: list[type] = cls.__subclasses__()
        for sub in direct:
            found.append(sub)
            found.extend(subclasses(sub))
        return found

    names = collections.Counter(
        cls.__name__ for cls in subclasses(Schema) if cls.__module__.startswith("rapport.")
    )
    assert [name for name, count in names.items() if count > 1] == []
