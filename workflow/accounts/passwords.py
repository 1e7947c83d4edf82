"""Passwords: the 等保 level 2 rule, argon2 hashes, one-time initial passwords."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from workflow.errors import InvalidInput

MIN_LENGTH = 8
_HASHER = PasswordHasher()  # argon2id, the library's defaults (RFC 9106 low-memory profile)
_CLASSES = (
    ("大写字母", str.isupper),
    ("小写字母", str.islower),
    ("数字", str.isdigit),
    ("符号", lambda c: not c.isalnum() and not c.isspace()),
)
# a hash for names that do not exist: verifying against it costs the same as a real one
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))


def check_strength(password: str, name: str = "") -> None:
    """Refuse a password shorter than 8 characters, with fewer than 3 of the 4 kinds of
    character (upper, lower, digit, symbol), or containing the account's name."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"密码太短：至少 {MIN_LENGTH} 位（现为 {len(password)} 位）")
    kinds = [label for label, test in _CLASSES if any(test(c) for c in password)]
    if len(kinds) < 3:
        raise InvalidInput("密码太简单：须包含大写字母、小写字母、数字、符号中的至少三类")
    if name and name.lower() in password.lower():
        raise InvalidInput("密码不能包含账号名")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (always spends one verification)."""
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def initial_password() -> str:
    """A random password the office hands over once (16 characters, all four kinds)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        body = "".join(secrets.choice(alphabet) for _ in range(13))
        candidate = f"{body[:6]}-{body[6:]}!"
        kinds = (str.isupper, str.islower, str.isdigit)
        if all(any(test(c) for c in candidate) for test in kinds):
            return candidate
