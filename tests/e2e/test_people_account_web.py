"""The account page's second factors and password over real HTTP to a real `tabadol serve`:
set up, replace and remove the authenticator app, the last factor of an admin refused, a
change past the recent sign-in refused with a link to sign in again, the password changed,
each removal or new password ending the other sessions, every form refused without its
CSRF token — and each change audited by name."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pyotp
import pytest

from ..conftest import LiveServer
from .people_web import (
    ADMIN,
    PASSWORDS,
    PUBLISHER,
    Browser,
    PeopleNode,
    audit_actors,
    csrf_of,
    enrol_ali_and_sara,
    next_code,
    totp_secret_of,
)

SARA = f"org:Pardis CERT/person:{PUBLISHER}"


class People(PeopleNode):
    def age_sessions(self, minutes: int) -> None:
        """Every session as if it had started `minutes` earlier (still in use now)."""
        with sqlite3.connect(self.path / "tabadol.db") as db:
            db.execute("UPDATE person_sessions SET created = created - ?", (minutes * 60_000_000,))


@pytest.fixture
def people(tmp_path: Path, live_server_factory: Callable[..., LiveServer]) -> Iterator[People]:
    made = People.serve(tmp_path / "node", live_server_factory)
    yield made
    made.close()


def _enrolled(people: People) -> str:
    """Ali (admin, TOTP) and Sara (publisher, password only) enrolled; Ali's TOTP secret."""
    return enrol_ali_and_sara(people)[1]


def _sara(people: People, password: str = PASSWORDS[PUBLISHER]) -> Browser:
    browser = people.browser()
    assert browser.sign_in(PUBLISHER, password).status_code == 303
    return browser


def _set_totp(browser: Browser) -> str:
    page = browser.get("/account").text
    secret = totp_secret_of(page)
    fields = {"totp_secret": secret, "code": pyotp.TOTP(secret).now(), "csrf": csrf_of(page)}
    answer = browser.http.post("/account/totp", data=fields)
    assert answer.status_code == 303, answer.text
    return secret


def _ended(browser: Browser) -> bool:
    return browser.get("/account").status_code == 303


def test_a_person_sets_up_and_removes_the_app_ending_the_other_sessions(
    people: People,
) -> None:
    """Sara sets up an authenticator app from her account page, signs in elsewhere with it,
    then removes it: the other session ends, hers stays; both changes audited by name."""
    _enrolled(people)
    sara = _sara(people)
    assert 'id="totp-state">Not set up.' in sara.get("/account").text
    secret = _set_totp(sara)
    assert 'id="totp-state">Set up.' in sara.get("/account").text
    elsewhere = people.browser()
    assert (
        elsewhere.sign_in(PUBLISHER, PASSWORDS[PUBLISHER])
        .headers["location"]
        .startswith("/sign-in/factor")
    )
    assert elsewhere.factor(next_code(secret)).status_code == 303
    assert not _ended(elsewhere)
    assert sara.submit("/account", "/account/totp/remove", {}).status_code == 303
    assert _ended(elsewhere)
    assert not _ended(sara)
    assert 'id="totp-state">Not set up.' in sara.get("/account").text
    actors = audit_actors(people.path)
    assert ("person.totp.set", SARA) in actors
    assert ("person.totp.remove", SARA) in actors


def test_an_admin_cannot_remove_the_last_factor_but_may_replace_it(people: People) -> None:
    secret = _enrolled(people)
    admin = people.browser()
    assert admin.sign_in(ADMIN, PASSWORDS[ADMIN]).status_code == 303
    assert admin.factor(next_code(secret)).status_code == 303
    refused = admin.submit("/account", "/account/totp/remove", {})
    assert refused.status_code == 409
    assert "This is your last second factor" in refused.text
    wrong = admin.submit("/account", "/account/totp", {"totp_secret": "A" * 32, "code": "1"})
    assert wrong.status_code == 400
    assert "The code does not match" in wrong.text
    _set_totp(admin)  # a new app replaces the old one
    assert ("person.totp.remove", f"org:Pardis CERT/person:{ADMIN}") not in audit_actors(
        people.path
    )


