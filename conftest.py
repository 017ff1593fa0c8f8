"""Fixtures shared by every app's tests: members, clients and API tokens."""

import pytest
from django.test import Client

from rapport.users.models import Role, User
from rapport.users.services import api_token_create, user_create

PASSWORD = "correct-horse-battery"


@pytest.fixture
def admin_user(db: None) -> User:
    return user_create(email="admin@example.test", password=PASSWORD, name="Ada Admin", role=Role.ADMIN)


@pytest.fixture
def member_user(db: None) -> User:
    return user_create(email="member@example.test", password=PASSWORD, name="Max Member")


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def member_client(member_user: User) -> Client:
    client = Client()
    client.force_login(member_user)
    return client


@pytest.fixture
def admin_token(admin_user: User) -> str:
    return api_token_create(user=admin_user)[1]


@pytest.fixture
def member_token(member_user: User) -> str:
    return api_token_create(user=member_user)[1]


@pytest.fixture
def admin_api(admin_token: str) -> Client:
    """A client that talks to the API with the admin's bearer token."""
    return Client(headers={"Authorization": f"Bearer {admin_token}"})


@pytest.fixture
def member_api(member_token: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {member_token}"})
