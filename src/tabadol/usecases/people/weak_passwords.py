"""Passwords refused although long enough: the person's own address, and the commonest
passwords of 12 characters or more.

No small, maintained package on PyPI ships a list of common passwords (the lists there are
attack wordlists or whole strength estimators), so the node keeps a short one: the entries
of twelve characters or more near the top of the published lists of leaked passwords, and
their obvious neighbours. Length is what makes a password hard to guess; this list only stops
the guesses an attacker tries first.
"""

from __future__ import annotations

import unicodedata

from tabadol.domain.errors import InvalidInput

COMMON = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123456123456",
        "1234512345",
        "111111111111",
        "000000000000",
        "123123123123",
        "098765432109",
        "qwertyuiop12",
        "qwertyuiopas",
        "qwertyuiopasdf",
        "qwertyuiopasdfgh",
        "qwerty123456",
        "123456qwerty",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "asdfghjkl123",
        "asdfghjklzxc",
        "zxcvbnm12345",
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "password123!",
        "passw0rd1234",
        "p@ssw0rd1234",
        "p@ssword1234",
        "iloveyou1234",
        "princess1234",
        "sunshine1234",
        "football1234",
        "baseball1234",
        "welcome12345",
        "welcome123456",
        "letmein12345",
        "changeme1234",
        "administrator",
        "administrator1",
        "adminadmin123",
        "abcdefghijkl",
        "abcdefgh1234",
        "abc123abc123",
        "aaaaaaaaaaaa",
        "monkey123456",
        "dragon123456",
        "superman1234",
        "trustno1trustno1",
        "correcthorsebatterystaple",
    }
)


def _folded(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


def check_choice(password: str, email: str) -> None:
    """InvalidInput when the password is the person's address (or its part before the @)
    or one of the commonest passwords."""
    folded = _folded(password)
    address = _folded(email)
    if folded in {address, address.split("@", 1)[0]}:
        raise InvalidInput("the password must not be your e-mail address")
    if folded in COMMON:
        raise InvalidInput("this password is one of the most common: choose another")
