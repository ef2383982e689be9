"""Password hashing with argon2id (argon2-cffi) and opaque bearer tokens."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
#: verified against when the username does not exist, so both paths cost the same
_DUMMY_HASH = _HASHER.hash("not-a-password-of-anyone")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; a missing hash still spends one verification."""
    try:
        return _HASHER.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Only the SHA-256 of a token is stored; a leaked table grants nothing."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
