"""The native API's people (/api/v1): an org's admins (and the operator) invite, list, change
and remove its people and end their sessions; a person reads who they are and manages their
personal tokens.

Every route calls a use case of `usecases.people`; the one policy of the node decides. A
person of an org the caller does not manage gets the 404 of an address that exists nowhere,
so these routes tell no one which addresses are taken in other orgs. The operator acting on
the people of an org that has admins of its own names a reason (`break_glass`: in the body,
or as a query parameter of a DELETE), recorded and shown to those admins.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from tabadol.domain.model import Token
from tabadol.domain.people import Person, PersonSession
from tabadol.domain.timestamps import format_us
from tabadol.usecases.people import accounts, personal_tokens, sessions
from tabadol.usecases.people.factors import factors_of
from tabadol.web.api import _BREAK_GLASS, FREE_TEXT, Caller, RowId, _node

router = APIRouter(prefix="/api/v1", tags=["native API"])
RoleName = Literal["admin", "publisher", "reader"]
# What `normalize_email` refuses, by code point: control, format and line/paragraph separator
# characters, and the few that normalization or lower-casing would turn into two (which could
# push an address over its length). tests/unit/test_people_schema.py recomputes it from
# Unicode's tables, so the schema keeps saying what the use case does.
_REFUSED = (
    r"\u0000-\u001f\u007f-\u009f\u00ad\u0130\u0344\u0600-\u0605\u061c\u06dd\u070f"
    r"\u0890-\u0891\u08e2\u0958-\u095f\u09dc-\u09dd\u09df\u0a33\u0a36\u0a59-\u0a5b\u0a5e"
    r"\u0b5c-\u0b5d\u0f43\u0f4d\u0f52\u0f57\u0f5c\u0f69\u0f73\u0f75-\u0f76\u0f78\u0f81"
    r"\u0f93\u0f9d\u0fa2\u0fa7\u0fac\u0fb9\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064"
    r"\u2066-\u206f\u2adc\ufb1d\ufb1f\ufb2a-\ufb36\ufb38-\ufb3c\ufb3e\ufb40-\ufb41"
    r"\ufb43-\ufb44\ufb46-\ufb4e\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    r"\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d15e-\U0001d164\U0001d173-\U0001d17a"
    r"\U0001d1bb-\U0001d1c0\U000e0001\U000e0020-\U000e007f"
)
EMAIL_PATTERN = rf"^[^@\s{_REFUSED}]{{1,64}}@[^@\s{_REFUSED}]+\.[^@\s.{_REFUSED}]+$"
_EMAIL = Field(
    min_length=3,
    max_length=254,
    pattern=EMAIL_PATTERN,
    description="One local@domain; stored lower-cased (NFC). Unique on the node.",
)


class PersonOut(BaseModel):
    email: str
    name: str
    role: str
    status: str = Field(description="invited (to enrol), active or disabled.")
    factors: list[str] = Field(description="The second factors set up: passkey, totp.")
    has_password: bool
    created: str
    last_sign_in: str | None = Field(
        default=None, description="The last completed sign-in, where the listing knows it."
    )

    @classmethod
    def of(cls, person: Person, last_sign_in: int | None = None) -> PersonOut:
        return cls(
            email=person.email,
            name=person.name,
            role=person.role.value,
            status=person.status.value,
            factors=[f.value for f in factors_of(person)],
            has_password=person.has_password,
            created=format_us(person.created),
            last_sign_in=format_us(last_sign_in) if last_sign_in is not None else None,
        )


class PersonIn(BaseModel):
    email: str = _EMAIL
    role: RoleName
    name: str = Field(default="", max_length=200, json_schema_extra={"pattern": FREE_TEXT})
    break_glass: str | None = _BREAK_GLASS


class RoleChange(BaseModel):
    """A new role for the person."""

    model_config = ConfigDict(extra="forbid")
    role: RoleName
    break_glass: str | None = _BREAK_GLASS


class StatusChange(BaseModel):
    """Disable the person, or make a disabled person active again."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["active", "disabled"]
    break_glass: str | None = _BREAK_GLASS


