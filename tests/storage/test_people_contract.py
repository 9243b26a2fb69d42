"""The people role of the storage contract, on SQLite and on PostgreSQL: persons, links,
sessions, failure counters, passkeys, personal tokens — and each write with its audit entry
in its own transaction."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tabadol.domain.audit import AuditEvent
from tabadol.domain.errors import Conflict
from tabadol.domain.model import Role
from tabadol.domain.people import (
    Factor,
    LinkPurpose,
    PersonStatus,
    SessionStage,
    account_key,
    address_key,
)
from tabadol.storage.contract import NewLink, NewPasskey, NewSession, Redemption, Store

from .test_storage_contract import BACKENDS, T0, setup_orgs


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A store on this test's database, SQLite or PostgreSQL."""
    opened = BACKENDS[request.param](tmp_path)()
    yield opened
    opened.close()


S = 1_000_000  # a second, in µs


def _link(secret: bytes = b"link", purpose: LinkPurpose = LinkPurpose.ENROL) -> NewLink:
    return NewLink(purpose, secret, T0 + 3600 * S)


def _session(secret: bytes, stage: SessionStage = SessionStage.COMPLETE) -> NewSession:
    return NewSession(secret, T0 + 3600 * S, "192.0.2.1", "test agent", stage, Factor.PASSWORD)


def _actions(store: Store) -> list[str]:
    return [e.action for e in store.audit_entries(limit=1000)]


def _person(store: Store, email: str = "ali@pardis.example", role: Role = Role.PUBLISHER) -> int:
    (org,) = setup_orgs(store, f"Org of {email}")
    person, _ = store.create_person(org, email, "Ali", role, T0, _link(email.encode()))
    return person.id


def test_a_person_is_created_with_their_link_and_found_by_id_email_and_org(store: Store) -> None:
    """An invited person and their enrolment link come in one write with its audit entry;
    the person is found by id, address and org, and shows no secret, only what is set."""
    (org,) = setup_orgs(store, "Pardis")
    event = AuditEvent("person.invite", "operator")
    person, link = store.create_person(
        org, "ali@pardis.example", "Ali", Role.ADMIN, T0, _link(), audit=[event]
    )
    assert (person.status, person.role, person.has_password, person.passkey_count) == (
        PersonStatus.INVITED,
        Role.ADMIN,
        False,
        0,
    )
    assert (link.purpose, link.person_id, link.used) == (LinkPurpose.ENROL, person.id, None)
    assert store.person_by_id(person.id) == person
    assert store.person_by_email("ali@pardis.example") == person
    assert store.list_people(org) == [person]
    assert store.link_by_secret(b"link") == (link, person)
    assert _actions(store) == ["person.invite"]


def test_an_email_address_names_one_person_on_the_node(store: Store) -> None:
    """A second person with a taken address, even in another org, is a Conflict that
    leaves nothing behind (no audit entry either)."""
    a, b = setup_orgs(store, "A", "B")
    store.create_person(a, "x@example.org", "", Role.READER, T0, _link(b"1"))
    with pytest.raises(Conflict):
        store.create_person(
            b, "x@example.org", "", Role.READER, T0, _link(b"2"), audit=[AuditEvent("x", "y")]
        )
    assert store.list_people(b) == []
    assert store.link_by_secret(b"2") is None
    assert _actions(store) == []


def test_a_link_redeems_once_before_it_expires(store: Store) -> None:
    """Redeeming sets the password and makes the person active; the same link again, or a
    link past its expiry, changes nothing."""
    person_id = _person(store)
    link, _ = store.link_by_secret(b"ali@pardis.example") or (None, None)
    assert link is not None
    done = store.redeem_link(
        link.id, T0 + S, Redemption("hash-1", b"wrapped"), audit=[AuditEvent("person.enrol", "p")]
    )
    assert done is True
    person = store.person_by_id(person_id)
    assert person is not None
    assert (person.status, person.has_password, person.totp_enabled) == (
        PersonStatus.ACTIVE,
        True,
        True,
    )
    assert store.redeem_link(link.id, T0 + 2 * S, Redemption("hash-2")) is False
    secrets = store.person_secrets(person_id)
    assert secrets is not None
    assert secrets.password_hash == "hash-1"
    late = store.add_link(person_id, NewLink(LinkPurpose.RESET, b"late", T0 + 10 * S), T0 + 3 * S)
    assert store.redeem_link(late.id, T0 + 10 * S, Redemption("hash-3")) is False
    assert _actions(store) == ["person.enrol"]


