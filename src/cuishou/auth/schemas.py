"""Auth payloads at the edge."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    role: str = Field(max_length=32)
    password: str = Field(min_length=1, max_length=200)
    display_name: str | None = Field(default=None, max_length=100)
    team: str | None = Field(default=None, max_length=100)
    agency: str | None = Field(default=None, max_length=32)


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