class BreakGlassIn(BaseModel):
    break_glass: str | None = _BREAK_GLASS


class InvitationOut(BaseModel):
    person: PersonOut
    enrolment_url: str = Field(
        description="The one-time link the person opens to set a password. Shown once: only"
        " its hash is kept."
    )
    expires: str

    @classmethod
    def of(cls, invitation: accounts.Invitation) -> InvitationOut:
        return cls(
            person=PersonOut.of(invitation.person),
            enrolment_url=invitation.url,
            expires=format_us(invitation.expires),
        )


class SessionOut(BaseModel):
    id: int
    created: str
    last_seen: str
    expires: str = Field(description="Its absolute end, whatever the activity.")
    revoked: str | None
    address: str
    user_agent: str
    stage: str = Field(description="second-factor (pending) or complete.")
    factor: str = Field(description="What it was proven with: password, totp or passkey.")

    @classmethod
    def of(cls, session: PersonSession) -> SessionOut:
        return cls(
            id=session.id,
            created=format_us(session.created),
            last_seen=format_us(session.last_seen),
            expires=format_us(session.expires),
            revoked=format_us(session.revoked) if session.revoked is not None else None,
            address=session.address,
            user_agent=session.user_agent,
            stage=session.stage.value,
            factor=session.factor.value,
        )


class Me(BaseModel):
    kind: str = Field(description="org, node-admin.")
    org: str | None
    role: str | None = Field(description="The role this request acts with.")
    person: PersonOut | None = Field(
        description="The person acting, by their session or personal token."
    )
    token_id: int | None
    session_id: int | None


class PersonalTokenOut(BaseModel):
    id: int
    prefix: str
    role: str
    label: str
    created: str
    expires: str | None
    revoked: str | None

    @classmethod
    def of(cls, token: Token) -> PersonalTokenOut:
        return cls(
            id=token.id,
            prefix=token.prefix,
            role=token.role,
            label=token.label,
            created=format_us(token.created),
            expires=format_us(token.expires) if token.expires is not None else None,
            revoked=format_us(token.revoked) if token.revoked is not None else None,
        )


class PersonalTokenCreated(PersonalTokenOut):
    token: str = Field(description="The secret. Shown once: it is stored hashed.")


class PersonalTokenIn(BaseModel):
    role: RoleName = Field(description="At most your own role.")
    expires_in_days: int = Field(
        ge=1, le=3650, description="1 to the node's personal_token_max_days (365 by default)."
    )
    label: str = Field(default="", max_length=200, json_schema_extra={"pattern": FREE_TEXT})


# --- an org's people ---------------------------------------------------------------------------
@router.post("/orgs/{org}/people", response_model=InvitationOut, status_code=201)
def invite(request: Request, principal: Caller, org: str, body: PersonIn) -> InvitationOut:
    """Invite a person into `org` with a role: the answer holds their one-time enrolment
    link (shown once), to hand to them."""
    made = accounts.invite(
        _node(request), principal, org, body.email, body.role, body.name,
        break_glass=body.break_glass,
    )  # fmt: skip
    return InvitationOut.of(made)


@router.get("/orgs/{org}/people", response_model=list[PersonOut])
def list_people(request: Request, principal: Caller, org: str) -> list[PersonOut]:
    """The org's people (never a secret), with their last sign-in: for its admins."""
    node = _node(request)
    people = accounts.list_people(node, principal, org)
    last = sessions.last_sign_ins(node, people)
    return [PersonOut.of(p, last.get(p.id)) for p in people]


@router.get("/orgs/{org}/people/{email}", response_model=PersonOut)
def get_person(request: Request, principal: Caller, org: str, email: str) -> PersonOut:
    node = _node(request)
    _, person = accounts.find_person(node, principal, org, email)
    return PersonOut.of(person, sessions.last_sign_ins(node, [person]).get(person.id))