def test_a_newer_link_replaces_the_unused_ones(store: Store) -> None:
    """Only the newest unused link of a person exists; a used one stays on record."""
    person_id = _person(store)
    store.add_link(person_id, _link(b"second", LinkPurpose.RESET), T0 + S)
    assert store.link_by_secret(b"ali@pardis.example") is None
    found = store.link_by_secret(b"second")
    assert found is not None
    assert found[0].purpose is LinkPurpose.RESET


def test_redeeming_with_a_passkey_registers_it_and_ends_sessions(store: Store) -> None:
    """A passkey given at redemption is stored in the same write; sessions of the person
    end there (a reset)."""
    person_id = _person(store)
    session = store.create_session(person_id, _session(b"s1"), T0)
    link, _ = store.link_by_secret(b"ali@pardis.example") or (None, None)
    assert link is not None
    passkey = NewPasskey(b"cred-1", b"public", 3, "laptop")
    assert store.redeem_link(link.id, T0 + S, Redemption("h", passkey=passkey))
    (stored,) = store.passkeys_of(person_id)
    assert (stored.credential_id, stored.public_key, stored.sign_count) == (b"cred-1", b"public", 3)
    assert store.passkey_by_credential(b"cred-1") == stored
    ended = store.session_by_id(session.id)
    assert ended is not None
    assert ended.revoked == T0 + S
    person = store.person_by_id(person_id)
    assert person is not None
    assert person.passkey_count == 1


def test_session_bearer_is_the_session_its_person_org_and_groups(store: Store) -> None:
    """One look-up gives the session, its person (role as now), the org and its groups."""
    a, b = setup_orgs(store, "A", "B")
    group = store.create_group("g-uuid", "AB", a, T0)
    store.set_group_member(group.id, b, False)
    person, _ = store.create_person(b, "b@example.org", "B", Role.READER, T0, _link())
    session = store.create_session(person.id, _session(b"sess"), T0, audit=[AuditEvent("s", "p")])
    bearer = store.session_bearer(b"sess")
    assert bearer is not None
    assert (bearer.session, bearer.person, bearer.org, bearer.group_ids) == (
        session,
        person,
        store.org_by_id(b),
        frozenset({group.id}),
    )
    store.set_person_role(person.id, Role.PUBLISHER, T0 + S)
    changed = store.session_bearer(b"sess")
    assert changed is not None
    assert changed.person.role is Role.PUBLISHER
    assert store.session_bearer(b"other") is None


def test_sessions_are_touched_listed_and_revoked(store: Store) -> None:
    """last_seen moves forward only; revoking one or all counts the live ones it ended."""
    person_id = _person(store)
    one = store.create_session(person_id, _session(b"1"), T0)
    two = store.create_session(person_id, _session(b"2"), T0)
    store.touch_session(one.id, T0 + 90 * S)
    store.touch_session(one.id, T0 + 10 * S)
    touched = store.session_by_id(one.id)
    assert touched is not None
    assert touched.last_seen == T0 + 90 * S
    assert [s.id for s in store.list_sessions(person_id)] == [one.id, two.id]
    event = AuditEvent("person.session.revoke", "p")
    assert store.revoke_sessions(person_id, T0 + S, session_id=one.id, audit=[event]) == 1
    assert store.revoke_sessions(person_id, T0 + S, session_id=one.id, audit=[event]) == 0
    assert store.revoke_sessions(person_id, T0 + 2 * S) == 1
    assert all(s.revoked is not None for s in store.list_sessions(person_id))
    assert _actions(store) == ["person.session.revoke"]