def test_a_change_long_after_sign_in_asks_to_sign_in_again(people: People) -> None:
    _enrolled(people)
    sara = _sara(people)
    _set_totp(sara)
    people.age_sessions(11)
    refused = sara.submit("/account", "/account/totp/remove", {})
    assert refused.status_code == 403
    assert "needs a recent sign-in" in refused.text
    assert 'href="/sign-in?next=/account"' in refused.text
    assert 'id="totp-state">Set up.' in sara.get("/account").text
    options = sara.http.post("/account/passkeys/options", headers={"X-CSRF-Token": "x"})
    assert options.status_code == 403


def test_a_new_password_needs_the_current_one_and_ends_the_other_sessions(
    people: People,
) -> None:
    _enrolled(people)
    sara, elsewhere = _sara(people), _sara(people)
    new = "a brand new passphrase of sara"
    fields = {"current": "not the password at all", "password": new, "confirm": new}
    wrong = sara.submit("/account", "/account/password", fields)
    assert wrong.status_code == 400
    assert "The current password is wrong." in wrong.text
    mismatch = sara.submit(
        "/account", "/account/password", {**fields, "current": PASSWORDS[PUBLISHER], "confirm": "x"}
    )
    assert mismatch.status_code == 400
    assert "The two passwords differ." in mismatch.text
    assert not _ended(elsewhere)
    done = sara.submit("/account", "/account/password", {**fields, "current": PASSWORDS[PUBLISHER]})
    assert done.status_code == 303
    assert _ended(elsewhere)
    assert not _ended(sara)
    assert people.browser().sign_in(PUBLISHER, PASSWORDS[PUBLISHER]).status_code == 401
    _sara(people, new)
    assert ("person.password.change", SARA) in audit_actors(people.path)


def test_passkey_forms_refuse_a_bad_credential_and_need_csrf(people: People) -> None:
    """Options need the session's CSRF header (and a domain: this server is reached by IP);
    a credential that answers no challenge is refused and nothing is added."""
    _enrolled(people)
    sara = _sara(people)
    token = csrf_of(sara.get("/account").text)
    assert sara.http.post("/account/passkeys/options").status_code == 403
    by_ip = sara.http.post("/account/passkeys/options", headers={"X-CSRF-Token": token})
    assert by_ip.status_code == 400
    assert "domain name" in by_ip.json()["description"]
    bad = sara.submit("/account", "/account/passkeys", {"passkey": "{}", "label": "phone"})
    assert bad.status_code == 400
    assert "data-passkey=" not in bad.text


@pytest.mark.parametrize("csrf", [None, "wrong-token"])
def test_every_factor_form_needs_its_csrf_token(people: People, csrf: str | None) -> None:
    _enrolled(people)
    sara = _sara(people)
    _set_totp(sara)
    page = sara.get("/account").text
    secret = totp_secret_of(page)
    forms = {
        "/account/totp": {"totp_secret": secret, "code": pyotp.TOTP(secret).now()},
        "/account/totp/remove": {},
        "/account/passkeys": {"passkey": "{}", "label": "x"},
        "/account/passkeys/1/remove": {},
        "/account/password": {
            "current": PASSWORDS[PUBLISHER],
            "password": "x" * 20,
            "confirm": "x" * 20,
        },
    }
    for action, fields in forms.items():
        answer = sara.submit("/account", action, fields, csrf=csrf)
        assert answer.status_code == 403, action
        assert "did not come from this node" in answer.text
    assert 'id="totp-state">Set up.' in sara.get("/account").text
    assert people.browser().sign_in(PUBLISHER, PASSWORDS[PUBLISHER]).status_code == 303
    assert (
        re.search(r"person\.(totp\.remove|password\.change)", str(audit_actors(people.path)))
        is None
    )
