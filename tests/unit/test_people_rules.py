"""The pure rules of people (e-mail form, roles, backoff) and the people settings' checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tabadol.config import load_settings
from tabadol.domain.audit import actor_of
from tabadol.domain.errors import InvalidInput
from tabadol.domain.model import Org, Principal, PrincipalKind, Role
from tabadol.domain.people import (
    FailureCounter,
    account_key,
    address_key,
    after_failure,
    effective_role,
    lock_seconds,
    locked_for,
    normalize_email,
)

S = 1_000_000


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  Ali@Pardis.Example ", "ali@pardis.example"),
        ("ALI@EXAMPLE.ORG", "ali@example.org"),
        ("e\u0301@example.org", "\u00e9@example.org"),  # NFC
    ],
    ids=["trimmed and lower case", "upper case", "composed"],
)
def test_an_address_is_stored_in_one_form(typed: str, stored: str) -> None:
    assert normalize_email(typed) == stored


@pytest.mark.parametrize(
    "typed",
    ["", "ali", "ali@", "@example.org", "a@b@example.org", "ali@localhost", "a b@example.org",
     "ali\u200b@example.org", "ali\u202e@example.org", "x" * 250 + "@example.org"],
    ids=["empty", "no @", "no domain", "no local part", "two @", "no dot", "space",
         "zero-width space", "bidi control", "too long"],
)  # fmt: skip
def test_a_malformed_address_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput, match="e-mail address"):
        normalize_email(typed)


@pytest.mark.parametrize(
    ("token", "person", "acts"),
    [
        (Role.ADMIN, Role.READER, Role.READER),
        (Role.READER, Role.ADMIN, Role.READER),
        (Role.PUBLISHER, Role.PUBLISHER, Role.PUBLISHER),
    ],
)
def test_a_personal_token_acts_with_the_lower_role(token: Role, person: Role, acts: Role) -> None:
    assert effective_role(token, person) is acts


def test_the_backoff_doubles_from_the_threshold_up_to_fifteen_minutes() -> None:
    account, address = account_key("a@example.org", b"node secret"), address_key("192.0.2.1")
    assert [lock_seconds(account, n) for n in (4, 5, 6, 7, 14, 15, 99)] == [
        0, 1, 2, 4, 512, 900, 900,
    ]  # fmt: skip
    assert (lock_seconds(address, 19), lock_seconds(address, 20)) == (0, 1)


def test_a_counter_forgets_after_the_window_and_reports_whole_seconds() -> None:
    key = account_key("a@example.org", b"node secret")
    counter = FailureCounter(key, 5, 0, S // 2)
    assert after_failure(counter, key, 10 * S).failures == 6
    assert after_failure(counter, key, 16 * 60 * S).failures == 6  # kept for a day
    assert after_failure(counter, key, 24 * 3600 * S + 1).failures == 1
    assert locked_for(counter, 0) == 1
    assert locked_for(counter, S) == 0
    assert locked_for(None, 0) == 0


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"second_factor": "some"}, "setting second_factor: one of admins, all"),
        ({"argon2_memory_kib": "4", "argon2_parallelism": "1"}, "argon2_memory_kib"),
        ({"argon2_parallelism": "65"}, "argon2_parallelism"),
        ({"session_idle_minutes": "0"}, "session_idle_minutes"),
        ({"session_idle_minutes": "900"}, "no longer than session_absolute_hours"),
        ({"enrolment_link_hours": "soon"}, "enrolment_link_hours"),
    ],
    ids=["policy", "too little memory", "too many lanes", "zero", "idle over absolute", "text"],
)
def test_a_bad_people_setting_is_one_clear_line(
    tmp_path: Path, override: dict[str, str], message: str
) -> None:
    env = {f"TABADOL_{k.upper()}": v for k, v in override.items()}
    with pytest.raises(InvalidInput, match=message) as caught:
        load_settings(tmp_path, env)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "typed",
    [
        "ali@pardis.example/token:3",
        'a"<script>@x.example',
        "a@b.c#d",
        "a@-.x",
        "a@b..example",
        "a..b@x.example",
        ".a@x.example",
        "a/b@x.example",
        "a:b@x.example",
        "a@x.123",
        "a\ud800@x.example",
    ],
)
def test_an_address_that_could_forge_an_actor_or_read_oddly_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput):
        normalize_email(typed)


def test_a_non_ascii_domain_is_stored_in_its_idna_form() -> None:
    assert normalize_email("Ali@Bücher.example") == "ali@xn--bcher-kva.example"
    assert normalize_email("ali@xn--bcher-kva.example") == "ali@xn--bcher-kva.example"
    assert normalize_email("علی@pardis.example") == "علی@pardis.example"


def test_an_ipv6_client_counts_by_its_64_and_ipv4_by_itself() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9")
    assert address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1")
    assert address_key("192.0.2.1") != address_key("192.0.2.2")
    assert address_key("::ffff:192.0.2.1") == address_key("192.0.2.1")
    assert address_key("not an address") == "address:not an address"


def test_account_keys_depend_on_the_node_secret() -> None:
    assert account_key("a@example.org", b"one") != account_key("a@example.org", b"two")
    assert "a@example.org" not in account_key("a@example.org", b"one")


def test_an_actor_string_has_one_reading() -> None:
    org = Org(id=1, name="A/person:boss@x.example", identity_id="i", member=True, created=0)
    forged = Principal(kind=PrincipalKind.ORG, org=org, role=Role.ADMIN, person_email="m@x.io")
    assert actor_of(forged) == "org:A%2Fperson:boss@x.example/person:m@x.io"