def test_completing_a_session_takes_each_totp_step_once(store: Store) -> None:
    """A pending session is replaced by a complete one with a new secret; a TOTP step
    already accepted (or an older one) refuses the completion and changes nothing."""
    person_id = _person(store)
    first = store.create_session(person_id, _session(b"p1", SessionStage.SECOND_FACTOR), T0)
    new = _session(b"c1")
    done = store.complete_session(first.id, new, T0 + S, totp_step=100)
    assert done is not None
    assert done.stage is SessionStage.COMPLETE
    assert store.session_bearer(b"c1") is not None
    old = store.session_by_id(first.id)
    assert old is not None
    assert old.revoked == T0 + S
    assert store.complete_session(first.id, _session(b"c2"), T0 + S) is None  # revoked
    second = store.create_session(person_id, _session(b"p2", SessionStage.SECOND_FACTOR), T0)
    assert store.complete_session(second.id, _session(b"c3"), T0 + S, totp_step=100) is None
    assert store.complete_session(second.id, _session(b"c3"), T0 + S, totp_step=99) is None
    still = store.session_by_id(second.id)
    assert still is not None
    assert still.revoked is None  # rolled back
    assert store.session_bearer(b"c3") is None
    assert store.complete_session(second.id, _session(b"c3"), T0 + S, totp_step=101)


def test_disabling_ends_sessions_and_personal_tokens_in_one_write(store: Store) -> None:
    """DISABLED revokes every session and personal token of the person (not the org's
    tokens); ACTIVE again revives nothing."""
    person_id = _person(store)
    person = store.person_by_id(person_id)
    assert person is not None
    store.create_session(person_id, _session(b"s"), T0)
    mine = store.create_token(
        person.org_id, "reader", "", b"tok", "tbd_p", T0, person_id=person_id, expires=T0 + S
    )
    org_token = store.create_token(person.org_id, "reader", "", b"org", "tbd_o", T0)
    event = AuditEvent("person.disable", "operator")
    assert store.set_person_status(person_id, PersonStatus.DISABLED, T0 + S, audit=[event])
    bearer = store.session_bearer(b"s")
    assert bearer is not None
    assert bearer.session.revoked == T0 + S
    assert bearer.person.status is PersonStatus.DISABLED
    assert [t.revoked for t in store.tokens_of_person(person_id)] == [T0 + S]
    assert store.token_by_id(org_token.id) == org_token
    assert store.set_person_status(person_id, PersonStatus.ACTIVE, T0 + 2 * S)
    again = store.token_by_id(mine.id)
    assert again is not None
    assert again.revoked == T0 + S
    assert store.set_person_status(person_id + 999, PersonStatus.ACTIVE, T0) is False
    assert _actions(store) == ["person.disable"]


def test_a_personal_token_bears_its_person(store: Store) -> None:
    """`bearer` returns a personal token's person (None once removed); removal deletes the
    person's credentials, revokes the token, and keeps the token's row for the record."""
    person_id = _person(store)
    person = store.person_by_id(person_id)
    assert person is not None
    token = store.create_token(
        person.org_id, "reader", "ci", b"tok", "tbd_p", T0, person_id=person_id, expires=T0 + S
    )
    assert (token.person_id, token.expires) == (person_id, T0 + S)
    bearer = store.bearer(b"tok")
    assert bearer is not None
    assert (bearer.token, bearer.person) == (token, person)
    org_token = store.create_token(person.org_id, "reader", "", b"o", "tbd_o", T0)
    org_bearer = store.bearer(b"o")
    assert org_bearer is not None
    assert (org_bearer.token, org_bearer.person) == (org_token, None)
    store.create_session(person_id, _session(b"s"), T0)
    store.add_passkey(person_id, NewPasskey(b"c", b"k", 0), T0)
    assert store.remove_person(person_id, T0 + S, audit=[AuditEvent("person.remove", "op")])
    gone = store.bearer(b"tok")
    assert gone is not None
    assert gone.person is None
    assert gone.token.revoked == T0 + S
    assert store.person_by_id(person_id) is None
    assert store.session_bearer(b"s") is None
    assert store.passkey_by_credential(b"c") is None
    assert store.remove_person(person_id, T0 + S) is False
    assert _actions(store) == ["person.remove"]


