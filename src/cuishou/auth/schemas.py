"""Auth payloads at the edge."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from cuishou.auth.rules import MAX_PASSWORD_LENGTH, MAX_USERNAME_LENGTH
from cuishou.kit.text import Text


class LoginIn(BaseModel):
    """The OAuth2 password form (``application/x-www-form-urlencoded``)."""

    username: str = Field(min_length=1, max_length=MAX_USERNAME_LENGTH)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    grant_type: str | None = Field(default=None, pattern="^password$")


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class UserIn(BaseModel):
    username: Text = Field(min_length=2, max_length=MAX_USERNAME_LENGTH)
    role: Text = Field(max_length=32)
    password: Text = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    display_name: Text | None = Field(default=None, max_length=100)
    team: Text | None = Field(default=None, max_length=100)
    agency: Text | None = Field(default=None, max_length=32)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str
    team: str | None
    agency: str | None
    active: bool


class UserList(BaseModel):
    items: list[UserOut]


class TeamIn(BaseModel):
    name: Text = Field(min_length=1, max_length=100)
    agency: Text | None = Field(default=None, max_length=32)


class TeamOut(BaseModel):
    id: int
    name: str
    agency: str | None
    members: int
    leads: list[str]


class TeamList(BaseModel):
    items: list[TeamOut]