@router.patch("/orgs/{org}/people/{email}", response_model=PersonOut)
def change_person(
    request: Request, principal: Caller, org: str, email: str, body: RoleChange | StatusChange
) -> PersonOut:
    """One change per request: a new role (from the person's next request on), or the
    status — disabled (their sessions, tokens and open streams end at once) or active again."""
    node, reason = _node(request), body.break_glass
    if isinstance(body, RoleChange):
        changed = accounts.set_role(node, principal, org, email, body.role, break_glass=reason)
    elif body.status == "disabled":
        changed = accounts.disable(node, principal, org, email, break_glass=reason)
    else:
        changed = accounts.enable(node, principal, org, email, break_glass=reason)
    return PersonOut.of(changed)


@router.delete("/orgs/{org}/people/{email}", response_model=PersonOut)
def remove_person(
    request: Request, principal: Caller, org: str, email: str, break_glass: str | None = None
) -> PersonOut:
    """Remove the person and their credentials (the audit log keeps naming them)."""
    removed = accounts.remove(_node(request), principal, org, email, break_glass=break_glass)
    return PersonOut.of(removed)


@router.post("/orgs/{org}/people/{email}/reset", response_model=InvitationOut)
def reset(
    request: Request,
    principal: Caller,
    org: str,
    email: str,
    body: BreakGlassIn | None = None,
) -> InvitationOut:
    """A new one-time link to set a new password; the person's older unused links end."""
    reason = body.break_glass if body is not None else None
    made = accounts.reset_link(_node(request), principal, org, email, break_glass=reason)
    return InvitationOut.of(made)


@router.get("/orgs/{org}/people/{email}/sessions", response_model=list[SessionOut])
def person_sessions(
    request: Request, principal: Caller, org: str, email: str, break_glass: str | None = None
) -> list[SessionOut]:
    """The person's sessions, live and ended, oldest first (the operator reads them as a
    break-glass step, with a reason, once the org has admins of its own)."""
    found = sessions.list_sessions(_node(request), principal, org, email, break_glass=break_glass)
    return [SessionOut.of(s) for s in found]


@router.delete("/orgs/{org}/people/{email}/sessions/{session_id}", status_code=204)
def revoke_session(
    request: Request,
    principal: Caller,
    org: str,
    email: str,
    session_id: RowId,
    break_glass: str | None = None,
) -> Response:
    """End one live session of the person."""
    sessions.revoke_session(
        _node(request), principal, org, email, session_id, break_glass=break_glass
    )
    return Response(status_code=204)


# --- oneself -----------------------------------------------------------------------------------
@router.get("/me", response_model=Me)
def me(request: Request, principal: Caller) -> Me:
    """Who is asking: the org, the role this request acts with, and the person, if any."""
    person = accounts.own_person(_node(request), principal)
    return Me(
        kind=principal.kind.value,
        org=principal.org.name if principal.org else None,
        role=principal.role.value if principal.role else None,
        person=PersonOut.of(person) if person is not None else None,
        token_id=principal.token_id,
        session_id=principal.session_id,
    )


@router.get("/me/tokens", response_model=list[PersonalTokenOut])
def my_tokens(request: Request, principal: Caller) -> list[PersonalTokenOut]:
    """Your personal tokens (live, revoked and expired): for a person."""
    found = personal_tokens.list_personal_tokens(_node(request), principal)
    return [PersonalTokenOut.of(t) for t in found]


@router.post("/me/tokens", response_model=PersonalTokenCreated, status_code=201)
def create_my_token(
    request: Request, principal: Caller, body: PersonalTokenIn
) -> PersonalTokenCreated:
    """A personal token: your scripts act as you, with at most your role, until it expires.
    Made by a signed-in person (a session), not by a token. The secret is shown once."""
    token, secret = personal_tokens.create_personal_token(
        _node(request), principal, body.role, body.expires_in_days, body.label
    )
    return PersonalTokenCreated(**PersonalTokenOut.of(token).model_dump(), token=secret)


@router.delete("/me/tokens/{token_id}", response_model=PersonalTokenOut)
def revoke_my_token(request: Request, principal: Caller, token_id: RowId) -> PersonalTokenOut:
    """Revoke one of your personal tokens at once."""
    revoked = personal_tokens.revoke_personal_token(_node(request), principal, token_id)
    return PersonalTokenOut.of(revoked)