def test_org_tokens_a_person_made_end_with_their_access(store: Store) -> None:
    """An org token records the person who made it; disabling (or removing) that person
    revokes it with their personal tokens; another org token stays."""
    person_id = _person(store)
    person = store.person_by_id(person_id)
    assert person is not None
    made = store.create_token(
        person.org_id, "admin", "", b"made", "tbd_m", T0, created_by_person=person_id
    )
    assert made.created_by_person == person_id
    assert store.token_by_id(made.id) == made
    other = store.create_token(person.org_id, "admin", "", b"other", "tbd_x", T0)
    assert store.set_person_status(person_id, PersonStatus.DISABLED, T0 + S)
    revoked = store.token_by_id(made.id)
    assert revoked is not None
    assert revoked.revoked == T0 + S
    assert store.token_by_id(other.id) == other


def test_a_reset_and_signing_out_everywhere_end_personal_tokens(store: Store) -> None:
    """Redeeming a link and revoking every session `with_tokens` revoke the person's
    personal tokens in the same write (a thief's token ends with the thief's session)."""
    person_id = _person(store)
    person = store.person_by_id(person_id)
    assert person is not None

    def token(secret: bytes) -> int:
        made = store.create_token(
            person.org_id, "reader", "", secret, "tbd_p", T0, person_id=person_id, expires=T0 + S
        )
        return made.id

    first = token(b"t1")
    link, _ = store.link_by_secret(b"ali@pardis.example") or (None, None)
    assert link is not None
    assert store.redeem_link(link.id, T0 + 1, Redemption("hash"))
    assert [t.revoked for t in store.tokens_of_person(person_id)] == [T0 + 1]
    second = token(b"t2")
    assert store.revoke_sessions(person_id, T0 + 2, with_tokens=True) == 0
    by_id = {t.id: t.revoked for t in store.tokens_of_person(person_id)}
    assert by_id == {first: T0 + 1, second: T0 + 2}


def test_ids_of_removed_people_are_never_given_again(store: Store) -> None:
    """A removed person's id (and their sessions' and links') is not reused by the next
    one, even when it was the highest: their revoked tokens never attach to a newcomer."""
    first = _person(store, "a@pardis.example")
    store.create_session(first, _session(b"s1"), T0)
    assert store.remove_person(first, T0 + S)
    second = _person(store, "b@pardis.example")
    assert second > first
    session = store.create_session(second, _session(b"s2"), T0 + S)
    link, _ = store.link_by_secret(b"b@pardis.example") or (None, None)
    assert link is not None
    assert session.id > 1
    assert link.id > 1


def test_a_link_names_who_issued_it(store: Store) -> None:
    person_id = _person(store)
    made = store.add_link(
        person_id, NewLink(LinkPurpose.RESET, b"r", T0 + S, issued_by="org:P/person:a@p.x"), T0
    )
    assert made.issued_by == "org:P/person:a@p.x"
    found = store.link_by_secret(b"r")
    assert found is not None
    assert found[0] == made


