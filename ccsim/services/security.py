"""Passwords and session tokens.

Argon2id (argon2-cffi) has no 72-byte limit, so a 128-character Chinese
passphrase (384 UTF-8 bytes) hashes whole. Passwords are NFC-normalised first
so the same text typed on different input methods verifies. Session tokens are
256 random bits; only their SHA-256 is stored, so a database leak yields no
usable token.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_CHARS = 8
#: Generous upper bound: long passphrases are welcome, megabyte bodies are not.
MAX_PASSWORD_CHARS = 1024


class PasswordPolicyError(ValueError):
    """The password is too short, too long or contains control characters."""


def normalize_password(password: str) -> str:
    """NFC-normalise and check length (in characters, not bytes) and content."""
    text = unicodedata.normalize("NFC", password)
    if len(text) < MIN_PASSWORD_CHARS:
        raise PasswordPolicyError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    if len(text) > MAX_PASSWORD_CHARS:
        raise PasswordPolicyError(f"password must have at most {MAX_PASSWORD_CHARS} characters")
    if "\x00" in text:
        raise PasswordPolicyError("password must not contain NUL")
    return text


@dataclass(frozen=True, slots=True)
class Hasher:
    """Argon2id with tunable cost (tests lower it; production keeps the defaults)."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4

    def _ph(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_cost_kib,
            parallelism=self.parallelism,
        )

    def hash(self, password: str) -> str:
        return self._ph().hash(normalize_password(password))

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            text = normalize_password(password)
        except PasswordPolicyError:
            return False
        try:
            return self._ph().verify(stored_hash, text)
        except (VerificationError, InvalidHashError):
            return False

    def burn(self, password: str) -> None:
        """Spend one hash's time so unknown users answer as slowly as known ones."""
        self._ph().hash(password[:MAX_PASSWORD_CHARS] or "x")


def new_token() -> str:
    """An opaque session token: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database stores for a token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
