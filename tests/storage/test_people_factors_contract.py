"""The people role's changes of a person's own factors and password, on SQLite and
PostgreSQL: a factor removed (or refused as the last one) and the person's other sessions
ended in the same transaction; a password changed likewise."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tabadol.domain.audit import AuditEvent
from tabadol.storage.contract import FactorRemoval, NewPasskey, Store

from .test_people_contract import _actions, _person, _session, store
from .test_storage_contract import T0

__all__ = ["store"]  # the fixture, on both engines


def _live(store: Store, person_id: int) -> set[int]:
    return {s.id for s in store.list_sessions(person_id) if s.revoked is None}


def test_removing_a_factor_ends_the_other_sessions_and_is_audited(store: Store) -> None:
    person_id = _person(store)
    mine = store.create_session(person_id, _session(b"mine"), T0)
    store.create_session(person_id, _session(b"thief"), T0)
    store.set_totp(person_id, b"w", T0, step=1)
    key = store.add_passkey(person_id, NewPasskey(b"c", b"k", 0, "laptop"), T0)
    event = AuditEvent("person.passkey.remove", "p")
    removed = store.remove_factor(
        person_id, T0, passkey_id=key.id, keep_one=True, end_sessions_but=mine.id, audit=[event]
    )
    assert removed is FactorRemoval.REMOVED
    assert store.passkeys_of(person_id) == []
    assert _live(store, person_id) == {mine.id}
    assert _actions(store)[-1] == "person.passkey.remove"


def test_the_last_factor_is_kept_when_one_is_required(store: Store) -> None:
    """Refused as LAST (nothing changed, no entry) while it is the only factor; without the
    requirement it goes, TOTP secret and its last step with it."""
    person_id = _person(store)
    mine = store.create_session(person_id, _session(b"mine"), T0)
    other = store.create_session(person_id, _session(b"other"), T0)
    store.set_totp(person_id, b"w", T0, step=1)
    before = _actions(store)
    refused = store.remove_factor(
        person_id, T0, keep_one=True, end_sessions_but=mine.id, audit=[AuditEvent("x", "p")]
    )
    assert refused is FactorRemoval.LAST
    assert _actions(store) == before
    assert _live(store, person_id) == {mine.id, other.id}
    assert store.remove_factor(person_id, T0, keep_one=False, end_sessions_but=mine.id) is (
        FactorRemoval.REMOVED
    )
    secrets = store.person_secrets(person_id)
    assert secrets is not None
    assert (secrets.totp_wrapped, secrets.totp_last_step) == (None, None)
    assert store.remove_factor(person_id, T0, keep_one=False, end_sessions_but=None) is (
        FactorRemoval.ABSENT
    )


def test_a_passkey_of_another_person_or_none_is_absent(store: Store) -> None:
    person_id = _person(store)
    other = _person(store, "b@example.org")
    key = store.add_passkey(other, NewPasskey(b"c", b"k", 0), T0)
    assert (
        store.remove_factor(person_id, T0, passkey_id=key.id, keep_one=False, end_sessions_but=None)
        is FactorRemoval.ABSENT
    )
    assert (
        store.remove_factor(person_id + 999, T0, keep_one=False, end_sessions_but=None)
        is FactorRemoval.ABSENT
    )
    assert len(store.passkeys_of(other)) == 1


def test_two_removals_at_once_leave_one_factor(store: Store) -> None:
    """The TOTP and the one passkey removed at the same moment, each needing one factor
    kept: exactly one goes."""
    for attempt in range(3):
        person_id = _person(store, f"race{attempt}@example.org")
        store.set_totp(person_id, b"w", T0, step=1)
        key = store.add_passkey(person_id, NewPasskey(f"c{attempt}".encode(), b"k", 0), T0)

        def remove(passkey_id: int | None, person_id: int = person_id) -> FactorRemoval:
            return store.remove_factor(
                person_id, T0, passkey_id=passkey_id, keep_one=True, end_sessions_but=None
            )

        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(remove, [None, key.id]))
        assert sorted(o.value for o in outcomes) == ["last", "removed"]


def test_a_new_password_ends_the_other_sessions(store: Store) -> None:
    person_id = _person(store)
    mine = store.create_session(person_id, _session(b"mine"), T0)
    store.create_session(person_id, _session(b"other"), T0)
    event = AuditEvent("person.password.change", "p")
    assert store.change_password(person_id, "$argon2id$new", T0, end_sessions_but=mine.id,
                                 audit=[event])  # fmt: skip
    secrets = store.person_secrets(person_id)
    assert secrets is not None
    assert secrets.password_hash == "$argon2id$new"
    assert _live(store, person_id) == {mine.id}
    assert _actions(store)[-1] == "person.password.change"
    assert not store.change_password(person_id + 999, "x", T0, end_sessions_but=None)


def test_replacing_the_totp_can_end_the_other_sessions(store: Store) -> None:
    person_id = _person(store)
    mine = store.create_session(person_id, _session(b"mine"), T0)
    store.create_session(person_id, _session(b"other"), T0)
    assert store.set_totp(person_id, b"w2", T0, step=3, end_sessions_but=mine.id)
    assert _live(store, person_id) == {mine.id}