def test_attempts_are_reserved_lock_and_are_released(store: Store) -> None:
    """Each attempt counts under its keys before it is checked; the account locks at its
    5th (1 s), the address later; while locked an attempt is refused with nothing counted;
    a counter is kept a day; a success clears some keys and takes the attempt back from
    the others, with the audit entry."""
    keys = [account_key("x@example.org", b"k"), address_key("192.0.2.9")]
    for n in range(1, 5):
        counted = store.reserve_attempt(keys, T0 + n * S).counted
        assert (counted[keys[0]].failures, counted[keys[0]].locked_until) == (n, None)
    reserved = store.reserve_attempt(keys, T0 + 5 * S)
    assert reserved.wait == 0
    assert reserved.counted[keys[0]].locked_until == T0 + 6 * S
    assert reserved.counted[keys[1]].locked_until is None
    assert store.failure_counters(keys) == reserved.counted
    refused = store.reserve_attempt(keys, T0 + 5 * S + S // 2)
    assert (refused.wait, refused.counted) == (1, {})
    assert store.failure_counters(keys) == reserved.counted  # nothing counted
    later = T0 + 5 * S + 16 * 60 * S  # past the old 15-minute window: still counted
    assert store.reserve_attempt(keys, later).counted[keys[0]].failures == 6
    a_day = later + 24 * 3600 * S + S
    assert store.reserve_attempt(keys, a_day).counted[keys[0]].failures == 1
    mine = store.reserve_attempt(keys, a_day + S)
    assert mine.counted[keys[1]].failures == 2
    event = AuditEvent("person.sign-in", "a")
    store.release_attempt(mine, clear=[keys[0]], audit=[event], now=a_day + 2 * S)
    assert list(store.failure_counters(keys)) == [keys[1]]
    assert store.failure_counters(keys)[keys[1]].failures == 1  # the attempt taken back
    assert store.failure_counters([]) == {}
    assert _actions(store) == ["person.sign-in"]


def test_concurrent_attempts_cannot_pass_the_lock_together(store: Store) -> None:
    """Attempts reserved from many threads at once: exactly the threshold's number get
    through before the lock, however they interleave (the check and the count are one
    write)."""
    key = account_key("race@example.org", b"k")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda n: store.reserve_attempt([key], T0 + S), range(24)))
    assert sum(1 for r in results if r.wait == 0) == 5


def test_totp_can_be_set_and_cleared(store: Store) -> None:
    """Setting a TOTP secret stores it wrapped, with the step its setup code used."""
    person_id = _person(store)
    assert store.set_totp(person_id, b"w", T0, step=9, audit=[AuditEvent("person.totp.set", "p")])
    secrets = store.person_secrets(person_id)
    assert secrets is not None
    assert (secrets.totp_wrapped, secrets.totp_last_step) == (b"w", 9)
    assert store.set_totp(person_id, None, T0)
    person = store.person_by_id(person_id)
    assert person is not None
    assert not person.totp_enabled
    assert store.set_totp(person_id + 999, None, T0) is False


def test_passkeys_are_unique_and_removed_by_their_person(store: Store) -> None:
    """A credential id registers once; only its person removes it."""
    person_id = _person(store)
    other = _person(store, "b@example.org")
    added = store.add_passkey(person_id, NewPasskey(b"c", b"k", 0, "key"), T0)
    with pytest.raises(Conflict):
        store.add_passkey(other, NewPasskey(b"c", b"k2", 0), T0)
    assert store.remove_passkey(other, added.id, T0) is False
    assert store.remove_passkey(person_id, added.id, T0, audit=[AuditEvent("p", "q")])
    assert store.passkeys_of(person_id) == []


def test_a_webauthn_challenge_is_taken_once_and_only_before_it_expires(store: Store) -> None:
    """A challenge is read back under its binding once (deleted as it is read), replaced by a
    newer one of the same binding, and refused once expired."""
    store.put_challenge(b"binding-a", b"first", T0 + 60 * S, T0)
    store.put_challenge(b"binding-a", b"second", T0 + 60 * S, T0)
    store.put_challenge(b"binding-b", b"other", T0 + 60 * S, T0)
    assert store.take_challenge(b"binding-a", T0 + S) == b"second"
    assert store.take_challenge(b"binding-a", T0 + S) is None
    assert store.take_challenge(b"unknown", T0 + S) is None
    assert store.take_challenge(b"binding-b", T0 + 60 * S) is None  # expired as it was taken
    store.put_challenge(b"binding-c", b"late", T0 + 2 * S, T0)
    store.put_challenge(b"binding-d", b"later", T0 + 600 * S, T0 + 5 * S)  # forgets binding-c
    assert store.take_challenge(b"binding-c", T0) is None
    assert store.take_challenge(b"binding-d", T0 + 6 * S) == b"later"
