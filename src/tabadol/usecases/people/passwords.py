"""Passwords: Argon2id hashes (argon2-cffi) with the node's parameters, which each hash string
records; a hash made under lower parameters is replaced at the next sign-in. An unknown
account is checked against a dummy hash so that it costs what a wrong password costs."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from tabadol.config import Settings
from tabadol.domain.errors import InvalidInput
from tabadol.domain.people import check_utf8

MIN_LENGTH = 12
MAX_LENGTH = 1024  # a longer one is refused before any hashing


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=Type.ID
    )


def hasher(settings: Settings) -> PasswordHasher:
    return _hasher(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )


@lru_cache(maxsize=4)
def _dummy(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_kib, parallelism).hash("no person has this password")


def warm_up(settings: Settings) -> None:
    """Make the dummy hash now (a server calls this at start): otherwise the first unknown
    address to sign in pays for it, and takes twice as long as a wrong password."""
    _dummy(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)


def _prepared(password: str) -> str:
    """The same password typed on any keyboard is one password (NFC)."""
    return unicodedata.normalize("NFC", password)


def check_new_password(password: str) -> str:
    """A password a person may choose: 12 to 1024 characters (length is what makes it hard
    to guess; no composition rules), valid text without NUL."""
    check_utf8("the password", password)
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"the password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"the password must have at most {MAX_LENGTH} characters")
    return password


def hash_password(settings: Settings, password: str) -> str:
    return hasher(settings).hash(_prepared(check_new_password(password)))


def verify_password(
    settings: Settings, stored: str | None, password: str
) -> tuple[bool, str | None]:
    """Whether `password` matches `stored` (None: no password, checked against the dummy
    hash all the same), and the new hash to store when the parameters have risen. A
    password that is no valid text (a lone surrogate) is a wrong one, at the same cost; a
    hash made under older parameters is padded with the dummy check (so its cheaper check
    does not tell that the account exists)."""
    ph = hasher(settings)
    dummy = _dummy(ph.time_cost, ph.memory_cost, ph.parallelism)
    if stored is None or len(password) > MAX_LENGTH or not _encodable(password):
        _verify(ph, dummy, "")
        return False, None
    old = _needs_rehash(ph, stored)
    ok = _verify(ph, stored, _prepared(password))
    if old:
        _verify(ph, dummy, "")
    if not ok:
        return False, None
    return True, ph.hash(_prepared(password)) if old else None


def _encodable(password: str) -> bool:
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _needs_rehash(ph: PasswordHasher, stored: str) -> bool:
    try:
        return ph.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return False


def _verify(ph: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return ph.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
